// The transport against small local TLS servers that misbehave on purpose.
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import zlib from 'node:zlib';
import { CookieJar } from 'tough-cookie';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { thumbprint } from '../../../src/certs/certificates.ts';
import { TransportError } from '../../../src/errors.ts';
import { silentLogger } from '../../../src/logger.ts';
import { HttpTransport, SWITCH_AFTER, type HttpPath, type HttpTransportOptions } from '../../../src/transport/http.ts';
import { replayOnce } from '../../../src/transport/replay.ts';
import type { TlsOptions } from '../../../src/transport/tls.ts';
import { extensionCertificate, loopbackServerCertificate } from '../../harness/tls-fixtures.ts';

type Handler = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, n: number) => void;
const tlsPair = loopbackServerCertificate();
let server: https.Server;
let base = '';
let handler: Handler = (_req, res) => res.end('ok');
let requests = 0;
const sockets = new Set<Socket>();

beforeAll(async () => {
  server = https.createServer({ cert: tlsPair.cert, key: tlsPair.key, keepAliveTimeout: 60_000 }, (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => handler(Object.assign(req, { body }), res, ++requests));
  });
  server.on('secureConnection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function anyTransport(tls: TlsOptions = { ca: tlsPair.cert }, extra: Partial<HttpTransportOptions> = {}): HttpTransport {
  return new HttpTransport({ tls, jar: new CookieJar(), logger: silentLogger, timeoutMs: 5000, maxResponseBytes: 1 << 20, maxSockets: 4, idleSocketMs: 30_000, userAgent: 't', ...extra });
}

async function text(t: HttpTransport, path = '/', init: Parameters<HttpTransport['send']>[1] = { method: 'GET' }): Promise<{ status: number; body: string; via: HttpPath }> {
  const res = await t.send(base + path, init);
  if (t.options.http && t.options.http !== 'auto') expect(res.via).toBe(t.options.http);
  return { status: res.status, body: await t.text(res.body), via: res.via };
}

// Every case runs on both HTTP stacks, forced; 'auto' moves from one to the other (the end of the file).
describe.each(['https', 'undici'] as const)('over %s', (stack) => {
  const transport = (tls?: TlsOptions, extra: Partial<HttpTransportOptions> = {}): HttpTransport => anyTransport(tls, { http: stack, ...extra });

  describe('TLS policy', () => {
    it('verifies against the given CA, and refuses an unknown server by default', async () => {
      handler = (_req, res) => res.end('hello');
      const t = transport();
      expect((await text(t)).body).toBe('hello');
      t.close();
      const untrusted = transport({});
      const err = await text(untrusted).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TransportError);
      // Named by its thumbprints, so that the user can pin it.
      expect((err as TransportError).message).toContain(thumbprint(tlsPair.cert, 'sha256'));
      untrusted.close();
    });

    it('enforces a thumbprint pin (any case, with or without colons) and writes nothing to a mismatching server', async () => {
      let reached = 0;
      handler = (_req, res) => {
        reached++;
        res.end('pinned');
      };
      const good = transport({ thumbprint: thumbprint(tlsPair.cert, 'sha256').replaceAll(':', '').toLowerCase() });
      expect((await text(good)).body).toBe('pinned');
      good.close();
      const sha1 = transport({ thumbprint: thumbprint(tlsPair.cert, 'sha1') });
      expect((await text(sha1)).body).toBe('pinned');
      sha1.close();
      const other = extensionCertificate({ commonName: 'other' });
      const bad = transport({ thumbprint: thumbprint(other.cert, 'sha256') });
      const before = reached;
      await expect(text(bad)).rejects.toMatchObject({ code: 'ECERTPIN' });
      expect(reached).toBe(before);
      bad.close();
    });

    it('rejects malformed thumbprints', () => {
      expect(() => transport({ thumbprint: 'AB:CD' })).toThrow(/SHA-1/);
    });

    it('insecure skips verification but says so', async () => {
      const warnings: string[] = [];
      const t = transport({ insecure: true }, { logger: { ...silentLogger, warn: (m) => warnings.push(m) } });
      handler = (_req, res) => res.end('x');
      expect((await text(t)).body).toBe('x');
      expect(warnings.join()).toMatch(/verification is disabled/);
      t.close();
    });
  });

  describe('mutual TLS', () => {
    // A server that asks for a client certificate and records its connections and, per finished
    // handshake, whether it got one (a probe closed right after its handshake may not finish here).
    async function withCertServer(run: (url: string, seen: { connections: number; shown: boolean[] }) => Promise<void>): Promise<void> {
      const seen = { connections: 0, shown: [] as boolean[] };
      const s = https.createServer({ cert: tlsPair.cert, key: tlsPair.key, requestCert: true, rejectUnauthorized: false }, (_req, res) => res.end('mtls'));
      s.on('connection', () => seen.connections++);
      s.on('secureConnection', (socket: TLSSocket) => seen.shown.push(Object.keys(socket.getPeerCertificate()).length > 0));
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
      try {
        await run(`https://127.0.0.1:${(s.address() as AddressInfo).port}/`, seen);
      } finally {
        s.closeAllConnections();
        await new Promise<void>((r) => s.close(() => r()));
      }
    }
    const client = extensionCertificate({ commonName: 'client' });

    it('verifies the server in a handshake without the certificate, then presents it', async () => {
      await withCertServer(async (url, seen) => {
        const t = transport({ ca: tlsPair.cert, cert: client.cert, key: client.key });
        const res = await t.send(url, { method: 'GET' });
        expect(res.via).toBe(stack);
        expect(await t.text(res.body)).toBe('mtls');
        expect(seen.connections).toBe(2);
        expect(seen.shown.filter(Boolean)).toHaveLength(1);
        expect(seen.shown.at(-1)).toBe(true);
        t.close();
      });
    });

    it('derive() keeps the policy, adds the certificate, and has a cookie jar of its own', async () => {
      await withCertServer(async (url, seen) => {
        const base = transport({ ca: tlsPair.cert });
        const derived = base.derive({ clientCertificate: { cert: client.cert, key: client.key }, maxSockets: 1 });
        expect(derived.options.jar).not.toBe(base.options.jar);
        expect(derived.options.tls.ca).toBe(tlsPair.cert);
        expect(derived.options.timeoutMs).toBe(base.options.timeoutMs);
        expect(derived.options.maxSockets).toBe(1);
        const res = await derived.send(url, { method: 'GET' });
        expect(res.via).toBe(stack);
        expect(await derived.text(res.body)).toBe('mtls');
        expect(seen.shown.at(-1)).toBe(true);
        base.close();
        derived.close();
      });
    });

    it('never presents the certificate to a server that fails the pin', async () => {
      await withCertServer(async (url, seen) => {
        const other = extensionCertificate({ commonName: 'other' });
        const t = transport({ thumbprint: thumbprint(other.cert, 'sha256'), cert: client.cert, key: client.key });
        await expect(t.send(url, { method: 'GET' })).rejects.toMatchObject({ code: 'ECERTPIN' });
        expect(seen.connections).toBe(1);
        expect(seen.shown).not.toContain(true);
        t.close();
      });
    });
  });

  describe('HTTP behaviour', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    /**
     * The exchange `send` starts, on a fake clock (the deadline's timer and Date; sockets run as
     * they do) that starts once the server has the request: whether it has settled 1 ms before
     * `ms` and at `ms`, however long a busy machine took to get the request there.
     */
    async function onFakeClock(ms: number, send: () => Promise<unknown>): Promise<{ early: boolean; outcome: unknown; socket: Socket }> {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
      const arrived = new Promise<Socket>((r) => server.once('request', (req: import('node:http').IncomingMessage) => r(req.socket)));
      let settled = false;
      const outcome = send().then((v) => v, (e: unknown) => e).finally(() => (settled = true));
      const socket = await arrived;
      await vi.advanceTimersByTimeAsync(ms - 1);
      const early = settled;
      await vi.advanceTimersByTimeAsync(1);
      expect(settled).toBe(true);
      return { early, outcome: await outcome, socket };
    }

    it('asks for gzip and inflates it', async () => {
      let accept = '';
      handler = (req, res) => {
        accept = String(req.headers['accept-encoding']);
        res.setHeader('Content-Encoding', 'gzip');
        res.end(zlib.gzipSync('compressed body'));
      };
      const t = transport();
      expect((await text(t)).body).toBe('compressed body');
      expect(accept).toContain('gzip');
      t.close();
    });

    it('fails a response above the size limit (also when compressed) instead of buffering it', async () => {
      handler = (_req, res) => {
        res.setHeader('Content-Encoding', 'gzip');
        res.end(zlib.gzipSync(Buffer.alloc(5 << 20, 'a')));
      };
      const t = transport(undefined, { maxResponseBytes: 1 << 20 });
      await expect(text(t)).rejects.toMatchObject({ code: 'ERESPONSETOOLARGE' });
      t.close();
    });

    it('times out a stalled answer at timeoutMs and destroys the socket', async () => {
      handler = () => undefined; // never answers
      const t = transport(undefined, { timeoutMs: 300 });
      try {
        const { early, outcome, socket } = await onFakeClock(300, () => t.send(`${base}/`, { method: 'GET' }));
        expect(early).toBe(false);
        expect(outcome).toMatchObject({ code: 'ETIMEDOUT', outcomeUnknown: true });
        // Closed by the client, which is still open: the server sees its connection go.
        if (!socket.destroyed) await new Promise<void>((r) => socket.once('close', () => r()));
      } finally {
        t.close();
      }
    });

    it('aborts on an AbortSignal', async () => {
      handler = () => undefined;
      const t = transport();
      const ac = new AbortController();
      // Once the request is on its way, not after a delay: a busy machine could still be connecting.
      server.once('request', () => ac.abort());
      await expect(t.send(`${base}/`, { method: 'POST', body: 'x', ctx: { signal: ac.signal } })).rejects.toMatchObject({ code: 'EABORTED', outcomeUnknown: true });
      t.close();
    });

    it('times out an answer whose body stalls, while it is read', async () => {
      handler = (_req, res) => {
        res.writeHead(200);
        res.write('the beginning');
      };
      const t = transport(undefined, { timeoutMs: 500 });
      const res = await t.send(`${base}/`, { method: 'GET' });
      await expect(t.text(res.body)).rejects.toMatchObject({ code: 'ETIMEDOUT' });
      t.close();
    });

    it('keeps a deadline given by the caller (a replay shares its first attempt\'s)', async () => {
      handler = () => undefined;
      // The transport's own timeout is far off: only the caller's deadline can end this at 200 ms.
      const t = transport(undefined, { timeoutMs: 60_000 });
      try {
        const { early, outcome } = await onFakeClock(200, () => t.send(`${base}/`, { method: 'GET', ctx: { deadline: Date.now() + 200 } }));
        expect(early).toBe(false);
        expect(outcome).toMatchObject({ code: 'ETIMEDOUT' });
      } finally {
        t.close();
      }
    });

    it('a body cut off mid-answer: EOUTCOMEUNKNOWN', async () => {
      handler = (_req, res) => {
        res.writeHead(200, { 'Content-Length': '5000' });
        res.write('part of it');
        setImmediate(() => res.socket?.destroy());
      };
      const t = transport();
      const res = await t.send(`${base}/`, { method: 'POST', body: 'x' });
      await expect(t.text(res.body)).rejects.toMatchObject({ code: 'EOUTCOMEUNKNOWN', outcomeUnknown: true });
      t.close();
    });

    it('close() fails the requests still running and refuses new ones, with ECLOSED', async () => {
      handler = () => undefined;
      // More than maxSockets (4): some wait for a connection.
      const t = transport();
      const running = Array.from({ length: 6 }, () => t.send(`${base}/`, { method: 'GET' }).catch((e: unknown) => e));
      await new Promise<void>((r) => server.once('request', () => r()));
      t.close();
      for (const err of await Promise.all(running)) expect(err).toMatchObject({ code: 'ECLOSED' });
      await expect(t.send(`${base}/`, { method: 'GET' })).rejects.toMatchObject({ code: 'ECLOSED', outcomeUnknown: false });
    });

    it('stores Set-Cookie in the jar and sends it back, per request', async () => {
      let cookie = '';
      handler = (req, res) => {
        cookie = String(req.headers.cookie ?? '');
        res.setHeader('Set-Cookie', 'vmware_soap_session="abc"; Path=/; HttpOnly; Secure');
        res.end('c');
      };
      const t = transport();
      await text(t);
      expect(cookie).toBe('');
      await text(t);
      expect(cookie).toBe('vmware_soap_session="abc"');
      await text(t, '/', { method: 'GET', cookies: false });
      expect(cookie).toBe('');
      t.close();
    });
  });

  describe('connections', () => {
    afterEach(() => {
      vi.useRealTimers();
      vi.restoreAllMocks();
    });

    it('opens at most maxSockets connections per origin', async () => {
      handler = (_req, res) => setTimeout(() => res.end('slow'), 30);
      const t = transport(undefined, { maxSockets: 2 });
      let opened = 0;
      const count = (): number => opened++;
      server.on('secureConnection', count);
      const bodies = await Promise.all(Array.from({ length: 6 }, () => text(t)));
      server.off('secureConnection', count);
      expect(bodies.map((b) => b.body)).toEqual(Array(6).fill('slow'));
      expect(opened).toBeLessThanOrEqual(2);
      t.close();
    });

    it('closes idle sockets after idleSocketMs', async () => {
      // A realistic idle limit, which no test waits for (below the server's keep-alive of 60 s,
      // which both stacks honour too). undici arms a timer (setTimeout) for an idle socket: here
      // on a fake clock. Node's agent gives the socket an idle timeout instead (socket.setTimeout,
      // on Node's internal timers, which no fake clock reaches): the test checks it is
      // idleSocketMs and fires it.
      const IDLE = 20_000;
      handler = (_req, res) => res.end('idle');
      if (stack === 'undici') vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const socketTimeouts = vi.spyOn(net.Socket.prototype, 'setTimeout');
      const t = transport(undefined, { idleSocketMs: IDLE });
      await text(t);
      const socket = [...sockets].at(-1)!;
      const closed = new Promise<void>((r) => socket.once('close', () => r()));
      if (stack === 'undici') {
        // Not before: the next request, just in time, goes over the same connection.
        let opened = 0;
        const count = (): number => opened++;
        server.on('secureConnection', count);
        await vi.advanceTimersByTimeAsync(IDLE - 1);
        await text(t);
        server.off('secureConnection', count);
        expect(opened).toBe(0);
        // Idle for idleSocketMs since that request.
        await vi.advanceTimersByTimeAsync(IDLE);
      } else {
        const armed = socketTimeouts.mock.calls.findIndex(([ms]) => ms === IDLE);
        expect(armed).toBeGreaterThanOrEqual(0);
        (socketTimeouts.mock.contexts[armed] as Socket).emit('timeout');
      }
      await closed;
      t.close();
    });

    it('names network errors by their code, and a refused connection is no unknown outcome', async () => {
      const probe = net.createServer();
      await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
      const port = (probe.address() as AddressInfo).port;
      await new Promise<void>((r) => probe.close(() => r()));
      const t = transport();
      const err = await t.send(`https://127.0.0.1:${port}/`, { method: 'POST', body: 'x' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TransportError);
      expect(err).toMatchObject({ code: 'ECONNREFUSED', outcomeUnknown: false });
      t.close();
    });

    it('reaches the server through a CONNECT tunnel, verified under the name it is given', async () => {
      handler = (_req, res) => res.end('tunnelled');
      const connects: string[] = [];
      const proxy = net.createServer((client) => {
        client.once('data', (head: Buffer) => {
          connects.push(head.toString('latin1').split('\r\n')[0]!);
          const upstream = net.connect((server.address() as AddressInfo).port, '127.0.0.1', () => {
            client.write('HTTP/1.1 200 Connection established\r\n\r\n');
            client.pipe(upstream).pipe(client);
          });
          upstream.on('error', () => client.destroy());
          client.on('error', () => upstream.destroy());
        });
      });
      await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
      const proxyPort = (proxy.address() as AddressInfo).port;
      const tunnel = { proxyHost: '127.0.0.1', proxyPort, target: 'sdkTunnel:8089', timeoutMs: 2000 };
      const t = transport(undefined, { tunnel: { ...tunnel, verifyHost: '127.0.0.1' } });
      const res = await t.send('https://sdkTunnel:8089/sdk', { method: 'GET' });
      expect(res.via).toBe(stack);
      expect(await t.text(res.body)).toBe('tunnelled');
      expect(connects).toEqual(['CONNECT sdkTunnel:8089 HTTP/1.1']);
      // A name the certificate does not hold is refused, through the tunnel too.
      const wrongName = transport(undefined, { tunnel: { ...tunnel, verifyHost: 'vcenter.example' } });
      await expect(wrongName.send('https://sdkTunnel:8089/sdk', { method: 'GET' })).rejects.toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
      t.close();
      wrongName.close();
      await new Promise<void>((r) => proxy.close(() => r()));
    });

    it('speaks plain http too, with cookies, lower-cased answer headers and Set-Cookie as an array', async () => {
      let cookie = '';
      const plain = http.createServer((req, res) => {
        cookie = String(req.headers.cookie ?? '');
        res.setHeader('Set-Cookie', 'a=1; Path=/');
        res.setHeader('X-Thing', 'yes');
        res.setHeader('Content-Encoding', 'deflate');
        res.end(zlib.deflateSync('plain body'));
      });
      await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
      const url = `http://127.0.0.1:${(plain.address() as AddressInfo).port}/x?y=1`;
      const t = transport();
      const res = await t.send(url, { method: 'GET' });
      expect(res.via).toBe(stack);
      expect(await t.text(res.body)).toBe('plain body');
      expect(res.headers['set-cookie']).toEqual(['a=1; Path=/']);
      expect(res.headers['x-thing']).toBe('yes');
      await t.text((await t.send(url, { method: 'GET' })).body);
      expect(cookie).toBe('a=1');
      t.close();
      plain.closeAllConnections();
      await new Promise<void>((r) => plain.close(() => r()));
    });
  });

  /** A request as the pipeline's replay policy sends it: replayed on a fresh connection when `replayable` says so. */
  function replayed(t: HttpTransport, body: string, replayable: boolean): Promise<{ status: number; body: string }> {
    return replayOnce((freshConnection) => text(t, '/', { method: 'POST', body, freshConnection }), (written) => !written || replayable);
  }

  describe('stale keep-alive sockets', () => {
    // The first request opens a keep-alive socket; then the server kills idle sockets the way a
    // vCenter reverse proxy does, and the next request meets a dead socket.
    async function withStaleSocket(t: HttpTransport, next: () => Promise<unknown>): Promise<unknown> {
      handler = (_req, res) => res.end('first');
      await text(t);
      // A stale socket is one that sat idle in the pool for a while.
      await new Promise((r) => setTimeout(r, 20));
      let killed = 0;
      handler = (req, res, n) => res.end(`after-${n}`);
      // Kill the pooled socket only when the next request arrives on it: it reads the request, then dies without answering.
      const pooled = [...sockets].at(-1);
      pooled!.once('data', () => {
        killed++;
        pooled!.destroy();
      });
      const result = await next().catch((e: unknown) => e);
      expect(killed).toBe(1);
      return result;
    }

    it('replays an idempotent request on a fresh socket', async () => {
      const t = transport();
      const r = await withStaleSocket(t, () => replayed(t, '<x/>', true));
      expect((r as { body: string }).body).toMatch(/^after-/);
      t.close();
    });

    it('does not replay a non-idempotent request whose outcome is unknown', async () => {
      const t = transport();
      const before = requests;
      const r = await withStaleSocket(t, () => replayed(t, '<PowerOnVM_Task/>', false));
      expect(r).toBeInstanceOf(TransportError);
      expect((r as TransportError).code).toBe('EOUTCOMEUNKNOWN');
      expect((r as TransportError).outcomeUnknown).toBe(true);
      expect(requests).toBe(before + 2); // the first request and the killed one, which the server saw once and was not sent again
      t.close();
    });

    it('treats a new connection the server drops before answering the same way', async () => {
      // The pool picks the socket, reused or new: the server closing it under a request is what counts.
      handler = (_req, res, n) => res.end(`after-${n}`);
      let dropped = 0;
      const drop = (socket: Socket): void => {
        server.off('secureConnection', drop);
        socket.once('data', () => {
          dropped++;
          socket.destroy();
        });
      };
      server.on('secureConnection', drop);
      const t = transport();
      expect((await replayed(t, '<x/>', true)).body).toMatch(/^after-/);
      expect(dropped).toBe(1);
      t.close();
    });
  });
});

describe("'auto': Node's stack while the process is not busy, then undici's pools", () => {
  it(`moves to undici after switchAfter requests one at a time (${SWITCH_AFTER} by default: past where undici pays for itself)`, async () => {
    handler = (_req, res) => res.end('one');
    const switchAfter = 50;
    const t = anyTransport(undefined, { switchAfter });
    const vias: HttpPath[] = [];
    for (let i = 0; i <= switchAfter; i++) vias.push((await text(t)).via);
    expect(vias.slice(0, switchAfter)).toEqual(Array(switchAfter).fill('https'));
    expect(vias.at(-1)).toBe('undici');
    t.close();
  });

  it('switches when 16 callers appear, without a failed call: the request in flight ends on Node\'s stack, the rest on undici', async () => {
    const callers = 16;
    const perCaller = 8;
    const jar = new CookieJar();
    let first: { res: import('node:http').ServerResponse; socket: Socket } | undefined;
    let answered = 0;
    let cookies = 0;
    handler = (req, res, n) => {
      if (req.headers.cookie === 'vmware_soap_session="s"') cookies++;
      // The first request is answered only once undici's pools have answered 2 × 16 others.
      if (!first) {
        first = { res, socket: req.socket };
        return;
      }
      res.setHeader('Set-Cookie', 'vmware_soap_session="s"; Path=/; Secure');
      res.end(`answer-${n}`);
      if (++answered === 2 * callers) first.res.end('first');
    };
    const t = anyTransport(undefined, { jar, maxSockets: 16 });
    const results = await Promise.allSettled(
      Array.from({ length: callers }, async () => {
        const vias: HttpPath[] = [];
        for (let i = 0; i < perCaller; i++) {
          const r = await text(t, '/', { method: 'POST', body: '<x/>' });
          expect(r.body).toMatch(/^(answer-\d+|first)$/);
          vias.push(r.via);
        }
        return vias;
      }),
    );
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    const vias = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
    expect(vias).toHaveLength(callers * perCaller);
    expect(vias.filter((v) => v === 'https')).toHaveLength(1);
    expect(vias.filter((v) => v === 'undici')).toHaveLength(callers * perCaller - 1);
    // Node's stack keeps no socket once its last request is over; the cookie set on one stack is sent on the other.
    if (!first!.socket.destroyed) await new Promise<void>((r) => first!.socket.once('close', () => r()));
    expect(cookies).toBeGreaterThan(0);
    t.close();
  });

  it('only the stack it is told to use', async () => {
    handler = (_req, res) => setImmediate(() => res.end('forced'));
    for (const stack of ['https', 'undici'] as const) {
      const t = anyTransport(undefined, { http: stack });
      const answers = await Promise.all(Array.from({ length: 8 }, () => text(t)));
      expect(new Set(answers.map((a) => a.via))).toEqual(new Set([stack]));
      t.close();
    }
  });
});
