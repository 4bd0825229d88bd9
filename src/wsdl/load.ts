// Locates the vim25 WSDL and turns it into what node-soap needs, cheaply.
//
// node-soap parsing the whole bundle (3.4 MB of WSDL and XSD) costs over a second and 150 MB
// at every start, and our binding takes every type from the generated metadata anyway. So the
// service description is read once per process and location in a compact form: the operations
// of the WSDL's portType, its target namespace and soapAction. node-soap then gets, per
// operation and on first use, a one-operation WSDL derived from that description.
import { readFile } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import soap from 'soap';
import { TransportError } from '../errors.ts';
import { XSD_NS } from '../binding/xml.ts';
import type { HttpTransport } from '../transport/http.ts';

/**
 * Where the WSDL comes from: the `wsdl` option (a directory, a vimService.wsdl path or a URL),
 * else $VIM25_WSDL_DIR, else the server's own `<sdk>/vimService.wsdl`.
 */
export function wsdlLocation(option: string | undefined, sdkUrl: string): string {
  const given = option ?? process.env.VIM25_WSDL_DIR;
  if (given === undefined || given === '') return `${sdkUrl.replace(/\/+$/, '')}/vimService.wsdl`;
  if (/^https?:\/\//i.test(given)) return given;
  const path = resolve(given);
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'vimService.wsdl') : path;
  if (!existsSync(file)) throw new TransportError(`vim25 WSDL not found at ${file}`, { code: 'EWSDL' });
  return file;
}

export interface ServiceDescription {
  /** Where it was read from (vimService.wsdl). */
  location: string;
  targetNamespace: string;
  /** The bundle's own soapAction (requests override it with the server's version). */
  soapAction: string;
  operations: ReadonlySet<string>;
}

const descriptions = new Map<string, Promise<ServiceDescription>>();

/** The compact service description at `location`, read once per process. */
export function loadServiceDescription(location: string, transport: HttpTransport): Promise<ServiceDescription> {
  let p = descriptions.get(location);
  if (!p) {
    p = readDescription(location, transport).catch((err: unknown) => {
      descriptions.delete(location);
      if (err instanceof TransportError) throw err;
      throw new TransportError(`cannot load the vim25 WSDL from ${location}: ${err instanceof Error ? err.message : String(err)}`, { code: 'EWSDL', cause: err });
    });
    descriptions.set(location, p);
  }
  return p;
}

async function fetchText(location: string, transport: HttpTransport): Promise<string> {
  if (!/^https?:\/\//i.test(location)) return readFile(location, 'utf8');
  const res = await transport.send(location, { method: 'GET' });
  const text = await transport.text(res.body);
  if (res.status !== 200) throw new TransportError(`cannot load ${location}: HTTP ${res.status}`, { code: 'EWSDL', status: res.status });
  return text;
}

function requireWsdl(location: string, text: string): void {
  if (!/^\s*(<\?xml[^>]*\?>\s*)?(<!--[\s\S]*?-->\s*)*<(\w+:)?definitions\b/.test(text)) {
    const what = /<html\b/i.test(text) ? 'an HTML page' : 'something else';
    throw new TransportError(`${location} is not a WSDL document (got ${what})`, { code: 'EWSDL' });
  }
}

function relative(base: string, ref: string): string {
  return /^https?:\/\//i.test(base) ? new URL(ref, base).href : join(dirname(base), ref);
}

async function readDescription(location: string, transport: HttpTransport): Promise<ServiceDescription> {
  const service = await fetchText(location, transport);
  requireWsdl(location, service);
  // vimService.wsdl only names the service; the interface WSDL it imports holds the operations.
  const imported = /<(?:\w+:)?import\b[^>]*\blocation\s*=\s*"([^"]+)"/.exec(service)?.[1];
  const interfaceLocation = imported ? relative(location, imported) : location;
  const text = imported ? await fetchText(interfaceLocation, transport) : service;
  requireWsdl(interfaceLocation, text);
  const targetNamespace = /<(?:\w+:)?definitions\b[^>]*\btargetNamespace\s*=\s*"([^"]+)"/.exec(text)?.[1];
  const portType = /<(?:\w+:)?portType\b[\s\S]*?<\/(?:\w+:)?portType>/.exec(text)?.[0];
  const soapAction = /\bsoapAction\s*=\s*"([^"]*)"/.exec(text)?.[1];
  if (!targetNamespace || !portType || soapAction === undefined) throw new TransportError(`${interfaceLocation} has no vim25 portType and binding`, { code: 'EWSDL' });
  const operations = new Set<string>();
  for (const m of portType.matchAll(/<(?:\w+:)?operation\s+name\s*=\s*"([^"]+)"/g)) {
    if (!/^[A-Za-z_][\w.-]*$/.test(m[1]!)) throw new TransportError(`${interfaceLocation}: operation name ${JSON.stringify(m[1])} is not an XML name`, { code: 'EWSDL' });
    operations.add(m[1]!);
  }
  if (operations.size === 0) throw new TransportError(`${interfaceLocation} declares no operations`, { code: 'EWSDL' });
  return { location, targetNamespace, soapAction, operations };
}

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

  has(method: string): boolean {
    return this.description.operations.has(method);
  }

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
