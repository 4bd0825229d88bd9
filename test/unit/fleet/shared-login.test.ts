// sharedLogin with a scripted login context and an in-memory store: the lock wait honours the
// login's signal, and the one client that holds the lock logs in while another adopts its session.
import { describe, expect, it } from 'vitest';
import { MemorySessionStore } from '../../../src/fleet/memory.ts';
import { sharedLogin } from '../../../src/fleet/shared-login.ts';
import type { StoreLock } from '../../../src/fleet/store.ts';
import { silentLogger } from '../../../src/logger.ts';
import type { LoginContext, LoginStrategy } from '../../../src/session/strategies.ts';

const SM = { type: 'SessionManager' as const, value: 'SessionManager' };
const PC = { type: 'PropertyCollector' as const, value: 'propertyCollector' };
const KEY = 'vc|user|digest';

/** A context whose server knows the sessions in `live`: validation reads currentSession of the adopted id. */
function context(live: Set<string>, signal?: AbortSignal): LoginContext & { adopted: string[] } {
  let current: string | undefined;
  const adopted: string[] = [];
  return {
    adopted,
    signal,
    sessionManager: SM,
    invoke: async () => ({ objects: current && live.has(current) ? [{ propSet: [{ val: { userName: 'u', key: current } }] }] : [] }),
    mutualTls: () => {
      throw new Error('not used');
    },
    adoptSessionId: (id) => {
      current = id;
      adopted.push(id);
    },
    sessionId: () => current,
  };
}

function counting(live: Set<string>): LoginStrategy & { logins: number } {
  const s = {
    kind: 'password',
    replayable: true,
    logins: 0,
    login: async (ctx: LoginContext) => {
      const id = `session-${++s.logins}`;
      live.add(id);
      ctx.adoptSessionId(id);
      return { userName: 'u', key: id } as never;
    },
  };
  return s;
}

describe('sharedLogin', () => {
  it('adopts the session another client stored instead of logging in', async () => {
    const live = new Set<string>();
    const store = new MemorySessionStore();
    const first = counting(live);
    const second = counting(live);
    const opts = { store, key: Promise.resolve(KEY), userName: 'u', propertyCollector: PC, logger: silentLogger };
    await sharedLogin(first, opts).login(context(live));
    const ctx = context(live);
    await sharedLogin(second, opts).login(ctx);
    expect([first.logins, second.logins]).toEqual([1, 0]);
    expect(ctx.adopted).toEqual(['session-1']);
  });

  it('stops waiting for another client\'s login lock when the login is aborted', async () => {
    const live = new Set<string>();
    const store = new MemorySessionStore({ pollIntervalMs: 60_000 });
    await store.lock(KEY, 60_000); // another client is logging in, for as long as the test lasts
    const inner = counting(live);
    const ctrl = new AbortController();
    const login = sharedLogin(inner, { store, key: Promise.resolve(KEY), userName: 'u', propertyCollector: PC, logger: silentLogger }).login(context(live, ctrl.signal));
    const outcome = login.catch((e: unknown) => e);
    await new Promise((r) => setImmediate(r));
    ctrl.abort();
    expect(await outcome).toMatchObject({ name: 'AbortError', code: 'EABORTED' });
    expect(inner.logins).toBe(0);
  });

  it('releases a lock the store grants after the lock call timed out, so the next client need not wait for its TTL', async () => {
    const live = new Set<string>();
    const store = new MemorySessionStore({ timeoutMs: 20, lockTtlMs: 60_000 });
    let grant!: () => void;
    const late = new Promise<void>((resolve) => (grant = resolve));
    const lock = store.lock.bind(store);
    store.lock = async (key: string, ttlMs: number): Promise<StoreLock | undefined> => {
      await late; // answers only once the client has stopped waiting
      store.lock = lock;
      return lock(key, ttlMs);
    };
    const first = counting(live);
    const opts = { store, key: Promise.resolve(KEY), userName: 'u', propertyCollector: PC, logger: silentLogger };
    await sharedLogin(first, opts).login(context(live)); // the lock call timed out: logs in on its own
    expect(first.logins).toBe(1);
    grant();
    await new Promise((r) => setImmediate(r));
    const second = counting(live);
    await sharedLogin(second, opts).login(context(live));
    expect(second.logins).toBe(1); // the lock was free: no wait of 60 s
  });

  it('gives up on a store whose session keeps changing, each one dead, and logs in on its own', async () => {
    const live = new Set<string>();
    const store = new MemorySessionStore({ timeoutMs: 10, lockTtlMs: 50, lockWaitMs: 90 });
    let n = 0;
    store.get = async () => `dead-${++n}`; // another client stores a new (dead) session each time this one looks
    const inner = counting(live);
    await sharedLogin(inner, { store, key: Promise.resolve(KEY), userName: 'u', propertyCollector: PC, logger: silentLogger }).login(context(live));
    expect(inner.logins).toBe(1);
    expect(n).toBeGreaterThan(1);
  });
});
