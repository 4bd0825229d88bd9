// One request and its answer, whichever HTTP stack carries it (Node's own, or undici's pools):
// the deadline and the abort signal, cookies stored from the answer's head, the body inflated,
// and failures named alike, so that the two paths behave the same to every caller.
import type { IncomingHttpHeaders } from 'node:http';
import { createRequire } from 'node:module';
import { pipeline, Transform, type Readable } from 'node:stream';
import type { CookieJar } from 'tough-cookie';
import { abortedBy, TransportError } from '../errors.ts';
import { markClosedBeforeAnswer } from './replay.ts';

// node:zlib is loaded the first time an answer comes compressed: it is ~1.3 MB of a short
// process's memory otherwise.
let zlibModule: typeof import('node:zlib') | undefined;
const zlib = (): typeof import('node:zlib') => (zlibModule ??= createRequire(import.meta.url)('node:zlib') as typeof import('node:zlib'));

/** Which HTTP stack carries requests: Node's own http/https modules, or undici's pools. */
export type HttpPath = 'https' | 'undici';

/** SOAP and VI/JSON use GET and POST; vAPI and file transfers (datastore, guest, lease URLs) the others. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';

/** A request body: a string, or a stream sent as it is read, paced by the connection (transfers). */
export type RequestBody = string | Readable;

/**
 * Chunks of a streamed request body whose memory their source reuses (a file read into a few
 * buffers, src/transfer/source.ts), each with what gives it back. A path that knows when its
 * connection is done with a chunk (Node's: the write's callback) calls it then; a chunk never
 * given back (another path, an error, a copy or a slice made on the way) is only garbage, so the
 * source allocates another. Without this, a 1 GiB upload leaves a new buffer per read to the
 * collector, which V8 frees only once ~32 MiB of them are dead (issue 29).
 */
export const recyclable = new WeakMap<Uint8Array, () => void>();

/** What a caller decides per request. */
export interface RequestContext {
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
  /** The jar this request reads and feeds instead of the transport's (a login made on the side). */
  jar?: CookieJar | undefined;
  /** When the exchange must be over (epoch ms), e.g. shared by a first attempt and its replay. Default: now + timeoutMs. */
  deadline?: number | undefined;
  /**
   * timeoutMs is an idle timeout: how long the exchange may go without a byte of its request
   * body sent or of its answer received, not how long it may take in all. A transfer of a file
   * has no length a total deadline could be set for; a stalled one still ends. A reader that
   * stops reading the answer for that long ends it too.
   */
  idle?: boolean | undefined;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Readable;
  /** The stack that carried the request. */
  via: HttpPath;
  /**
   * Ends the exchange and closes its connection, even once the answer was read: a server that
   * answered (401, 404) before the whole request body was sent would otherwise be sent the rest.
   */
  cancel?: (reason?: Error) => void;
}

/** A request as a path sends it: headers complete (cookies included). */
export interface OutgoingRequest {
  url: URL;
  method: HttpMethod;
  headers: Record<string, string>;
  body: RequestBody | null;
  /** On a connection of its own rather than a pooled one (a replay). */
  fresh: boolean;
}

/** What every exchange is made of, whatever its path. */
export interface ExchangeInit {
  url: URL;
  jar: CookieJar | undefined;
  ctx: RequestContext | undefined;
  timeoutMs: number;
  resolve: (res: HttpResponse) => void;
  reject: (err: Error) => void;
  /** Once the exchange is over for its caller: failed, or its body closed. */
  done: () => void;
  /** Set by the exchange, called by whoever moves bytes of a streamed request body (RequestContext.idle). */
  activity?: { touch: () => void } | undefined;
}

/** One HTTP stack under the transport's TLS policy. */
export interface Path {
  send(request: OutgoingRequest, init: ExchangeInit): void;
  /** Closes every socket; requests still running fail with ECLOSED. */
  close(): void;
}

/** undici's names for what node:net calls otherwise. */
const CODES: Record<string, string> = { UND_ERR_SOCKET: 'ECONNRESET', UND_ERR_CLOSED: 'ECLOSED', UND_ERR_DESTROYED: 'ECLOSED' };
/** Errors by which the server closed (FIN) or reset a connection. */
export const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

export function wrap(err: unknown, sent: boolean): TransportError {
  if (err instanceof TransportError) return err;
  const e = err as NodeJS.ErrnoException;
  const code = CODES[e.code ?? ''] ?? e.code ?? 'ENETWORK';
  return new TransportError(`${code}: ${e.message}`, { code, outcomeUnknown: sent, cause: err });
}

/** An answer cut off in its body: it was answered, so the request may have taken effect. */
export function cutOff(err: unknown): TransportError {
  if (err instanceof TransportError) return err;
  const code = wrap(err, true).code;
  // The same code as a connection lost before the answer, for the same meaning.
  return new TransportError(`the connection closed in the middle of the answer (${code}): its outcome is unknown`, { code: 'EOUTCOMEUNKNOWN', outcomeUnknown: true, cause: err });
}

export function closedTransport(sent: boolean): TransportError {
  return new TransportError('the transport was closed', { code: 'ECLOSED', outcomeUnknown: sent });
}

/**
 * Settles the caller's promise when the answer's head arrives (or the exchange fails), then
 * leaves the body to its reader, under the deadline and the signal until it is read to its
 * end or dropped. A path tells it what happens (`begin`, `answered`, `failed`) and how to
 * stop its request (`stop`).
 */
export abstract class Exchange {
  settled = false;
  /** The request was handed to a connection, which writes it at once: from then on it counts as sent. */
  protected started = false;
  private body: Readable | undefined;
  private readonly timer: NodeJS.Timeout | undefined;
  private finished = false;

  constructor(protected readonly init: ExchangeInit) {
    const signal = init.ctx?.signal;
    // Nothing is sent for a call already aborted or out of time: a request nobody waits for
    // could still take effect on the server, and the caller would be told its outcome is unknown.
    const refused = signal?.aborted ? abortedBy(signal, 'request aborted')
      : init.timeoutMs <= 0 ? new TransportError('the deadline had passed before the request was sent', { code: 'ETIMEDOUT', outcomeUnknown: false })
      : undefined;
    if (refused) {
      this.settled = true;
      this.finish();
      init.reject(refused);
      return;
    }
    const idle = init.ctx?.idle === true;
    this.timer = setTimeout(() => this.fail(idle
      ? new TransportError(`no byte sent or received for ${init.timeoutMs} ms`, { code: 'ETIMEDOUT', outcomeUnknown: this.started })
      : new TransportError('no complete answer within the deadline', { code: 'ETIMEDOUT', outcomeUnknown: this.started })), init.timeoutMs);
    if (idle && init.activity) init.activity.touch = this.touch;
    signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Bytes moved: an idle timeout starts again. */
  private readonly touch = (): void => {
    if (!this.finished) this.timer?.refresh();
  };

  /** Ends the request on its path, which closes its connection if it is running. */
  protected abstract stop(reason: Error): void;

  private readonly onAbort = (): void => this.fail(abortedBy(this.init.ctx!.signal!, 'request aborted', this.started));

  /** The deadline passed or the signal fired: the caller learns it at once, wherever the exchange is. */
  private fail(err: Error): void {
    this.finish();
    if (this.settled) {
      this.body?.destroy(err);
      return;
    }
    this.settled = true;
    this.init.reject(err);
    this.stop(err);
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    this.init.ctx?.signal?.removeEventListener('abort', this.onAbort);
    this.init.done();
  }

  /** The answer's head: its cookies stored, its body (inflated) handed to the caller. */
  protected answered(status: number, headers: Record<string, string | string[] | undefined>, raw: Readable, via: HttpPath): void {
    let cookies = headers['set-cookie'];
    if (typeof cookies === 'string') headers['set-cookie'] = cookies = [cookies];
    const jar = this.init.jar;
    if (jar && cookies) {
      for (const c of cookies) {
        try {
          jar.setCookieSync(c, this.init.url);
        } catch {
          // A cookie the jar refuses (wrong domain, malformed) is simply not stored.
        }
      }
    }
    const encoding = String(headers['content-encoding'] ?? '').toLowerCase();
    const inflate = encoding === 'gzip' ? zlib().createGunzip() : encoding === 'deflate' ? zlib().createInflate() : undefined;
    // pipeline: a reader dropping the inflated stream drops the request too. The size limit
    // is enforced by whoever reads the body (readAll, the SOAP decoder), which spares every
    // answer a second stream hop.
    let body: Readable = inflate ? pipeline(raw, inflate, () => undefined) : raw;
    if (this.init.ctx?.idle) body = pipeline(body, activityCounter(this.touch), () => undefined);
    body.once('close', () => this.finish());
    this.body = body;
    this.settled = true;
    const cancel = (reason?: Error): void => {
      const err = reason ?? new TransportError('the exchange was cancelled', { code: 'EABORTED' });
      this.stop(err);
      body.destroy();
      this.finish();
    };
    this.init.resolve({ status, headers: headers as IncomingHttpHeaders, body, via, cancel });
  }

  /** The request failed; `closedByServer`: its connection, handed over, was closed or reset by the server. */
  protected failed(err: Error, closedByServer: boolean): void {
    this.finish();
    if (this.settled) {
      this.body?.destroy(cutOff(err));
      return;
    }
    this.settled = true;
    const te = wrap(err, this.started);
    if (closedByServer) markClosedBeforeAnswer(te, this.started);
    this.init.reject(te);
  }
}

/** A pass-through that calls `touch` for every chunk: what keeps an idle timeout from firing. */
export function activityCounter(touch: () => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      touch();
      callback(null, chunk);
    },
  });
}
