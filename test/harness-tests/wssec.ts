// A minimal WS-Security signer for the harness's own tests: RSA-SHA256 XML signatures over the
// wsu:Timestamp and the soapenv:Body, exclusive canonicalization (exc-c14n) done by writing
// those elements in canonical form to begin with (namespace declarations on the element itself,
// sorted, attributes sorted, explicit end tags, no whitespace), which is also what the signed
// document carries. Independent of the harness's verifier (xmlsec1) and of our library.
import { createHash, createSign, randomUUID, X509Certificate } from 'node:crypto';
import type { HarnessInfo } from '../harness/vcsim.ts';
import { rawRequest, type SoapResponse } from './raw.ts';

export const NS = {
  soap: 'http://schemas.xmlsoap.org/soap/envelope/',
  wsse: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd',
  wsse11: 'http://docs.oasis-open.org/wss/oasis-wss-wssecurity-secext-1.1.xsd',
  wsu: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
  wst: 'http://docs.oasis-open.org/ws-sx/ws-trust/200512',
};
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
const X509V3 = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3';

export const newId = (): string => `_${randomUUID()}`;
const digest = (canonical: string): string => createHash('sha256').update(canonical, 'utf8').digest('base64');
const iso = (d: Date): string => d.toISOString();

/** The Body in canonical form, carrying the wsu:Id a Reference points at. `inner` must be canonical too. */
export const canonicalBody = (id: string, inner: string): string =>
  `<soapenv:Body xmlns:soapenv="${NS.soap}" xmlns:wsu="${NS.wsu}" wsu:Id="${id}">${inner}</soapenv:Body>`;

export interface SignOptions {
  /** Canonical XML inside the Body, e.g. `<LoginByToken xmlns="urn:vim25">…</LoginByToken>`. */
  bodyInner: string;
  /** PEM private key (RSA) the signature is made with. */
  key: string;
  /** XML placed in wsse:Security before the Timestamp (an assertion, a BinarySecurityToken, a UsernameToken). */
  tokens: string;
  /** XML inside ds:KeyInfo. */
  keyInfo: string;
  created?: Date;
  expires?: Date;
  /** Called with the signed Body's canonical text; what it returns is sent instead (to alter a signed body). */
  tamper?: (body: string) => string;
}

/** A SOAP envelope whose WS-Security header signs its Timestamp and Body with key. */
export function signedEnvelope(o: SignOptions): string {
  const tsId = newId();
  const bodyId = newId();
  const created = o.created ?? new Date(Date.now() - 1000);
  const expires = o.expires ?? new Date(created.getTime() + 5 * 60_000);
  const timestamp =
    `<wsu:Timestamp xmlns:wsu="${NS.wsu}" wsu:Id="${tsId}"><wsu:Created>${iso(created)}</wsu:Created>` +
    `<wsu:Expires>${iso(expires)}</wsu:Expires></wsu:Timestamp>`;
  const body = canonicalBody(bodyId, o.bodyInner);
  const reference = (id: string, canonical: string): string =>
    `<ds:Reference URI="#${id}"><ds:Transforms><ds:Transform Algorithm="${EXC_C14N}"></ds:Transform></ds:Transforms>` +
    `<ds:DigestMethod Algorithm="${SHA256}"></ds:DigestMethod><ds:DigestValue>${digest(canonical)}</ds:DigestValue></ds:Reference>`;
  const signedInfo =
    `<ds:SignedInfo xmlns:ds="${NS.ds}"><ds:CanonicalizationMethod Algorithm="${EXC_C14N}"></ds:CanonicalizationMethod>` +
    `<ds:SignatureMethod Algorithm="${RSA_SHA256}"></ds:SignatureMethod>${reference(tsId, timestamp)}${reference(bodyId, body)}</ds:SignedInfo>`;
  const value = createSign('sha256').update(signedInfo, 'utf8').sign(o.key, 'base64');
  const signature = `<ds:Signature xmlns:ds="${NS.ds}">${signedInfo}<ds:SignatureValue>${value}</ds:SignatureValue><ds:KeyInfo>${o.keyInfo}</ds:KeyInfo></ds:Signature>`;
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<soapenv:Envelope xmlns:soapenv="${NS.soap}"><soapenv:Header>` +
    `<wsse:Security xmlns:wsse="${NS.wsse}" xmlns:wsu="${NS.wsu}">${o.tokens}${timestamp}${signature}</wsse:Security>` +
    `</soapenv:Header>${o.tamper ? o.tamper(body) : body}</soapenv:Envelope>`
  );
}

/** KeyInfo pointing at a SAML 2.0 assertion by its ID (the SAML token profile's KeyIdentifier). */
export const samlKeyInfo = (assertionId: string): string =>
  `<wsse:SecurityTokenReference xmlns:wsse="${NS.wsse}" xmlns:wsse11="${NS.wsse11}" wsse11:TokenType="http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1#SAMLV2.0">` +
  `<wsse:KeyIdentifier ValueType="http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1#SAMLID">${assertionId}</wsse:KeyIdentifier></wsse:SecurityTokenReference>`;

/** A BinarySecurityToken carrying cert (PEM), and the KeyInfo referring to it. */
export function x509Token(cert: string): { token: string; keyInfo: string } {
  const id = newId();
  const der = new X509Certificate(cert).raw.toString('base64');
  return {
    token:
      `<wsse:BinarySecurityToken xmlns:wsse="${NS.wsse}" xmlns:wsu="${NS.wsu}" EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary" ` +
      `ValueType="${X509V3}" wsu:Id="${id}">${der}</wsse:BinarySecurityToken>`,
    keyInfo: `<wsse:SecurityTokenReference xmlns:wsse="${NS.wsse}"><wsse:Reference URI="#${id}" ValueType="${X509V3}"></wsse:Reference></wsse:SecurityTokenReference>`,
  };
}

export const usernameToken = (username: string, password: string): string =>
  `<wsse:UsernameToken xmlns:wsse="${NS.wsse}"><wsse:Username>${username}</wsse:Username><wsse:Password>${password}</wsse:Password></wsse:UsernameToken>`;

/**
 * The body of a WS-Trust Issue request (RequestSecurityToken), canonical inside a Body that
 * declares the wsu prefix (as canonicalBody and plainEnvelope do).
 */
export function issueRequest(keyType: 'Bearer' | 'PublicKey', lifetimeSeconds = 600, useKey?: string): string {
  const now = new Date();
  return (
    `<wst:RequestSecurityToken xmlns:wst="${NS.wst}"><wst:TokenType>urn:oasis:names:tc:SAML:2.0:assertion</wst:TokenType>` +
    `<wst:RequestType>http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue</wst:RequestType>` +
    `<wst:Lifetime><wsu:Created>${iso(now)}</wsu:Created><wsu:Expires>${iso(new Date(now.getTime() + lifetimeSeconds * 1000))}</wsu:Expires></wst:Lifetime>` +
    `<wst:Renewing Allow="false" OK="false"></wst:Renewing><wst:Delegatable>false</wst:Delegatable>` +
    `<wst:KeyType>http://docs.oasis-open.org/ws-sx/ws-trust/200512/${keyType}</wst:KeyType>` +
    `<wst:SignatureAlgorithm>${RSA_SHA256}</wst:SignatureAlgorithm>` +
    (useKey === undefined ? '' : `<wst:UseKey Sig="${useKey}"></wst:UseKey>`) +
    `</wst:RequestSecurityToken>`
  );
}

/** An unsigned envelope (bearer requests): Security header with the given tokens. */
export const plainEnvelope = (tokens: string, bodyInner: string): string =>
  '<?xml version="1.0" encoding="UTF-8"?>\n' +
  `<soapenv:Envelope xmlns:soapenv="${NS.soap}"><soapenv:Header><wsse:Security xmlns:wsse="${NS.wsse}">${tokens}</wsse:Security></soapenv:Header>` +
  `<soapenv:Body xmlns:wsu="${NS.wsu}">${bodyInner}</soapenv:Body></soapenv:Envelope>`;

/** POSTs a whole SOAP envelope to path (default /sdk); fault and session as raw.ts's soap() reads them. */
export async function postEnvelope(h: HarnessInfo, body: string, options: { path?: string; soapAction?: string } = {}): Promise<SoapResponse> {
  const res = await rawRequest(h, options.path ?? '/sdk', {
    method: 'POST',
    headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: options.soapAction ?? `"urn:vim25/${h.apiVersion}"` },
    body,
  });
  const fault = /<detail>\s*<\w+\b[^>]*\bxsi:type="(?:\w+:)?(\w+)"/.exec(res.body)?.[1] ?? /<faultcode[^>]*>(?:\w+:)?(\w+)<\/faultcode>/.exec(res.body)?.[1];
  const setSession = [res.headers['set-cookie'] ?? []].flat().map((c) => /^vmware_soap_session=([^;]*)/.exec(c)?.[1]).find(Boolean);
  return { ...res, ...(fault === undefined ? {} : { fault }), ...(setSession === undefined ? {} : { setSession }) };
}
