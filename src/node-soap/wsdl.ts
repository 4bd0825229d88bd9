// The full vim25 WSDL as node-soap parses it: vimService.wsdl, the vim.wsdl it imports and the
// schemas that one includes (3.4 MB of XML: ~1.7 s of CPU and ~80 MB of RSS on the 2-core machine,
// README "node-soap"). The parse is shared by every client made from the same documents, wherever
// they were read from: a bundle directory and the servers of one vSphere build serve the same
// bytes, so a process talking to fifty vCenters of three builds parses three times, not fifty.
// A location's documents are read (and hashed) once per process.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IHttpClient, WSDL } from 'soap';
import { open_wsdl as openWsdl } from 'soap/lib/wsdl/index.js';
import { readXml } from '../binding/xml-reader.ts';
import { localName } from '../binding/xml.ts';
import { TransportError } from '../errors.ts';
import type { TlsOptions } from '../transport/tls.ts';
import { cacheKey, resolveLocation } from '../wsdl/load.ts';

const byContent = new Map<string, Promise<WSDL>>();
const byLocation = new Map<string, Promise<WSDL>>();

/** vim25's bundle is 9 documents and 3.4 MB; a server's WSDL is followed no further than this. */
const MAX_DOCUMENTS = 64;
const MAX_TOTAL_CHARS = 64 * 1024 * 1024;

type Callback = Parameters<IHttpClient['request']>[2];

/**
 * node-soap keeps the options a WSDL was opened with (and copies of them in every imported
 * document): the loader it is given serves the documents already read, and forwards anything
 * else to the first client's transport only until the parse is done, so the shared parse never
 * keeps that client's sockets and jar alive.
 */
class Loader implements IHttpClient {
  constructor(private readonly documents: ReadonlyMap<string, string>, private target: IHttpClient | undefined) {}

  request(url: string, data: unknown, callback: Callback, ...rest: unknown[]): ReturnType<IHttpClient['request']> {
    const known = data == null ? this.documents.get(url) : undefined;
    if (known !== undefined) {
      queueMicrotask(() => callback(null, { status: 200, statusText: 'OK', headers: {}, data: known } as never, known));
      return undefined as never;
    }
    if (!this.target) throw new TransportError('the WSDL loader was used after the WSDL was parsed', { code: 'EWSDL' });
    return (this.target.request as (...a: unknown[]) => ReturnType<IHttpClient['request']>)(url, data, callback, ...rest);
  }

  release(): void {
    this.target = undefined;
  }
}

/**
 * node-soap's parse of the WSDL at `location` (a file or URL; URLs read through `http`, under the
 * TLS policy `tls`), shared by every location serving the same documents. A location's documents
 * are read once per TLS policy: a client that verifies the server does not take what a client
 * that does not read.
 */
export function sharedWsdl(location: string, http: IHttpClient, tls: TlsOptions): Promise<WSDL> {
  const key = cacheKey(location, tls);
  let p = byLocation.get(key);
  if (!p) {
    p = readDocuments(location, http).then((documents) => parsedOnce(location, documents, http));
    p.catch(() => byLocation.delete(key));
    byLocation.set(key, p);
  }
  return p;
}

function parsedOnce(location: string, documents: ReadonlyMap<string, string>, http: IHttpClient): Promise<WSDL> {
  const key = documentsKey(location, documents);
  let p = byContent.get(key);
  if (!p) {
    const loader = new Loader(documents, http);
    p = new Promise<WSDL>((resolve, reject) => {
      openWsdl(location, { httpClient: loader }, (err, wsdl) => {
        loader.release();
        if (err || !wsdl) reject(err instanceof TransportError ? err : new TransportError(`cannot load the vim25 WSDL from ${location}: ${err instanceof Error ? err.message : String(err)}`, { code: 'EWSDL', cause: err }));
        else resolve(wsdl);
      });
    });
    p.catch(() => byContent.delete(key));
    byContent.set(key, p);
  }
  return p;
}

/** The document at `location` and every one it imports or includes, transitively, by location. */
async function readDocuments(location: string, http: IHttpClient): Promise<Map<string, string>> {
  const documents = new Map<string, string>();
  const queue = [location];
  let chars = 0;
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    if (documents.has(next)) continue;
    if (documents.size === MAX_DOCUMENTS) throw new TransportError(`the vim25 WSDL at ${location} imports more than ${MAX_DOCUMENTS} documents`, { code: 'EWSDL' });
    const text = await readDocument(next, http);
    chars += text.length;
    if (chars > MAX_TOTAL_CHARS) throw new TransportError(`the vim25 WSDL at ${location} is larger than ${MAX_TOTAL_CHARS} characters`, { code: 'EWSDL' });
    documents.set(next, text);
    try {
      for (const ref of referencedDocuments(text)) queue.push(resolveLocation(next, ref));
    } catch (err) {
      throw new TransportError(`${next} is not a WSDL or schema document (${err instanceof Error ? err.message : String(err)})`, { code: 'EWSDL', cause: err });
    }
  }
  return documents;
}

/** Thrown to end a scan once no import or include can follow. */
class ScanDone extends Error {}

/**
 * The locations a WSDL or schema document imports or includes. They may stand only at the start:
 * a schema's include, import and redefine before its first component (XML Schema 1.0, 3.15.2), a
 * WSDL's imports and types before its messages (WSDL 1.1, 2.1). So the scan ends at the first
 * component of a schema document and at the first message of a WSDL: vim-types.xsd is 1.5 MB, its
 * includes are in the first lines, and reading each document whole cost ~0.5 s per location.
 */
function referencedDocuments(text: string): string[] {
  const refs: string[] = [];
  const open: string[] = [];
  try {
    readXml(text, {
      open(qname, attributes) {
        const name = localName(qname);
        const parent = open.at(-1);
        open.push(name);
        if (parent === 'schema') {
          if (name === 'include' || name === 'import' || name === 'redefine') {
            if (attributes.schemaLocation) refs.push(attributes.schemaLocation);
          } else if (name !== 'annotation' && open.length === 2) {
            throw new ScanDone();
          }
        } else if (parent === 'definitions' && open.length === 2) {
          if (name === 'import') {
            if (attributes.location) refs.push(attributes.location);
          } else if (name !== 'documentation' && name !== 'types') {
            throw new ScanDone();
          }
        }
      },
      close() {
        open.pop();
      },
    });
  } catch (err) {
    if (!(err instanceof ScanDone)) throw err;
  }
  return refs;
}

/** What a 404 for the WSDL means: a server (vcsim, a proxy) that serves none, and what to do instead. */
const MISSING_WSDL_HINT = ': the server serves no WSDL there (vcsim serves none). Pass one: createSoapClient(client, { wsdl: \'/path/to/vimService.wsdl\' }) (a directory or file of the vim25 WSDL bundle, or a URL)';

function readDocument(location: string, http: IHttpClient): Promise<string> {
  if (!/^https?:\/\//i.test(location)) {
    return readFile(location, 'utf8').catch((err: unknown) => {
      throw new TransportError(`cannot read ${location} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { code: 'EWSDL', cause: err });
    });
  }
  return new Promise<string>((resolve, reject) => {
    http.request(location, null, (err: unknown, res?: { status?: number }, body?: unknown) => {
      if (err) reject(err);
      else if (res?.status !== 200 || typeof body !== 'string') reject(new TransportError(`cannot load ${location}: HTTP ${res?.status ?? '?'}${res?.status === 404 ? MISSING_WSDL_HINT : ''}`, { code: 'EWSDL', status: res?.status }));
      else resolve(body);
    });
  });
}

/** A digest of the documents and their places relative to the first one, the same for a directory and a server. */
function documentsKey(location: string, documents: ReadonlyMap<string, string>): string {
  const base = location.slice(0, Math.max(location.lastIndexOf('/'), location.lastIndexOf('\\')) + 1);
  const hash = createHash('sha256');
  for (const [where, text] of documents) {
    const name = where.startsWith(base) ? where.slice(base.length) : where;
    hash.update(`${name}\n${text.length}\n`).update(text);
  }
  return hash.digest('hex');
}
