// The SOAP 1.1 envelope around a vim25 request. The vim25 namespace is declared on the request
// element itself (and as the default namespace there), so a body written by the binding needs
// no prefix of its own.
import { VIM25_NS, XSD_NS, XSI_NS } from '../binding/xml.ts';

const HEAD = '<?xml version="1.0" encoding="utf-8"?>'
  + `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="${XSI_NS}"  xmlns:vim25="${VIM25_NS}" xmlns:xsd="${XSD_NS}">`
  + '<soap:Body>';
const TAIL = '</soap:Body></soap:Envelope>';

/** The envelope of a call to `method` whose request element has the children `body`. */
export function requestEnvelope(method: string, body: string): string {
  return `${HEAD}<vim25:${method} xmlns:vim25="${VIM25_NS}" xmlns="${VIM25_NS}">${body}</vim25:${method}>${TAIL}`;
}
