// One streamed HTTP exchange beside the SDK endpoint (a datastore's /folder, a guest-file URL, an
// HttpNfcLease's device URLs), on a VimClient's transport: its TLS policy, cookie jar (the
// session), abort signal and connections. The body goes as the connection takes it and the
// answer comes back as a stream, so memory stays flat whatever the size.
//
// The deadline is an idle timeout (RequestContext.idle): a transfer fails when no byte moved
// either way for timeoutMs (default: the client's timeoutMs), not after a total time no one
// can know for a file of any size.
//
// The session: a 401 is the session's end, as NotAuthenticated is for a call, and goes through
// the same single-flight re-login (the session policy, as vAPI's requests do); then the request
// is sent once more, if its body can be read again (a file path, a buffer). A one-shot stream
// was already (partly) sent: it fails with TransferError('not-rereadable'), the session
// re-established for the next transfer.
import type { IncomingHttpHeaders } from 'node:http';
import { pipeline, type Readable } from 'node:stream';
import { undeclaredMethod } from '../binding/metadata.ts';
import { abortedBy, TransportError } from '../errors.ts';
import { internalsOf, type ClientInternals } from '../internals.ts';
import { vimFault } from '../soap/faults.ts';
import type { SoapCall } from '../soap/pipeline.ts';
import { excerpt, type HttpResponse } from '../transport/http.ts';
import { replayOnce } from '../transport/replay.ts';
import { TransferError } from './errors.ts';
import { lengthGuard, openSource, type OpenedSource, type TransferProgress, type TransferSource } from './source.ts';

export type TransferMethod = 'GET' | 'PUT' | 'POST' | 'DELETE' | 'HEAD';

export interface TransferRequestInit {
  method: TransferMethod;
  /** Absolute, or relative to the client's server; a `*` host (lease and guest URLs) is the host the client reached. */
  url: string | URL;
  headers?: Record<string, string> | undefined;
  body?: TransferSource | undefined;
  /** The body's length, for a stream whose length the source cannot tell (sent as Content-Length, and enforced). */
  length?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Idle timeout: how long the transfer may go without a byte moving (default: the client's timeoutMs). */
  timeoutMs?: number | undefined;
  /** Bytes of the body sent so far; without a body, bytes of the answer received. */
  onProgress?: ((p: TransferProgress) => void) | undefined;
  /** false: neither send nor store cookies (a URL that carries its own ticket); a 401 is then not a session's end. Default true. */
  cookies?: boolean | undefined;
}

export interface TransferResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The answer, to read to its end or destroy (either frees the connection). */
  body: Readable;
}

const METHODS: ReadonlySet<string> = new Set(['GET', 'PUT', 'POST', 'DELETE', 'HEAD']);
const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'PUT', 'DELETE', 'HEAD']);
/** How much of an error answer is read for its excerpt. */
const ERROR_BODY_LIMIT = 64 * 1024;

/** The client's wiring, or a TypeError for anything that is not a VimClient of this package. */
function clientInternals(client: object): ClientInternals {
  const internals = internalsOf(client);
  if (!internals) throw new TypeError('a transfer needs a VimClient made by this package');
  return internals;
}

/**
 * `url` on the client's server: relative ones resolved against it, a `*` host replaced by the
 * host the client reached (with its port, unless the URL names one), http(s) only, no credentials.
 */
export function transferUrl(url: string | URL, server: string): URL {
  const text = String(url);
  const star = /^(https?:\/\/)\*(?=[:/?#]|$)/i.exec(text);
  let u: URL;
  try {
    u = new URL(star ? `${star[1]}star.invalid${text.slice(star[0].length)}` : text, server);
  } catch {
    throw new TypeError(`not a URL: ${JSON.stringify(text.slice(0, 200))}`);
  }
  if (star) {
    const s = new URL(server);
    u.hostname = s.hostname;
    if (!u.port && u.protocol === s.protocol) u.port = s.port;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new TypeError(`a transfer URL is http(s), not ${u.protocol}`);
  if (u.username || u.password) throw new TypeError('a transfer URL carries no credentials');
  return u;
}

/** A transfer as the session policy sees it: not a vim25 method, only a name (for its log) and a signal. */
function sessionCall(name: string, signal: AbortSignal | undefined): SoapCall {
  return { info: undeclaredMethod(name), _this: undefined, args: undefined, options: { signal } };
}

/**
 * One streamed exchange. Resolves with the answer's head once it arrives (2xx/3xx); rejects with
 * a TransportError `HTTP_<status>` (its status and an excerpt) for any other answer, after a
 * 401 has had its one re-login.
 */
export async function transferRequest(client: object, req: TransferRequestInit): Promise<TransferResponse> {
  const internals = clientInternals(client);
  const method = String(req.method).toUpperCase();
  if (!METHODS.has(method)) throw new TypeError(`a transfer method is GET, PUT, POST, DELETE or HEAD, not ${JSON.stringify(req.method)}`);
  const url = transferUrl(req.url, internals.url);
  if (req.timeoutMs !== undefined && !(req.timeoutMs > 0)) throw new TypeError('timeoutMs is a positive number of milliseconds');
  const source = req.body === undefined ? undefined : await openSource(req.body, req.length);
  if (source && (method === 'GET' || method === 'HEAD')) throw new TypeError(`a ${method} request has no body`);
  const what = `${method} ${url.pathname}`;
  const attempt = (): Promise<TransferResponse> => send(internals, method as TransferMethod, url, what, source, req);
  try {
    if (req.signal?.aborted) throw abortedBy(req.signal, `${what} aborted`);
    if (req.cookies === false) return await attempt();
    return (await internals.session.policy.handle(sessionCall(what, req.signal), attempt)) as TransferResponse;
  } catch (err) {
    source?.discard();
    throw err;
  }
}

async function send(internals: ClientInternals, method: TransferMethod, url: URL, what: string, source: OpenedSource | undefined, req: TransferRequestInit): Promise<TransferResponse> {
  if (source?.opened && !source.rereadable) {
    throw new TransferError('not-rereadable', `${what}: the session had ended and was re-established, but the source is a one-shot stream already (partly) sent: send it again with a new stream (or a file path or buffer, which are sent again by themselves)`);
  }
  let sourceError: unknown;
  const exchange = (freshConnection: boolean): Promise<HttpResponse> => {
    const headers: Record<string, string> = { ...req.headers };
    let body: Readable | undefined;
    if (source) {
      const raw = source.open();
      const guard = lengthGuard(source.length, req.onProgress);
      // The source's own failure (a read error, a length mismatch) is what the caller is told,
      // rather than the request it brought down; a request that failed closes the source without
      // an error of its own.
      raw.on('error', (err) => {
        sourceError ??= err;
        guard.destroy(err);
      });
      guard.once('error', (err) => {
        if (err instanceof TransferError) sourceError ??= err;
      });
      guard.once('close', () => {
        if (!raw.readableEnded) raw.destroy();
      });
      body = raw.pipe(guard);
      if (source.length !== undefined) headers['Content-Length'] = String(source.length);
      headers['Content-Type'] ??= 'application/octet-stream';
    } else if (method === 'PUT' || method === 'POST') {
      headers['Content-Length'] = '0';
    }
    return internals.transport.send(url.href, {
      method,
      body,
      headers,
      cookies: req.cookies !== false,
      ctx: { signal: req.signal, timeoutMs: req.timeoutMs, idle: true },
      freshConnection,
    });
  };
  let res: HttpResponse;
  try {
    // A keep-alive connection the server had closed: sent again on a fresh one when the body can
    // be read again and the request is idempotent, or was not written at all.
    res = await replayOnce(exchange, (written) => (!source || source.rereadable) && (IDEMPOTENT.has(method) || !written));
  } catch (err) {
    throw sourceError ?? err;
  }
  if (res.status >= 400) {
    const text = await internals.transport.text(res.body, ERROR_BODY_LIMIT).catch(() => '');
    // The server may have answered before the whole body was sent: the rest is not.
    res.cancel?.();
    if (res.status === 401 && req.cookies !== false) {
      // What the session policy re-authenticates on, as for a call.
      throw vimFault(what, { _typeName: 'NotAuthenticated' }, 'the server refused the session (HTTP 401)');
    }
    throw new TransportError(`${what}: HTTP ${res.status}`, { status: res.status, code: `HTTP_${res.status}`, excerpt: excerpt(text) });
  }
  let answer = res.body;
  if (!source && req.onProgress) {
    const length = Number(res.headers['content-length']);
    const total = Number.isSafeInteger(length) && length >= 0 ? length : undefined;
    const onProgress = req.onProgress;
    answer = pipeline(answer, lengthGuard(undefined, (p) => onProgress({ bytes: p.bytes, total })), () => undefined);
  }
  return { status: res.status, headers: res.headers, body: answer };
}
