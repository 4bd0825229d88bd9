// The session store seam: where clients (of one process, or of a fleet of processes) find the
// session a server and an identity share, and how they agree on who logs in when it dies.
//
// A store holds, per key, one session id (a bearer credential) and a lock with a time to live.
// Keys are derived by the library (fleet/key.ts) from the server URL, the user name and a slow
// hash of the password, so a wrong password or another user never finds a session; they carry
// no secret. A value read from a store is untrusted all the same: a process that can write the
// store can put any session there, so the client adopts a stored session only once the server
// says it belongs to the identity the client logs in as (fleet/shared-login.ts).
//
// Every method may fail (TransportError-like I/O errors, SessionStoreError): callers in this
// library treat a failing store as absent and fall back to a session of their own.
import { VimError } from '../errors.ts';

/** A lock a store granted: held until released or until its time to live passes. */
export interface StoreLock {
  /**
   * A fencing token, larger for every lock granted on a key (Redis: INCR; files and memory: a
   * counter). A write under a lock that has since expired and been granted again is refused.
   */
  readonly token: string;
  release(): Promise<void>;
  /**
   * Gives the lock `ttlMs` more from now, if this is still the key's lock (true). The client
   * renews its lock while its login runs, so the lock's TTL can be short: a holder that dies
   * stops renewing, and the others take over within that TTL. A store without it grants locks
   * that lapse after their TTL, however long the login takes.
   */
  extend?(ttlMs: number): Promise<boolean>;
}

/** How clients use a store; every store takes these as constructor options. */
export interface StoreTiming {
  /** The longest one store call may take before the client goes on without the store. Default 2 000 ms. */
  timeoutMs: number;
  /**
   * How long the login lock lives without being renewed. Its holder renews it every third of
   * this while its login runs, so a holder that dies blocks the others for at most this long.
   * Default 3 000 ms.
   */
  lockTtlMs: number;
  /**
   * The longest a client waits for another client's login before it logs in on its own (and
   * offers its session to the store later). Default 5 000 ms.
   */
  lockWaitMs: number;
  /** How often a client waiting for another's login looks at the store again. Default 50 ms. */
  pollIntervalMs: number;
  /**
   * How often, at most, a client in use renews the stored session (TTL), puts it back when the
   * store lost it (a flushed or restarted Redis), or offers it to a store that had failed.
   * Default 60 000 ms.
   */
  renewIntervalMs: number;
}

export const DEFAULT_TIMING: StoreTiming = { timeoutMs: 2_000, lockTtlMs: 3_000, lockWaitMs: 5_000, pollIntervalMs: 50, renewIntervalMs: 60_000 };

/**
 * A value under a key that the store cannot read as a session id: not in its format, sealed
 * under another encryption key, of another type, not a regular file. `token` names exactly that
 * value, so that compareAndSet can replace it, and only it, with the next login's session.
 */
export interface Unreadable {
  readonly unreadable: string;
}

export interface SessionStore {
  readonly timing?: Partial<StoreTiming>;
  /**
   * The session id stored under `key`, if any. A value the store cannot read rejects with a
   * SessionStoreError('corrupt') whose `unreadable` names it.
   */
  get(key: string): Promise<string | undefined>;
  /**
   * Stores `id` under `key` when the stored value is `expected` (undefined: nothing stored; an
   * Unreadable: that unreadable value) and, given a lock, only while that lock is still the
   * key's current one. True when stored. Every stored value has a time to live (memory: the
   * process's life).
   */
  compareAndSet(key: string, expected: string | Unreadable | undefined, id: string, lock?: StoreLock): Promise<boolean>;
  /** Removes `key` when it still holds `expected` (a session found dead). True when removed. */
  compareAndDelete(key: string, expected: string): Promise<boolean>;
  /** The key's lock for `ttlMs`, or undefined when another holder has it. */
  lock(key: string, ttlMs: number): Promise<StoreLock | undefined>;
  /**
   * The session `id` under `key` was used: stores with a time to live renew it. False when the
   * key no longer holds `id` (the client then offers it again if the key is empty).
   */
  touch?(key: string, id: string): Promise<boolean>;
  /**
   * A client of this process took (retain) or let go of (release) the session `id`. A store
   * whose sessions outlive the process (files, Redis) keeps them for the next process; one that
   * dies with it (memory) answers true from the last release, and that client logs the session
   * out, so a process's normal exit leaves no session behind.
   */
  retain?(key: string, id: string): void;
  release?(key: string, id: string): boolean;
  /**
   * A client started (attach) or stopped (detach, from its close()) using this store. A store
   * with a connection of its own (Redis) closes it when its last client detaches, so that a
   * process whose clients are closed can exit, and opens it again when it is next used. The
   * client's close() waits for detach, so that nothing of the store is left open once it resolves.
   */
  attach?(): void;
  detach?(): void | Promise<void>;
}

export type SessionStoreErrorReason = 'timeout' | 'unavailable' | 'corrupt';

/** A store that did not answer in time, or could not be reached or read. Never carries a stored value. */
export class SessionStoreError extends VimError {
  override name = 'SessionStoreError';
  readonly reason: SessionStoreErrorReason;
  /** With reason 'corrupt': the value that could not be read, for compareAndSet to replace. */
  readonly unreadable: Unreadable | undefined;

  constructor(reason: SessionStoreErrorReason, message: string, options?: { cause?: unknown; unreadable?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.reason = reason;
    this.unreadable = options?.unreadable === undefined ? undefined : { unreadable: options.unreadable };
  }
}

export function isUnreadable(value: string | Unreadable | undefined): value is Unreadable {
  return typeof value === 'object' && value !== null && typeof value.unreadable === 'string';
}

/** `promise`, or a SessionStoreError('timeout') after `ms`; the timer never keeps the process alive. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SessionStoreError('timeout', `session store: ${what} did not answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
