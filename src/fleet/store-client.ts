// A fleet member's calls to its store, for the vim session (shared-login.ts) and a separate vAPI
// session (vapi/shared-session.ts) alike: each bounded by the store timeout, its failure named,
// the lock taken and held while one client makes the session the others wait for, and the
// session's renewal while it is in use.
import { DEFAULT_TIMING, SessionStoreError, withTimeout, type SessionStore, type StoreLock, type StoreTiming, type Unreadable } from './store.ts';

/** The store failed or was too slow: the client goes on without it. */
export class StoreFailed extends Error {}

/** One store call, bounded by `timeoutMs`; any failure becomes StoreFailed. */
export async function storeCall<T>(timeoutMs: number, what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await withTimeout(call(), timeoutMs, what);
  } catch (err) {
    throw new StoreFailed(err instanceof SessionStoreError ? err.message : `session store: ${what} failed (${err instanceof Error ? err.name : 'error'})`, { cause: err });
  }
}

/** How a client calls its store (storeCall with its timeout). */
export type StoreCall = <T>(what: string, call: () => Promise<T>) => Promise<T>;

/** The store's timing: its own where it sets one, the default elsewhere. */
export function timingOf(store: SessionStore): StoreTiming {
  const own = Object.fromEntries(Object.entries(store.timing ?? {}).filter(([, v]) => v !== undefined)) as Partial<StoreTiming>;
  return { ...DEFAULT_TIMING, ...own };
}

/** What `key` holds: a session id, nothing, or a value the store cannot read (which the next session made replaces). */
export async function readStored(store: SessionStore, key: string, call: StoreCall): Promise<string | Unreadable | undefined> {
  try {
    return await call('get', () => store.get(key));
  } catch (err) {
    const cause = err instanceof StoreFailed ? err.cause : undefined;
    if (cause instanceof SessionStoreError && cause.unreadable) return cause.unreadable;
    throw err;
  }
}

/** The store's lock on `key` (undefined: held by another client). */
export async function takeLock(store: SessionStore, key: string, ttlMs: number, call: StoreCall): Promise<StoreLock | undefined> {
  let asked: Promise<StoreLock | undefined> | undefined;
  return call('lock', () => (asked = store.lock(key, ttlMs))).catch((err: unknown) => {
    // The store may still grant the lock after this client stopped waiting for it: released
    // then, or no client could log in until its TTL ran out.
    asked?.then((late) => late?.release()).catch(() => undefined);
    throw err;
  });
}

/**
 * `body` run holding `lock`, which is renewed meanwhile and released after, however it ends (a
 * release that fails leaves the lock to its TTL).
 */
export async function holdingLock<R>(lock: StoreLock, ttlMs: number, call: StoreCall, body: () => Promise<R>): Promise<R> {
  const stopRenewing = keepRenewing(lock, ttlMs, call);
  try {
    return await body();
  } finally {
    stopRenewing();
    await call('release', () => lock.release()).catch(() => undefined);
  }
}

/** Renews the lock every third of its TTL until stopped: a holder that dies lets go within one TTL. */
function keepRenewing(lock: StoreLock, ttlMs: number, call: StoreCall): () => void {
  if (!lock.extend) return () => undefined;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    // A renewal that fails leaves the lock to lapse: the fencing token then refuses this
    // client's write, and it keeps its session to itself.
    void call('extend', () => lock.extend!(ttlMs)).catch(() => undefined).finally(() => {
      busy = false;
    });
  }, Math.max(1, Math.floor(ttlMs / 3)));
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * When a session in use is renewed in the store: an interval after it was made or adopted or last
 * renewed, one renewal at a time, never holding up the call that prompted it.
 */
export class RenewSchedule {
  #last = Date.now();
  #running = false;

  constructor(private readonly intervalMs: number) {}

  /** The session was just made or adopted: the next renewal is an interval away. */
  restart(): void {
    this.#last = Date.now();
  }

  /** Starts `renew` if one is due and none is running; its failure goes to `failed`. */
  due(renew: () => Promise<void>, failed: (err: unknown) => void): void {
    if (this.#running || Date.now() - this.#last < this.intervalMs) return;
    this.#last = Date.now();
    this.#running = true;
    renew().catch(failed).finally(() => {
      this.#running = false;
    });
  }
}
