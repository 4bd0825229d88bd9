// A fleet member's calls to its store, for the vim session (shared-login.ts) and a separate vAPI
// session (vapi/shared-session.ts) alike: each bounded by the store timeout, its failure named,
// and the lock taken and held while one client makes the session the others wait for.
import { SessionStoreError, withTimeout, type SessionStore, type StoreLock } from './store.ts';

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

/** Renews the lock every third of its TTL until stopped: a holder that dies lets go within one TTL. */
export function keepRenewing(lock: StoreLock, ttlMs: number, call: StoreCall): () => void {
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
