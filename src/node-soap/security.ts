// SAML token logins through node-soap: an ISecurity for `client.setSecurity()` whose
// postProcess writes the same WS-Security header as VimClient.loginByToken (session/token.ts):
// the assertion alone for a bearer token; for a holder-of-key token, a Timestamp and the Body
// signed with the token's key. Only LoginByToken carries it: vim25 reads the token there and
// nowhere else, and every other envelope stays free of it.
import type { ISecurity } from 'soap';
import { tokenHeader, type SamlToken } from '../session/token.ts';
import { bodyIdAttributes, securityElement } from '../soap/envelope.ts';

const BODY_OPERATION = /<(?:[\w.-]+:)?Body\b[^>]*>\s*(?:<!--[\s\S]*?-->\s*)*<(?:[\w.-]+:)?([\w.-]+)/;

/** The operation a request envelope calls: the local name of the Body's first element. */
export function operationOf(xml: string): string | undefined {
  return BODY_OPERATION.exec(xml)?.[1];
}

/** `<prefix:Header ...>content</prefix:Header>` as node-soap writes it (empty when only a security postProcess asked for it). */
function splitHeader(xml: string, envelopeKey: string): { xml: string; content: string } {
  const re = new RegExp(`<${envelopeKey}:Header\\b[^>]*>([\\s\\S]*?)</${envelopeKey}:Header>`);
  const m = re.exec(xml);
  if (!m) return { xml, content: '' };
  return { xml: xml.slice(0, m.index) + xml.slice(m.index + m[0].length), content: m[1] ?? '' };
}

/**
 * An ISecurity that puts `token` into LoginByToken requests:
 * `soapClient.setSecurity(await samlTokenSecurity(token)); await soapClient.LoginByTokenAsync({ _this })`.
 * Asynchronous because holder-of-key signing loads xml-crypto first.
 */
export async function samlTokenSecurity(token: SamlToken | string): Promise<ISecurity> {
  const header = await tokenHeader(typeof token === 'string' ? { assertion: token } : token);
  return {
    postProcess(xml: string, envelopeKey: string): string {
      if (operationOf(xml) !== 'LoginByToken') return xml;
      // node-soap wrote the envelope, so the header value goes in by position: one Header with
      // wsse:Security first and addSoapHeader's content after it (the signature covers the
      // Timestamp and the Body only), an id on the Body, then the signer.
      const { xml: bare, content } = splitHeader(xml, envelopeKey);
      const body = `<${envelopeKey}:Body`;
      const at = bare.indexOf(body);
      if (at < 0) return xml;
      const security = securityElement(header.security ?? '');
      const id = header.bodyId === undefined ? '' : bodyIdAttributes(header.bodyId);
      const out = `${bare.slice(0, at)}<${envelopeKey}:Header>${security}${content}</${envelopeKey}:Header>${body}${id}${bare.slice(at + body.length)}`;
      return header.sign ? header.sign(out) : out;
    },
    toXML: () => '',
  };
}
