// Sessions for a fleet with the RedisSessionStore: real child processes, a real redis-server
// (test/harness/redis.ts) that is stopped and started under them, a private harness counting Logins.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VimClient } from 'vim25-soap';
import { sessionKey } from '../../src/fleet/key.ts';
import { RedisSessionStore } from 'vim25-soap/redis';
import { bundleDir } from '../../scripts/lib/paths.ts';
import { FleetRegistry, progressed, terminateOthers, type FleetProcess } from '../harness/fleet.ts';
import type { ChildStart } from '../harness/fleet-child.ts';
import { RedisServer } from '../harness/redis.ts';
import { Harness, harnessStall, harnessStats } from '../harness/vcsim.ts';

// A generous store timeout: on a loaded machine a slow answer must not pass for an outage (which costs Logins);
// a stopped Redis fails at once anyway (commands are not queued while disconnected).
// The lock TTL is long (a slow Login must not look like a dead holder) except where a holder is killed.
const TIMING = { lockTtlMs: 10_000, pollIntervalMs: 20, renewIntervalMs: 200, timeoutMs: 3000 };
const SHORT_LOCK = { ...TIMING, lockTtlMs: 1500 };
const KEY = Buffer.alloc(32, 0x5a).toString('hex');
let h: Harness;
let redis: RedisServer;
let admin: VimClient;
let prefixes = 0;
const SI = { type: 'ServiceInstance' as const, value: 'ServiceInstance' };
const fleet = new FleetRegistry();

beforeAll(async () => {
  [h, redis] = await Promise.all([Harness.start({ wsdlDir: bundleDir() }), RedisServer.start()]);
  admin = await VimClient.connect(h.info.url, { tls: { ca: h.ca } });
  await admin.login({ username: h.info.username, password: h.info.password });
});
afterAll(async () => {
  await fleet.killAll();
  await admin?.close();
  await Promise.all([h?.stop(), redis?.stop()]);
});

function job(prefix: string, timing: Record<string, number> = TIMING): ChildStart {
  return { url: h.info.url, ca: h.ca.toString(), username: h.info.username, password: h.info.password, store: { kind: 'redis', url: redis.url, prefix, ttlSeconds: 60, encryptionKey: KEY, timing } };
}

const newPrefix = (): string => `t${++prefixes}:`;

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

  it('the lock holder SIGKILLed mid-login: the fleet recovers within the lock TTL, with one Login', async () => {
    const prefix = newPrefix();
    const [holder, b, c] = spawn(3);
    await Promise.all([holder!, b!, c!].map((p) => p.connect(job(prefix, SHORT_LOCK))));
    const r = new Redis(redis.url);
    try {
      const before = await logins();
      await harnessStall(h.info, 20);
      holder!.send({ cmd: 'login' });
      while ((await r.keys(`${prefix}l:*`)).length === 0 || (await logins()) === before) await new Promise((res) => setTimeout(res, 10));
      await holder!.kill();
      const killedAt = Date.now();
      const [rb, rc] = await Promise.all([b!.login(), c!.login()]);
      expect(Date.now() - killedAt).toBeLessThan(SHORT_LOCK.lockTtlMs + 4000);
      expect(rb.session).toBe(rc.session);
      expect(await logins()).toBe(before + 2);
    } finally {
      r.disconnect();
    }
    await Promise.all([b!.close(), c!.close()]);
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
});
