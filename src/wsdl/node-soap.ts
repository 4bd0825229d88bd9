// node-soap over the vim25 WSDL: per operation and on first use, node-soap parses a
// one-operation WSDL derived from the compact service description (load.ts), and a client of
// it sends that operation through our transport.
import soap from 'soap';
import { XSD_NS } from '../binding/xml.ts';
import type { HttpTransport } from '../transport/http.ts';
import type { ServiceDescription } from './load.ts';

type Wsdl = soap.Client['wsdl'];
const operationWsdls = new Map<string, Promise<Wsdl>>();

function operationWsdl(d: ServiceDescription, name: string): string {
  const ns = d.targetNamespace;
  return '<?xml version="1.0" encoding="UTF-8"?>'
    + `<definitions targetNamespace="${ns}" xmlns="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:vim25="${ns}" xmlns:xsd="${XSD_NS}">`
    + `<types><schema targetNamespace="${ns}" xmlns="http://www.w3.org/2001/XMLSchema" elementFormDefault="qualified">`
    + `<element name="${name}"><complexType/></element><element name="${name}Response"><complexType/></element></schema></types>`
    + `<message name="${name}RequestMsg"><part name="parameters" element="vim25:${name}"/></message>`
    + `<message name="${name}ResponseMsg"><part name="parameters" element="vim25:${name}Response"/></message>`
    + `<portType name="VimPortType"><operation name="${name}"><input message="vim25:${name}RequestMsg"/><output message="vim25:${name}ResponseMsg"/></operation></portType>`
    + '<binding name="VimBinding" type="vim25:VimPortType"><soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>'
    + `<operation name="${name}"><soap:operation soapAction="${d.soapAction}" style="document"/><input><soap:body use="literal"/></input><output><soap:body use="literal"/></output></operation></binding>`
    + '<service name="VimService"><port binding="vim25:VimBinding" name="VimPort"><soap:address location="https://localhost/sdk/vimService"/></port></service></definitions>';
}

/** node-soap's parse of the one-operation WSDL for `name`, shared by every client of the process. */
function loadOperation(d: ServiceDescription, name: string): Promise<Wsdl> {
  const key = `${d.location}\n${name}`;
  let p = operationWsdls.get(key);
  if (!p) {
    p = new Promise<Wsdl>((resolve, reject) => {
      const wsdl = new soap.WSDL(operationWsdl(d, name), d.location, {});
      wsdl.onReady((err: unknown) => {
        if (err) {
          reject(err);
          return;
        }
        // xsi:type values of primitives in anyType positions use the xsd: prefix.
        wsdl.xmlnsInEnvelope += ` xmlns:xsd="${XSD_NS}"`;
        // node-soap's returnSaxStream hands the answer to the caller for parsing; we want the
        // body itself, which binding/decode.ts reads with a much faster reader than sax.
        (wsdl as unknown as { getSaxStream: (body: unknown) => unknown }).getSaxStream = (body) => body;
        resolve(wsdl);
      });
    });
    operationWsdls.set(key, p);
  }
  return p;
}

// node-soap types its IHttpClient as returning axios promises; it only uses the callbacks and
// the requestStream promise, which HttpTransport provides.
function soapHttpClient(transport: HttpTransport): soap.IHttpClient {
  return transport as unknown as soap.IHttpClient;
}

/** node-soap clients of one VimClient, one per operation, created on first use. */
export class SoapClients {
  readonly #clients = new Map<string, Promise<soap.Client>>();

  constructor(readonly description: ServiceDescription, private readonly endpoint: string, private readonly transport: HttpTransport) {}

  get(method: string): Promise<soap.Client> {
    let p = this.#clients.get(method);
    if (!p) {
      p = loadOperation(this.description, method).then((wsdl) =>
        new soap.Client(wsdl, this.endpoint, { httpClient: soapHttpClient(this.transport), stream: true, returnSaxStream: true }));
      this.#clients.set(method, p);
    }
    return p;
  }
}
