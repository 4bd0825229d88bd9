// Requests through undici's keep-alive pools, for a busy process: loaded (import()) only when
// the transport switches to them, since loading undici and V8 optimizing its WebAssembly HTTP
// parser cost a short process more than all its requests (issue 21).
//
// undici's dispatcher classes are loaded without the rest of the package: its index also loads
// fetch, WebSocket, caches, interceptors and mocks, and makes Node load its own bundled undici
// (~100 ms and ~20 MB, issue 9), against ~30 ms for these files. The version is pinned
// exactly; test/unit/transport/undici.test.ts checks that these are the very classes the
// package exports, so an upgrade that moves them fails there.
import { createRequire } from 'node:module';
import { Readable, type Duplex } from 'node:stream';
import type * as Undici from 'undici';
import type { Dispatcher } from 'undici';
import { TransportError } from '../errors.ts';
import { Exchange, recyclable, RESET_CODES, type ExchangeInit, type OutgoingRequest, type Path } from './http-exchange.ts';
import { targetOf, type Connector } from './tls.ts';

const require = createRequire(import.meta.url);

export const Agent = require('undici/lib/dispatcher/agent.js') as typeof Undici.Agent;
export const Client = require('undici/lib/dispatcher/client.js') as typeof Undici.Client;

/** Errors by which a connection ended under undici: the server closed (FIN) or reset it. */
const closedByServer = new WeakSet<Error>();

// Only sockets handed over to undici are watched, so failing to connect (refused, TLS) never
// counts as the server closing a connection.
function undiciConnector(connect: Connector): Undici.buildConnector.connector {
  return (params, callback) => {
    connect(targetOf(params), (err, socket) => {
      if (!socket) {
        callback(err!, null);
        return;
      }
      let ended = false;
      socket.once('end', () => (ended = true));
      givesBackChunks(socket);
      socket.on('error', (e: NodeJS.ErrnoException) => {
        if (ended || RESET_CODES.has(e.code ?? '')) closedByServer.add(e);
      });
      callback(null, socket);
    });
  };
}

/**
 * undici writes a request body's chunks with socket.write(chunk), no callback: on the sockets we
 * hand it, a recyclable chunk (http-exchange.ts) is written with one that gives it back to its
 * source once the socket is done with it, as Node's path does. Every other write is untouched.
 */
function givesBackChunks(socket: Duplex): void {
  const write = socket.write;
  socket.write = function (this: Duplex, chunk: unknown, ...rest: unknown[]): boolean {
    const release = rest.length === 0 && chunk instanceof Uint8Array ? recyclable.get(chunk) : undefined;
    const original = write as (...args: unknown[]) => boolean;
    if (release) return original.call(this, chunk, (err?: Error | null) => (err ? undefined : release()));
    return original.call(this, chunk, ...rest);
  } as Duplex['write'];
}

export class UndiciPath implements Path {
  private readonly clientOptions: Undici.Client.Options;
  private readonly pools: Undici.Agent;

  constructor(connect: Connector, options: { maxSockets: number; idleSocketMs: number }) {
    this.clientOptions = {
      connect: undiciConnector(connect),
      keepAliveTimeout: options.idleSocketMs,
      keepAliveMaxTimeout: options.idleSocketMs,
      // The exchange deadline covers headers and body.
      headersTimeout: 0,
      bodyTimeout: 0,
    };
    this.pools = new Agent({ ...this.clientOptions, connections: options.maxSockets });
  }

  send(r: OutgoingRequest, init: ExchangeInit): void {
    const exchange = new UndiciExchange(init);
    if (exchange.settled) return;
    const request = { origin: r.url.origin, path: r.url.pathname + r.url.search, method: r.method, headers: r.headers, body: r.body };
    if (!r.fresh) {
      this.pools.dispatch(request, exchange);
      return;
    }
    // A replay: the pool's other idle sockets may be as dead as the one that failed.
    const fresh = new Client(r.url.origin, this.clientOptions);
    fresh.dispatch(request, exchange);
    // Closes once the answer has been read.
    fresh.close().catch(() => undefined);
  }

  close(): void {
    this.pools.destroy().catch(() => undefined);
  }
}

class UndiciExchange extends Exchange implements Dispatcher.DispatchHandler {
  /** undici is done with the request: answered in full, or failed. */
  private over = false;
  private controller: Dispatcher.DispatchController | undefined;
  /** Why the request was stopped before undici started it. */
  private stopped: Error | undefined;
  private raw: ResponseBody | undefined;

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

  onRequestStart(controller: Dispatcher.DispatchController): void {
    if (this.stopped) {
      controller.abort(this.stopped);
      return;
    }
    this.controller = controller;
    // undici writes the whole request right after starting it on a socket.
    this.started = true;
  }

  onResponseStart(_controller: Dispatcher.DispatchController, status: number, headers: Record<string, string | string[] | undefined>): void {
    if (status < 200 || this.settled) return;
    this.raw = new ResponseBody(this);
    this.answered(status, headers, this.raw, 'undici');
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
    this.failed(err, closedByServer.has(err));
  }
}

/** The answer body as undici delivers it, paced by its reader. */
class ResponseBody extends Readable {
  constructor(private readonly exchange: UndiciExchange) {
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
