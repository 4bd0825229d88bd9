// Locates a vim25 WSDL a client was given and reads what it needs of it, cheaply: the
// operations of the WSDL's portType (calls to others are refused before anything is sent),
// its target namespace and soapAction. Every type comes from the generated metadata, so the
// 3.4 MB of schema are never parsed at run time; the description is read once per process and
// location.
import { readFile } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { readElements } from '../binding/xml-elements.ts';
import { TransportError } from '../errors.ts';
import type { HttpTransport } from '../transport/http.ts';
import { trustKey, type TlsOptions } from '../transport/tls.ts';
import { plainRequest } from '../transport/plain.ts';

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

/**
 * The compact service description at `location`, read once per process and TLS policy: a URL
 * read under one policy is not another's (a file is everyone's).
 */
export function loadServiceDescription(location: string, transport: HttpTransport): Promise<ServiceDescription> {
  const key = cacheKey(location, transport.options.tls);
  let p = descriptions.get(key);
  if (!p) {
    p = readDescription(location, transport).catch((err: unknown) => {
      descriptions.delete(key);
      if (err instanceof TransportError) throw err;
      throw new TransportError(`cannot load the vim25 WSDL from ${location}: ${err instanceof Error ? err.message : String(err)}`, { code: 'EWSDL', cause: err });
    });
    descriptions.set(key, p);
  }
  return p;
}

/** The key of a document cache: its location and, for a URL, what the TLS policy that reads it trusts. */
export function cacheKey(location: string, tls: TlsOptions): string {
  return /^https?:\/\//i.test(location) ? `${location}\n${trustKey(tls)}` : location;
}

/** vim.wsdl is 1.6 MB; a server's answer is read no further than this. */
const MAX_WSDL_BYTES = 16 * 1024 * 1024;

async function fetchText(location: string, transport: HttpTransport): Promise<string> {
  if (!/^https?:\/\//i.test(location)) return readFile(location, 'utf8');
  const res = await plainRequest(transport, location, { maxBytes: MAX_WSDL_BYTES });
  if (res.status !== 200) throw new TransportError(`cannot load ${location}: HTTP ${res.status}`, { code: 'EWSDL', status: res.status });
  return res.text();
}

/** `ref` (an import's or include's location) resolved against the document at `base` (a URL or a file path). */
export function resolveLocation(base: string, ref: string): string {
  return /^https?:\/\//i.test(base) ? new URL(ref, base).href : join(dirname(base), ref);
}

/** What a client needs of one WSDL document, read in one linear pass. */
interface WsdlFacts {
  targetNamespace: string | undefined;
  /** The interface WSDL that vimService.wsdl imports. */
  imported: string | undefined;
  soapAction: string | undefined;
  operations: string[];
}

function readWsdl(location: string, text: string): WsdlFacts {
  const facts: WsdlFacts = { targetNamespace: undefined, imported: undefined, soapAction: undefined, operations: [] };
  let root: string | undefined;
  try {
    readElements(text, {
      open(name, attributes, parents) {
        if (parents.length === 0) {
          root = name;
          if (name !== 'definitions') throw new TransportError(`${location} is not a WSDL document (got ${name.toLowerCase() === 'html' ? 'an HTML page' : `<${name}>`})`, { code: 'EWSDL' });
          facts.targetNamespace = attributes.targetNamespace;
        } else if (parents.length === 1 && name === 'import') {
          facts.imported ??= attributes.location;
        } else if (parents.length === 2 && name === 'operation' && parents[1] === 'portType' && attributes.name !== undefined) {
          facts.operations.push(attributes.name);
        } else if (name === 'operation' && parents[1] === 'binding' && attributes.soapAction !== undefined) {
          facts.soapAction ??= attributes.soapAction;
        }
      },
    });
  } catch (err) {
    if (err instanceof TransportError) throw err;
    const what = root === undefined && /<html\b/i.test(text.slice(0, 4096)) ? 'an HTML page' : `malformed XML: ${err instanceof Error ? err.message : String(err)}`;
    throw new TransportError(`${location} is not a WSDL document (${what})`, { code: 'EWSDL', cause: err });
  }
  return facts;
}

async function readDescription(location: string, transport: HttpTransport): Promise<ServiceDescription> {
  const service = readWsdl(location, await fetchText(location, transport));
  // vimService.wsdl only names the service; the interface WSDL it imports holds the operations.
  const interfaceLocation = service.imported ? resolveLocation(location, service.imported) : location;
  const facts = service.imported ? readWsdl(interfaceLocation, await fetchText(interfaceLocation, transport)) : service;
  const { targetNamespace, soapAction } = facts;
  if (!targetNamespace || facts.operations.length === 0 || soapAction === undefined) {
    throw new TransportError(`${interfaceLocation} has no vim25 portType and binding`, { code: 'EWSDL' });
  }
  for (const name of facts.operations) {
    if (!/^[A-Za-z_][\w.-]*$/.test(name)) throw new TransportError(`${interfaceLocation}: operation name ${JSON.stringify(name.slice(0, 64))} is not an XML name`, { code: 'EWSDL' });
  }
  return { location, targetNamespace, soapAction, operations: new Set(facts.operations) };
}
