// The server's vim25 version, from `<sdk>/vimServiceVersions.xml` (served by vCenter and ESXi),
// so that even the first request (RetrieveServiceContent) carries the server's SOAPAction.
import { localName } from '../binding/xml.ts';
import { readXml } from '../binding/xml-reader.ts';
import { TransportError } from '../errors.ts';
import type { HttpTransport } from '../transport/http.ts';
import { plainRequest } from '../transport/plain.ts';

/** The real file is about a kilobyte; anything much larger is not one. */
const MAX_VERSION_FILE_BYTES = 64 * 1024;

/** The `urn:vim25` version the server advertises, or undefined if it does not say (or says it in a way we cannot read). */
export async function fetchServerVersion(transport: HttpTransport, sdkUrl: string, signal?: AbortSignal): Promise<string | undefined> {
  try {
    const res = await plainRequest(transport, `${sdkUrl}/vimServiceVersions.xml`, { maxBytes: MAX_VERSION_FILE_BYTES, signal });
    return res.status === 200 ? vim25Version(res.text()) : undefined;
  } catch (err) {
    if (err instanceof TransportError && err.code === 'ERESPONSETOOLARGE') return undefined;
    throw err;
  }
}

/**
 * `<namespaces><namespace><name>urn:vim25</name><version>8.0.3.0</version><priorVersions>…`:
 * the version of the namespace named urn:vim25, outside its priorVersions.
 */
export function vim25Version(xml: string): string | undefined {
  const path: string[] = [];
  let text = '';
  let name: string | undefined;
  let version: string | undefined;
  let found: string | undefined;
  try {
    readXml(xml, {
      open(qname) {
        path.push(localName(qname));
        text = '';
        if (path.length === 2 && path[1] === 'namespace') name = version = undefined;
      },
      text(t) {
        text += t;
      },
      close() {
        const here = path.join('/');
        path.pop();
        if (here === 'namespaces/namespace/name') name = text.trim();
        else if (here === 'namespaces/namespace/version') version = text.trim();
        else if (here === 'namespaces/namespace' && name === 'urn:vim25' && version && found === undefined) found = version;
      },
    }, { maxDepth: 16, maxElements: 10_000 });
  } catch {
    return undefined;
  }
  return found !== undefined && /^[^\s<]+$/.test(found) ? found : undefined;
}
