// SAML token (SSO) logins: the WS-Security header LoginByToken carries, signed for
// holder-of-key tokens, and acquiring a token from the vCenter STS (WS-Trust 1.3 Issue).
import { randomUUID, X509Certificate } from 'node:crypto';
import type { SignedXml as SignedXmlClass } from 'xml-crypto';
import { escapeText, localName } from '../binding/xml.ts';
import { readXml } from '../binding/xml-reader.ts';
import { soapEnvelope, WSSE_NS, WSU_NS, type SoapHeader } from '../soap/envelope.ts';
import { TransportError, VimError } from '../errors.ts';
import type { HttpTransport } from '../transport/http.ts';
import { plainRequest } from '../transport/plain.ts';

const WSSE = WSSE_NS;
const WSU = WSU_NS;
const WSSE11 = 'http://docs.oasis-open.org/wss/oasis-wss-wssecurity-secext-1.1.xsd';
const SAML_TOKEN_PROFILE = 'http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1';
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const X509V3 = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3';

/** A SAML assertion; holder-of-key tokens come with the key they are bound to. */
export interface SamlToken {
  /** The assertion XML exactly as the STS issued it (it is signed: never reformat it). */
  assertion: string;
  /** Holder-of-key: the private key (PEM) the assertion is bound to. A secret. */
  privateKey?: string;
  /** Holder-of-key: the certificate (PEM) of that key. */
  certificate?: string;
}

export class TokenError extends VimError {
  override name = 'TokenError';
}

function assertionId(assertion: string): string {
  let id: string | undefined;
  try {
    readXml(assertion, {
      open(qname, attributes) {
        if (id === undefined && localName(qname) === 'Assertion') id = attributes.ID ?? '';
      },
    });
  } catch {
    id = undefined;
  }
  if (!id) throw new TokenError('the token is not a SAML 2.0 assertion with an ID');
  return id;
}

/** An STS answer is a few KB (a holder-of-key assertion with its certificate under 20 KB). */
const MAX_STS_ANSWER_BYTES = 4 * 1024 * 1024;

/**
 * The first SAML Assertion element of an STS answer, character for character (it is signed), and
 * the SOAP faultstring if the answer is a fault. The answer is checked to be well-formed XML in
 * one linear pass; the assertion's text is then cut out by plain string search.
 */
function readStsAnswer(text: string): { assertion: string | undefined; faultString: string | undefined } {
  let inFaultString = false;
  let faultString: string | undefined;
  let prefix: string | undefined;
  try {
    readXml(text, {
      open(qname) {
        const name = localName(qname);
        if (name === 'faultstring') inFaultString = true;
        else if (name === 'Assertion' && prefix === undefined) prefix = qname.slice(0, qname.length - name.length);
      },
      text(t) {
        if (inFaultString) faultString = (faultString ?? '') + t;
      },
      close() {
        inFaultString = false;
      },
    });
  } catch (err) {
    throw new TokenError(`the STS answer is not well-formed XML: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (prefix === undefined) return { assertion: undefined, faultString };
  const open = text.search(new RegExp(`<${prefix.replace(/[.]/g, '\\.')}Assertion[\\s>/]`));
  const closeTag = `</${prefix}Assertion>`;
  const close = text.lastIndexOf(closeTag);
  return { assertion: open >= 0 && close > open ? text.slice(open, close + closeTag.length) : undefined, faultString };
}

function timestamp(id: string, lifetimeSeconds: number): string {
  const now = new Date();
  const expires = new Date(now.getTime() + lifetimeSeconds * 1000);
  return `<wsu:Timestamp wsu:Id="${id}"><wsu:Created>${now.toISOString()}</wsu:Created><wsu:Expires>${expires.toISOString()}</wsu:Expires></wsu:Timestamp>`;
}

type SignedXml = typeof SignedXmlClass;
let signedXml: Promise<SignedXml> | undefined;

/** xml-crypto, loaded on the first holder-of-key signature: most processes never sign, and it costs every start. */
function loadSignedXml(): Promise<SignedXml> {
  signedXml ??= import('xml-crypto').then((m) => m.SignedXml);
  return signedXml;
}

/**
 * The WS-Security header of a LoginByToken request. Bearer: a Timestamp and the assertion.
 * Holder-of-key: the same, and a signer that signs the Timestamp and the Body (exclusive c14n,
 * RSA-SHA256) with the token's key, the signature pointing at the assertion.
 */
export async function tokenHeader(token: SamlToken): Promise<SoapHeader> {
  if (typeof token?.assertion !== 'string') throw new TokenError('token.assertion must be the SAML assertion XML');
  const id = assertionId(token.assertion);
  const tsId = `_${randomUUID()}`;
  const security = `${timestamp(tsId, 600)}${token.assertion}`;
  if (token.privateKey === undefined) return { security };
  const SignedXml = await loadSignedXml();
  const bodyId = `_${randomUUID()}`;
  const keyInfo = `<wsse:SecurityTokenReference xmlns:wsse="${WSSE}" xmlns:wsse11="${WSSE11}" wsse11:TokenType="${SAML_TOKEN_PROFILE}#SAMLV2.0">`
    + `<wsse:KeyIdentifier ValueType="${SAML_TOKEN_PROFILE}#SAMLID">${id}</wsse:KeyIdentifier></wsse:SecurityTokenReference>`;
  const privateKey = token.privateKey;
  return { security, bodyId, sign: (envelope) => signElements(SignedXml, envelope, [tsId, bodyId], privateKey, keyInfo) };
}

/**
 * Signs the elements whose wsu:Id is in `ids` (exclusive c14n, RSA-SHA256), appending the
 * signature to wsse:Security with `keyInfo` naming the key.
 */
function signElements(SignedXml: SignedXml, envelope: string, ids: readonly string[], privateKey: string, keyInfo: string): string {
  const sig = new SignedXml({
    privateKey,
    signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    canonicalizationAlgorithm: EXC_C14N,
    idMode: 'wssecurity',
    getKeyInfoContent: () => keyInfo,
  });
  for (const ref of ids) {
    sig.addReference({
      xpath: `//*[@*[local-name()='Id' and .='${ref}']]`,
      transforms: [EXC_C14N],
      digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256',
    });
  }
  sig.computeSignature(envelope, {
    prefix: 'ds',
    location: { reference: "//*[local-name()='Security']", action: 'append' },
  });
  return sig.getSignedXml();
}

export interface IssueTokenOptions {
  /** The STS endpoint, e.g. https://vc.example.com/sts/STSService/vsphere.local (config.vpxd.sso.sts.uri). */
  stsUrl: string;
  /** User and password; omit both with a holder-of-key certificate to ask as that solution. */
  username?: string;
  password?: string;
  /** Holder-of-key: the certificate and key (PEM) the token will be bound to; the request is signed with them. */
  certificate?: string;
  privateKey?: string;
  /** Token lifetime asked for, in seconds (default 600). */
  lifetimeSeconds?: number;
  signal?: AbortSignal | undefined;
}

function escapeXml(s: string): string {
  return escapeText(s, false, () => {
    throw new TokenError('the user name or password contains a character XML cannot carry');
  });
}

/** The advanced setting (OptionManager) in which a vCenter names its STS. */
const STS_URI_SETTING = 'config.vpxd.sso.sts.uri';

/**
 * issueToken at `options.stsUrl`, or else at the STS the server names in its settings
 * (config.vpxd.sso.sts.uri), read with `queryOptions` (QueryOptions on the server's
 * OptionManager: it needs a session).
 */
export async function issueTokenFromServer(
  transport: HttpTransport,
  options: Omit<IssueTokenOptions, 'stsUrl'> & { stsUrl?: string },
  queryOptions: (name: string) => Promise<ReadonlyArray<{ key: string; value?: unknown }>>,
): Promise<SamlToken> {
  const stsUrl = options.stsUrl ?? (await stsUrlFromSettings(queryOptions));
  return issueToken(transport, { ...options, stsUrl });
}

async function stsUrlFromSettings(queryOptions: (name: string) => Promise<ReadonlyArray<{ key: string; value?: unknown }>>): Promise<string> {
  const values = await queryOptions(STS_URI_SETTING);
  const url = values.find((v) => v.key === STS_URI_SETTING)?.value;
  if (typeof url !== 'string') throw new TypeError('the server names no STS (config.vpxd.sso.sts.uri): pass stsUrl');
  return url;
}

/**
 * A token from the STS (WS-Trust 1.3 Issue): bearer for a user and password; holder-of-key
 * when a certificate and key are given, the request signed with that key, the token bound to it.
 */
export async function issueToken(transport: HttpTransport, o: IssueTokenOptions): Promise<SamlToken> {
  const hok = o.certificate !== undefined || o.privateKey !== undefined;
  if (hok && (o.certificate === undefined || o.privateKey === undefined)) throw new TokenError('a holder-of-key token needs both certificate and privateKey');
  if (!hok && (o.username === undefined || o.password === undefined)) throw new TokenError('a bearer token needs username and password');
  const lifetime = o.lifetimeSeconds ?? 600;
  const created = new Date();
  const expires = new Date(created.getTime() + lifetime * 1000);
  const tsId = `_${randomUUID()}`;
  const bstId = `_${randomUUID()}`;
  const bst = hok
    ? `<wsse:BinarySecurityToken EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary" ValueType="${X509V3}" wsu:Id="${bstId}">${new X509Certificate(o.certificate!).raw.toString('base64')}</wsse:BinarySecurityToken>`
    : '';
  const user = o.username !== undefined
    ? `<wsse:UsernameToken><wsse:Username>${escapeXml(o.username)}</wsse:Username><wsse:Password>${escapeXml(o.password ?? '')}</wsse:Password></wsse:UsernameToken>`
    : '';
  const keyType = hok ? 'PublicKey' : 'Bearer';
  const request = `<wst:RequestSecurityToken xmlns:wst="http://docs.oasis-open.org/ws-sx/ws-trust/200512" xmlns:wsu="${WSU}">`
    + '<wst:TokenType>urn:oasis:names:tc:SAML:2.0:assertion</wst:TokenType>'
    + '<wst:RequestType>http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue</wst:RequestType>'
    + `<wst:Lifetime><wsu:Created>${created.toISOString()}</wsu:Created><wsu:Expires>${expires.toISOString()}</wsu:Expires></wst:Lifetime>`
    + '<wst:Renewing Allow="true" OK="false"/><wst:Delegatable>true</wst:Delegatable>'
    + `<wst:KeyType>http://docs.oasis-open.org/ws-sx/ws-trust/200512/${keyType}</wst:KeyType>`
    + '<wst:SignatureAlgorithm>http://www.w3.org/2001/04/xmldsig-more#rsa-sha256</wst:SignatureAlgorithm>'
    + '</wst:RequestSecurityToken>';
  const security = `${bst}${timestamp(tsId, 300)}${user}`;
  let header: SoapHeader = { security };
  if (hok) {
    const SignedXml = await loadSignedXml();
    const bodyId = `_${randomUUID()}`;
    const keyInfo = `<wsse:SecurityTokenReference xmlns:wsse="${WSSE}"><wsse:Reference URI="#${bstId}" ValueType="${X509V3}"/></wsse:SecurityTokenReference>`;
    header = { security, bodyId, sign: (envelope) => signElements(SignedXml, envelope, [tsId, bodyId], o.privateKey!, keyInfo) };
  }
  const body = soapEnvelope(request, header);
  const res = await plainRequest(transport, o.stsUrl, {
    method: 'POST',
    cookies: false,
    body,
    // Unquoted, as govmomi sends it to vCenter's STS (and the only form vcsim's STS reads).
    headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: 'http://docs.oasis-open.org/ws-sx/ws-trust/200512/RST/Issue' },
    maxBytes: MAX_STS_ANSWER_BYTES,
    signal: o.signal,
  });
  const text = res.text();
  if (res.status !== 200) {
    let fault: string | undefined;
    try {
      fault = readStsAnswer(text).faultString?.slice(0, 500);
    } catch {
      // Not XML (a proxy's page): the status says enough.
    }
    throw new TransportError(`STS refused to issue a token: HTTP ${res.status}${fault ? `: ${fault}` : ''}`, { status: res.status, code: `HTTP_${res.status}` });
  }
  const { assertion } = readStsAnswer(text);
  if (!assertion) throw new TokenError('the STS answer holds no SAML assertion');
  return hok ? { assertion, privateKey: o.privateKey!, certificate: o.certificate! } : { assertion };
}
