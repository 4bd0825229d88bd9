// FileSessionStore beyond the contract all stores keep (stores.test.ts): its directory, its
// keys and file names, the TTL and lock expiry at their boundaries, what lies at a path that is
// not one of its files, and the errors it reports when the file system refuses.
import { chmodSync, chownSync, existsSync, linkSync, lstatSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FileSessionStore, type FileSessionStoreOptions } from '../../../src/fleet/file.ts';
import { SessionStoreError } from '../../../src/fleet/store.ts';
import { tempDir } from '../../fixtures.ts';

const root = tempDir('vim25-file-store-');
afterEach(() => void vi.useRealTimers());
let n = 0;
const store = (options: FileSessionStoreOptions = {}) => new FileSessionStore({ dir: join(root, `s${++n}`), ...options });
const ID = '52b4c2f1-0e3a-7d11-aa90-3f1e2d4c5b6a';
const isRoot = process.getuid?.() === 0;
/** A file of `mode` exactly (a mode given to writeFileSync passes through the umask). */
const planted = (path: string, mode: number): void => {
  writeFileSync(path, 'x.y');
  chmodSync(path, mode);
};

const rejection = (p: Promise<unknown>): Promise<SessionStoreError> => p.then(() => {
  throw new Error('resolved');
}, (e: unknown) => e as SessionStoreError);

describe('FileSessionStore options', () => {
  it('keeps its files under ~/.cache/vim25-soap/sessions unless told, for 1800 s, and shows its settings but no key', () => {
    const s = new FileSessionStore({ encryptionKey: Buffer.alloc(32, 1), timeoutMs: 5 });
    expect(s.dir).toBe(join(homedir(), '.cache', 'vim25-soap', 'sessions'));
    expect(s.ttlSeconds).toBe(1800);
    expect(s.timing).toEqual({ timeoutMs: 5 });
    expect(s.toJSON()).toEqual({ store: 'file', dir: s.dir, ttlSeconds: 1800, encrypted: true });
    const t = new FileSessionStore({ dir: '/x/y', ttlSeconds: 9 });
    expect(inspect(t)).toBe("FileSessionStore { dir: '/x/y', ttlSeconds: 9, encrypted: false }");
    expect(JSON.stringify(t)).toBe('{"store":"file","dir":"/x/y","ttlSeconds":9,"encrypted":false}');
  });

  it('refuses a ttlSeconds that is not positive', () => {
    for (const ttlSeconds of [0, -1, Number.NaN]) expect(() => store({ ttlSeconds }), String(ttlSeconds)).toThrow(new TypeError('ttlSeconds must be positive'));
    expect(store({ ttlSeconds: 0.5 }).ttlSeconds).toBe(0.5);
  });

  it('takes keys of letters, digits, - and _ only, as file names <key>.session and <key>.lock', async () => {
    const s = store();
    for (const key of ['a/b', '../k', 'x/abc', 'abc/x', 'a b', '', 'k.session', 'é']) {
      await expect(s.get(key), key).rejects.toThrow(new TypeError('session store keys are [A-Za-z0-9_-]'));
    }
    await s.compareAndSet('Key_1-x', undefined, ID);
    const lock = (await s.lock('Key_1-x', 1_000))!;
    expect(readdirSync(s.dir).sort()).toEqual(['Key_1-x.lock', 'Key_1-x.session']);
    await lock.release();
    expect(readdirSync(s.dir)).toEqual(['Key_1-x.session']);
    expect(await s.compareAndDelete('Key_1-x', ID)).toBe(true);
    expect(readdirSync(s.dir)).toEqual([]);
  });
});

describe('FileSessionStore time', () => {
  it('a session is there until ttlSeconds after its file was last written or touched, and absent after', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const s = store({ ttlSeconds: 60 });
    await s.compareAndSet('k', undefined, ID);
    const file = join(s.dir, 'k.session');
    const written = new Date(Math.floor(Date.now() / 1000) * 1000 - 30_000);
    utimesSync(file, written, written);
    vi.setSystemTime(written.getTime() + 60_000);
    expect(await s.get('k')).toBe(ID); // at the TTL: still there
    vi.setSystemTime(written.getTime() + 60_001);
    expect(await s.get('k')).toBeUndefined();
    vi.setSystemTime(written.getTime() + 30_000);
    expect(await s.touch('k', ID)).toBe(true);
    expect(Math.abs(statSync(file).mtimeMs - Date.now())).toBeLessThan(5_000); // renewed to the clock's now
    vi.setSystemTime(written.getTime() + 80_000);
    expect(await s.get('k')).toBe(ID);
  });

  it('a lock is held until its expiry, and taken over from then on', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const s = store();
    const start = Date.now();
    const a = (await s.lock('k', 1_000))!;
    vi.setSystemTime(start + 999);
    expect(await s.lock('k', 1_000)).toBeUndefined();
    vi.setSystemTime(start + 1_000);
    const b = (await s.lock('k', 1_000))!;
    expect(b.token).not.toBe(a.token);
    expect(readdirSync(s.dir)).toEqual(['k.lock']); // the expired lock moved aside and removed
  });
});

describe('FileSessionStore locks', () => {
  it('a lock whose file is gone is released and extended by nobody, and fences its holder out', async () => {
    const s = store();
    const a = (await s.lock('k', 10_000))!;
    rmSync(join(s.dir, 'k.lock'));
    await a.release();
    expect(await a.extend!(10_000)).toBe(false);
    expect(await s.compareAndSet('k', undefined, ID, a)).toBe(false);
    expect(readdirSync(s.dir)).toEqual([]);
    const b = (await s.lock('k', 10_000))!;
    await a.release(); // not the holder's any more: b's file stays
    expect(readdirSync(s.dir)).toEqual(['k.lock']);
    expect(await b.extend!(10_000)).toBe(true);
  });

  it('a lock file not written by a store (no token, no expiry, or of other types) counts as expired; a valid one of another holder does not', async () => {
    const s = store();
    await s.get('k');
    const lockFile = join(s.dir, 'k.lock');
    for (const content of ['{"tok', '{"expiresAt": 99999999999999}', '{"token": "t"}', '{"token": 1, "expiresAt": 99999999999999}', '{"token": "t", "expiresAt": "99999999999999"}', 'null']) {
      writeFileSync(lockFile, content, { mode: 0o600 });
      const lock = await s.lock('k', 1_000);
      expect(lock, content).toBeDefined();
      await lock!.release();
    }
    writeFileSync(lockFile, JSON.stringify({ token: 'theirs', expiresAt: Date.now() + 60_000 }), { mode: 0o600 });
    expect(await s.lock('k', 1_000)).toBeUndefined();
    expect(await s.compareAndSet('k', undefined, ID, { token: 'theirs', release: async () => undefined })).toBe(true);
  });

  it('a lock taken over meanwhile is put back, not removed, by the store that moved it aside', async () => {
    // Two stores find the same expired lock; the first takes it over, the second then moves the
    // first's new lock aside, sees that it is not the one it read as expired, and puts it back.
    vi.useFakeTimers({ toFake: ['Date'] });
    const dir = join(root, `s${++n}`);
    const first = new FileSessionStore({ dir });
    const second = new FileSessionStore({ dir });
    await first.lock('k', 1_000);
    vi.setSystemTime(Date.now() + 2_000);
    const lockFile = join(dir, 'k.lock');
    // The second store reads the expired lock; before it moves it aside, the first takes it over.
    const { promises } = await import('node:fs');
    const rename = promises.rename;
    let taken: Awaited<ReturnType<FileSessionStore['lock']>>;
    const spy = vi.spyOn(promises, 'rename').mockImplementationOnce(async (from, to) => {
      spy.mockRestore();
      taken = await first.lock('k', 10_000);
      return rename(from, to);
    });
    try {
      expect(await second.lock('k', 10_000)).toBeUndefined();
    } finally {
      spy.mockRestore();
    }
    expect(taken!).toBeDefined();
    expect(readdirSync(dir)).toEqual(['k.lock']);
    expect(await taken!.extend!(10_000)).toBe(true); // still the holder's
    expect(lstatSync(lockFile).isFile()).toBe(true);
  });
});

describe('FileSessionStore and what lies at its paths', () => {
  it('names what it does not read, and reads only a regular file of this user, 0600, of at most 64 KiB', async () => {
    const s = store();
    await s.get('k');
    const cases: Array<[string, (path: string) => void | Promise<void>, string]> = [
      ['a symbolic link', (p) => symlinkSync('/etc/hostname', p), 'session store: the session file is a symbolic link'],
      ['a directory', (p) => mkdirSync(p, { mode: 0o700 }), 'session store: the session file is not a regular file'],
      ['a file readable by others', (p) => planted(p, 0o604), 'session store: the session file is readable or writable by others (not mode 0600)'],
      ['a file writable by the group', (p) => planted(p, 0o620), 'session store: the session file is readable or writable by others (not mode 0600)'],
      ['a file executable by the group', (p) => planted(p, 0o610), 'session store: the session file is readable or writable by others (not mode 0600)'],
      ['a file of 64 KiB and a byte', (p) => writeFileSync(p, Buffer.alloc(64 * 1024 + 1, 0x61), { mode: 0o600 }), 'session store: the session file is larger than 65536 bytes'],
      ['a file of 64 KiB', (p) => writeFileSync(p, Buffer.alloc(64 * 1024, 0x61), { mode: 0o600 }), 'session store: a stored value is not in the expected format'],
      ['garbage', (p) => writeFileSync(p, 'garbage', { mode: 0o600 }), 'session store: a stored value is not in the expected format'],
    ];
    for (const [what, plant, message] of cases) {
      const path = join(s.dir, 'k.session');
      rmSync(path, { recursive: true, force: true });
      await plant(path);
      const err = await rejection(s.get('k'));
      expect(err, what).toBeInstanceOf(SessionStoreError);
      expect(err.reason, what).toBe('corrupt');
      expect(err.message, what).toBe(message);
      expect(err.unreadable?.unreadable, what).toMatch(/^[\w-]{43}$/);
    }
  });

  it('reads a value of exactly 64 KiB whole', async () => {
    const s = store();
    await s.get('k');
    const id = 'i'.repeat(64 * 1024 - 23); // with its 22-character fingerprint and the dot: 64 KiB
    await s.compareAndSet('k', undefined, id);
    expect(statSync(join(s.dir, 'k.session')).size).toBe(64 * 1024);
    expect(await s.get('k')).toBe(id);
  });

  it.skipIf(!existsSync('/proc/self/fd'))('closes every file it opens, read or written', async () => {
    const s = store();
    await s.compareAndSet('k', undefined, ID);
    const open = (): number => readdirSync('/proc/self/fd').length;
    const before = open();
    for (let i = 0; i < 50; i++) {
      await s.get('k');
      await s.compareAndSet('k', i === 0 ? ID : `id-${i - 1}`, `id-${i}`);
    }
    expect(open() - before).toBeLessThan(20); // not one a read or a write
  });

  it('a socket at the path is not a regular file', async () => {
    const s = store();
    await s.get('k');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(join(s.dir, 'k.session'), resolve));
    try {
      const err = await rejection(s.get('k'));
      expect(err.message).toBe('session store: the session file is not a regular file');
      expect(await s.compareAndSet('k', err.unreadable, ID)).toBe(true);
      expect(await s.get('k')).toBe(ID);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it.skipIf(!isRoot)('a file of another user is not read (needs root to make one)', async () => {
    const s = store();
    await s.compareAndSet('k', undefined, ID);
    chownSync(join(s.dir, 'k.session'), 4242, 4242);
    expect((await rejection(s.get('k'))).message).toBe('session store: the session file is owned by another user');
  });

  it('names two unreadable things apart: the name of one does not replace the other', async () => {
    const s = store();
    await s.get('k');
    const path = join(s.dir, 'k.session');
    symlinkSync('/etc/hostname', path);
    const first = (await rejection(s.get('k'))).unreadable!;
    rmSync(path);
    symlinkSync('/etc/passwd', path);
    const second = (await rejection(s.get('k'))).unreadable!;
    expect(second).not.toEqual(first);
    expect(await s.compareAndSet('k', first, ID)).toBe(false);
    expect(await s.compareAndSet('k', second, ID)).toBe(true);
  });

  it('a session file that is a hard link to another is read and replaced like any file', async () => {
    const s = store();
    await s.compareAndSet('a', undefined, ID);
    linkSync(join(s.dir, 'a.session'), join(s.dir, 'b.session'));
    expect(await s.get('b')).toBe(ID); // not bound to its key without an encryptionKey
    expect(await s.compareAndSet('b', ID, 'next')).toBe(true);
    expect(await s.get('a')).toBe(ID); // replaced by a rename, not written through
  });
});

describe('FileSessionStore directory', () => {
  it('makes every missing level, each 0700, and tightens its own directory only', async () => {
    const base = join(root, `deep${++n}`);
    mkdirSync(base, { mode: 0o755 });
    const dir = join(base, 'a', 'b', 'c');
    await new FileSessionStore({ dir }).get('k');
    for (const d of [join(base, 'a'), join(base, 'a', 'b'), dir]) expect(statSync(d).mode & 0o777, d).toBe(0o700);
    expect(statSync(base).mode & 0o777).toBe(0o755);
  });

  it('makes at most 64 missing levels below the first it can make', async () => {
    const base = join(root, `levels${++n}`);
    mkdirSync(base);
    const levels = (k: number): string => join(base, String(k), ...Array.from({ length: k - 1 }, () => 'd'));
    await new FileSessionStore({ dir: levels(65) }).get('k');
    const err = await rejection(new FileSessionStore({ dir: levels(66) }).get('k'));
    expect(err).toBeInstanceOf(SessionStoreError);
    expect(err.reason).toBe('unavailable');
    expect(err.message).toBe(`session store: cannot use ${levels(66)}`);
    expect(err.cause).toMatchObject({ code: 'ENOENT' });
  });

  it('stores made at once on one new directory all get it', async () => {
    const dir = join(root, `together${++n}`, 'x', 'y', 'z');
    const stores = Array.from({ length: 6 }, () => new FileSessionStore({ dir }));
    await Promise.all(stores.map((s) => s.get('k')));
    expect(statSync(dir).isDirectory()).toBe(true);
  });

  it('a path that is not a directory, or under a file, is an unavailable store; a later call tries again', async () => {
    const file = join(root, `file${++n}`);
    writeFileSync(file, '');
    const onFile = new FileSessionStore({ dir: file });
    const err = await rejection(onFile.get('k'));
    expect([err.reason, err.message]).toEqual(['unavailable', `session store: ${file} is not a directory`]);
    const under = new FileSessionStore({ dir: join(file, 'sessions') });
    const nested = await rejection(under.get('k'));
    expect([nested.reason, nested.message]).toEqual(['unavailable', `session store: cannot use ${join(file, 'sessions')}`]);
    expect(nested.cause).toMatchObject({ code: 'ENOTDIR' });
    rmSync(file);
    expect(await onFile.get('k')).toBeUndefined(); // not the failure again: the directory is made now
    expect(statSync(file).isDirectory()).toBe(true);
  });

  it.skipIf(!isRoot)('a directory of another user is an unavailable store (needs root to make one)', async () => {
    const dir = join(root, `theirs${++n}`);
    mkdirSync(dir, { mode: 0o700 });
    chownSync(dir, 4242, 4242);
    const err = await rejection(new FileSessionStore({ dir }).get('k'));
    expect([err.reason, err.message]).toEqual(['unavailable', `session store: ${dir} belongs to another user`]);
  });

  it('a directory removed under it makes writes, locks and reads fail as an unavailable store, naming the directory and the error', async () => {
    const s = store();
    await s.get('k');
    rmSync(s.dir, { recursive: true });
    writeFileSync(s.dir, ''); // a file where the directory was: reads fail too
    const write = await rejection(s.compareAndSet('k', { unreadable: 'x' }, ID));
    expect([write.reason, write.message]).toEqual(['unavailable', `session store: cannot read a file in ${s.dir} (ENOTDIR)`]);
    expect(write.cause).toMatchObject({ code: 'ENOTDIR' });
    rmSync(s.dir);
    const set = await rejection(s.compareAndSet('k', undefined, ID));
    expect([set.reason, set.message]).toEqual(['unavailable', `session store: cannot write in ${s.dir} (ENOENT)`]);
    expect(set.cause).toMatchObject({ code: 'ENOENT' });
    const lock = await rejection(s.lock('k', 1_000));
    expect([lock.reason, lock.message]).toEqual(['unavailable', `session store: cannot create a lock in ${s.dir} (ENOENT)`]);
    expect(lock.cause).toMatchObject({ code: 'ENOENT' });
  });

  it('leaves no temporary file behind after a failed write', async () => {
    const s = store();
    await s.get('k');
    mkdirSync(join(s.dir, 'k.session'), { mode: 0o700 }); // a rename onto a directory fails
    writeFileSync(join(s.dir, 'k.session', 'keep'), '');
    const err = await rejection(s.compareAndSet('k', (await rejection(s.get('k'))).unreadable, ID));
    expect(err.message).toMatch(new RegExp(`^session store: cannot write in ${s.dir} \\((EISDIR|ENOTEMPTY|EEXIST)\\)$`));
    expect(readdirSync(s.dir)).toEqual(['k.session']);
  });

  it('a key too long for a file name is an unavailable store', async () => {
    const s = store();
    const err = await rejection(s.get('k'.repeat(300)));
    expect([err.reason, err.message]).toEqual(['unavailable', `session store: cannot read a file in ${s.dir} (ENAMETOOLONG)`]);
    expect(err.cause).toMatchObject({ code: 'ENAMETOOLONG' });
  });

  it('tightens its directory when it is too open, and leaves a 0700 one alone', async () => {
    const s = store();
    await s.get('k');
    chmodSync(s.dir, 0o711);
    await new FileSessionStore({ dir: s.dir }).get('k');
    expect(statSync(s.dir).mode & 0o777).toBe(0o700);
  });
});
