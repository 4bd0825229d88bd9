// SessionBroker: one process logs in (any login) and hands clone tickets of its session to
// workers that hold a bearer token; each worker redeems its ticket with CloneSession and so has
// a session of its own without ever seeing the password. The HTTP shape is the vSphere Client
// plug-in server's clone-ticket endpoint (../shared/seeds/plugin-server-clone-session.txt):
//   POST <broker url>/vcenter/session/clone-ticket
//   vmware-api-session-id: <token>          {"vc_guid": "<about.instanceUuid>"}
//   -> 200 {"session_clone_ticket": "..."}
// so one client flow (session/plugin.ts requestCloneTicket) serves both; the workers' side is a
// login strategy (session/strategies.ts brokerLogin). The token is compared in constant time; a
// wrong or missing one gets a bare 401 before anything else is read or done.
// Neither the token nor a ticket is logged or shown by inspect().
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { silentLogger, type Logger } from '../logger.ts';

export const BROKER_PATH = '/vcenter/session/clone-ticket';
const MAX_BODY = 4096;
const SI = { type: 'ServiceInstance', value: 'ServiceInstance' } as const;

/** What the broker needs of its owner: a logged-in VimClient. */
export interface BrokerOwner {
  readonly about: { instanceUuid?: string | undefined };
  acquireCloneTicket(): Promise<string>;
  call(method: 'CurrentTime', _this: { type: string; value: string }): Promise<unknown>;
}

export interface SessionBrokerOptions {
  /** The client whose session the broker clones; its login should be replayable (it re-authenticates by itself). */
  client: BrokerOwner;
  /** The bearer token callers must send (at least 16 characters). */
  token: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (a free port). */
  port?: number;
  /** Serve HTTPS with this certificate and key (needed for any non-loopback caller). */
  tls?: { cert: string | Buffer; key: string | Buffer; ca?: string | Buffer };
  /** Keeps the owner's session from idling out: a CurrentTime this often. Default 300 000 ms; 0: off. */
  keepAliveIntervalMs?: number;
  logger?: Logger;
}

export class SessionBroker {
  readonly #server: http.Server;
  readonly #tokenDigest: Buffer;
  readonly #owner: BrokerOwner;
  readonly #logger: Logger;
  readonly #timer: NodeJS.Timeout | undefined;
  readonly #scheme: string;
  #served = 0;
  #refused = 0;

  private constructor(server: http.Server, o: SessionBrokerOptions, scheme: string) {
    this.#server = server;
    this.#tokenDigest = digest(o.token);
    this.#owner = o.client;
    this.#logger = o.logger ?? silentLogger;
    this.#scheme = scheme;
    const every = o.keepAliveIntervalMs ?? 300_000;
    if (every > 0) {
      this.#timer = setInterval(() => {
        o.client.call('CurrentTime', SI).catch((err: unknown) => this.#logger.debug('broker keepalive failed', { error: err instanceof Error ? err.name : 'unknown' }));
      }, every);
      this.#timer.unref();
    }
  }

  static async listen(options: SessionBrokerOptions): Promise<SessionBroker> {
    if (!options?.client) throw new TypeError('SessionBroker.listen needs { client }');
    if (typeof options.token !== 'string' || options.token.length < 16) throw new TypeError('SessionBroker.listen needs a token of at least 16 characters');
    let broker: SessionBroker | undefined;
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
      broker!.#handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
        else res.destroy();
      });
    };
    const server = options.tls ? https.createServer({ cert: options.tls.cert, key: options.tls.key, ...(options.tls.ca !== undefined && { ca: options.tls.ca }) }, handler) : http.createServer(handler);
    broker = new SessionBroker(server, options, options.tls ? 'https' : 'http');
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return broker;
  }

  /** The base URL workers pass to loginByBroker (the endpoint is `${url}/vcenter/session/clone-ticket`). */
  get url(): string {
    const a = this.#server.address() as AddressInfo;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return `${this.#scheme}://${host}:${a.port}`;
  }

  /** Tickets handed out, and requests refused (wrong token, wrong path or vCenter). */
  get stats(): { served: number; refused: number } {
    return { served: this.#served, refused: this.#refused };
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const given = req.headers['vmware-api-session-id'];
    if (typeof given !== 'string' || !timingSafeEqual(digest(given), this.#tokenDigest)) {
      this.#refused++;
      this.#logger.warn('session broker: refused a request without the right token');
      res.writeHead(401, { 'Content-Length': '0', Connection: 'close' }).end();
      req.resume();
      return;
    }
    const path = (req.url ?? '/').split('?')[0]!.replace(/\/{2,}/g, '/').replace(/\/+$/, '');
    if (req.method !== 'POST' || path !== BROKER_PATH) {
      this.#refused++;
      res.writeHead(404, { 'Content-Length': '0' }).end();
      req.resume();
      return;
    }
    let body = '';
    for await (const chunk of req) {
      body += String(chunk);
      if (body.length > MAX_BODY) {
        res.writeHead(413, { 'Content-Length': '0', Connection: 'close' }).end();
        return;
      }
    }
    let guid: unknown;
    try {
      guid = body ? (JSON.parse(body) as { vc_guid?: unknown }).vc_guid : undefined;
    } catch {
      res.writeHead(400, { 'Content-Length': '0' }).end();
      return;
    }
    const mine = this.#owner.about.instanceUuid;
    if (typeof guid === 'string' && guid !== '' && mine && guid !== mine) {
      this.#refused++;
      res.writeHead(404, { 'Content-Length': '0' }).end();
      return;
    }
    let ticket: string;
    try {
      ticket = await this.#owner.acquireCloneTicket();
    } catch (err) {
      this.#logger.warn('session broker: AcquireCloneTicket failed', { error: err instanceof Error ? err.name : 'unknown' });
      res.writeHead(503, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end('{"error":"unavailable"}');
      return;
    }
    this.#served++;
    const answer = JSON.stringify({ session_clone_ticket: ticket });
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', 'Content-Length': String(Buffer.byteLength(answer)) }).end(answer);
  }

  toJSON(): { url: string; served: number; refused: number } {
    return { url: this.url, ...this.stats };
  }

  [inspect.custom](): string {
    return `SessionBroker { url: '${this.url}', served: ${this.#served}, refused: ${this.#refused} }`;
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}
