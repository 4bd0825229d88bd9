// FileSessionStore: the govc-style session cache for CLIs, cron jobs and the processes of one
// machine. A directory of mode 0700 owned by this user; one file per key (mode 0600, written
// to a temporary file and renamed, so a reader sees the old or the new value, never half);
// the login lock is a file created exclusively, holding its fencing token and expiry, which
// another process may take over once it expired (its holder died mid-login).
//
// What lies at a key's path is untrusted: it is opened without following a symbolic link and
// without blocking (a FIFO would hold a thread of libuv's pool forever), and only a regular
// file of this user, of mode 0600 and at most 64 KiB, is read. Anything else is an unreadable
// value, which the next login replaces (the rename replaces the link or FIFO, not its target).
import { createHash, randomUUID } from 'node:crypto';
import { constants, promises as fs, type Stats } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { inspect } from 'node:util';
import { SessionCodec, type EncryptionKey } from './codec.ts';
import { isUnreadable, SessionStoreError, type SessionStore, type StoreLock, type StoreTiming, type Unreadable } from './store.ts';

export interface FileSessionStoreOptions extends Partial<StoreTiming> {
  /** Default: ~/.cache/vim25-soap/sessions. */
  dir?: string;
  /** Encrypt stored ids with AES-256-GCM under this 32-byte key. */
  encryptionKey?: EncryptionKey;
  /**
   * Lifetime of a stored session since its last use (the file's modification time). Default
   * 1800 (vCenter's default idle timeout): an older file counts as absent.
   */
  ttlSeconds?: number;
}

interface LockFile {
  token: string;
  expiresAt: number;
}

/** What lies at a path: nothing, a file's content (with its token), or something unreadable. */
type Found =
  | { state: 'absent' }
  | { state: 'value'; raw: string; token: string; mtimeMs: number }
  | { state: 'bad'; token: string; why: string };

const MAX_FILE_BYTES = 64 * 1024;
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

export class FileSessionStore implements SessionStore {
  readonly dir: string;
  readonly ttlSeconds: number;
  readonly timing: Partial<StoreTiming>;
  readonly #codec: SessionCodec;
  #ready: Promise<void> | undefined;

  constructor(options: FileSessionStoreOptions = {}) {
    const { dir, encryptionKey, ttlSeconds, ...timing } = options;
    this.dir = dir ?? join(homedir(), '.cache', 'vim25-soap', 'sessions');
    this.ttlSeconds = ttlSeconds ?? 1800;
    if (!(this.ttlSeconds > 0)) throw new TypeError('ttlSeconds must be positive');
    this.timing = timing;
    this.#codec = new SessionCodec(encryptionKey);
  }

  async get(key: string): Promise<string | undefined> {
    const found = await this.#session(key);
    if (found.state === 'absent') return undefined;
    if (found.state === 'bad') throw new SessionStoreError('corrupt', `session store: the session file is ${found.why}`, { unreadable: found.token });
    try {
      return this.#codec.decode(key, found.raw);
    } catch (err) {
      throw new SessionStoreError('corrupt', (err as Error).message, { unreadable: found.token });
    }
  }

  async compareAndSet(key: string, expected: string | Unreadable | undefined, id: string, lock?: StoreLock): Promise<boolean> {
    if (lock && (await this.#currentLock(key))?.token !== lock.token) return false;
    if (!this.#matches(await this.#session(key), expected)) return false;
    await this.#write(this.#file(key, 'session'), this.#codec.encode(key, id));
    return true;
  }

  async compareAndDelete(key: string, expected: string): Promise<boolean> {
    if (!this.#matches(await this.#session(key), expected)) return false;
    await fs.rm(this.#file(key, 'session'), { force: true });
    return true;
  }

  async lock(key: string, ttlMs: number): Promise<StoreLock | undefined> {
    await this.#prepare();
    const path = this.#file(key, 'lock');
    const mine: LockFile = { token: randomUUID(), expiresAt: Date.now() + ttlMs };
    if (!(await this.#createExclusive(path, JSON.stringify(mine)))) {
      const held = await this.#currentLock(key);
      // Released meanwhile (another process may be creating its lock now: the caller tries again) or live.
      if (!held || held.expiresAt > Date.now()) return undefined;
      // Expired (its holder died or hung): take it over. Renaming the stale file away is atomic,
      // so of several processes only one moves a given file; one that moved a lock taken over
      // meanwhile (no longer the expired one it read) puts it back.
      const aside = `${path}.${randomUUID()}.stale`;
      try {
        await fs.rename(path, aside);
      } catch {
        return undefined;
      }
      const moved = await this.#readLock(aside);
      if (moved && moved.token !== held.token) {
        await fs.link(aside, path).catch(() => undefined);
        await fs.rm(aside, { force: true });
        return undefined;
      }
      await fs.rm(aside, { force: true });
      if (!(await this.#createExclusive(path, JSON.stringify(mine)))) return undefined;
    }
    return {
      token: mine.token,
      release: async () => {
        if ((await this.#currentLock(key))?.token === mine.token) await fs.rm(path, { force: true });
      },
      // Checked, then replaced: not one atomic step. A renewal so late that another process took
      // the expired lock over in between puts this one back over it; that process's write is
      // then fenced out, and it keeps its session to itself.
      extend: async (ms) => {
        if ((await this.#currentLock(key))?.token !== mine.token) return false;
        await this.#write(path, JSON.stringify({ token: mine.token, expiresAt: Date.now() + ms }));
        return true;
      },
    };
  }

  async touch(key: string, id: string): Promise<boolean> {
    if (!this.#matches(await this.#session(key), id)) return false;
    const now = new Date();
    await fs.utimes(this.#file(key, 'session'), now, now).catch(() => undefined);
    return true;
  }

  #matches(found: Found, expected: string | Unreadable | undefined): boolean {
    if (expected === undefined) return found.state === 'absent';
    if (isUnreadable(expected)) return found.state !== 'absent' && found.token === expected.unreadable;
    return found.state === 'value' && SessionCodec.fingerprintOf(found.raw) === this.#codec.fingerprint(expected);
  }

  /** The key's session file; one unused for longer than the TTL counts as absent. */
  async #session(key: string): Promise<Found> {
    const found = await this.#inspect(this.#file(key, 'session'));
    if (found.state === 'value' && found.mtimeMs + this.ttlSeconds * 1000 < Date.now()) return { state: 'absent' };
    return found;
  }

  #file(key: string, kind: 'session' | 'lock'): string {
    if (!/^[A-Za-z0-9_-]+$/.test(key)) throw new TypeError('session store keys are [A-Za-z0-9_-]');
    return join(this.dir, `${key}.${kind}`);
  }

  async #currentLock(key: string): Promise<LockFile | undefined> {
    return this.#readLock(this.#file(key, 'lock'));
  }

  async #readLock(path: string): Promise<LockFile | undefined> {
    const found = await this.#inspect(path);
    if (found.state === 'absent') return undefined;
    // Not ours (locks are written whole): treated as expired, so it is taken over.
    const stale = { token: '', expiresAt: 0 };
    if (found.state === 'bad') return stale;
    try {
      const l = JSON.parse(found.raw) as LockFile;
      return typeof l.token === 'string' && typeof l.expiresAt === 'number' ? l : stale;
    } catch {
      return stale;
    }
  }

  async #inspect(path: string): Promise<Found> {
    await this.#prepare();
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(path, OPEN_FLAGS);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return { state: 'absent' };
      // ELOOP: a symbolic link (O_NOFOLLOW); ENXIO: a socket. Named by what lstat says of it.
      if (code === 'ELOOP' || code === 'ENXIO') {
        const st = await fs.lstat(path).catch(() => undefined);
        if (!st) return { state: 'absent' };
        return { state: 'bad', token: statToken(st), why: code === 'ELOOP' ? 'a symbolic link' : 'not a regular file' };
      }
      throw new SessionStoreError('unavailable', `session store: cannot read a file in ${this.dir} (${code ?? 'error'})`, { cause: err });
    }
    try {
      const st = await handle.stat();
      const why = !st.isFile() ? 'not a regular file'
        : typeof process.getuid === 'function' && st.uid !== process.getuid() ? 'owned by another user'
          : process.platform !== 'win32' && (st.mode & 0o077) !== 0 ? 'readable or writable by others (not mode 0600)'
            : st.size > MAX_FILE_BYTES ? `larger than ${MAX_FILE_BYTES} bytes` : undefined;
      if (why) return { state: 'bad', token: statToken(st), why };
      const buffer = Buffer.alloc(MAX_FILE_BYTES + 1);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      if (bytesRead > MAX_FILE_BYTES) return { state: 'bad', token: statToken(st), why: `larger than ${MAX_FILE_BYTES} bytes` };
      const bytes = buffer.subarray(0, bytesRead);
      return { state: 'value', raw: bytes.toString('utf8'), token: createHash('sha256').update(bytes).digest('base64url'), mtimeMs: st.mtimeMs };
    } catch (err) {
      throw new SessionStoreError('unavailable', `session store: cannot read a file in ${this.dir} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
    } finally {
      await handle.close();
    }
  }

  /** Atomic: a temporary file of mode 0600, then rename. */
  async #write(path: string, content: string): Promise<void> {
    const tmp = `${path}.${randomUUID()}.tmp`;
    try {
      const h = await fs.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o600);
      try {
        await h.writeFile(content);
        await h.sync();
      } finally {
        await h.close();
      }
      await fs.rename(tmp, path);
    } catch (err) {
      await fs.rm(tmp, { force: true });
      throw new SessionStoreError('unavailable', `session store: cannot write in ${this.dir} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
    }
  }

  /**
   * Creates `path` with `content` only if it does not exist, complete from its first moment: the
   * content goes to a temporary file that is then hard-linked to `path` (link fails if `path`
   * exists). Opening `path` with O_EXCL and writing after would let another process read it empty
   * in between, take it for a lock its holder died writing, and take it over.
   */
  async #createExclusive(path: string, content: string): Promise<boolean> {
    const tmp = `${path}.${randomUUID()}.tmp`;
    try {
      await fs.writeFile(tmp, content, { flag: 'wx', mode: 0o600 });
      await fs.link(tmp, path);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw new SessionStoreError('unavailable', `session store: cannot create a lock in ${this.dir} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
    } finally {
      await fs.rm(tmp, { force: true });
    }
  }

  /** The directory exists, is ours, is no symbolic link, and is 0700. */
  #prepare(): Promise<void> {
    this.#ready ??= (async () => {
      await makeDirectory(this.dir);
      const st = await fs.lstat(this.dir);
      if (!st.isDirectory()) throw new SessionStoreError('unavailable', `session store: ${this.dir} is not a directory`);
      if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
        throw new SessionStoreError('unavailable', `session store: ${this.dir} belongs to another user`);
      }
      if ((st.mode & 0o777) !== 0o700) await fs.chmod(this.dir, 0o700);
    })().catch((err: unknown) => {
      this.#ready = undefined;
      throw err instanceof SessionStoreError ? err : new SessionStoreError('unavailable', `session store: cannot use ${this.dir}`, { cause: err });
    });
    return this.#ready;
  }

  toJSON(): { store: string; dir: string; ttlSeconds: number; encrypted: boolean } {
    return { store: 'file', dir: this.dir, ttlSeconds: this.ttlSeconds, encrypted: this.#codec.encrypted };
  }

  [inspect.custom](): string {
    return `FileSessionStore { dir: '${this.dir}', ttlSeconds: ${this.ttlSeconds}, encrypted: ${this.#codec.encrypted} }`;
  }
}

const MAX_NEW_LEVELS = 64;

/**
 * mkdir -p, one level at a time and at most MAX_NEW_LEVELS of them: Node 20's recursive mkdir
 * loops for ever (at full CPU) where a parent cannot be created and says ENOENT again, as under
 * /proc.
 */
async function makeDirectory(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    try {
      await fs.mkdir(d, { mode: 0o700 });
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') break;
      if (code !== 'ENOENT' || dirname(d) === d || missing.length >= MAX_NEW_LEVELS) throw err;
      missing.push(d);
    }
  }
  for (const d of missing.reverse()) {
    await fs.mkdir(d, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
  }
}

/** Names a file that is not read: the same object, unchanged since, has the same token. */
function statToken(st: Stats): string {
  return createHash('sha256').update(`${st.dev}:${st.ino}:${st.mode}:${st.size}:${st.mtimeMs}`).digest('base64url');
}
