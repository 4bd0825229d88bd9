// FileSessionStore: the govc-style session cache for CLIs, cron jobs and the processes of one
// machine. A directory of mode 0700 owned by this user; one file per key (mode 0600, written
// to a temporary file and renamed, so a reader sees the old or the new value, never half);
// the login lock is a file created exclusively, holding its fencing token and expiry, which
// another process may take over once it expired (its holder died mid-login).
import { randomUUID } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { SessionCodec, type EncryptionKey } from './codec.ts';
import { SessionStoreError, type SessionStore, type StoreLock, type StoreTiming } from './store.ts';

export interface FileSessionStoreOptions extends Partial<StoreTiming> {
  /** Default: ~/.cache/vim25-soap/sessions. */
  dir?: string;
  /** Encrypt stored ids with AES-256-GCM under this 32-byte key. */
  encryptionKey?: EncryptionKey;
}

interface LockFile {
  token: string;
  expiresAt: number;
}

export class FileSessionStore implements SessionStore {
  readonly dir: string;
  readonly timing: Partial<StoreTiming>;
  readonly #codec: SessionCodec;
  #ready: Promise<void> | undefined;

  constructor(options: FileSessionStoreOptions = {}) {
    const { dir, encryptionKey, ...timing } = options;
    this.dir = dir ?? join(homedir(), '.cache', 'vim25-soap', 'sessions');
    this.timing = timing;
    this.#codec = new SessionCodec(encryptionKey);
  }

  async get(key: string): Promise<string | undefined> {
    const raw = await this.#read(this.#file(key, 'session'));
    return raw === undefined ? undefined : this.#codec.decode(key, raw);
  }

  async compareAndSet(key: string, expected: string | undefined, id: string, lock?: StoreLock): Promise<boolean> {
    if (lock && (await this.#currentLock(key))?.token !== lock.token) return false;
    if (!(await this.#holds(key, expected))) return false;
    await this.#write(this.#file(key, 'session'), this.#codec.encode(key, id));
    return true;
  }

  async compareAndDelete(key: string, expected: string): Promise<boolean> {
    if (!(await this.#holds(key, expected))) return false;
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
    };
  }

  async touch(key: string, id: string): Promise<void> {
    if (await this.#holds(key, id)) {
      const now = new Date();
      await fs.utimes(this.#file(key, 'session'), now, now).catch(() => undefined);
    }
  }

  async #holds(key: string, expected: string | undefined): Promise<boolean> {
    const raw = await this.#read(this.#file(key, 'session'));
    if (expected === undefined) return raw === undefined;
    return raw !== undefined && SessionCodec.fingerprintOf(raw) === this.#codec.fingerprint(expected);
  }

  #file(key: string, kind: 'session' | 'lock'): string {
    if (!/^[A-Za-z0-9_-]+$/.test(key)) throw new TypeError('session store keys are [A-Za-z0-9_-]');
    return join(this.dir, `${key}.${kind}`);
  }

  async #currentLock(key: string): Promise<LockFile | undefined> {
    return this.#readLock(this.#file(key, 'lock'));
  }

  async #readLock(path: string): Promise<LockFile | undefined> {
    const raw = await this.#read(path);
    if (raw === undefined) return undefined;
    try {
      const l = JSON.parse(raw) as LockFile;
      return typeof l.token === 'string' && typeof l.expiresAt === 'number' ? l : { token: '', expiresAt: 0 };
    } catch {
      return { token: '', expiresAt: 0 }; // not ours (locks are written whole): treated as expired
    }
  }

  async #read(path: string): Promise<string | undefined> {
    await this.#prepare();
    try {
      return await fs.readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new SessionStoreError('unavailable', `session store: cannot read a file in ${this.dir} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
    }
  }

  /** Atomic: a temporary file of mode 0600, then rename. */
  async #write(path: string, content: string): Promise<void> {
    const tmp = `${path}.${randomUUID()}.tmp`;
    try {
      const h = await fs.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
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
      await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
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

  toJSON(): { store: string; dir: string; encrypted: boolean } {
    return { store: 'file', dir: this.dir, encrypted: this.#codec.encrypted };
  }

  [inspect.custom](): string {
    return `FileSessionStore { dir: '${this.dir}', encrypted: ${this.#codec.encrypted} }`;
  }
}
