// The stores' own contracts, without a server: compare-and-set, locks and fencing, files and
// their modes, the codec, the key derivation, and what inspect() shows.
import { execFileSync } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FileSessionStore, MemorySessionStore, SessionStoreError, type SessionStore } from '../../../src/index.ts';
import { SessionCodec } from '../../../src/fleet/codec.ts';
import { sessionKey } from '../../../src/fleet/key.ts';
import { RedisSessionStore } from '../../../src/redis.ts';
import { tempDir } from '../../fixtures.ts';

const root = tempDir('vim25-stores-');
afterEach(() => void vi.useRealTimers());
let n = 0;
const fileStore = (options = {}) => new FileSessionStore({ dir: join(root, `s${++n}`), ...options });
const ID = '52b4c2f1-0e3a-7d11-aa90-3f1e2d4c5b6a';

describe.each<[string, () => SessionStore]>([
  ['memory', () => new MemorySessionStore()],
  ['file', () => fileStore()],
  ['file, encrypted', () => fileStore({ encryptionKey: Buffer.alloc(32, 1) })],
])('%s store', (_, make) => {
  it('compare-and-set and compare-and-delete', async () => {
    const s = make();
    expect(await s.get('k1')).toBeUndefined();
    expect(await s.compareAndSet('k1', 'other', ID)).toBe(false);
    expect(await s.compareAndSet('k1', undefined, ID)).toBe(true);
    expect(await s.compareAndSet('k1', undefined, 'x')).toBe(false);
    expect(await s.get('k1')).toBe(ID);
    expect(await s.compareAndSet('k1', ID, 'next.id;with=odd"chars')).toBe(true);
    expect(await s.get('k1')).toBe('next.id;with=odd"chars');
    expect(await s.compareAndDelete('k1', ID)).toBe(false);
    expect(await s.compareAndDelete('k1', 'next.id;with=odd"chars')).toBe(true);
    expect(await s.get('k1')).toBeUndefined();
  });

  it('one lock holder at a time; an expired lock is taken over and its holder can no longer write', async () => {
    const s = make();
    // The clock stands still but where the test moves it: on a busy machine 80 ms of real time
    // could pass between two calls.
    vi.useFakeTimers({ toFake: ['Date'] });
    const a = await s.lock('k2', 80);
    expect(a).toBeDefined();
    expect(await s.lock('k2', 80)).toBeUndefined();
    vi.setSystemTime(Date.now() + 100); // the holder died: its lock's TTL passes
    const b = await s.lock('k2', 10_000);
    expect(b).toBeDefined();
    expect(b!.token).not.toBe(a!.token);
    expect(await s.compareAndSet('k2', undefined, ID, a)).toBe(false); // fenced out
    await a!.release(); // releasing a lock one no longer holds does nothing
    expect(await s.lock('k2', 80)).toBeUndefined();
    expect(await s.compareAndSet('k2', undefined, ID, b)).toBe(true);
    await b!.release();
    expect(await s.lock('k2', 80)).toBeDefined();
  });
});

describe('FileSessionStore', () => {
  it('a directory 0700, files 0600, no temporary files left, the id encrypted with a key', async () => {
    const s = fileStore({ encryptionKey: Buffer.alloc(32, 2) });
    await s.compareAndSet('k', undefined, ID);
    expect(statSync(s.dir).mode & 0o777).toBe(0o700);
    const files = readdirSync(s.dir);
    expect(files).toEqual(['k.session']);
    expect(statSync(join(s.dir, 'k.session')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(s.dir, 'k.session'), 'utf8')).not.toContain(ID);
    // Another key does not open it; neither does a moved file.
    await expect(fileStore({ dir: s.dir, encryptionKey: Buffer.alloc(32, 3) }).get('k')).rejects.toBeInstanceOf(SessionStoreError);
    writeFileSync(join(s.dir, 'moved.session'), readFileSync(join(s.dir, 'k.session')), { mode: 0o600 });
    await expect(s.get('moved')).rejects.toThrow(/does not decrypt/);
  });

  it('many stores on one directory, as many processes would: never two lock holders at once', async () => {
    // Run in one process, the file system calls of eight stores interleave on libuv's thread pool
    // as those of eight processes do: a lock read while it was being written once passed for an
    // expired one, and a lock released between two reads was taken from its next holder.
    const dir = fileStore().dir;
    const stores = Array.from({ length: 8 }, () => fileStore({ dir }));
    let holders = 0;
    let most = 0;
    let taken = 0;
    await Promise.all(stores.map(async (s) => {
      for (let i = 0; i < 60; i++) {
        const lock = await s.lock('k', 10_000);
        if (!lock) continue;
        taken++;
        most = Math.max(most, ++holders);
        await new Promise((r) => setImmediate(r));
        holders--;
        await lock.release();
      }
    }));
    expect(most).toBe(1);
    expect(taken).toBeGreaterThan(8);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('an unreadable lock file (not one of ours) counts as expired', async () => {
    const s = fileStore();
    await s.get('k'); // creates the directory
    writeFileSync(join(s.dir, 'k.lock'), '{"tok', { mode: 0o600 });
    expect(await s.lock('k', 1000)).toBeDefined();
  });

  it('what lies at a session file\'s path is read only when it is a regular file of this user, 0600, at most 64 KiB; anything else is unreadable, and replaced', async () => {
    const elsewhere = fileStore();
    await elsewhere.compareAndSet('k', undefined, ID); // a valid value, in a directory an attacker controls
    const cases: [string, (path: string) => void][] = [
      ['a symbolic link to a valid value', (p) => symlinkSync(join(elsewhere.dir, 'k.session'), p)],
      ['a symbolic link to /dev/zero', (p) => symlinkSync('/dev/zero', p)],
      ['a FIFO', (p) => execFileSync('mkfifo', ['-m', '600', p])],
      ['a file readable by others', (p) => writeFileSync(p, readFileSync(join(elsewhere.dir, 'k.session')), { mode: 0o644 })],
      ['a file of 1 MiB', (p) => writeFileSync(p, Buffer.alloc(1 << 20, 0x61), { mode: 0o600 })],
    ];
    for (const [what, plant] of cases) {
      const s = fileStore();
      await s.get('k'); // creates the directory
      const path = join(s.dir, 'k.session');
      plant(path);
      const err = await s.get('k').then(() => undefined, (e: unknown) => e);
      expect(err, what).toBeInstanceOf(SessionStoreError);
      expect((err as SessionStoreError).reason, what).toBe('corrupt');
      const unreadable = (err as SessionStoreError).unreadable!;
      expect(await s.compareAndSet('k', undefined, 'mine'), what).toBe(false);
      expect(await s.compareAndSet('k', { unreadable: 'another value' }, 'mine'), what).toBe(false);
      expect(await s.compareAndSet('k', unreadable, 'mine'), what).toBe(true);
      expect(await s.get('k'), what).toBe('mine');
      expect(lstatSync(path).isFile(), what).toBe(true);
    }
    expect(await elsewhere.get('k')).toBe(ID); // a link is replaced, not written through
  });

  it('a corrupt value is named by its content: once replaced, the old name no longer matches', async () => {
    const s = fileStore();
    await s.get('k');
    writeFileSync(join(s.dir, 'k.session'), 'garbage', { mode: 0o600 });
    const { unreadable } = (await s.get('k').catch((e: unknown) => e)) as SessionStoreError;
    expect(await s.compareAndSet('k', unreadable!, ID)).toBe(true);
    expect(await s.compareAndSet('k', unreadable!, 'other')).toBe(false);
    expect(await s.get('k')).toBe(ID);
  });

  it('a session unused for longer than ttlSeconds is absent; touch() renews it and says whether the key holds the id', async () => {
    const s = fileStore({ ttlSeconds: 60 });
    await s.compareAndSet('k', undefined, ID);
    expect(await s.touch('k', 'another id')).toBe(false);
    const old = new Date(Date.now() - 61_000);
    utimesSync(join(s.dir, 'k.session'), old, old);
    expect(await s.get('k')).toBeUndefined();
    expect(await s.touch('k', ID)).toBe(false);
    expect(await s.compareAndSet('k', undefined, 'next')).toBe(true); // an expired value counts as none
    expect(await s.touch('k', 'next')).toBe(true);
    expect(statSync(join(s.dir, 'k.session')).mtimeMs).toBeGreaterThan(old.getTime() + 30_000);
  });

  it('a lock is extended only by its holder; a symbolic link at the lock\'s path counts as expired', async () => {
    const s = fileStore();
    vi.useFakeTimers({ toFake: ['Date'] });
    const a = (await s.lock('k', 1_000))!;
    vi.setSystemTime(Date.now() + 800);
    expect(await a.extend!(1_000)).toBe(true);
    vi.setSystemTime(Date.now() + 800); // past the first TTL, within the renewed one
    expect(await s.lock('k', 1_000)).toBeUndefined();
    vi.setSystemTime(Date.now() + 300);
    const b = (await s.lock('k', 1_000))!;
    expect(await a.extend!(1_000)).toBe(false);
    await b.release();
    symlinkSync('/dev/zero', join(s.dir, 'k.lock'));
    expect(await s.lock('k', 1_000)).toBeDefined();
  });

  it('a directory that cannot be made is an unavailable store, not a hang (a recursive mkdir looped for ever under /proc)', async () => {
    const err = await new FileSessionStore({ dir: '/proc/vim25-nope/sessions' }).get('k').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SessionStoreError);
    expect((err as SessionStoreError).reason).toBe('unavailable');
  });

  it('tightens a directory that is too open', async () => {
    const s = fileStore();
    await s.get('k');
    const { chmodSync } = await import('node:fs');
    chmodSync(s.dir, 0o755);
    await fileStore({ dir: s.dir }).get('k');
    expect(statSync(s.dir).mode & 0o777).toBe(0o700);
  });
});

describe('keys and codec', () => {
  it('the key depends on URL, user and password, and contains none of them', async () => {
    const url = 'https://vc.example.com/sdk';
    const k = await sessionKey(url, 'admin@vsphere.local', 'Secret-1');
    expect(k).toMatch(/^v1-[\w-]{43}$/);
    expect(await sessionKey(url, 'admin@vsphere.local', 'Secret-1')).toBe(k);
    for (const other of await Promise.all([
      sessionKey(url, 'admin@vsphere.local', 'Secret-2'),
      sessionKey(url, 'someone@vsphere.local', 'Secret-1'),
      sessionKey('https://vc2.example.com/sdk', 'admin@vsphere.local', 'Secret-1'),
    ])) expect(other).not.toBe(k);
    for (const part of ['Secret', 'admin', 'vc.example']) expect(k).not.toContain(part);
  });

  it('derives the key once per identity in a process, for the 4 identities used last', async () => {
    const url = 'https://vc3.example.com/sdk';
    const first = sessionKey(url, 'jobs@vsphere.local', 'Secret-1');
    expect(sessionKey(url, 'jobs@vsphere.local', 'Secret-1')).toBe(first); // a client per job: one scrypt
    expect(sessionKey(url, 'jobs@vsphere.local', 'Secret-2')).not.toBe(first);
    await Promise.all(Array.from({ length: 4 }, (_, i) => sessionKey(url, `other-${i}@vsphere.local`, 'Secret-1')));
    const again = sessionKey(url, 'jobs@vsphere.local', 'Secret-1');
    expect(again).not.toBe(first); // forgotten, derived anew: the same key
    expect(await again).toBe(await first);
  });

  it('seals with AES-256-GCM bound to the store key, and rejects a wrong key size', () => {
    const c = new SessionCodec(Buffer.alloc(32, 9).toString('hex'));
    const raw = c.encode('key-a', ID);
    expect(raw).not.toContain(ID);
    expect(c.decode('key-a', raw)).toBe(ID);
    expect(() => c.decode('key-b', raw)).toThrow(SessionStoreError);
    expect(c.encode('key-a', ID)).not.toBe(raw); // a fresh IV each time
    expect(() => new SessionCodec(Buffer.alloc(16))).toThrow(TypeError);
  });

  it('stores show no secret in inspect() or JSON', async () => {
    const key = Buffer.alloc(32, 4);
    const redis = new RedisSessionStore({ url: 'redis://:redis-password-77@127.0.0.1:1', encryptionKey: key, timeoutMs: 100 });
    const file = fileStore({ encryptionKey: key });
    const memory = new MemorySessionStore();
    await memory.compareAndSet('k', undefined, ID);
    await file.compareAndSet('k', undefined, ID);
    for (const s of [redis, file, memory]) {
      const shown = inspect(s, { depth: 6, showHidden: true }) + JSON.stringify(s);
      for (const secret of ['redis-password-77', key.toString('hex'), key.toString('base64'), ID]) expect(shown).not.toContain(secret);
    }
    await redis.close();
  });
});
