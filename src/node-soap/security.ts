// SAML token logins through node-soap: an ISecurity for `client.setSecurity()` whose
// postProcess writes the same WS-Security header as VimClient.loginByToken (session/token.ts):
// the assertion alone for a bearer token; for a holder-of-key token, a Timestamp and the Body
// signed with the token's key. Only LoginByToken carries it: vim25 reads the token there and
// nowhere else, and every other envelope stays free of it.
import type { ISecurity } from 'soap';
import { tokenHeader, type SamlToken } from '../session/token.ts';
import { operationOf } from './http.ts';

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
export async function samlTokenSecurity(token: SamlToken): Promise<ISecurity> {
  const addHeader = await tokenHeader(token);
  return {
    postProcess(xml: string, envelopeKey: string): string {
      if (operationOf(xml) !== 'LoginByToken') return xml;
      // node-soap has already written a Header (empty, or with addSoapHeader's content): the
      // token goes into one Header with that content after wsse:Security, outside what is signed.
      const { xml: bare, content } = splitHeader(xml, envelopeKey);
      const signed = addHeader(bare);
      if (!content) return signed;
      const close = `</${envelopeKey}:Header>`;
      const at = signed.indexOf(close);
      return at < 0 ? signed : signed.slice(0, at) + content + signed.slice(at);
    },
    toXML: () => '',
  };
}
