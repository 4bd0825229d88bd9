// Locates a vim25 WSDL a client was given and reads what it needs of it, cheaply: the
// operations of the WSDL's portType (calls to others are refused before anything is sent),
// its target namespace and soapAction. Every type comes from the generated metadata, so the
// 3.4 MB of schema are never parsed at run time; the description is read once per process and
// location.
import { readFile } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { TransportError } from '../errors.ts';
import type { HttpTransport } from '../transport/http.ts';

/** The vimService.wsdl that the `wsdl` option (a directory, a vimService.wsdl path or a URL) names. */
export function wsdlLocation(given: string): string {
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
