// HTTP(S) for one client: a bounded keep-alive pool under the TLS policy, the cookie jar read
// at send time and fed from every answer, gzip, a deadline per exchange, an abort signal and
// a response-size limit. It is also the IHttpClient node-soap sends calls through.
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import type { CookieJar } from 'tough-cookie';
import { TransportError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { PolicyAgent, type AgentOptions, type TlsOptions } from './tls.ts';

export interface HttpTransportOptions {
  tls: TlsOptions;
  jar: CookieJar;
  logger: Logger;
  /** Deadline for one whole exchange (connect, send, receive the full body). */
  timeoutMs: number;
  maxResponseBytes: number;
  maxSockets: number;
  idleSocketMs: number;
  userAgent: string;
  tunnel?: AgentOptions['tunnel'];
}

/** Per-call state threaded through node-soap (its `options` argument reaches us as exoptions). */
export interface RequestContext {
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Safe to send twice (reads). Decides whether a request whose outcome is unknown may be replayed. */
  idempotent?: boolean | undefined;
  /** node-soap calls this with the serialized envelope before sending it. */
  postProcess?: ((xml: string) => string) | undefined;
  /** Filled in by the transport: the answer's HTTP status, its (decompressed) body stream, and for non-200 answers the whole text. */
  status?: number;
  body?: Readable;
  text?: string;
  /** The response-size limit the reader of `body` enforces. */
  maxResponseBytes?: number;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Readable;
}

interface SendInit {
  method: 'GET' | 'POST';
  body?: string | undefined;
  headers?: Record<string, string> | undefined;
  ctx?: RequestContext | undefined;
  /** false: neither send nor store cookies (requests to other services, e.g. the vSphere Client's API). */
  cookies?: boolean | undefined;
}

const STALE_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);
const staleFailures = new WeakMap<object, { sent: boolean }>();

function tooLarge(limit: number): TransportError {
  return new TransportError(`response larger than ${limit} bytes`, { code: 'ERESPONSETOOLARGE' });
}

export function excerpt(text: string): string {
  return text.replace(/\s+/g, ' ').trim().slice(0, 200);
}

export class HttpTransport {
  readonly agent: PolicyAgent;
  private readonly plainAgent = new http.Agent({ keepAlive: true });

  constructor(readonly options: HttpTransportOptions) {
    this.agent = new PolicyAgent({ tls: options.tls, maxSockets: options.maxSockets, idleSocketMs: options.idleSocketMs, ...(options.tunnel && { tunnel: options.tunnel }) });
    if (options.tls.insecure) options.logger.warn('TLS verification is disabled (tls.insecure): the server is not authenticated');
  }

  /**
   * One exchange, replayed once on a fresh socket when a reused keep-alive socket turned out to
   * be dead: always if the request was not fully written, and if it was, only for idempotent
   * requests; otherwise the caller learns that the outcome is unknown.
   */
  async send(url: string, init: SendInit): Promise<HttpResponse> {
    const u = new URL(url);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new TransportError(`unsupported URL scheme ${u.protocol}`, { code: 'EPROTOCOL' });
    const deadline = Date.now() + (init.ctx?.timeoutMs ?? this.options.timeoutMs);
    try {
      return await this.exchange(u, init, deadline);
    } catch (err) {
      const stale = staleFailures.get(err as object);
      if (!stale) throw err;
      this.dropIdleSockets();
      if (stale.sent && !(init.ctx?.idempotent ?? init.method === 'GET')) {
        throw new TransportError('the connection closed after the request was sent: its outcome is unknown and it was not replayed', { code: 'EOUTCOMEUNKNOWN', outcomeUnknown: true, cause: err });
      }
      this.options.logger.debug('replaying a request that met a stale keep-alive socket', { url: u.origin + u.pathname });
      return this.exchange(u, init, deadline);
    }
  }

  /** Closes idle keep-alive sockets: after one was found dead, its siblings are suspect too. */
  private dropIdleSockets(): void {
    for (const agent of [this.agent, this.plainAgent]) {
      for (const list of Object.values(agent.freeSockets)) for (const socket of list ?? []) socket.destroy();
    }
  }

  private exchange(u: URL, init: SendInit, deadline: number): Promise<HttpResponse> {
    const { jar } = this.options;
    const headers: Record<string, string> = {
      'User-Agent': this.options.userAgent,
      'Accept-Encoding': 'gzip, deflate',
      ...init.headers,
    };
    const useJar = init.cookies !== false;
    const cookie = useJar ? jar.getCookieStringSync(u) : '';
    if (cookie) headers.Cookie = cookie;
    const payload = init.body === undefined ? undefined : Buffer.from(init.body, 'utf8');
    if (payload) headers['Content-Length'] = String(payload.length);
    const ctx = init.ctx;
    const timeoutMs = Math.max(0, deadline - Date.now());
    const secure = u.protocol === 'https:';

    return new Promise<HttpResponse>((resolve, reject) => {
      let sent = false;
      let settled = false;
      let body: Readable | undefined;
      const fail = (err: unknown): void => {
        const te = err instanceof TransportError ? err : this.wrap(err, sent);
        if (!settled) {
          settled = true;
          // A reused socket that died before any answer: the server closed an idle connection.
          if (req.reusedSocket && !(err instanceof TransportError) && STALE_CODES.has((err as NodeJS.ErrnoException).code ?? '')) {
            staleFailures.set(te, { sent });
          }
          reject(te);
        } else {
          body?.destroy(te);
        }
        req.destroy();
      };
      const req = (secure ? https : http).request(u, { method: init.method, headers, agent: secure ? this.agent : this.plainAgent });
      const timer = setTimeout(() => fail(new TransportError(`no complete answer within the deadline`, { code: 'ETIMEDOUT', outcomeUnknown: sent })), timeoutMs);
      const onAbort = (): void => fail(new TransportError('request aborted', { code: 'EABORTED', outcomeUnknown: sent }));
      if (ctx?.signal?.aborted) {
        clearTimeout(timer);
        req.destroy();
        reject(new TransportError('request aborted', { code: 'EABORTED' }));
        return;
      }
      ctx?.signal?.addEventListener('abort', onAbort, { once: true });
      const done = (): void => {
        clearTimeout(timer);
        ctx?.signal?.removeEventListener('abort', onAbort);
      };
      req.on('finish', () => (sent = true));
      req.on('error', (err) => {
        done();
        fail(err);
      });
      req.on('response', (res) => {
        for (const c of useJar ? res.headers['set-cookie'] ?? [] : []) {
          try {
            jar.setCookieSync(c, u);
          } catch {
            // A cookie the jar refuses (wrong domain, malformed) is simply not stored.
          }
        }
        const encoding = String(res.headers['content-encoding'] ?? '').toLowerCase();
        const decoded: Readable = encoding === 'gzip' ? res.pipe(zlib.createGunzip()) : encoding === 'deflate' ? res.pipe(zlib.createInflate()) : res;
        if (decoded !== res) res.on('error', (e) => decoded.destroy(e));
        // The size limit is enforced by whoever reads the body (readAll, the SOAP decoder), which
        // spares every answer a second stream hop.
        body = decoded;
        decoded.on('end', done);
        decoded.on('close', done);
        decoded.on('error', done);
        settled = true;
        if (ctx) {
          ctx.status = res.statusCode ?? 0;
          ctx.body = decoded;
          ctx.maxResponseBytes = this.options.maxResponseBytes;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: decoded });
      });
      req.end(payload);
    });
  }

  /** A whole answer, refused past the response-size limit instead of buffered without bound. */
  async readAll(body: Readable): Promise<Buffer> {
    const limit = this.options.maxResponseBytes;
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of body) {
        size += (chunk as Buffer).length;
        if (size > limit) {
          body.destroy();
          throw tooLarge(limit);
        }
        chunks.push(chunk as Buffer);
      }
    } catch (err) {
      throw this.wrap(err, true);
    }
    return Buffer.concat(chunks);
  }

  /** A whole answer as text, for WSDL files and non-200 answers. */
  async text(body: Readable): Promise<string> {
    return (await this.readAll(body)).toString('utf8');
  }

  private wrap(err: unknown, sent: boolean): TransportError {
    if (err instanceof TransportError) return err;
    const e = err as NodeJS.ErrnoException;
    return new TransportError(`${e.code ?? 'network error'}: ${e.message}`, { code: e.code ?? 'ENETWORK', outcomeUnknown: sent, cause: err });
  }

  // --- node-soap's IHttpClient -------------------------------------------------------------

  /**
   * node-soap's streaming path for calls. A 200 answer streams into node-soap's SAX stream;
   * any other status is read here (bounded) and handed over whole, because node-soap reads
   * those with a promise it never catches.
   */
  async requestStream(rurl: string, data: unknown, exheaders?: Record<string, string>, exoptions?: RequestContext): Promise<{ status: number; headers: IncomingHttpHeaders; data: Readable; config: object }> {
    const res = await this.send(rurl, { method: 'POST', body: String(data), headers: exheaders, ctx: exoptions });
    if (res.status === 200) return { status: res.status, headers: res.headers, data: res.body, config: {} };
    const text = await this.text(res.body);
    if (exoptions) exoptions.text = text;
    return { status: res.status, headers: res.headers, data: Readable.from([text]), config: {} };
  }

  close(): void {
    this.agent.destroy();
    this.plainAgent.destroy();
  }
}
