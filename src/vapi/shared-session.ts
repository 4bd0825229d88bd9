// A separate vAPI session (a server before vSphere 8.0 U3) shared through the fleet's session
// store, beside the vim session it belongs to: under a key derived from that session's key, with
// the same discipline as fleet/shared-login.ts. Read the store; adopt a stored id once the server
// says (GET /api/session) that it is alive and this client's user's; else take the key's lock,
// make the session (POST /api/session) and publish it with a compare-and-set that also replaces
// a dead, foreign or unreadable value. An id the server refused is passed back as `dead`: of all
// the clients that saw it die, the one holding the lock makes the next session, the others adopt
// it. A failing or slow store, or a lock held past lockWaitMs, is treated as absent: the client
// makes a session of its own (one warning) and offers it to the store when it is next used.
import { delay } from '../abort.ts';
import { isUnreadable, type SessionStore, type StoreLock, type StoreTiming, type Unreadable } from '../fleet/store.ts';
import { holdingLock, readStored, RenewSchedule, storeCall, StoreFailed, takeLock, timingOf, type StoreCall } from '../fleet/store-client.ts';
import type { Logger } from '../logger.ts';

export interface SharedVapiOptions {
  store: SessionStore;
  /** The vim session's store key (fleet/key.ts); the vAPI session's key is derived from it. */
  key: Promise<string>;
  userName: string;
  logger: Logger;
}

/** What the server says of a stored vAPI session id: this user's, dead, or another user's. */
export type Verdict = 'ok' | 'dead' | 'foreign';

export interface Held {
  id: string;
  shared: boolean;
}

/** The store key of the vAPI session beside the vim session under `vimKey`: no vim key starts with this. */
export function vapiKey(vimKey: string): string {
  return `vapi-${vimKey}`;
}

export class SharedVapiSession {
  readonly #o: SharedVapiOptions;
  readonly #timing: StoreTiming;
  /** One store call, bounded by the timeout; any failure becomes StoreFailed. */
  readonly #s: StoreCall = (what, call) => storeCall(this.#timing.timeoutMs, what, call);
  #warned = false;
  readonly #renewal: RenewSchedule;

  constructor(o: SharedVapiOptions) {
    this.#o = o;
    this.#timing = timingOf(o.store);
    this.#renewal = new RenewSchedule(this.#timing.renewIntervalMs);
  }

  /** The store's live session for this user, else one made by `create` under the key's lock and published. */
  async acquire(create: () => Promise<string>, check: (id: string) => Promise<Verdict>, dead: string | undefined, signal?: AbortSignal): Promise<Held> {
    const key = vapiKey(await this.#o.key);
    const made = { id: undefined as string | undefined };
    let held: Held;
    try {
      held = await this.#viaStore(key, create, check, dead, made, signal);
      this.#warned = false;
    } catch (err) {
      if (!(err instanceof StoreFailed)) throw err;
      if (!this.#warned) this.#warn('session store unavailable or its lock held too long: this client makes a vAPI session of its own and offers it to the store later', err);
      this.#warned = true;
      held = { id: made.id ?? (await create()), shared: false };
    }
    if (held.shared) this.#o.store.retain?.(key, held.id);
    this.#renewal.restart();
    return held;
  }

  /**
   * This client lets go of the session: 'keep' leaves it for the others (close, while others
   * hold it), 'logout' means it ends, and it has left the store.
   */
  async release(held: Held, mode: 'logout' | 'close'): Promise<'logout' | 'keep'> {
    if (!held.shared) return 'logout';
    const key = vapiKey(await this.#o.key);
    const last = this.#o.store.release?.(key, held.id) ?? false;
    if (mode === 'close' && !last) return 'keep';
    await this.#s('compareAndDelete', () => this.#o.store.compareAndDelete(key, held.id)).catch((err: unknown) => this.#warn('session store: could not remove the ended vAPI session', err));
    return 'logout';
  }

  /** A call succeeded on `held`: now and then renew its TTL, put it back, or offer an unshared one to the store. */
  used(held: Held): void {
    this.#renewal.due(() => this.#renew(held), (err) => {
      if (!this.#warned) this.#warn('session store: renewing the vAPI session failed', err);
      this.#warned = true;
    });
  }

  async #viaStore(key: string, create: () => Promise<string>, check: (id: string) => Promise<Verdict>, dead: string | undefined, made: { id: string | undefined }, signal: AbortSignal | undefined): Promise<Held> {
    const { lockWaitMs, pollIntervalMs } = this.#timing;
    const giveUpAt = Date.now() + lockWaitMs;
    const refused = new Set(dead === undefined ? [] : [dead]);
    const usable = (v: string | Unreadable | undefined): v is string => typeof v === 'string' && !refused.has(v);
    for (;;) {
      if (Date.now() > giveUpAt) throw new StoreFailed(`session store: no usable vAPI session after waiting ${lockWaitMs} ms for another client`);
      const stored = await readStored(this.#o.store, key, this.#s);
      if (usable(stored)) {
        const verdict = await check(stored);
        if (verdict === 'ok') return { id: stored, shared: true };
        refused.add(stored);
        if (verdict === 'dead') await this.#s('compareAndDelete', () => this.#o.store.compareAndDelete(key, stored));
        else this.#o.logger.warn('session store: the stored vAPI session belongs to another user: refused; this client makes one and replaces it');
        continue;
      }
      if (isUnreadable(stored)) this.#o.logger.warn('session store: the stored vAPI session cannot be read: the next one made replaces it');
      const lock = await takeLock(this.#o.store, key, this.#timing.lockTtlMs, this.#s);
      if (!lock) {
        await delay(pollIntervalMs, signal, 'aborted while waiting for another client\'s vAPI session');
        continue;
      }
      const held = await holdingLock(lock, this.#timing.lockTtlMs, this.#s, async () => {
        const now = await readStored(this.#o.store, key, this.#s);
        if (usable(now)) return undefined;
        made.id = await create();
        return { id: made.id, shared: await this.#publish(key, now, made.id, lock) };
      });
      if (held) return held;
    }
  }

  #warn(message: string, err: unknown): void {
    this.#o.logger.warn(message, { error: err instanceof Error ? err.message : 'unknown' });
  }

  async #publish(key: string, expected: string | Unreadable | undefined, id: string, lock: StoreLock): Promise<boolean> {
    try {
      let shared = await this.#s('compareAndSet', () => this.#o.store.compareAndSet(key, expected, id, lock));
      if (!shared && expected !== undefined) shared = await this.#s('compareAndSet', () => this.#o.store.compareAndSet(key, undefined, id, lock));
      if (!shared) this.#o.logger.warn('session store: the lock expired before the new vAPI session was stored: this client keeps it to itself');
      return shared;
    } catch (err) {
      this.#warn('session store: the new vAPI session could not be stored: this client keeps it to itself', err);
      return false;
    }
  }

  async #renew(held: Held): Promise<void> {
    const key = vapiKey(await this.#o.key);
    const store = this.#o.store;
    if (held.shared) {
      if (!store.touch || (await this.#s('touch', () => store.touch!(key, held.id))) !== false) return;
      if (await this.#s('compareAndSet', () => store.compareAndSet(key, undefined, held.id))) this.#o.logger.info('session store: the stored vAPI session was gone: this client stored its own again');
      return;
    }
    if (await this.#s('compareAndSet', () => store.compareAndSet(key, undefined, held.id))) {
      held.shared = true;
      store.retain?.(key, held.id);
      this.#warned = false;
      this.#o.logger.info('session store is back: this client\'s vAPI session is the shared one again');
    }
  }
}
