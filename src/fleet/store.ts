// The session store seam: where clients (of one process, or of a fleet of processes) find the
// session a server and an identity share, and how they agree on who logs in when it dies.
//
// A store holds, per key, one session id (a bearer credential) and a lock with a time to live.
// Keys are derived by the library (fleet/key.ts) from the server URL, the user name and a slow
// hash of the password, so a wrong password or another user never finds a session; they carry
// no secret. Every method may fail (TransportError-like I/O errors, SessionStoreError): callers
// in this library treat a failing store as absent and fall back to a session of their own.
import { VimError } from '../errors.ts';

/** A lock a store granted: held until released or until its time to live passes. */
export interface StoreLock {
  /**
   * A fencing token, larger for every lock granted on a key (Redis: INCR; files and memory: a
   * counter). A write under a lock that has since expired and been granted again is refused.
   */
  readonly token: string;
  release(): Promise<void>;
}

/** How clients use a store; every store takes these as constructor options. */
export interface StoreTiming {
  /** The longest one store call may take before the client goes on without the store. Default 2 000 ms. */
  timeoutMs: number;
  /**
   * How long the login lock lives: a holder that dies mid-login blocks the others at most this
   * long, and a Login must finish within it. Default 30 000 ms.
   */
  lockTtlMs: number;
  /** How often a client waiting for another's login looks at the store again. Default 50 ms. */
  pollIntervalMs: number;
  /** How often, at most, a client in use renews the stored session (TTL) or tries to rejoin the store. Default 60 000 ms. */
  renewIntervalMs: number;
}

export const DEFAULT_TIMING: StoreTiming = { timeoutMs: 2_000, lockTtlMs: 30_000, pollIntervalMs: 50, renewIntervalMs: 60_000 };

export interface SessionStore {
  readonly timing?: Partial<StoreTiming>;
  /** The session id stored under `key`, if any. */
  get(key: string): Promise<string | undefined>;
  /**
   * Stores `id` under `key` when the stored value is `expected` (undefined: nothing stored)
   * and, given a lock, only while that lock is still the key's current one. True when stored.
   */
  compareAndSet(key: string, expected: string | undefined, id: string, lock?: StoreLock): Promise<boolean>;
  /** Removes `key` when it still holds `expected` (a session found dead). True when removed. */
  compareAndDelete(key: string, expected: string): Promise<boolean>;
  /** The key's lock for `ttlMs`, or undefined when another holder has it. */
  lock(key: string, ttlMs: number): Promise<StoreLock | undefined>;
  /** The session `id` under `key` was used: stores with a time to live renew it. */
  touch?(key: string, id: string): Promise<void>;
  /**
   * A client of this process took (retain) or let go of (release) the session `id`. A store
   * whose sessions outlive the process (files, Redis) keeps them for the next process; one that
   * dies with it (memory) answers true from the last release, and that client logs the session
   * out, so a process's normal exit leaves no session behind.
   */
  retain?(key: string, id: string): void;
  release?(key: string, id: string): boolean;
}

export type SessionStoreErrorReason = 'timeout' | 'unavailable' | 'corrupt';

/** A store that did not answer in time, or could not be reached or read. Never carries a stored value. */
export class SessionStoreError extends VimError {
  override name = 'SessionStoreError';
  readonly reason: SessionStoreErrorReason;

  constructor(reason: SessionStoreErrorReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
  }
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
