// HTTP(S) for one client: bounded keep-alive pools (undici) under the TLS policy, the cookie jar
// read at send time and fed from every answer, gzip, a deadline per exchange, an abort signal
// and a response-size limit.
import type { IncomingHttpHeaders } from 'node:http';
import { pipeline, Readable } from 'node:stream';
import zlib from 'node:zlib';
import type { CookieJar } from 'tough-cookie';
import { Agent, Client, type ClientOptions, type Dispatcher, type Pools } from './undici.ts';
import { abortedBy, TransportError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { cookieJar, CookieHeaders } from './cookies.ts';
import { markClosedBeforeAnswer } from './replay.ts';
import { policyConnector, type Connector, type ConnectorOptions, type TlsOptions } from './tls.ts';

export interface HttpTransportOptions {
  tls: TlsOptions;
  jar: CookieJar;
  logger: Logger;
  /** Deadline for one whole exchange (connect, send, receive the full body). */
  timeoutMs: number;
  maxResponseBytes: number;
  maxSockets: number;
  /** Idle keep-alive sockets are closed after this long, below vCenter's own idle limit. */
  idleSocketMs: number;
  userAgent: string;
  tunnel?: ConnectorOptions['tunnel'];
}

/** What a caller decides per request. */
export interface RequestContext {
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
  /** The jar this request reads and feeds instead of the transport's (a login made on the side). */
  jar?: CookieJar | undefined;
  /** When the exchange must be over (epoch ms), e.g. shared by a first attempt and its replay. Default: now + timeoutMs. */
  deadline?: number | undefined;
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
  /** On a connection of its own rather than a pooled one (a replay). */
  freshConnection?: boolean | undefined;
}

/** Errors by which a connection ended under undici: the server closed (FIN) or reset it. */
const closedByServer = new WeakSet<Error>();
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);
/** undici's names for what node:net calls otherwise. */
const CODES: Record<string, string> = { UND_ERR_SOCKET: 'ECONNRESET', UND_ERR_CONNECT_TIMEOUT: 'ETIMEDOUT', UND_ERR_CLOSED: 'ECLOSED', UND_ERR_DESTROYED: 'ECLOSED' };

function tooLarge(limit: number): TransportError {
  return new TransportError(`response larger than ${limit} bytes`, { code: 'ERESPONSETOOLARGE' });
}

export function excerpt(text: string): string {
  return text.slice(0, 1000).replace(/\s+/g, ' ').trim().slice(0, 200);
}

function wrap(err: unknown, sent: boolean): TransportError {
  if (err instanceof TransportError) return err;
  const e = err as NodeJS.ErrnoException;
  const code = CODES[e.code ?? ''] ?? e.code ?? 'ENETWORK';
  return new TransportError(`${code}: ${e.message}`, { code, outcomeUnknown: sent, cause: err });
}

// Only sockets handed over to undici are watched, so failing to connect (refused, TLS) never
// counts as the server closing a connection.
function noticingClosedConnections(connect: Connector): Connector {
  return (params, callback) =>
    connect(params, (...args) => {
      const socket = args[1];
      if (socket) {
        let ended = false;
        socket.once('end', () => (ended = true));
        socket.on('error', (err: NodeJS.ErrnoException) => {
          if (ended || RESET_CODES.has(err.code ?? '')) closedByServer.add(err);
        });
      }
      callback(...args);
    });
}

export class HttpTransport {
  private readonly clientOptions: ClientOptions;
  private readonly pools: Pools;
  private lastUrl: [string, URL] | undefined;
  private readonly cookieHeaders: CookieHeaders;

  constructor(readonly options: HttpTransportOptions) {
    const connect = policyConnector({ tls: options.tls, timeoutMs: options.timeoutMs, ...(options.tunnel && { tunnel: options.tunnel }) });
    this.clientOptions = {
      connect: noticingClosedConnections(connect),
      keepAliveTimeout: options.idleSocketMs,
      keepAliveMaxTimeout: options.idleSocketMs,
      // The exchange deadline covers headers and body.
      headersTimeout: 0,
      bodyTimeout: 0,
    };
    this.pools = new Agent({ ...this.clientOptions, connections: options.maxSockets });
    this.cookieHeaders = new CookieHeaders(options.jar);
    if (options.tls.insecure) options.logger.warn('TLS verification is disabled (tls.insecure): the server is not authenticated');
  }

  /**
   * One exchange on a pooled connection, or on a connection of its own (`freshConnection`, for
   * a replay: the pool's other idle sockets may be as dead as the one that failed). It does not
   * replay anything itself: a connection the server closed before answering is reported as such
   * (replay.ts) with whether the request had been written, and the caller decides.
   */
  async send(url: string, init: SendInit): Promise<HttpResponse> {
    // Calls all go to the same URL: parse it once.
    if (this.lastUrl?.[0] !== url) this.lastUrl = [url, new URL(url)];
    const u = this.lastUrl[1];
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new TransportError(`unsupported URL scheme ${u.protocol}`, { code: 'EPROTOCOL' });
    const deadline = init.ctx?.deadline ?? Date.now() + (init.ctx?.timeoutMs ?? this.options.timeoutMs);
    if (!init.freshConnection) return this.exchange(this.pools, u, init, deadline);
    const fresh = new Client(u.origin, this.clientOptions);
    try {
      return await this.exchange(fresh, u, init, deadline);
    } finally {
      // Closes once the answer has been read.
      fresh.close().catch(() => undefined);
    }
  }

  /** A transport to the same server under the same policy, limits and logger, with a client certificate and/or through a tunnel, and a cookie jar of its own. */
  derive(o: { clientCertificate?: { cert: string | Buffer; key: string | Buffer }; tunnel?: HttpTransportOptions['tunnel']; maxSockets?: number }): HttpTransport {
    const tls: TlsOptions = { ...this.options.tls };
    if (o.clientCertificate) {
      delete tls.pfx;
      delete tls.passphrase;
      tls.cert = o.clientCertificate.cert;
      tls.key = o.clientCertificate.key;
    }
    const { tunnel: _, ...base } = this.options;
    return new HttpTransport({ ...base, tls, jar: cookieJar(), maxSockets: o.maxSockets ?? this.options.maxSockets, ...(o.tunnel && { tunnel: o.tunnel }) });
  }

  private exchange(dispatcher: Dispatcher, u: URL, init: SendInit, deadline: number): Promise<HttpResponse> {
    const headers: Record<string, string> = {
      'User-Agent': this.options.userAgent,
      'Accept-Encoding': 'gzip, deflate',
      ...init.headers,
    };
    const own = init.ctx?.jar;
    const jar = init.cookies === false ? undefined : own ?? this.options.jar;
    const cookie = jar && (own ? own.getCookieStringSync(u) : this.cookieHeaders.for(u));
    if (cookie) headers.Cookie = cookie;
    return new Promise<HttpResponse>((resolve, reject) => {
      const exchange = new Exchange(u, jar, init.ctx, Math.max(0, deadline - Date.now()), resolve, reject);
      if (exchange.settled) return;
      dispatcher.dispatch({ origin: u.origin, path: u.pathname + u.search, method: init.method, headers, body: init.body ?? null }, exchange);
    });
  }

  /** A whole answer, refused past `limit` (default: the response-size limit) instead of buffered without bound. */
  async readAll(body: Readable, limit = this.options.maxResponseBytes): Promise<Buffer> {
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
      throw wrap(err, true);
    }
    return Buffer.concat(chunks);
  }

  /** A whole answer as text, for WSDL files and non-200 answers. */
  async text(body: Readable, limit?: number): Promise<string> {
    return (await this.readAll(body, limit)).toString('utf8');
  }

  /** Closes every socket; requests still running fail. */
  close(): void {
    this.pools.destroy().catch(() => undefined);
  }
}

/**
 * One request and its answer, as undici drives it: settles the promise when the answer's head
 * arrives (or the exchange fails), then streams the body, under the deadline and the signal
 * until the body is read to its end or dropped.
 */
class Exchange implements Dispatcher.DispatchHandler {
  settled = false;
  /** undici writes the whole request right after starting it on a socket, so from then on it counts as sent. */
  private started = false;
  /** undici is done with the request: answered in full, or failed. */
  private over = false;
  private controller: Dispatcher.DispatchController | undefined;
  /** Why the request was stopped before undici started it. */
  private stopped: Error | undefined;
  private raw: ResponseBody | undefined;
  private body: Readable | undefined;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly url: URL,
    private readonly jar: CookieJar | undefined,
    private readonly ctx: RequestContext | undefined,
    timeoutMs: number,
    private readonly resolve: (res: HttpResponse) => void,
    private readonly reject: (err: Error) => void,
  ) {
    if (ctx?.signal?.aborted) {
      this.settled = true;
      reject(abortedBy(ctx.signal, 'request aborted'));
      return;
    }
    this.timer = setTimeout(() => this.fail(new TransportError('no complete answer within the deadline', { code: 'ETIMEDOUT', outcomeUnknown: this.started })), timeoutMs);
    ctx?.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  private readonly onAbort = (): void => this.fail(abortedBy(this.ctx!.signal!, 'request aborted', this.started));

  /** The deadline passed or the signal fired: the caller learns it at once, wherever the exchange is. */
  private fail(err: Error): void {
    this.finish();
    if (this.settled) {
      this.body?.destroy(err);
      return;
    }
    this.settled = true;
    this.reject(err);
    this.stop(err);
  }

  /** Ends the request in undici, which closes its socket if it is running. */
  stop(reason: Error | null): void {
    if (this.over) return;
    reason ??= new TransportError('the answer was not read to its end', { code: 'EABORTED' });
    if (this.controller) this.controller.abort(reason);
    else this.stopped = reason;
  }

  resume(): void {
    this.controller?.resume();
  }

  private finish(): void {
    clearTimeout(this.timer);
    this.ctx?.signal?.removeEventListener('abort', this.onAbort);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    if (this.stopped) {
      controller.abort(this.stopped);
      return;
    }
    this.controller = controller;
    this.started = true;
  }

  onResponseStart(_controller: Dispatcher.DispatchController, status: number, headers: Record<string, string | string[] | undefined>): void {
    if (status < 200 || this.settled) return;
    let cookies = headers['set-cookie'];
    if (typeof cookies === 'string') headers['set-cookie'] = cookies = [cookies];
    if (this.jar && cookies) {
      for (const c of cookies) {
        try {
          this.jar.setCookieSync(c, this.url);
        } catch {
          // A cookie the jar refuses (wrong domain, malformed) is simply not stored.
        }
      }
    }
    this.raw = new ResponseBody(this);
    const encoding = String(headers['content-encoding'] ?? '').toLowerCase();
    const inflate = encoding === 'gzip' ? zlib.createGunzip() : encoding === 'deflate' ? zlib.createInflate() : undefined;
    // pipeline: a reader dropping the inflated stream drops the request too.
    const body: Readable = inflate ? pipeline(this.raw, inflate, () => undefined) : this.raw;
    // The size limit is enforced by whoever reads the body (readAll, the SOAP decoder), which
    // spares every answer a second stream hop.
    body.once('close', () => this.finish());
    this.body = body;
    this.settled = true;
    this.resolve({ status, headers: headers as IncomingHttpHeaders, body });
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.raw?.push(chunk) === false) controller.pause();
  }

  onResponseEnd(): void {
    this.over = true;
    this.raw?.push(null);
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.over = true;
    this.finish();
    const te = wrap(err, this.started);
    if (this.settled) {
      // Cut off in the middle of the answer: the request was answered, so it may have taken
      // effect; the same code as a connection lost before the answer, for the same meaning.
      this.body?.destroy(new TransportError(`the connection closed in the middle of the answer (${te.code}): its outcome is unknown`, { code: 'EOUTCOMEUNKNOWN', outcomeUnknown: true, cause: err }));
      return;
    }
    this.settled = true;
    if (closedByServer.has(err)) markClosedBeforeAnswer(te, this.started);
    this.reject(te);
  }
}

/** The answer body as undici delivers it, paced by its reader. */
class ResponseBody extends Readable {
  constructor(private readonly exchange: Exchange) {
    super({ highWaterMark: 64 * 1024 });
  }

  override _read(): void {
    this.exchange.resume();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.exchange.stop(err);
    callback(err);
  }
}
