// The SOAP 1.1 envelope of a request, with an optional header: every envelope the library writes
// (vim25 calls, the STS's WS-Trust request) is built here. The vim25 namespace is declared on the
// request element itself (and as the default namespace there), so a body written by the binding
// needs no prefix of its own.
import { VIM25_NS, XSD_NS, XSI_NS } from '../binding/xml.ts';

export const WSSE_NS = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
export const WSU_NS = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd';

/** What a request carries besides its body: a WS-Security header (token logins), and a signer. */
export interface SoapHeader {
  /** The children of wsse:Security, e.g. a wsu:Timestamp and a SAML assertion, as XML. */
  security?: string;
  /** A wsu:Id for the Body, which a signature references. */
  bodyId?: string;
  /** Signs the finished envelope (holder-of-key tokens), adding a ds:Signature to wsse:Security. */
  sign?: (envelope: string) => string;
}

const OPEN = '<?xml version="1.0" encoding="utf-8"?>'
  + `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="${XSI_NS}"  xmlns:vim25="${VIM25_NS}" xmlns:xsd="${XSD_NS}">`;
const BODY = '<soap:Body>';
const TAIL = '</soap:Body></soap:Envelope>';

/** The wsse:Security element holding `content` (a header's `security`). */
export function securityElement(content: string): string {
  return `<wsse:Security xmlns:wsse="${WSSE_NS}" xmlns:wsu="${WSU_NS}">${content}</wsse:Security>`;
}

/** The attributes that give the Body the id a signature references. */
export function bodyIdAttributes(bodyId: string): string {
  return ` xmlns:wsu="${WSU_NS}" wsu:Id="${bodyId}"`;
}

/** An envelope whose Body holds `content`, with the header's Security, Body id and signature. */
export function soapEnvelope(content: string, header?: SoapHeader): string {
  if (!header) return `${OPEN}${BODY}${content}${TAIL}`;
  const security = header.security === undefined ? '' : `<soap:Header>${securityElement(header.security)}</soap:Header>`;
  const bodyOpen = header.bodyId === undefined ? BODY : `<soap:Body${bodyIdAttributes(header.bodyId)}>`;
  const envelope = `${OPEN}${security}${bodyOpen}${content}${TAIL}`;
  return header.sign ? header.sign(envelope) : envelope;
}

/** The envelope of a call to `method` whose request element has the children `body`. */
export function requestEnvelope(method: string, body: string, header?: SoapHeader): string {
  return soapEnvelope(`<vim25:${method} xmlns:vim25="${VIM25_NS}" xmlns="${VIM25_NS}">${body}</vim25:${method}>`, header);
}
