// A login strategy shared through a session store: before logging in, find the session this
// server and identity already have in the store, check it with one round trip, and adopt it;
// log in only when there is none, under the store's lock, and publish the new session with a
// compare-and-set. After NotAuthenticated the same path runs with the dead id: of all the
// clients (and processes) that saw it die, the one that takes the lock logs in once, the others
// wait and adopt what it stored. A store that fails or does not answer in time is treated as
// absent: the client logs in on its own (a warning, no failed call) and rejoins the store later.
import type { ManagedObjectReference, UserSession } from '../generated/types.ts';
import { delay } from '../abort.ts';
import { isVimFault } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { readCurrentSession } from '../session/manager.ts';
import type { LoginContext, LoginStrategy } from '../session/strategies.ts';
import { DEFAULT_TIMING, SessionStoreError, withTimeout, type SessionStore, type StoreLock, type StoreTiming } from './store.ts';

export interface SharedLoginOptions {
  store: SessionStore;
  /** The store key (fleet/key.ts): server, identity and a digest of the secret. */
  key: Promise<string>;
  propertyCollector: ManagedObjectReference;
  logger: Logger;
}

interface Held {
  id: string;
  /** In the store (shared with others) or this client's own (the store failed). */
  shared: boolean;
}

class StoreFailed extends Error {}

export function sharedLogin(inner: LoginStrategy, o: SharedLoginOptions): LoginStrategy {
  const timing: StoreTiming = { ...DEFAULT_TIMING, ...definedOnly(o.store.timing) };
  const { store, logger } = o;
  let held: Held | undefined;
  let lastRenew = Date.now();
  let renewing = false;
  let warned = false;

  /** One store call, bounded by the timeout; any failure becomes StoreFailed. */
  const s = async <T>(what: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await withTimeout(call(), timing.timeoutMs, what);
    } catch (err) {
      throw new StoreFailed(err instanceof SessionStoreError ? err.message : `session store: ${what} failed (${err instanceof Error ? err.name : 'error'})`, { cause: err });
    }
  };

  const warn = (message: string, err: unknown): void => {
    logger.warn(message, { error: err instanceof Error ? err.message : 'unknown' });
  };

  /** One round trip: the session's currentSession, or undefined when the server does not know it. */
  const validate = async (ctx: LoginContext, id: string): Promise<UserSession | undefined> => {
    ctx.adoptSessionId(id);
    try {
      return await readCurrentSession(ctx.invoke, o.propertyCollector, ctx.sessionManager);
    } catch (err) {
      if (isVimFault(err, 'NotAuthenticated')) return undefined;
      throw err;
    }
  };

  const viaStore = async (ctx: LoginContext, key: string, dead: string | undefined, state: { loggedIn: boolean }): Promise<{ session: UserSession; held: Held }> => {
    // The longest a fair wait can last: a lock holder that died is replaced after lockTtlMs.
    const giveUpAt = Date.now() + timing.lockTtlMs + 4 * timing.timeoutMs;
    let skip = dead;
    for (;;) {
      // Checked on every round, not only while the lock is refused: a store whose session keeps
      // changing under this client, each one dead when read, would keep it here as well.
      if (Date.now() > giveUpAt) throw new StoreFailed('session store: the login lock was not released in time (or every stored session was dead)');
      const stored = await s('get', () => store.get(key));
      if (stored !== undefined && stored !== skip) {
        const session = await validate(ctx, stored);
        if (session) return { session, held: { id: stored, shared: true } };
        logger.debug('the stored session is no longer valid: forgetting it');
        await s('compareAndDelete', () => store.compareAndDelete(key, stored));
        skip = stored;
        continue;
      }
      let asked: Promise<StoreLock | undefined> | undefined;
      const lock = await s('lock', () => (asked = store.lock(key, timing.lockTtlMs))).catch((err: unknown) => {
        // The store may still grant the lock after this client stopped waiting for it: released
        // then, or no client could log in until its TTL ran out.
        asked?.then((late) => late?.release()).catch(() => undefined);
        throw err;
      });
      if (!lock) {
        await delay(timing.pollIntervalMs, ctx.signal, 'aborted while waiting for another client\'s login');
        continue;
      }
      try {
        const now = await s('get', () => store.get(key));
        if (now !== undefined && now !== skip) continue; // stored meanwhile: validate it (the lock is released first)
        state.loggedIn = true;
        const session = await inner.login(ctx);
        const id = ctx.sessionId();
        if (id === undefined) return { session, held: { id: '', shared: false } };
        let shared = false;
        try {
          shared = await s('compareAndSet', () => store.compareAndSet(key, now, id, lock));
          // Another client found the dead id meanwhile and removed it: the lock still makes this the one write.
          if (!shared && now !== undefined) shared = await s('compareAndSet', () => store.compareAndSet(key, undefined, id, lock));
          if (!shared) logger.warn('session store: the login lock expired before the new session was stored: this client keeps it to itself');
        } catch (err) {
          warn('session store: the new session could not be stored: this client keeps it to itself', err);
        }
        return { session, held: { id, shared } };
      } finally {
        await s('release', () => lock.release()).catch(() => undefined);
      }
    }
  };

  const strategy: LoginStrategy = {
    kind: inner.kind,
    replayable: inner.replayable,
    login: async (ctx) => {
      const key = await o.key;
      const previous = held;
      const state = { loggedIn: false };
      let result: { session: UserSession; held: Held };
      try {
        result = await viaStore(ctx, key, previous?.id, state);
        warned = false;
      } catch (err) {
        if (!(err instanceof StoreFailed) || state.loggedIn) throw err;
        if (!warned) warn('session store unavailable: this client logs in on its own and rejoins the store later', err);
        warned = true;
        const session = await inner.login(ctx);
        result = { session, held: { id: ctx.sessionId() ?? '', shared: false } };
      }
      if (previous?.shared) store.release?.(key, previous.id);
      held = result.held;
      if (held.shared) store.retain?.(key, held.id);
      lastRenew = Date.now();
      return result.session;
    },
    release: async (mode) => {
      const h = held;
      held = undefined;
      if (!h?.shared) return 'logout';
      const key = await o.key;
      const last = store.release?.(key, h.id) ?? false;
      if (mode === 'close' && !last) return 'keep';
      // logout(): the shared session ends for every client and process; it leaves the store first.
      await s('compareAndDelete', () => store.compareAndDelete(key, h.id)).catch((err: unknown) => warn('session store: could not remove the ended session', err));
      return 'logout';
    },
    used: () => {
      const h = held;
      if (!h || renewing || Date.now() - lastRenew < timing.renewIntervalMs) return;
      lastRenew = Date.now();
      renewing = true;
      void (async () => {
        const key = await o.key;
        if (h.shared) {
          if (store.touch) await s('touch', () => store.touch!(key, h.id));
          return;
        }
        // A session of our own (the store had failed): publish it if the store is back and empty.
        if (h.id && held === h && (await s('compareAndSet', () => store.compareAndSet(key, undefined, h.id)))) {
          h.shared = true;
          store.retain?.(key, h.id);
          warned = false;
          logger.info('session store is back: this client\'s session is the shared one again');
        }
      })()
        .catch((err: unknown) => {
          if (!warned) warn('session store: renewing failed', err);
          warned = true;
        })
        .finally(() => {
          renewing = false;
        });
    },
  };
  return strategy;
}

function definedOnly<T extends object>(o: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}

