// Sessions for a fleet with the RedisSessionStore: real child processes, a real redis-server
// (test/harness/redis.ts) that is stopped and started under them, a private harness counting Logins.
import { createHash } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { inspect } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionStoreError, VimClient, type SessionStore } from 'vim25-soap';
import { sessionKey } from '../../src/fleet/key.ts';
import { RedisSessionStore } from 'vim25-soap/redis';
import { bundleIfPresent } from '../../scripts/lib/paths.ts';
import { FleetRegistry, liveSessions, progressed, terminateOthers, type FleetProcess } from '../harness/fleet.ts';
import type { ChildStart } from '../harness/fleet-child.ts';
import { RedisServer } from '../harness/redis.ts';
import { Harness, harnessStall, harnessStats } from '../harness/vcsim.ts';

// A generous store timeout: on a loaded machine a slow answer must not pass for an outage (which costs Logins);
// a stopped Redis fails at once anyway (commands are not queued while disconnected).
// The lock TTL is the default (3 s, renewed while the Login runs); a long lockWaitMs, so that a
// Login slowed down by a loaded machine does not send the others to log in on their own.
const TIMING = { lockWaitMs: 20_000, pollIntervalMs: 20, renewIntervalMs: 200, timeoutMs: 3000 };
const KEY = Buffer.alloc(32, 0x5a).toString('hex');
let h: Harness;
let redis: RedisServer;
let admin: VimClient;
let prefixes = 0;
const SI = { type: 'ServiceInstance' as const, value: 'ServiceInstance' };
const fleet = new FleetRegistry();

beforeAll(async () => {
  [h, redis] = await Promise.all([Harness.start({ wsdlDir: bundleIfPresent() }), RedisServer.start()]);
  admin = await VimClient.connect(h.info.url, { tls: { ca: h.ca } });
  await admin.login({ username: h.info.username, password: h.info.password });
});
afterAll(async () => {
  await fleet.killAll();
  await admin?.close();
  await Promise.all([h?.stop(), redis?.stop()]);
});

/** `encryptionKey` null: an unencrypted store. */
function job(prefix: string, timing: Record<string, number> = TIMING, encryptionKey: string | null = KEY): ChildStart {
  return { url: h.info.url, ca: h.ca.toString(), username: h.info.username, password: h.info.password, store: { kind: 'redis', url: redis.url, prefix, ttlSeconds: 60, ...(encryptionKey && { encryptionKey }), timing } };
}

const newPrefix = (): string => `t${++prefixes}:`;
/** How fleet-child.ts reports a session id. */
const digest = (id: string): string => createHash('sha256').update(id).digest('hex').slice(0, 12);

const spawn = (n: number): FleetProcess[] => fleet.spawn(n);
const logins = async (): Promise<number> => (await harnessStats(h.info)).methods.Login ?? 0;

describe('RedisSessionStore across processes', () => {
  it('3 processes start with exactly one Login; the stored id is encrypted, under a TTL; a terminated session costs one Login and no failed call', async () => {
    const prefix = newPrefix();
    const before = await logins();
    const ps = spawn(3);
    const ready = await Promise.all(ps.map((p) => p.start(job(prefix))));
    expect(await logins()).toBe(before + 1);
    expect(new Set(ready.map((r) => r.session)).size).toBe(1);

    const r = new Redis(redis.url);
    try {
      const skey = `${prefix}s:{${await sessionKey(h.info.url, h.info.username, h.info.password)}}`;
      const raw = await r.get(skey);
      expect(raw).toMatch(/^[\w-]+\.g1~/);
      const ttl = await r.pttl(skey);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60_000);
      expect((await r.keys(`${prefix}l:*`)).length).toBe(0); // the login lock was released
    } finally {
      r.disconnect();
    }

    for (const p of ps) p.send({ cmd: 'load', concurrency: 4 });
    await progressed(ps, 20);
    const mid = await logins();
    await terminateOthers(admin);
    const again = await Promise.all(ps.map((p) => p.next('reauthenticated')));
    expect(new Set(again.map((m) => m.session)).size).toBe(1);
    await progressed(ps);
    const results = await Promise.all(ps.map((p) => p.stop()));
    for (const x of results) expect({ failed: x.failed, errors: x.errors }).toEqual({ failed: 0, errors: [] });
    expect(await logins()).toBe(mid + 1);
    await Promise.all(ps.map((p) => p.close()));
  });

  it('Redis stopped and restarted mid-run: no failed call; the processes fall back, then rejoin', async () => {
    const prefix = newPrefix();
    const ps = spawn(3);
    await Promise.all(ps.map((p) => p.start(job(prefix))));
    for (const p of ps) p.send({ cmd: 'load', concurrency: 3 });
    await progressed(ps, 20);

    await redis.stop();
    await terminateOthers(admin); // each process must now re-login without the store
    await Promise.all(ps.map((p) => p.next('reauthenticated')));
    await progressed(ps);

    await redis.start();
    // One process publishes its own session once Redis is back.
    await Promise.race(ps.map((p) => p.next('log', (m) => m.message.includes('store is back'))));
    // Every process's connection is back too (each retries on its own back-off, up to 1 s apart):
    // one still reconnecting when the sessions die would rightly log in on its own.
    await Promise.all(ps.map((p) => p.next('log', (m) => m.message.includes('Redis is reachable again'))));
    await progressed(ps);
    const before = await logins();
    await terminateOthers(admin); // every session dies: the fleet is one again, with one Login
    await Promise.all(ps.map((p) => p.next('reauthenticated', (m) => p.messages.filter((x) => x.type === 'reauthenticated').indexOf(m) >= 1)));
    await progressed(ps);
    const results = await Promise.all(ps.map((p) => p.stop()));
    // What each process reported, for the message of a failed expectation (no progress counts).
    const story = ps.map((p, i) => `process ${i}: ${p.messages.filter((m) => m.type !== 'progress').map((m) => JSON.stringify(m)).join(' ')}`).join('\n');
    for (const x of results) expect({ failed: x.failed, errors: x.errors }, story).toEqual({ failed: 0, errors: [] });
    expect(await logins(), story).toBe(before + 1);
    const sessions = ps.map((p) => p.messages.filter((m) => m.type === 'reauthenticated').at(-1));
    expect(new Set(sessions.map((m) => (m?.type === 'reauthenticated' ? m.session : ''))).size, story).toBe(1);
    await Promise.all(ps.map((p) => p.close()));
  });

  it('the lock holder SIGKILLed mid-login: its lock lapses within the lock TTL (3 s), not 30 s, and the fleet goes on with one Login', async () => {
    const prefix = newPrefix();
    const [holder, b, c] = spawn(3);
    await Promise.all([holder!, b!, c!].map((p) => p.connect(job(prefix))));
    const r = new Redis(redis.url);
    try {
      const before = await logins();
      await harnessStall(h.info, 20);
      holder!.send({ cmd: 'login' });
      while ((await r.keys(`${prefix}l:*`)).length === 0 || (await logins()) === before) await new Promise((res) => setTimeout(res, 10));
      const [lockKey] = await r.keys(`${prefix}l:*`);
      await holder!.kill();
      // What the dead holder left: a lock that Redis itself ends within the TTL (renewed up to
      // its death, never after), whatever the Login it was waiting for.
      const left = await r.pttl(lockKey!);
      expect(left).toBeGreaterThan(-2);
      expect(left).toBeLessThanOrEqual(3_000);
      const [rb, rc] = await Promise.all([b!.login(), c!.login()]);
      expect(rb.session).toBe(rc.session);
      expect(await logins()).toBe(before + 2);
    } finally {
      r.disconnect();
    }
    await Promise.all([b!.close(), c!.close()]);
  });

  it('another user\'s live session planted under the fleet\'s key (an unencrypted store): no process adopts it; one Login replaces it', async () => {
    const prefix = newPrefix();
    const viewer = await VimClient.connect(h.info.url, { tls: { ca: h.ca } });
    const planter = new RedisSessionStore({ url: redis.url, prefix });
    try {
      await viewer.login({ username: h.info.viewerUsername, password: h.info.viewerPassword });
      const key = await sessionKey(h.info.url, h.info.username, h.info.password);
      expect(await planter.compareAndSet(key, undefined, viewer.sessionId!)).toBe(true);
      const before = await logins();
      const ps = spawn(3);
      const ready = await Promise.all(ps.map((p) => p.start(job(prefix, TIMING, null))));
      expect(await logins()).toBe(before + 1);
      expect(new Set(ready.map((m) => m.session)).size).toBe(1);
      expect(ready[0]!.session).not.toBe(digest(viewer.sessionId!));
      const stored = await planter.get(key);
      expect(stored).not.toBe(viewer.sessionId);
      const owner = (await liveSessions(admin)).find((x) => x.key === stored);
      expect(owner?.userName).toBe(h.info.username);
      const warned = ps.flatMap((p) => p.messages).filter((m) => m.type === 'log' && m.level === 'warn' && m.message.includes('belongs to another user'));
      expect(warned.length).toBeGreaterThanOrEqual(1);
      await viewer.call('CurrentTime', SI); // the planted session is left alone
      await Promise.all(ps.map((p) => p.close()));
    } finally {
      await viewer.close();
      await planter.close();
    }
  });

  it('a corrupt value, then a value of another type, in the key: each is replaced by the next login (1 Login, not one per process), and gets a TTL', async () => {
    const prefix = newPrefix();
    const r = new Redis(redis.url);
    try {
      const skey = `${prefix}s:{${await sessionKey(h.info.url, h.info.username, h.info.password)}}`;
      await r.set(skey, 'not-a-session'); // no TTL
      const before = await logins();
      const ps = spawn(3);
      const ready = await Promise.all(ps.map((p) => p.start(job(prefix))));
      expect(await logins()).toBe(before + 1);
      expect(new Set(ready.map((m) => m.session)).size).toBe(1);
      expect(await r.get(skey)).toMatch(/^[\w-]+\.g1~/);
      expect(await r.pttl(skey)).toBeGreaterThan(0);

      await r.del(skey);
      await r.hset(skey, 'planted', 'value'); // no TTL either
      const mid = await logins();
      await terminateOthers(admin);
      for (const p of ps) p.send({ cmd: 'load', concurrency: 2 });
      await Promise.all(ps.map((p) => p.next('reauthenticated')));
      await progressed(ps, 10);
      const results = await Promise.all(ps.map((p) => p.stop()));
      for (const x of results) expect({ failed: x.failed, errors: x.errors }).toEqual({ failed: 0, errors: [] });
      expect(await logins()).toBe(mid + 1);
      expect(await r.type(skey)).toBe('string');
      expect(await r.pttl(skey)).toBeGreaterThan(0);
      await Promise.all(ps.map((p) => p.close()));
    } finally {
      r.disconnect();
    }
  });

  it('after FLUSHALL the members store their session again: a new member adopts it, with no second session', async () => {
    const prefix = newPrefix();
    const r = new Redis(redis.url);
    try {
      const ps = spawn(2);
      const ready = await Promise.all(ps.map((p) => p.start(job(prefix))));
      const skey = `${prefix}s:{${await sessionKey(h.info.url, h.info.username, h.info.password)}}`;
      expect(await r.exists(skey)).toBe(1);
      await r.flushall();
      for (const p of ps) p.send({ cmd: 'load', concurrency: 1 });
      await Promise.race(ps.map((p) => p.next('log', (m) => m.message.includes('stored its own again'))));
      await Promise.all(ps.map((p) => p.stop()));
      const before = await logins();
      const [late] = spawn(1);
      const m = await late!.start(job(prefix));
      expect(m.session).toBe(ready[0]!.session);
      expect(await logins()).toBe(before);
      await Promise.all([...ps, late!].map((p) => p.close()));
    } finally {
      r.disconnect();
    }
  });

  it('a process whose client is closed exits by itself: the store\'s connection does not keep it alive', async () => {
    const [p] = spawn(1);
    await p!.start(job(newPrefix()));
    // Nothing is left to keep the process alive once its client is closed: it exits at once (its
    // Redis connection kept it alive before, for as long as Redis was up). close() resolves on the exit.
    expect(await p!.close(true)).toEqual([]);
  });
});

describe('RedisSessionStore in one process', () => {
  it('renews the TTL with use; a second login() on the same client keeps the session; logout() removes it from Redis and the server', async () => {
    const prefix = newPrefix();
    const store = new RedisSessionStore({ url: redis.url, prefix, ttlSeconds: 60, renewIntervalMs: 0 });
    const r = new Redis(redis.url);
    const c = await VimClient.connect(h.info.url, { tls: { ca: h.ca }, sessionStore: store });
    try {
      const skey = `${prefix}s:{${await sessionKey(h.info.url, h.info.username, h.info.password)}}`;
      await c.login({ username: h.info.username, password: h.info.password });
      const first = await r.pttl(skey);
      expect(first).toBeGreaterThan(30_000);
      expect(first).toBeLessThanOrEqual(60_000);
      // Each successful call may renew (renewIntervalMs 0): the TTL goes back up to its full length.
      // Lowered by half first, so that a renewal shows however little time the calls take (compared
      // with the TTL read just after the login, one read within the same millisecond as the
      // renewal could not tell).
      await r.pexpire(skey, 30_000);
      let renewed = false;
      for (let i = 0; i < 50 && !renewed; i++) {
        await c.call('CurrentTime', SI);
        renewed = (await r.pttl(skey)) > 30_000;
      }
      expect(renewed).toBe(true);

      const id = c.sessionId;
      const before = (await harnessStats(h.info)).methods;
      await c.login({ username: h.info.username, password: h.info.password });
      const after = (await harnessStats(h.info)).methods;
      expect(c.sessionId).toBe(id);
      expect([after.Login, after.Logout]).toEqual([before.Login, before.Logout]);

      await c.logout();
      expect(await r.exists(skey)).toBe(0);
      expect((await harnessStats(h.info)).methods.Logout).toBe((before.Logout ?? 0) + 1);
    } finally {
      r.disconnect();
      await c.close();
      await store.close();
    }
  });

  it('a Redis that accepts connections and never answers costs one timeout; the logins after it go on at once', async () => {
    // A server that accepts connections and never says a word, as a hung Redis or a half-open path does.
    const held: Socket[] = [];
    const proxy = createServer((client) => {
      client.on('error', () => undefined);
      held.push(client);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const port = (proxy.address() as { port: number }).port;
    const store = new RedisSessionStore({ url: `redis://127.0.0.1:${port}`, prefix: newPrefix(), timeoutMs: 300, lockWaitMs: 20_000 });
    const failures: string[] = [];
    const watched: SessionStore = new Proxy(store, {
      get(target, name) {
        const v = Reflect.get(target, name, target) as unknown;
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          const out = (v as (...a: unknown[]) => unknown).apply(target, args);
          if (out instanceof Promise) out.catch((e: unknown) => failures.push(e instanceof SessionStoreError ? e.message : String(e)));
          return out;
        };
      },
    });
    const clients: VimClient[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const c = await VimClient.connect(h.info.url, { tls: { ca: h.ca }, sessionStore: watched });
        clients.push(c);
        await c.login({ username: h.info.username, password: h.info.password });
      }
      expect(failures.length).toBe(3); // one get per login, each refused
      expect(failures[0]).toMatch(/ETIMEDOUT|did not answer/);
      for (const f of failures.slice(1)) expect(f).toMatch(/down, reconnecting in the background/);
    } finally {
      for (const c of clients) await c.close();
      await store.close();
      for (const sock of held) sock.destroy();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it('a store error carries no session id, however Redis refused the command', async () => {
    const r = new Redis(redis.url);
    const store = new RedisSessionStore({ url: redis.url, prefix: newPrefix() });
    const id = 'session-id-that-must-not-leak-4711';
    try {
      await r.config('SET', 'maxmemory', '1');
      await r.config('SET', 'maxmemory-policy', 'noeviction');
      const err = await store.compareAndSet('k', undefined, id).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(SessionStoreError);
      expect(`${inspect(err, { depth: 20, showHidden: true })} ${JSON.stringify(err)} ${(err as Error).message}`).not.toContain(id);
    } finally {
      await r.config('SET', 'maxmemory', '0');
      r.disconnect();
      await store.close();
    }
  });
});
