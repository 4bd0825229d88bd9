// Locates the vim25 WSDL, parses it once per process with node-soap, and builds node-soap
// clients over the shared parse. Parsing the 3 MB bundle is the expensive part of start-up;
// every VimClient of the process reuses one parse per location.
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import soap from 'soap';
import { TransportError } from '../errors.ts';
import { XSD_NS } from '../binding/xml.ts';
import type { HttpTransport } from '../transport/http.ts';

export type Wsdl = soap.Client['wsdl'];

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

// node-soap types its IHttpClient as returning axios promises; it only uses the callbacks and
// the requestStream promise, which HttpTransport provides.
function soapHttpClient(transport: HttpTransport): soap.IHttpClient {
  return transport as unknown as soap.IHttpClient;
}

const parsed = new Map<string, Promise<Wsdl>>();

/** The parsed WSDL at `location`, downloading through `transport` (its TLS policy) if it is a URL. */
export function loadWsdl(location: string, transport: HttpTransport): Promise<Wsdl> {
  let p = parsed.get(location);
  if (!p) {
    p = soap
      .createClientAsync(location, { httpClient: soapHttpClient(transport), disableCache: true })
      .then((client) => {
        const wsdl = client.wsdl;
        // xsi:type values of primitives in anyType positions use the xsd: prefix.
        if (!/\bxmlns:xsd=/.test(wsdl.xmlnsInEnvelope)) wsdl.xmlnsInEnvelope += ` xmlns:xsd="${XSD_NS}"`;
        return wsdl;
      })
      .catch((err: unknown) => {
        parsed.delete(location);
        if (err instanceof TransportError) throw err;
        const msg = err instanceof Error ? err.message : String(err);
        throw new TransportError(`cannot load the vim25 WSDL from ${location}: ${msg.split('\n')[0]}`, { code: 'EWSDL', cause: err });
      });
    parsed.set(location, p);
  }
  return p;
}

/** A node-soap client over a shared parse, sending through `transport` to `endpoint`. */
export function createSoapClient(wsdl: Wsdl, endpoint: string, transport: HttpTransport): soap.Client {
  return new soap.Client(wsdl, endpoint, { httpClient: soapHttpClient(transport), stream: true, returnSaxStream: true });
}
