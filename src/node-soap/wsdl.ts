// The full vim25 WSDL as node-soap parses it: vimService.wsdl, the vim.wsdl it imports and the
// schemas that one includes (3.4 MB of XML: ~1.7 s of CPU and ~80 MB of RSS on the 2-core machine,
// README "node-soap"). That is paid once per process and location, on the first
// createSoapClient for it, and the parse is shared by every client made from it.
import type { IHttpClient, WSDL } from 'soap';
import { open_wsdl as openWsdl } from 'soap/lib/wsdl/index.js';
import { TransportError } from '../errors.ts';

const parsed = new Map<string, Promise<WSDL>>();

/**
 * node-soap keeps the options a WSDL was opened with (and copies of them in every imported
 * document): the loader it is given forwards to the first client's transport only until the
 * parse is done, so the shared parse never keeps that client's sockets and jar alive.
 */
class Loader implements IHttpClient {
  constructor(private target: IHttpClient | undefined) {}

  request(...args: Parameters<IHttpClient['request']>): ReturnType<IHttpClient['request']> {
    if (!this.target) throw new TransportError('the WSDL loader was used after the WSDL was parsed', { code: 'EWSDL' });
    return this.target.request(...args);
  }

  release(): void {
    this.target = undefined;
  }
}

/** node-soap's parse of the WSDL at `location` (a file or URL), read through `http` for URLs; once per process and location. */
export function sharedWsdl(location: string, http: IHttpClient): Promise<WSDL> {
  let p = parsed.get(location);
  if (!p) {
    const loader = new Loader(http);
    p = new Promise<WSDL>((resolve, reject) => {
      openWsdl(location, { httpClient: loader }, (err, wsdl) => {
        loader.release();
        if (err || !wsdl) reject(err instanceof TransportError ? err : new TransportError(`cannot load the vim25 WSDL from ${location}: ${err instanceof Error ? err.message : String(err)}`, { code: 'EWSDL', cause: err }));
        else resolve(wsdl);
      });
    });
    p.catch(() => parsed.delete(location));
    parsed.set(location, p);
  }
  return p;
}
