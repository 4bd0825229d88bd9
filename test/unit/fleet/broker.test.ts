// SessionBroker with a stand-in owner: keepalive cadence on a fake clock, the token rules, and
// what a failing owner or an odd request gets.
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SessionBroker } from '../../../src/index.ts';
import { silentLogger, type Logger } from '../../../src/logger.ts';
import { loopbackServerCertificate } from '../../harness/tls-fixtures.ts';

const TOKEN = 'unit-broker-token-0123456789';

function owner(fail = false) {
  const calls = { currentTime: 0, tickets: 0 };
  return {
    calls,
    about: { instanceUuid: 'vc-1' },
    acquireCloneTicket: async () => {
      calls.tickets++;
      if (fail) throw new Error('NotAuthenticated with a secret-ish detail');
      return `ticket-${calls.tickets}`;
    },
    call: async () => {
      calls.currentTime++;
      return new Date();
    },
  };
}

function post(url: string, headers: Record<string, string>, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/vcenter/session/clone-ticket`, { method: 'POST', headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const brokers: SessionBroker[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const b of brokers.splice(0)) await b.close();
});

describe('SessionBroker', () => {
  it('keeps its owner\'s session alive at its interval, and stops when closed', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const o = owner();
    const b = await SessionBroker.listen({ client: o, token: TOKEN, keepAliveIntervalMs: 1000 });
    vi.advanceTimersByTime(3500);
    expect(o.calls.currentTime).toBe(3);
    await b.close();
    vi.advanceTimersByTime(5000);
    expect(o.calls.currentTime).toBe(3);
  });

  it('refuses a short token, and serves the right one; an owner that cannot give a ticket gives a bare 503', async () => {
    await expect(SessionBroker.listen({ client: owner(), token: 'short' })).rejects.toThrow(TypeError);
    const good = await SessionBroker.listen({ client: owner(), token: TOKEN, keepAliveIntervalMs: 0 });
    const bad = await SessionBroker.listen({ client: owner(true), token: TOKEN, keepAliveIntervalMs: 0 });
    brokers.push(good, bad);
    expect(await post(good.url, { 'vmware-api-session-id': TOKEN }, '{"vc_guid":"vc-1"}')).toEqual({ status: 200, body: '{"session_clone_ticket":"ticket-1"}' });
    const failed = await post(bad.url, { 'vmware-api-session-id': TOKEN }, '{}');
    expect(failed).toEqual({ status: 503, body: '{"error":"unavailable"}' });
    expect(await post(good.url, { 'vmware-api-session-id': TOKEN }, 'x'.repeat(5000))).toMatchObject({ status: 413 });
    expect(await post(good.url, { 'vmware-api-session-id': TOKEN }, '{not json')).toMatchObject({ status: 400 });
    expect(good.stats).toEqual({ served: 1, refused: 0 });
  });
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Any request to the broker, as a worker or a stranger would send it. */
function send(url: string, o: { method?: string; path?: string; headers?: Record<string, string>; body?: string; ca?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const target = `${url}${o.path ?? '/vcenter/session/clone-ticket'}`;
    const make = target.startsWith('https:') ? httpsRequest : request;
    const req = make(target, { method: o.method ?? 'POST', headers: o.headers ?? {}, ...(o.ca !== undefined && { ca: o.ca }) }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(o.body ?? '');
  });
}

function recording(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (level: string) => (message: string, data?: unknown) => void lines.push(`${level} ${message}${data === undefined ? '' : ` ${JSON.stringify(data)}`}`);
  return { ...silentLogger, lines, debug: log('debug'), warn: log('warn') };
}

async function listen(o: Partial<Parameters<typeof SessionBroker.listen>[0]> = {}): Promise<SessionBroker> {
  const b = await SessionBroker.listen({ client: owner(), token: TOKEN, keepAliveIntervalMs: 0, ...o });
  brokers.push(b);
  return b;
}

describe('SessionBroker requests', () => {
  const auth = { 'vmware-api-session-id': TOKEN };

  it('answers a ticket as JSON that no cache keeps, to the path however it is spelled', async () => {
    const b = await listen();
    for (const path of ['/vcenter/session/clone-ticket', '//vcenter//session/clone-ticket/', '/vcenter/session/clone-ticket?x=1']) {
      const a = await send(b.url, { path, headers: auth });
      expect(a.status, path).toBe(200);
      expect(a.headers['content-type'], path).toBe('application/json');
      expect(a.headers['cache-control'], path).toBe('no-store');
      expect(Number(a.headers['content-length']), path).toBe(Buffer.byteLength(a.body));
      expect(JSON.parse(a.body), path).toEqual({ session_clone_ticket: expect.stringMatching(/^ticket-\d$/) });
    }
    expect(b.stats).toEqual({ served: 3, refused: 0 });
  });

  it('refuses a wrong, missing or repeated token with a bare 401 that closes the connection, and says so', async () => {
    const logger = recording();
    const o = owner();
    const b = await listen({ client: o, logger });
    for (const headers of [{}, { 'vmware-api-session-id': `${TOKEN}x` }, { 'vmware-api-session-id': TOKEN.slice(1) }, { 'vmware-api-session-id': '' }]) {
      const a = await send(b.url, { headers, body: '{"vc_guid":"vc-1"}' });
      expect(a.status, JSON.stringify(headers)).toBe(401);
      expect(a.body).toBe('');
      expect(a.headers['content-length']).toBe('0');
      expect(a.headers.connection).toBe('close');
    }
    expect(o.calls.tickets).toBe(0);
    expect(b.stats).toEqual({ served: 0, refused: 4 });
    expect(logger.lines).toEqual(Array(4).fill('warn session broker: refused a request without the right token'));
  });

  it('answers 404 to another method or path, or to a vc_guid that is not its vCenter\'s', async () => {
    const o = owner();
    const b = await listen({ client: o });
    for (const [method, path] of [['GET', '/vcenter/session/clone-ticket'], ['PUT', '/vcenter/session/clone-ticket'], ['POST', '/vcenter/session'], ['POST', '/vcenter/session/clone-ticket/x'], ['POST', '/']] as const) {
      const a = await send(b.url, { method, path, headers: auth });
      expect(a.status, `${method} ${path}`).toBe(404);
      expect(a.headers['content-length']).toBe('0');
    }
    const other = await send(b.url, { headers: auth, body: '{"vc_guid":"vc-2"}' });
    expect([other.status, other.headers['content-length'], other.body]).toEqual([404, '0', '']);
    expect(o.calls.tickets).toBe(0);
    expect(b.stats).toEqual({ served: 0, refused: 6 });
    // No vc_guid, an empty one, or one that is no string: served.
    for (const body of ['', '{}', '{"vc_guid":""}', '{"vc_guid":"vc-1"}', '{"vc_guid":7}']) {
      expect((await send(b.url, { headers: auth, body })).status, body).toBe(200);
    }
    expect((await send(b.url, { headers: auth, body: 'null' })).status).toBe(400);
    expect(b.stats).toEqual({ served: 5, refused: 6 });
  });

  it('serves any vc_guid for an owner that does not know its own', async () => {
    const o = { ...owner(), about: {} };
    const b = await listen({ client: o });
    expect((await send(b.url, { headers: auth, body: '{"vc_guid":"vc-9"}' })).status).toBe(200);
  });

  it('reads at most 4096 bytes of a body, and answers 400 to one that is not JSON', async () => {
    const b = await listen();
    const body = (length: number): string => `{"vc_guid":"vc-1","pad":"${'x'.repeat(length - 27)}"}`;
    expect(body(4096)).toHaveLength(4096);
    expect((await send(b.url, { headers: auth, body: body(4096) })).status).toBe(200);
    const big = await send(b.url, { headers: auth, body: body(4097) });
    expect(big.status).toBe(413);
    expect(big.headers.connection).toBe('close');
    const bad = await send(b.url, { headers: auth, body: '{"vc_guid":' });
    expect(bad.status).toBe(400);
    expect(bad.headers['content-length']).toBe('0');
  });

  it('answers 503 without the error when the owner cannot give a ticket, and logs only its name', async () => {
    const logger = recording();
    const b = await listen({ client: owner(true), logger });
    const a = await send(b.url, { headers: auth });
    expect(a).toMatchObject({ status: 503, body: '{"error":"unavailable"}' });
    expect(a.headers['content-type']).toBe('application/json');
    expect(a.headers['cache-control']).toBe('no-store');
    expect(logger.lines).toEqual(['warn session broker: AcquireCloneTicket failed {"error":"Error"}']);
    const odd = await listen({ client: { ...owner(), acquireCloneTicket: () => Promise.reject('not an Error') }, logger });
    expect((await send(odd.url, { headers: auth })).status).toBe(503);
    expect(logger.lines.at(-1)).toBe('warn session broker: AcquireCloneTicket failed {"error":"unknown"}');
  });

  it('answers 500 to a request it fails on', async () => {
    const b = await listen({ client: { ...owner(), get about(): { instanceUuid?: string } { throw new Error('no about'); } } });
    expect((await send(b.url, { headers: auth })).status).toBe(500);
  });
});

describe('SessionBroker.listen', () => {
  it('needs a client and a token of 16 characters or more', async () => {
    await expect(SessionBroker.listen({ token: TOKEN } as never)).rejects.toThrow(new TypeError('SessionBroker.listen needs { client }'));
    await expect(SessionBroker.listen(undefined as never)).rejects.toThrow(new TypeError('SessionBroker.listen needs { client }'));
    await expect(SessionBroker.listen({ client: owner(), token: 'x'.repeat(15) })).rejects.toThrow(new TypeError('SessionBroker.listen needs a token of at least 16 characters'));
    await expect(SessionBroker.listen({ client: owner(), token: 1234567890123456 as never })).rejects.toThrow(new TypeError('SessionBroker.listen needs a token of at least 16 characters'));
    await listen({ token: 'x'.repeat(16) });
  });

  it('listens on 127.0.0.1 and a free port by default, on the host and port given otherwise, and shows its URL and counts', async () => {
    const b = await listen();
    expect(b.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const port = Number(new URL(b.url).port);
    expect(port).toBeGreaterThan(0);
    await send(b.url, { headers: {} });
    expect(b.toJSON()).toEqual({ url: b.url, served: 0, refused: 1 });
    expect(JSON.stringify(b)).not.toContain(TOKEN);
    expect(inspect(b)).toBe(`SessionBroker { url: '${b.url}', served: 0, refused: 1 }`);
    const free = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '::1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const v6 = await listen({ host: '::1', port: free });
    expect(v6.url).toBe(`http://[::1]:${free}`);
    expect((await send(v6.url, { headers: { 'vmware-api-session-id': TOKEN } })).status).toBe(200);
  });

  it('rejects when the port is taken, and serves HTTPS with the certificate given', async () => {
    const b = await listen();
    await expect(SessionBroker.listen({ client: owner(), token: TOKEN, port: Number(new URL(b.url).port) })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    const { cert, key } = loopbackServerCertificate();
    const tls = await listen({ tls: { cert, key } });
    expect(tls.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect((await send(tls.url, { headers: { 'vmware-api-session-id': TOKEN }, ca: cert })).status).toBe(200);
    const withCa = await listen({ tls: { cert, key, ca: cert } });
    expect((await send(withCa.url, { headers: { 'vmware-api-session-id': TOKEN }, ca: cert })).status).toBe(200);
  });

  it('keeps its owner\'s session alive with CurrentTime on the ServiceInstance, and not at all with an interval of 0', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const calls: string[] = [];
    const o = { ...owner(), call: async (method: string, _this: { type: string; value: string }) => {
      calls.push(`${method} ${_this.type}:${_this.value}`);
      return new Date();
    } };
    await listen({ client: o, keepAliveIntervalMs: 0 });
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(600_000);
    expect(calls).toEqual([]);
    await listen({ client: o, keepAliveIntervalMs: 1_000 });
    vi.advanceTimersByTime(1_000);
    expect(calls).toEqual(['CurrentTime ServiceInstance:ServiceInstance']);
  });

  it('keeps its owner\'s session alive every 5 minutes by default, and logs a keepalive that fails', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const logger = recording();
    let calls = 0;
    const failing = { ...owner(), call: async () => {
      calls++;
      throw new TypeError('down');
    } };
    const b = await SessionBroker.listen({ client: failing, token: TOKEN, logger });
    brokers.push(b);
    vi.advanceTimersByTime(299_999);
    expect(calls).toBe(0);
    vi.advanceTimersByTime(1);
    expect(calls).toBe(1);
    await vi.waitFor(() => expect(logger.lines).toEqual(['debug broker keepalive failed {"error":"TypeError"}']));
    const odd = await SessionBroker.listen({ client: { ...owner(), call: () => Promise.reject('x') }, token: TOKEN, logger, keepAliveIntervalMs: 10 });
    brokers.push(odd);
    vi.advanceTimersByTime(10);
    await vi.waitFor(() => expect(logger.lines.at(-1)).toBe('debug broker keepalive failed {"error":"unknown"}'));
  });
});
