// RedisSessionStore against a private redis-server (test/harness/redis.ts): the contract the
// memory and file stores keep (stores.test.ts), the keys and TTLs it writes, what it makes of
// values others wrote there (untrusted: another type, too large, no TTL), and a Redis that is
// down or never answers. The fleet's processes sharing it are test/integration/fleet-redis.
import { createServer, Socket, type Server } from 'node:net';
import { inspect } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SessionCodec } from '../../../src/fleet/codec.ts';
import { SessionStoreError } from '../../../src/fleet/store.ts';
import { silentLogger, type Logger } from '../../../src/logger.ts';
import { RedisSessionStore, type RedisSessionStoreOptions } from '../../../src/redis.ts';
import { RedisServer } from '../../harness/redis.ts';

const ID = '52b4c2f1-0e3a-7d11-aa90-3f1e2d4c5b6a';
const KEY = Buffer.alloc(32, 7);
let server: RedisServer;
let admin: Redis;
const opened: RedisSessionStore[] = [];
let prefixes = 0;

beforeAll(async () => {
  server = await RedisServer.start();
  admin = new Redis(server.url);
});
afterAll(async () => {
  for (const s of opened) await s.close();
  admin?.disconnect();
  await server?.stop();
});

/** A store on the test's Redis with a prefix of its own. */
function store(options: RedisSessionStoreOptions = {}): RedisSessionStore & { key: (kind: 's' | 'l' | 'f', key: string) => string } {
  const s = new RedisSessionStore({ url: server.url, prefix: `unit${++prefixes}:`, ...options });
  opened.push(s);
  return Object.assign(s, { key: (kind: 's' | 'l' | 'f', key: string) => `${s.prefix}${kind}:{${key}}` });
}

/** A logger that keeps what it was given. */
function recording(): Logger & { lines: string[]; on: (match: RegExp) => Promise<void> } {
  const lines: string[] = [];
  const waiting: Array<{ match: RegExp; resolve: () => void }> = [];
  const log = (level: string) => (message: string, data?: unknown) => {
    const line = `${level} ${message}${data === undefined ? '' : ` ${JSON.stringify(data)}`}`;
    lines.push(line);
    for (const w of waiting.filter((x) => x.match.test(line))) w.resolve();
  };
  return {
    ...silentLogger,
    lines,
    info: log('info'),
    warn: log('warn'),
    on: (match) => new Promise<void>((resolve) => (lines.some((l) => match.test(l)) ? resolve() : waiting.push({ match, resolve }))),
  };
}

const rejection = (p: Promise<unknown>): Promise<SessionStoreError> => p.then(() => {
  throw new Error('resolved');
}, (e: unknown) => e as SessionStoreError);

describe.each([['plain', undefined], ['encrypted', KEY]] as const)('RedisSessionStore, %s', (_, encryptionKey) => {
  it('compare-and-set and compare-and-delete, each value under a TTL of ttlSeconds', async () => {
    const s = store({ encryptionKey, ttlSeconds: 60 });
    expect(await s.get('k1')).toBeUndefined();
    expect(await s.compareAndSet('k1', 'other', ID)).toBe(false);
    expect(await s.compareAndSet('k1', undefined, ID)).toBe(true);
    expect(await s.compareAndSet('k1', undefined, 'x')).toBe(false);
    expect(await s.get('k1')).toBe(ID);
    const raw = (await admin.get(s.key('s', 'k1')))!;
    const codec = new SessionCodec(encryptionKey);
    expect(raw.startsWith(`${codec.fingerprint(ID)}.`)).toBe(true);
    expect(raw.includes(ID)).toBe(encryptionKey === undefined);
    const ttl = await admin.pttl(s.key('s', 'k1'));
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(await s.compareAndSet('k1', 'other', 'next')).toBe(false);
    expect(await s.compareAndSet('k1', ID, 'next.id;with=odd"chars')).toBe(true);
    expect(await s.get('k1')).toBe('next.id;with=odd"chars');
    expect(await s.compareAndDelete('k1', ID)).toBe(false);
    expect(await s.compareAndDelete('k1', 'next.id;with=odd"chars')).toBe(true);
    expect(await s.get('k1')).toBeUndefined();
    expect(await s.compareAndDelete('k1', 'next.id;with=odd"chars')).toBe(false);
  });

  it('touch() renews the TTL of the key that holds the id, and says whether it does', async () => {
    const s = store({ encryptionKey, ttlSeconds: 60 });
    expect(await s.touch('k', ID)).toBe(false);
    await s.compareAndSet('k', undefined, ID);
    await admin.pexpire(s.key('s', 'k'), 5_000);
    expect(await s.touch('k', 'another id')).toBe(false);
    expect(await admin.pttl(s.key('s', 'k'))).toBeLessThanOrEqual(5_000);
    expect(await s.touch('k', ID)).toBe(true);
    expect(await admin.pttl(s.key('s', 'k'))).toBeGreaterThan(50_000);
  });
});

describe('RedisSessionStore locks', () => {
  it('one holder at a time, under a TTL, with a larger fencing token each time; only the holder releases or extends it', async () => {
    const s = store();
    const a = (await s.lock('k', 10_000))!;
    expect(a.token).toBe('1');
    expect(await admin.get(s.key('l', 'k'))).toBe('1');
    expect(await admin.get(s.key('f', 'k'))).toBe('1');
    const ttl = await admin.pttl(s.key('l', 'k'));
    expect(ttl).toBeGreaterThan(5_000);
    expect(ttl).toBeLessThanOrEqual(10_000);
    expect(await s.lock('k', 10_000)).toBeUndefined();
    expect(await a.extend!(60_000)).toBe(true);
    expect(await admin.pttl(s.key('l', 'k'))).toBeGreaterThan(10_000);

    await admin.del(s.key('l', 'k')); // its TTL ran out: the holder died
    const b = (await s.lock('k', 10_000))!;
    expect(b.token).toBe('2');
    expect(await s.compareAndSet('k', undefined, ID, a)).toBe(false); // fenced out
    expect(await a.extend!(60_000)).toBe(false);
    await a.release(); // releasing a lock one no longer holds does nothing
    expect(await admin.get(s.key('l', 'k'))).toBe('2');
    expect(await s.compareAndSet('k', undefined, ID, b)).toBe(true);
    await b.release();
    expect(await admin.exists(s.key('l', 'k'))).toBe(0);
    expect(await b.extend!(1_000)).toBe(false);
    expect((await s.lock('k', 1_000))!.token).toBe('3');
  });

  it('a lock key of another type or without a TTL is cleared, and so is a fencing counter that is no integer', async () => {
    const s = store();
    await admin.hset(s.key('l', 'a'), 'planted', '1');
    expect(await s.lock('a', 1_000)).toBeDefined();
    await admin.set(s.key('l', 'b'), 'held for ever'); // no TTL
    expect(await s.lock('b', 1_000)).toBeDefined();
    await admin.set(s.key('l', 'c'), 'held', 'PX', 60_000); // a live lock of another client
    expect(await s.lock('c', 1_000)).toBeUndefined();
    await admin.set(s.key('f', 'd'), 'not a number');
    const d = (await s.lock('d', 1_000))!;
    expect(d.token).toBe('1');
    expect(await s.compareAndSet('d', undefined, ID, d)).toBe(true);
    await admin.hset(s.key('l', 'e'), 'planted', '1');
    await admin.pexpire(s.key('l', 'e'), 60_000);
    expect(await s.compareAndSet('e', undefined, ID, { token: '1', release: async () => undefined })).toBe(false);
    await admin.set(s.key('l', 'e2'), '1', 'PX', 60_000);
    expect(await s.compareAndSet('e2', undefined, ID, { token: '2', release: async () => undefined })).toBe(false);
    await admin.set(s.key('l', 'e3'), 'x', 'PX', 60_000);
    const holder = { token: 'x', release: async () => undefined };
    expect(await s.compareAndSet('e3', undefined, ID, holder)).toBe(true);
  });
});

describe('RedisSessionStore and what others wrote to its keys', () => {
  it('a value it cannot read is corrupt, named so that only that value is replaced, and gets a TTL when read', async () => {
    const s = store({ ttlSeconds: 60 });
    const cases: Array<[string, (k: string) => Promise<unknown>, RegExp]> = [
      ['garbage', (k) => admin.set(k, 'garbage'), /not in the expected format/],
      ['an id under the fingerprint of another', (k) => admin.set(k, `${new SessionCodec(undefined).fingerprint('planted')}.${ID}`), /does not match its fingerprint/],
      ['a hash', (k) => admin.hset(k, 'planted', 'value'), /of another type or too large/],
      ['a list', (k) => admin.rpush(k, 'a', 'b'), /of another type or too large/],
      ['more than 64 KiB', (k) => admin.set(k, `x.${'a'.repeat(64 * 1024)}`), /of another type or too large/],
    ];
    for (const [what, plant, message] of cases) {
      const k = `k-${what}`;
      await plant(s.key('s', k));
      expect(await admin.pttl(s.key('s', k)), what).toBe(-1);
      const err = await rejection(s.get(k));
      expect(err, what).toBeInstanceOf(SessionStoreError);
      expect(err.reason, what).toBe('corrupt');
      expect(err.message, what).toMatch(message);
      const ttl = await admin.pttl(s.key('s', k));
      expect(ttl, what).toBeGreaterThan(50_000);
      expect(ttl, what).toBeLessThanOrEqual(60_000);
      const unreadable = err.unreadable!;
      expect(await s.compareAndSet(k, undefined, 'mine'), what).toBe(false);
      expect(await s.compareAndSet(k, 'other', 'mine'), what).toBe(false);
      expect(await s.compareAndSet(k, { unreadable: 'another value' }, 'mine'), what).toBe(false);
      expect(await s.compareAndDelete(k, 'other'), what).toBe(false);
      expect(await s.touch(k, 'other'), what).toBe(false);
      expect(await s.compareAndSet(k, unreadable, 'mine'), what).toBe(true);
      expect(await s.get(k), what).toBe('mine');
      expect(await s.compareAndSet(k, unreadable, 'again'), what).toBe(false);
    }
  });

  it('names an unreadable value by its type or length, or by its content', async () => {
    const s = store();
    await admin.hset(s.key('s', 'h'), 'a', '1');
    expect((await rejection(s.get('h'))).unreadable).toEqual({ unreadable: 'type:hash' });
    await admin.set(s.key('s', 'l'), 'y'.repeat(64 * 1024 + 1));
    expect((await rejection(s.get('l'))).unreadable).toEqual({ unreadable: `long:${64 * 1024 + 1}` });
    await admin.set(s.key('s', 'g'), 'garbage');
    expect((await rejection(s.get('g'))).unreadable).toEqual({ unreadable: await admin.eval("return redis.sha1hex('garbage')", 0) });
    await admin.set(s.key('s', 'max'), 'z'.repeat(64 * 1024)); // at the limit: read, and unreadable only by its format
    expect((await rejection(s.get('max'))).unreadable!.unreadable).toMatch(/^[0-9a-f]{40}$/);
  });

  it('a valid value found without a TTL is read and gets one', async () => {
    const s = store({ ttlSeconds: 60 });
    await admin.set(s.key('s', 'k'), new SessionCodec(undefined).encode('k', ID));
    expect(await s.get('k')).toBe(ID);
    expect(await admin.pttl(s.key('s', 'k'))).toBeGreaterThan(50_000);
    await admin.pexpire(s.key('s', 'k'), 5_000);
    expect(await s.get('k')).toBe(ID);
    expect(await admin.pttl(s.key('s', 'k'))).toBeLessThanOrEqual(5_000); // one with a TTL keeps it
  });

  it('a value sealed under another key or another encryptionKey does not open', async () => {
    const s = store({ encryptionKey: KEY });
    await s.compareAndSet('a', undefined, ID);
    await admin.copy(s.key('s', 'a'), s.key('s', 'b'));
    expect((await rejection(s.get('b'))).message).toMatch(/does not decrypt/);
    const other = store({ prefix: s.prefix, encryptionKey: Buffer.alloc(32, 8) });
    expect((await rejection(other.get('a'))).message).toMatch(/does not decrypt|does not match/);
    const plain = store({ prefix: s.prefix });
    expect((await rejection(plain.get('a'))).reason).toBe('corrupt');
  });
});

describe('RedisSessionStore options', () => {
  it('keys the session, the lock and the counter under one hash tag, after the prefix (default vim25-soap:)', async () => {
    const s = new RedisSessionStore({ url: server.url });
    opened.push(s);
    const key = `unit-default-${process.pid}`;
    try {
      await s.compareAndSet(key, undefined, ID);
      const lock = (await s.lock(key, 1_000))!;
      expect((await admin.keys(`*${key}*`)).sort()).toEqual([`vim25-soap:f:{${key}}`, `vim25-soap:l:{${key}}`, `vim25-soap:s:{${key}}`]);
      await lock.release();
      expect(await admin.pttl(`vim25-soap:s:{${key}}`)).toBeGreaterThan(1_700_000); // ttlSeconds 1800
    } finally {
      await admin.del(`vim25-soap:s:{${key}}`, `vim25-soap:f:{${key}}`);
    }
  });

  it('refuses a ttlSeconds that is not positive, and shows its settings but no secret', () => {
    for (const ttlSeconds of [0, -1, Number.NaN]) expect(() => new RedisSessionStore({ ttlSeconds }), String(ttlSeconds)).toThrow(new TypeError('ttlSeconds must be positive'));
    const s = new RedisSessionStore({ url: 'redis://:pw-123@127.0.0.1:1', prefix: 'p:', ttlSeconds: 42, encryptionKey: KEY });
    expect(inspect(s)).toBe("RedisSessionStore { prefix: 'p:', ttlSeconds: 42, encrypted: true }");
    expect(JSON.stringify(s)).toBe('{"store":"redis","prefix":"p:","ttlSeconds":42,"encrypted":true}');
    expect(new RedisSessionStore().toJSON()).toEqual({ store: 'redis', prefix: 'vim25-soap:', ttlSeconds: 1800, encrypted: false });
    expect(new RedisSessionStore({ timeoutMs: 5, lockTtlMs: 6, url: 'redis://x' }).timing).toEqual({ timeoutMs: 5, lockTtlMs: 6 });
  });

  it('says nothing of a connection that was never down', async () => {
    const logger = recording();
    const s = store({ logger });
    await s.get('k');
    expect(logger.lines).toEqual([]);
  });

  it('passes further ioredis options on, and closes its connection when its last client detaches', async () => {
    const name = `vim25-unit-${process.pid}-${prefixes}`;
    const s = store({ redis: { connectionName: name } });
    const connected = async (): Promise<boolean> => String(await admin.client('LIST')).includes(`name=${name} `);
    s.attach();
    s.attach();
    await s.get('k');
    expect(await connected()).toBe(true);
    await s.detach();
    expect(await connected()).toBe(true); // one client still uses it
    // The last client's detach (what its close() awaits) resolves once the connection is closed,
    // on Redis's side and on this process's: no socket of it is left to keep a process alive.
    const sockets = (): number =>
      (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles()
        .filter((h) => h instanceof Socket && h.remotePort === server.port && !h.destroyed).length;
    const open = sockets();
    await s.detach();
    expect(await connected()).toBe(false);
    expect(sockets()).toBe(open - 1);
    await s.detach(); // one more than attached: no negative count, the next attach counts from zero
    s.attach();
    await s.get('k'); // a new connection
    expect(await connected()).toBe(true);
    await s.detach();
    expect(await connected()).toBe(false);
  });
});

describe('RedisSessionStore without Redis', () => {
  it('fails at once with an unavailable store while Redis is down, warns once, and says when it is back', async () => {
    const down = await RedisServer.start();
    await down.stop();
    const logger = recording();
    const s = store({ url: down.url, logger, timeoutMs: 60_000 });
    try {
      const first = await rejection(s.get('k'));
      expect(first).toBeInstanceOf(SessionStoreError);
      expect(first.reason).toBe('unavailable');
      expect(first.message).toBe('session store: Redis get failed (ECONNREFUSED)');
      expect(first.cause).toMatchObject({ code: 'ECONNREFUSED' });
      for (const [what, call] of [
        ['compareAndSet', () => s.compareAndSet('k', undefined, ID)],
        ['compareAndDelete', () => s.compareAndDelete('k', ID)],
        ['lock', () => s.lock('k', 1_000)],
        ['touch', () => s.touch('k', ID)],
      ] as const) {
        expect((await rejection(call())).message).toBe(`session store: Redis ${what} failed (down, reconnecting in the background)`);
      }
      expect(logger.lines).toEqual(['warn session store: Redis unreachable {"error":"ECONNREFUSED"}']);
      await down.start();
      await logger.on(/Redis is reachable again/);
      expect(await s.get('k')).toBeUndefined();
      const lock = (await s.lock('k', 10_000))!;
      await down.stop();
      expect((await rejection(lock.release())).message).toMatch(/^session store: Redis unlock failed \(/);
      expect((await rejection(lock.extend!(1_000))).message).toMatch(/^session store: Redis extend failed \(/);
    } finally {
      await s.close();
      await down.stop();
    }
  });

  it('a Redis that accepts the connection and never answers costs one timeoutMs; the calls after it fail at once, and one probes again', async () => {
    const held: Socket[] = [];
    let connections = 0;
    const silent: Server = createServer((socket) => {
      connections++;
      socket.on('error', () => undefined);
      held.push(socket);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const logger = recording();
    const s = store({ url: `redis://127.0.0.1:${(silent.address() as { port: number }).port}`, timeoutMs: 50, logger });
    try {
      const first = await rejection(s.get('k'));
      expect(first.message).toBe('session store: Redis get failed (ETIMEDOUT)');
      expect(logger.lines).toEqual(['warn session store: Redis unreachable {"error":"ETIMEDOUT"}']);
      expect((await rejection(s.get('k'))).message).toMatch(/down, reconnecting in the background/);
      expect(connections).toBe(1);
      // Past timeoutMs, the next caller starts a new connection attempt (and still fails at once).
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(Date.now() + 40);
      expect((await rejection(s.get('k'))).message).toMatch(/down, reconnecting in the background/);
      vi.setSystemTime(Date.now() + 20);
      const probed = new Promise<void>((resolve) => silent.once('connection', () => resolve()));
      expect((await rejection(s.get('k'))).message).toMatch(/down, reconnecting in the background/);
      expect((await rejection(s.get('k'))).message).toMatch(/down, reconnecting in the background/); // at most one probe per timeoutMs
      await probed;
      expect(connections).toBe(2);
    } finally {
      vi.useRealTimers();
      await s.close();
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('a call waiting for the connection fails when the store is closed meanwhile', async () => {
    const silent = createServer((socket) => socket.on('error', () => undefined));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const s = store({ url: `redis://127.0.0.1:${(silent.address() as { port: number }).port}`, timeoutMs: 600_000 });
    try {
      const waiting = rejection(s.get('k'));
      await new Promise<void>((resolve) => silent.once('connection', () => resolve()));
      await s.close();
      const err = await waiting;
      expect(err.reason).toBe('unavailable');
      expect(err.message).toMatch(/^session store: Redis get failed \(/);
    } finally {
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('a command Redis refuses is an unavailable store whose cause carries no argument (no session id)', async () => {
    const own = await RedisServer.start();
    const r = new Redis(own.url);
    const s = store({ url: own.url });
    try {
      await r.config('SET', 'maxmemory', '1');
      await r.config('SET', 'maxmemory-policy', 'noeviction');
      const err = await rejection(s.compareAndSet('k', undefined, ID));
      expect(err.reason).toBe('unavailable');
      expect(err.message).toMatch(/^session store: Redis compareAndSet failed \(ReplyError\)$/);
      expect(err.cause).not.toHaveProperty('command'); // ioredis's own error names the command and its arguments
      expect(err.cause).toMatchObject({ name: 'ReplyError', message: expect.stringMatching(/OOM/) });
      expect(`${inspect(err, { depth: 20, showHidden: true })} ${JSON.stringify(err)}`).not.toContain(ID);
    } finally {
      r.disconnect();
      await s.close();
      await own.stop();
    }
  });
});
