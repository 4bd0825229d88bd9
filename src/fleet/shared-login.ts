// A login strategy shared through a session store: before logging in, find the session this
// server and identity already have in the store, check with one round trip that the server
// knows it and that it is this client's user's, and adopt it; log in only when there is none,
// under the store's lock (renewed while the login runs), and publish the new session with a
// compare-and-set that also replaces a dead, foreign or unreadable value. After NotAuthenticated
// the same path runs with the dead id: of all the clients (and processes) that saw it die, the
// one that takes the lock logs in once, the others wait and adopt what it stored. A store that
// fails or does not answer in time is treated as absent, and so is a login lock held for longer
// than lockWaitMs: the client logs in on its own (a warning, no failed call) and rejoins later.
import type { ManagedObjectReference, UserSession } from '../generated/types.ts';
import { delay } from '../abort.ts';
import { isVimFault } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { readCurrentSession } from '../session/manager.ts';
import type { LoginContext, LoginStrategy } from '../session/strategies.ts';
import { sameUser } from './identity.ts';
import { holdingLock, readStored, RenewSchedule, storeCall, StoreFailed, takeLock, timingOf, type StoreCall } from './store-client.ts';
import { isUnreadable, type SessionStore, type StoreLock, type StoreTiming, type Unreadable } from './store.ts';

export interface SharedLoginOptions {
  store: SessionStore;
  /** The store key (fleet/key.ts): server, identity and a digest of the secret. */
  key: Promise<string>;
  /** The user the strategy logs in as: a stored session of any other user is refused. */
  userName: string;
  propertyCollector: ManagedObjectReference;
  logger: Logger;
}

interface Held {
  id: string;
  /** In the store (shared with others) or this client's own (the store failed). */
  shared: boolean;
}

interface Outcome {
  session: UserSession;
  held: Held;
}

/** What a key holds: a session id, a value the store cannot read, or nothing. */
type Stored = string | Unreadable | undefined;


/** The session sharing as a login strategy for the client: `inner` logs in when the store has no session to adopt. */
export function sharedLogin(inner: LoginStrategy, o: SharedLoginOptions): LoginStrategy {
  const shared = new SharedLogin(inner, o);
  return {
    kind: inner.kind,
    replayable: inner.replayable,
    login: (ctx) => shared.login(ctx),
    release: (mode) => shared.release(mode),
    used: () => shared.used(),
  };
}

/**
 * One client's side of a shared session, in the order of its steps: read the store, check a
 * stored session, take the login lock (renewed while held), log in and publish, and renew the
 * session's place in the store while it is in use.
 */
class SharedLogin {
  readonly #inner: LoginStrategy;
  readonly #o: SharedLoginOptions;
  readonly #store: SessionStore;
  readonly #logger: Logger;
  readonly #timing: StoreTiming;
  /** One store call, bounded by the timeout; any failure becomes StoreFailed. */
  readonly #s: StoreCall = (what, call) => storeCall(this.#timing.timeoutMs, what, call);
  /** The session this client holds, and whether it is the store's. */
  #held: Held | undefined;
  readonly #renewal: RenewSchedule;
  /** A store failure was logged: the next one is not, until the store works again. */
  #warned = false;

  constructor(inner: LoginStrategy, o: SharedLoginOptions) {
    this.#inner = inner;
    this.#o = o;
    this.#store = o.store;
    this.#logger = o.logger;
    this.#timing = timingOf(o.store);
    this.#renewal = new RenewSchedule(this.#timing.renewIntervalMs);
  }

  async login(ctx: LoginContext): Promise<UserSession> {
    const key = await this.#o.key;
    const previous = this.#held;
    const state = { loggedIn: false };
    let result: Outcome;
    try {
      result = await this.#viaStore(ctx, key, previous?.id, state);
      this.#warned = false;
    } catch (err) {
      if (!(err instanceof StoreFailed) || state.loggedIn) throw err;
      if (!this.#warned) this.#warn('session store unavailable or its login lock held too long: this client logs in on its own and rejoins the store later', err);
      this.#warned = true;
      const session = await this.#inner.login(ctx);
      result = { session, held: { id: ctx.sessionId() ?? '', shared: false } };
    }
    if (previous?.shared) this.#store.release?.(key, previous.id);
    this.#held = result.held;
    if (this.#held.shared) this.#store.retain?.(key, this.#held.id);
    this.#renewal.restart();
    return result.session;
  }

  async release(mode: 'logout' | 'close'): Promise<'logout' | 'keep'> {
    const h = this.#held;
    this.#held = undefined;
    if (!h?.shared) return 'logout';
    const key = await this.#o.key;
    const last = this.#store.release?.(key, h.id) ?? false;
    if (mode === 'close' && !last) return 'keep';
    // logout(): the shared session ends for every client and process; it leaves the store first.
    await this.#s('compareAndDelete', () => this.#store.compareAndDelete(key, h.id)).catch((err: unknown) => this.#warn('session store: could not remove the ended session', err));
    return 'logout';
  }

  used(): void {
    const h = this.#held;
    if (!h) return;
    this.#renewal.due(() => this.#renew(h), (err) => {
      if (!this.#warned) this.#warn('session store: renewing failed', err);
      this.#warned = true;
    });
  }

  /** The store's session if there is a usable one, else this client's login under the lock, published. */
  async #viaStore(ctx: LoginContext, key: string, dead: string | undefined, state: { loggedIn: boolean }): Promise<Outcome> {
    const { lockWaitMs, pollIntervalMs } = this.#timing;
    const giveUpAt = Date.now() + lockWaitMs;
    // Ids this client will not adopt: the session that just died, and any found dead or of
    // another user. Its own login replaces them in the store.
    const refused = new Set(dead === undefined ? [] : [dead]);
    const usable = (v: Stored): v is string => typeof v === 'string' && !refused.has(v);
    for (;;) {
      // Checked on every round, not only while the lock is refused: a store whose session keeps
      // changing under this client, each one dead when read, would keep it here as well.
      if (Date.now() > giveUpAt) throw new StoreFailed(`session store: no usable session after waiting ${lockWaitMs} ms for another client's login`);
      const stored = await readStored(this.#store, key, this.#s);
      if (usable(stored)) {
        const verdict = await this.#check(ctx, stored);
        if (typeof verdict === 'object') return { session: verdict, held: { id: stored, shared: true } };
        refused.add(stored);
        await this.#forget(key, stored, verdict);
        continue;
      }
      if (isUnreadable(stored)) this.#logger.warn('session store: the stored value cannot be read (corrupt, of another type, or sealed with another encryptionKey): the next login replaces it');
      const lock = await takeLock(this.#store, key, this.#timing.lockTtlMs, this.#s);
      if (!lock) {
        await delay(pollIntervalMs, ctx.signal, 'aborted while waiting for another client\'s login');
        continue;
      }
      const outcome = await holdingLock(lock, this.#timing.lockTtlMs, this.#s, async () => {
        const now = await readStored(this.#store, key, this.#s);
        // Stored meanwhile: checked on the next round, once the lock is released.
        return usable(now) ? undefined : this.#loginUnderLock(ctx, key, now, lock, state);
      });
      if (outcome) return outcome;
    }
  }

  #warn(message: string, err: unknown): void {
    this.#logger.warn(message, { error: err instanceof Error ? err.message : 'unknown' });
  }

  /** The stored session if the server knows it and it is this client's user's; else why not. */
  async #check(ctx: LoginContext, id: string): Promise<UserSession | 'dead' | 'foreign'> {
    ctx.adoptSessionId(id);
    let session: UserSession | undefined;
    try {
      session = await readCurrentSession(ctx.invoke, this.#o.propertyCollector, ctx.sessionManager);
    } catch (err) {
      if (!isVimFault(err, 'NotAuthenticated')) throw err;
    }
    if (session && sameUser(this.#o.userName, session.userName)) return session;
    // Not adopted: this login must not go out under another user's (or a dead) session.
    ctx.forgetSessionId();
    return session ? 'foreign' : 'dead';
  }

  /** A stored session this client refused: a dead one leaves the store, another user's is replaced by the next login. */
  async #forget(key: string, id: string, verdict: 'dead' | 'foreign'): Promise<void> {
    if (verdict === 'dead') {
      this.#logger.debug('the stored session is no longer valid: forgetting it');
      await this.#s('compareAndDelete', () => this.#store.compareAndDelete(key, id));
    } else {
      this.#logger.warn('session store: the stored session belongs to another user: refused; this client logs in and replaces it');
    }
  }

  async #loginUnderLock(ctx: LoginContext, key: string, expected: Stored, lock: StoreLock, state: { loggedIn: boolean }): Promise<Outcome> {
    state.loggedIn = true;
    const session = await this.#inner.login(ctx);
    const id = ctx.sessionId();
    if (id === undefined) return { session, held: { id: '', shared: false } };
    return { session, held: { id, shared: await this.#publish(key, expected, id, lock) } };
  }

  /** Stores the new session in place of `expected` (what the key held under the lock). */
  async #publish(key: string, expected: Stored, id: string, lock: StoreLock): Promise<boolean> {
    try {
      let shared = await this.#s('compareAndSet', () => this.#store.compareAndSet(key, expected, id, lock));
      // Another client removed the value meanwhile (a dead id it found too): the lock still makes this the one write.
      if (!shared && expected !== undefined) shared = await this.#s('compareAndSet', () => this.#store.compareAndSet(key, undefined, id, lock));
      if (!shared) this.#logger.warn('session store: the login lock expired before the new session was stored: this client keeps it to itself');
      return shared;
    } catch (err) {
      this.#warn('session store: the new session could not be stored: this client keeps it to itself', err);
      return false;
    }
  }

  /** A session in use: renew its TTL, put it back if the store lost it, or offer it to a store that had failed. */
  async #renew(h: Held): Promise<void> {
    const key = await this.#o.key;
    if (h.shared) {
      if (!this.#store.touch || (await this.#s('touch', () => this.#store.touch!(key, h.id))) !== false || this.#held !== h) return;
      // The key is gone (a flushed or restarted Redis, an expired file): a new client would log in again.
      if (await this.#s('compareAndSet', () => this.#store.compareAndSet(key, undefined, h.id))) this.#logger.info('session store: the stored session was gone: this client stored its own again');
      return;
    }
    if (h.id && this.#held === h && (await this.#s('compareAndSet', () => this.#store.compareAndSet(key, undefined, h.id)))) {
      h.shared = true;
      this.#store.retain?.(key, h.id);
      this.#warned = false;
      this.#logger.info('session store is back: this client\'s session is the shared one again');
    }
  }
}
