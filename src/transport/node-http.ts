// Requests through Node's own HTTP stack, on connections opened by the transport's connector
// (its TLS policy). A short process sends everything this way: Node's HTTP parser is native
// and costs nothing to start, where undici's is WebAssembly that V8 spends 36–73 ms and ~30 MB
// optimizing after the first answer it parses (issue 21).
import http, { type ClientRequestArgs } from 'node:http';
import type { Duplex } from 'node:stream';
import { closedTransport, Exchange, recyclable, RESET_CODES, type ExchangeInit, type OutgoingRequest, type Path } from './http-exchange.ts';
import { targetOf, type Connector, type Target } from './tls.ts';

type OnCreate = (err: Error | null, socket: Duplex) => void;

/** A connection for Node's agent; one that opens after the transport closed is closed at once. */
function open(connect: Connector, target: Target, closed: () => boolean, onCreate: OnCreate): undefined {
  connect(target, (err, socket) => {
    if (!err && closed()) {
      socket!.destroy();
      err = closedTransport(false);
    }
    if (err) onCreate(err, undefined as never);
    else onCreate(null, socket!);
  });
  return undefined;
}

/** Keep-alive connections of one scheme, opened under the policy; none kept once retired. */
class PolicyAgent extends http.Agent {
  retired = false;

  constructor(private readonly connect: Connector, private readonly scheme: string, private readonly closed: () => boolean, options: http.AgentOptions) {
    super(options);
  }

  override createConnection(options: ClientRequestArgs, onCreate?: OnCreate): undefined {
    return open(this.connect, { protocol: this.scheme, hostname: options.host!, port: Number(options.port) }, this.closed, onCreate!);
  }

  override keepSocketAlive(socket: Duplex): boolean {
    return !this.retired && (super.keepSocketAlive(socket) as unknown as boolean);
  }
}

export class NodePath implements Path {
  private readonly agents = new Map<string, PolicyAgent>();
  private closed = false;
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly isClosed = (): boolean => this.closed;

  constructor(private readonly connect: Connector, private readonly options: { maxSockets: number; idleSocketMs: number }) {}

  send(r: OutgoingRequest, init: ExchangeInit): void {
    // At most maxSockets requests at once: the agent counts a socket only once it is connected,
    // and connecting under the policy takes a while, so it would open one per request meanwhile.
    let holding = false;
    const exchange = new NodeExchange({
      ...init,
      done: () => {
        if (holding) {
          holding = false;
          this.running--;
          this.waiting.shift()?.();
        }
        init.done();
      },
    });
    if (exchange.settled) return;
    const start = (): void => {
      // Failed while waiting (deadline, signal), or the transport closed: the next one goes.
      if (exchange.settled || this.closed) {
        if (!exchange.settled) exchange.refused(closedTransport(false));
        this.waiting.shift()?.();
        return;
      }
      holding = true;
      this.running++;
      this.dispatch(r, exchange);
    };
    if (r.fresh || this.running < this.options.maxSockets) start();
    else this.waiting.push(start);
  }

  private dispatch(r: OutgoingRequest, exchange: NodeExchange): void {
    const u = r.url;
    const target = targetOf(u);
    let agent: PolicyAgent | undefined;
    if (!r.fresh) {
      agent = this.agents.get(u.protocol);
      if (!agent) this.agents.set(u.protocol, (agent = new PolicyAgent(this.connect, u.protocol, this.isClosed, { keepAlive: true, maxSockets: this.options.maxSockets, timeout: this.options.idleSocketMs })));
    }
    let req: http.ClientRequest;
    try {
      req = http.request({
        host: target.hostname,
        port: target.port,
        method: r.method,
        path: u.pathname + u.search,
        // As the URL names the server (an http.Agent would add the port of https's default).
        headers: { Host: u.host, ...r.headers },
        ...(agent ? { agent } : { createConnection: (_: ClientRequestArgs, onCreate: OnCreate) => open(this.connect, target, this.isClosed, onCreate) }),
      });
    } catch (err) {
      exchange.refused(err as Error);
      return;
    }
    exchange.run(req, this.isClosed);
    const body = r.body;
    if (body === null || typeof body === 'string') {
      req.end(body ?? undefined);
      return;
    }
    // Paced by the socket, as pipe() would, but each chunk written with a callback: the socket
    // is done with it then, and a recyclable one goes back to its source. Not pipeline(): it
    // would abort() the request on a body's failure, which emits no error, and the exchange
    // would wait for its deadline.
    body.once('error', (err) => req.destroy(err));
    req.once('close', () => {
      if (!body.readableEnded) body.destroy();
    });
    body.on('data', (chunk: Buffer) => {
      const release = recyclable.get(chunk);
      const more = release ? req.write(chunk, (err) => (err ? undefined : release())) : req.write(chunk);
      if (!more) body.pause();
    });
    req.on('drain', () => body.resume());
    body.once('end', () => req.end());
  }

  /** No new request comes: each socket closes once its request is over, and idle ones now. */
  retire(): void {
    for (const agent of this.agents.values()) {
      agent.retired = true;
      for (const sockets of Object.values(agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
    }
  }

  close(): void {
    this.closed = true;
    for (const start of this.waiting.splice(0)) start();
    for (const agent of this.agents.values()) agent.destroy();
  }
}

class NodeExchange extends Exchange {
  private req: http.ClientRequest | undefined;

  run(req: http.ClientRequest, closed: () => boolean): void {
    this.req = req;
    // The agent hands a socket over only once connected under the policy, and the request is
    // written on it at once.
    req.once('socket', () => (this.started = true));
    req.once('response', (res) => {
      if (!this.settled) this.answered(res.statusCode!, res.headers, res, 'https');
      else res.destroy();
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (closed()) this.failed(closedTransport(this.started), false);
      // Node reports a connection closed before the answer as ECONNRESET ("socket hang up").
      else this.failed(err, this.started && RESET_CODES.has(err.code ?? ''));
    });
  }

  /** Refused before anything was sent: by http.request (an invalid header, say), or a closed transport. */
  refused(err: Error): void {
    this.failed(err, false);
  }

  protected stop(reason: Error): void {
    this.req?.destroy(reason);
  }
}
