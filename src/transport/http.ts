// HTTP(S) for one client: keep-alive connections under the TLS policy, the cookie jar read at
// send time and fed from every answer, gzip, a deadline per exchange, an abort signal and a
// response-size limit. Requests go through Node's own HTTP stack until the process is busy,
// then through undici's pools (issue 21); http-exchange.ts keeps the two alike.
import { pipeline, Readable } from 'node:stream';
import type { CookieJar } from 'tough-cookie';
import { TransportError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { cookieJar, CookieHeaders } from './cookies.ts';
import { activityCounter, closedTransport, cutOff, type HttpMethod, type HttpPath, type HttpResponse, type Path, type RequestBody, type RequestContext } from './http-exchange.ts';
import { NodePath } from './node-http.ts';
import { policyConnector, type Connector, type ConnectorOptions, type TlsOptions } from './tls.ts';
import type { UndiciPath } from './undici.ts';

export type { HttpMethod, HttpPath, HttpResponse, RequestBody, RequestContext } from './http-exchange.ts';

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
  /**
   * Which HTTP stack carries the requests. 'auto' (default): Node's own (`node:http`/`node:https`)
   * while the process is not busy, then undici's pools, from the first time two requests are in
   * flight at once or after `switchAfter` requests; 'https' or 'undici': only that one.
   */
  http?: 'auto' | HttpPath | undefined;
  /** 'auto': the requests sent one at a time before it moves to undici. Default SWITCH_AFTER. */
  switchAfter?: number | undefined;
}

interface SendInit {
  method: HttpMethod;
  /** A stream is sent as it is read (chunked unless the headers give a Content-Length), and is consumed: it cannot be replayed. */
  body?: RequestBody | undefined;
  headers?: Record<string, string> | undefined;
  ctx?: RequestContext | undefined;
  /** false: neither send nor store cookies (requests to other services, e.g. the vSphere Client's API). */
  cookies?: boolean | undefined;
  /** On a connection of its own rather than a pooled one (a replay). */
  freshConnection?: boolean | undefined;
}

/**
 * Requests an 'auto' transport sends through Node's HTTP stack, one at a time, before undici's
 * pools take over; two requests in flight at once switch it at any count. A job of a few
 * thousand sequential calls never loads undici: loading it and V8 optimizing llhttp cost more
 * than undici saves per call until ~8 000 calls (issue 34). Measured on Node 24 with the bench's
 * first 2000 calls (client CPU per call, five interleaved rounds, bench/switch-ab-node24.json):
 * switching after 200 requests 422 µs (348-508), on Node's stack throughout 330 µs (284-363).
 * A long-lived sequential service still moves, once past that point, to undici's lower steady
 * state (after 2000 calls: 140-145 µs per call on undici, 188-228 on Node's stack).
 */
export const SWITCH_AFTER = 10_000;

const noop = (): void => undefined;

function tooLarge(limit: number): TransportError {
  return new TransportError(`response larger than ${limit} bytes`, { code: 'ERESPONSETOOLARGE' });
}

export function excerpt(text: string): string {
  return text.slice(0, 1000).replace(/\s+/g, ' ').trim().slice(0, 200);
}

export class HttpTransport {
  private readonly connect: Connector;
  private lastUrl: [string, URL] | undefined;
  private readonly cookieHeaders: CookieHeaders;
  private node: NodePath | undefined;
  /** Loading, then loaded: once set, every new request goes there. */
  private undici: UndiciPath | Promise<UndiciPath> | undefined;
  private sent = 0;
  private inFlight = 0;
  private closed = false;
  private readonly onDone = (): void => {
    this.inFlight--;
  };

  constructor(readonly options: HttpTransportOptions) {
    this.connect = policyConnector({ tls: options.tls, timeoutMs: options.timeoutMs, ...(options.tunnel && { tunnel: options.tunnel }) });
    this.cookieHeaders = new CookieHeaders(options.jar);
    if (options.tls.insecure) options.logger.warn('TLS verification is disabled (tls.insecure): the server is not authenticated');
    if (options.http === 'undici') this.undici = this.loadUndici();
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
    if (this.closed) throw closedTransport(false);
    const deadline = init.ctx?.deadline ?? Date.now() + (init.ctx?.timeoutMs ?? this.options.timeoutMs);
    const headers: Record<string, string> = {
      'User-Agent': this.options.userAgent,
      'Accept-Encoding': 'gzip, deflate',
      ...init.headers,
    };
    const own = init.ctx?.jar;
    const jar = init.cookies === false ? undefined : own ?? this.options.jar;
    let path = this.path();
    this.sent++;
    // Only while undici loads, once.
    if (path instanceof Promise) path = await path;
    if (this.closed) throw closedTransport(false);
    // Read at send time: a request that waited for the switch sends what the jar holds now.
    const cookie = jar && (own ? own.getCookieStringSync(u) : this.cookieHeaders.for(u));
    if (cookie) headers.Cookie = cookie;
    // A streamed body under an idle timeout tells the exchange of every chunk it sends.
    const activity = { touch: (): void => undefined };
    let body = init.body ?? null;
    if (body instanceof Readable && init.ctx?.idle) body = pipeline(body, activityCounter(() => activity.touch()), () => undefined);
    const request = { url: u, method: init.method, headers, body, fresh: init.freshConnection === true };
    const sending = path;
    // A transfer (idle timeout: a file's bytes) running beside calls is not the process being
    // busy: counted, a lease's progress calls during an upload would switch a short process to
    // undici, and V8 optimizing its WebAssembly parser costs ~30 MiB of peak RSS (issue 29).
    const counted = init.ctx?.idle !== true;
    if (counted) this.inFlight++;
    const answer = new Promise<HttpResponse>((resolve, reject) => {
      sending.send(request, { url: u, jar, ctx: init.ctx, timeoutMs: Math.max(0, deadline - Date.now()), resolve, reject, done: counted ? this.onDone : noop, activity });
    });
    // A streamed body of a failed request is released (a file closed) whichever stack had it.
    if (body instanceof Readable) answer.catch(() => body.destroy());
    return answer;
  }

  /**
   * The stack for the next request. 'auto' switches to undici's pools for good the first time a
   * request starts while another is in flight, or after `switchAfter` requests; requests
   * running on Node's stack finish there, their sockets closed as they end.
   */
  private path(): Path | Promise<Path> {
    if (this.undici) return this.undici;
    const mode = this.options.http ?? 'auto';
    if (mode === 'https' || (this.inFlight === 0 && this.sent < (this.options.switchAfter ?? SWITCH_AFTER))) return (this.node ??= new NodePath(this.connect, this.options));
    this.options.logger.debug('switching to undici\'s connection pools', { sent: this.sent, inFlight: this.inFlight });
    this.node?.retire();
    return (this.undici = this.loadUndici());
  }

  private loadUndici(): Promise<UndiciPath> {
    return import('./undici.ts').then(({ UndiciPath }) => {
      const path = new UndiciPath(this.connect, this.options);
      if (this.closed) path.close();
      return (this.undici = path);
    });
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
      throw cutOff(err);
    }
    return Buffer.concat(chunks);
  }

  /** A whole answer as text, for WSDL files and non-200 answers. */
  async text(body: Readable, limit?: number): Promise<string> {
    return (await this.readAll(body, limit)).toString('utf8');
  }

  /** Closes every socket; requests still running fail. */
  close(): void {
    this.closed = true;
    this.node?.close();
    if (this.undici && !(this.undici instanceof Promise)) this.undici.close();
  }
}
