// A fleet session store shares the separate vAPI session (a server before vSphere 8.0 U3: the
// harness's vapi-unified switch off) beside the vim session: clients on one MemorySessionStore,
// and on one Redis (a store instance each, as processes have), make one POST /api/session between
// them; an adopted id the server refuses is replaced once and republished; a stored id that is
// dead or another user's is not adopted; nothing secret is logged.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { join } from 'node:path';
import { FileSessionStore, MemorySessionStore, VimClient, type Logger, type SessionStore } from 'vim25-soap';
import { RedisSessionStore } from 'vim25-soap/redis';
import { sessionKey } from '../../src/fleet/key.ts';
import { vapiKey } from '../../src/vapi/shared-session.ts';
import { bundleIfPresent } from '../../scripts/lib/paths.ts';
import { liveSessions } from '../harness/fleet.ts';
import { RedisServer } from '../harness/redis.ts';
import { rawRequest } from '../harness-tests/raw.ts';
import { Harness, harnessSetVapiUnified, harnessStats } from '../harness/vcsim.ts';
import { tempDir } from '../fixtures.ts';

const TIMING = { lockWaitMs: 20_000, pollIntervalMs: 20, timeoutMs: 3000 };
const KEY = Buffer.alloc(32, 0x3c).toString('hex');
let h: Harness;
let redis: RedisServer;
let admin: VimClient;
let prefixes = 0;

beforeAll(async () => {
  [h, redis] = await Promise.all([Harness.start({ wsdlDir: bundleIfPresent(), password: 'Vapi-Fleet-7c1e' }), RedisServer.start()]);
  await harnessSetVapiUnified(h.info, false);
  admin = await VimClient.connect(h.info.url, { tls: { ca: h.ca } });
  await admin.login({ username: h.info.username, password: h.info.password });
});
afterAll(async () => {
  await admin?.close();
  await Promise.all([h?.stop(), redis?.stop()]);
});

async function client(store: SessionStore, logger?: Logger): Promise<VimClient> {
  const c = await VimClient.connect(h.info.url, { tls: { ca: h.ca }, sessionStore: store, ...(logger && { logger }) });
  onTestFinished(() => c.close());
  return c;
}

const creds = () => ({ username: h.info.username, password: h.info.password });
const apiSessions = async (): Promise<number> => (await harnessStats(h.info)).vapi.apiSessions;
const logins = async (): Promise<number> => (await harnessStats(h.info)).methods.Login ?? 0;
const keys = async (): Promise<Set<string>> => new Set((await liveSessions(admin)).map((s) => s.key));
const vapiStoreKey = async (c: VimClient): Promise<string> => vapiKey(await sessionKey(c.url, h.info.username, h.info.password));
const tags = (cs: VimClient[], each = 3) => Promise.all(cs.flatMap((c) => Array.from({ length: each }, () => c.rest.get('/api/cis/tagging/category'))));

/** 4 clients logged in on the store(s); the vim session is the store's. */
async function fleet(stores: SessionStore[]): Promise<VimClient[]> {
  const cs = await Promise.all(stores.map((s) => client(s)));
  await Promise.all(cs.map((c) => c.login(creds())));
  return cs;
}

function redisStore(prefix: string): RedisSessionStore {
  const store = new RedisSessionStore({ url: redis.url, prefix, ttlSeconds: 60, encryptionKey: KEY, ...TIMING });
  onTestFinished(() => store.close());
  return store;
}

describe('MemorySessionStore', () => {
  it('4 clients make one vAPI session between them and all use it', async () => {
    const store = new MemorySessionStore(TIMING);
    const [vapiBefore, loginsBefore, before] = [await apiSessions(), await logins(), await keys()];
    const cs = await fleet([store, store, store, store]);
    await tags(cs);
    expect(await apiSessions()).toBe(vapiBefore + 1);
    expect(await logins()).toBe(loginsBefore + 1);
    const made = [...(await keys())].filter((k) => !before.has(k));
    expect(made).toHaveLength(2); // the vim session and the vAPI session, one each for all four
    const stored = await store.get(await vapiStoreKey(cs[0]!));
    expect(made).toContain(stored);
    expect(stored).not.toBe(cs[0]!.sessionId);
    expect(cs.every((c) => c.rest.sessionMode === 'separate')).toBe(true);
  });

  it('a shared vAPI session ended from outside is replaced once for all, and republished', async () => {
    const store = new MemorySessionStore(TIMING);
    const cs = await fleet([store, store, store, store]);
    await tags(cs, 1);
    const key = await vapiStoreKey(cs[0]!);
    const first = (await store.get(key))!;
    await admin.call('TerminateSession', admin.serviceContent.sessionManager!, { sessionId: [first] });
    const vapiBefore = await apiSessions();
    const answers = await tags(cs);
    expect(answers).toHaveLength(12);
    expect(await apiSessions()).toBe(vapiBefore + 1);
    const second = await store.get(key);
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    expect((await keys()).has(second!)).toBe(true);
  });

  it('close keeps the shared vAPI session while other clients hold it; the last close logs it out', async () => {
    const store = new MemorySessionStore(TIMING);
    const cs = await fleet([store, store, store]);
    await tags(cs, 1);
    const key = await vapiStoreKey(cs[0]!);
    const id = (await store.get(key))!;
    await cs[0]!.close();
    await cs[0]!.rest.loggedOut();
    await cs[1]!.close();
    await cs[1]!.rest.loggedOut();
    expect((await keys()).has(id)).toBe(true);
    expect(await cs[2]!.rest.get('/api/cis/tagging/tag')).toEqual([]);
    await cs[2]!.close();
    await cs[2]!.rest.loggedOut();
    expect((await keys()).has(id)).toBe(false);
    expect(await store.get(key)).toBeUndefined();
  });

  it('logout ends the shared vAPI session for every client and removes it from the store', async () => {
    const store = new MemorySessionStore(TIMING);
    const cs = await fleet([store, store]);
    await tags(cs, 1);
    const key = await vapiStoreKey(cs[0]!);
    const id = (await store.get(key))!;
    expect((await keys()).has(id)).toBe(true);
    await cs[0]!.logout();
    await cs[0]!.rest.loggedOut();
    expect((await keys()).has(id)).toBe(false);
    expect(await store.get(key)).toBeUndefined();
    // The other client makes (and publishes) the next one.
    await cs[1]!.rest.get('/api/cis/tagging/tag');
    const next = await store.get(key);
    expect(next).toBeDefined();
    expect(next).not.toBe(id);
  });

  it('a stored vAPI id that is dead, or another user\'s, is not adopted but replaced', async () => {
    const store = new MemorySessionStore(TIMING);
    const [c] = await fleet([store]);
    const key = await vapiStoreKey(c!);
    // Another user's vAPI session (the harness's viewer), put into this identity's key.
    const basic = Buffer.from(`${h.info.viewerUsername}:${h.info.viewerPassword}`).toString('base64');
    const viewer = JSON.parse((await rawRequest(h.info, '/api/session', { method: 'POST', headers: { authorization: `Basic ${basic}` } })).body) as string;
    expect(await store.compareAndSet(key, undefined, viewer)).toBe(true);
    const vapiBefore = await apiSessions();
    await c!.rest.get('/api/cis/tagging/category');
    expect(await apiSessions()).toBe(vapiBefore + 1);
    const mine = (await store.get(key))!;
    expect(mine).not.toBe(viewer);
    // A dead id: forgotten, replaced by the next session made.
    await admin.call('TerminateSession', admin.serviceContent.sessionManager!, { sessionId: [mine] });
    const other = new MemorySessionStore(TIMING);
    expect(await other.compareAndSet(key, undefined, mine)).toBe(true);
    const [e] = await fleet([other]);
    await e!.rest.get('/api/cis/tagging/category');
    expect(await apiSessions()).toBe(vapiBefore + 2);
    expect(await other.get(key)).not.toBe(mine);
  });
});

describe('FileSessionStore', () => {
  it('4 clients, each with a store of its own on one directory, make one vAPI session, stored in a file of its own key', async () => {
    const dir = join(tempDir('vapi-fleet-'), 'sessions');
    const vapiBefore = await apiSessions();
    const cs = await fleet(Array.from({ length: 4 }, () => new FileSessionStore({ dir, encryptionKey: KEY, ...TIMING })));
    await tags(cs);
    expect(await apiSessions()).toBe(vapiBefore + 1);
    const store = new FileSessionStore({ dir, encryptionKey: KEY });
    const id = await store.get(await vapiStoreKey(cs[0]!));
    expect((await keys()).has(id!)).toBe(true);
    expect(id).not.toBe(await store.get(await sessionKey(cs[0]!.url, h.info.username, h.info.password)));
  });
});

describe('RedisSessionStore', () => {
  it('4 clients, each with a store of its own on one Redis (as 4 processes), make one vAPI session; it is stored encrypted under a TTL', async () => {
    const prefix = `v${++prefixes}:`;
    const vapiBefore = await apiSessions();
    const cs = await fleet([redisStore(prefix), redisStore(prefix), redisStore(prefix), redisStore(prefix)]);
    await tags(cs);
    expect(await apiSessions()).toBe(vapiBefore + 1);
    const r = new Redis(redis.url);
    try {
      const skey = `${prefix}s:{${await vapiStoreKey(cs[0]!)}}`;
      expect(await r.get(skey)).toMatch(/^[\w-]+\.g1~/);
      const ttl = await r.pttl(skey);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60_000);
    } finally {
      r.disconnect();
    }
  });

  it('an adopted vAPI id the server refuses is made again once across the stores, and republished', async () => {
    const prefix = `v${++prefixes}:`;
    const stores = [redisStore(prefix), redisStore(prefix), redisStore(prefix), redisStore(prefix)];
    const cs = await fleet(stores);
    await tags(cs, 1);
    const key = await vapiStoreKey(cs[0]!);
    const first = (await stores[0]!.get(key))!;
    await admin.call('TerminateSession', admin.serviceContent.sessionManager!, { sessionId: [first] });
    const vapiBefore = await apiSessions();
    await tags(cs);
    expect(await apiSessions()).toBe(vapiBefore + 1);
    const second = await stores[3]!.get(key);
    expect(second).not.toBe(first);
    expect((await keys()).has(second!)).toBe(true);
  });
});

it('never logs the shared vAPI session id or the basic-auth header', async () => {
  const lines: unknown[] = [];
  const at = (level: string) => (message: string, data?: Record<string, unknown>) => lines.push({ level, message, data });
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  const store = new MemorySessionStore(TIMING);
  const a = await client(store, logger);
  const b = await client(store, logger);
  await a.login(creds());
  await b.login(creds());
  await tags([a, b], 2);
  const id = (await store.get(await vapiStoreKey(a)))!;
  await admin.call('TerminateSession', admin.serviceContent.sessionManager!, { sessionId: [id] });
  await tags([a, b], 2);
  const next = (await store.get(await vapiStoreKey(a)))!;
  await a.close();
  await b.close();
  const text = JSON.stringify(lines);
  expect(text).toContain('vAPI session created');
  for (const secret of [id, next, h.info.password, Buffer.from(`${h.info.username}:${h.info.password}`).toString('base64')]) expect(text).not.toContain(secret);
  expect(text).not.toMatch(/vmware-api-session-id|authorization/i);
});
