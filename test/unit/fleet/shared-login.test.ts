// sharedLogin with a scripted login context and an in-memory store: the lock wait honours the
// login's signal, and the one client that holds the lock logs in while another adopts its session.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FileSessionStore } from '../../../src/fleet/file.ts';
import { MemorySessionStore } from '../../../src/fleet/memory.ts';
import { sharedLogin, type SharedLoginOptions } from '../../../src/fleet/shared-login.ts';
import type { StoreLock } from '../../../src/fleet/store.ts';
import { silentLogger, type Logger } from '../../../src/logger.ts';
import type { LoginContext, LoginStrategy } from '../../../src/session/strategies.ts';
import { tempDir } from '../../fixtures.ts';

const SM = { type: 'SessionManager' as const, value: 'SessionManager' };
const PC = { type: 'PropertyCollector' as const, value: 'propertyCollector' };
const KEY = 'vc-user-digest';
const root = tempDir('vim25-shared-login-');
afterEach(() => void vi.useRealTimers());

/** A logger that keeps the warnings, with their data. */
function recording(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { ...silentLogger, warnings, warn: (message: string, data?: unknown) => void warnings.push(data === undefined ? message : `${message} ${JSON.stringify(data)}`) };
}

const options = (store: SharedLoginOptions['store'], logger: Logger = silentLogger): SharedLoginOptions =>
  ({ store, key: Promise.resolve(KEY), userName: 'u', propertyCollector: PC, logger });

/** A context whose server knows the sessions in `live` (of user 'u' unless `owners` names another): validation reads currentSession of the adopted id. */
function context(live: Set<string>, signal?: AbortSignal, owners = new Map<string, string>()): LoginContext & { adopted: string[] } {
  let current: string | undefined;
  const adopted: string[] = [];
  return {
    adopted,
    signal,
    sessionManager: SM,
    invoke: async () => ({ objects: current && live.has(current) ? [{ propSet: [{ val: { userName: owners.get(current) ?? 'u', key: current } }] }] : [] }),
    mutualTls: () => {
      throw new Error('not used');
    },
    adoptSessionId: (id) => {
      current = id;
      adopted.push(id);
    },
    forgetSessionId: () => {
      current = undefined;
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

  it('releases its login lock when the login fails, so the next login need not wait out the lock TTL', async () => {
    const live = new Set<string>();
    const store = new MemorySessionStore({ lockTtlMs: 60_000 });
    const inner = counting(live);
    const login = inner.login;
    const transient = new Error('connection reset');
    let failures = 1;
    inner.login = async (c) => {
      if (failures-- > 0) throw transient;
      return login(c);
    };
    const strategy = sharedLogin(inner, options(store));
    await expect(strategy.login(context(live))).rejects.toBe(transient);
    // Still held, the lock would keep every client (this one too) off the store for 60 s.
    const lock = await store.lock(KEY, 1);
    expect(lock).toBeDefined();
    await lock!.release();
    await strategy.login(context(live));
    expect(inner.logins).toBe(1);
    expect(await store.get(KEY)).toBe('session-1'); // logged in under the lock, and shared
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

  it('refuses a stored session of another user: logs in, replaces it in the store, and says so', async () => {
    const live = new Set(['planted']);
    const store = new MemorySessionStore();
    await store.compareAndSet(KEY, undefined, 'planted');
    const logger = recording();
    const inner = counting(live);
    const ctx = context(live, undefined, new Map([['planted', 'mallory']]));
    let sentWith: string | undefined = 'not called';
    const login = inner.login;
    inner.login = async (c) => {
      sentWith = c.sessionId();
      return login(c);
    };
    const session = await sharedLogin(inner, options(store, logger)).login(ctx);
    expect(inner.logins).toBe(1);
    expect(sentWith).toBeUndefined(); // the Login did not go out under mallory's session
    expect(session.key).toBe('session-1');
    expect(await store.get(KEY)).toBe('session-1');
    expect(logger.warnings.join('\n')).toMatch(/belongs to another user/);
    const next = counting(live);
    await sharedLogin(next, options(store)).login(context(live));
    expect(next.logins).toBe(0); // the next client adopts the replacement
  });

  it('a value the store cannot read is replaced by the next login, and the clients after it adopt that session', async () => {
    const live = new Set<string>();
    const dir = join(root, 'unreadable');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(join(dir, `${KEY}.session`), 'not a stored session', { mode: 0o600 });
    const store = new FileSessionStore({ dir });
    const logger = recording();
    const clients = [counting(live), counting(live), counting(live)];
    for (const c of clients) await sharedLogin(c, options(store, logger)).login(context(live));
    expect(clients.map((c) => c.logins)).toEqual([1, 0, 0]);
    expect(await store.get(KEY)).toBe('session-1');
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]).toMatch(/cannot be read/);
  });

  it('renews its login lock while the login runs: a login longer than the lock TTL keeps the others out', async () => {
    vi.useFakeTimers();
    const live = new Set<string>();
    const store = new MemorySessionStore({ lockTtlMs: 3_000 });
    let finish!: () => void;
    const slow: LoginStrategy = {
      kind: 'password',
      replayable: true,
      login: async (ctx) => {
        await new Promise<void>((resolve) => (finish = resolve));
        live.add('slow');
        ctx.adoptSessionId('slow');
        return { userName: 'u', key: 'slow' } as never;
      },
    };
    const first = sharedLogin(slow, options(store)).login(context(live));
    await vi.advanceTimersByTimeAsync(30_000); // ten lock TTLs
    expect(await store.lock(KEY, 1)).toBeUndefined();
    finish();
    await first;
    expect(await store.get(KEY)).toBe('slow');
    expect(await store.lock(KEY, 1)).toBeDefined(); // released after the login
  });

  it('a lock holder that died (no renewal) holds the others up for one lock TTL, not longer', async () => {
    vi.useFakeTimers();
    const live = new Set<string>();
    const store = new MemorySessionStore({ lockTtlMs: 3_000, pollIntervalMs: 50 });
    await store.lock(KEY, 3_000); // its holder died holding it
    const inner = counting(live);
    let done = false;
    const login = sharedLogin(inner, options(store)).login(context(live)).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(2_900);
    expect([done, inner.logins]).toEqual([false, 0]);
    await vi.advanceTimersByTimeAsync(200);
    await login;
    expect(inner.logins).toBe(1);
    expect(await store.get(KEY)).toBe('session-1'); // it took the lock over: the session is shared
  });

  it('waits at most lockWaitMs for a holder that stays alive, then logs in on its own with a warning', async () => {
    vi.useFakeTimers();
    const live = new Set<string>();
    const store = new MemorySessionStore({ lockTtlMs: 3_000, pollIntervalMs: 50 });
    const lock = (await store.lock(KEY, 3_000))!;
    const renewing = setInterval(() => void lock.extend!(3_000), 1_000); // alive, and its login never ends
    const logger = recording();
    const inner = counting(live);
    let done = false;
    const login = sharedLogin(inner, options(store, logger)).login(context(live)).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(4_900);
    expect([done, inner.logins]).toEqual([false, 0]);
    await vi.advanceTimersByTimeAsync(200);
    await login;
    clearInterval(renewing);
    expect(inner.logins).toBe(1);
    expect(await store.get(KEY)).toBeUndefined(); // its own session, offered to the store later
    expect(logger.warnings.join('\n')).toMatch(/waiting 5000 ms/);
  });

  it('stores its session again on the next renewal when the store lost it', async () => {
    const live = new Set<string>();
    const dir = join(root, 'lost');
    rmSync(dir, { recursive: true, force: true });
    const store = new FileSessionStore({ dir, renewIntervalMs: 0 });
    const logger = recording();
    const strategy = sharedLogin(counting(live), options(store, logger));
    await strategy.login(context(live));
    rmSync(join(dir, `${KEY}.session`)); // as FLUSHALL, or a Redis restarted empty, would
    expect(await store.get(KEY)).toBeUndefined();
    strategy.used!();
    await vi.waitFor(async () => expect(await store.get(KEY)).toBe('session-1'));
    expect(logger.warnings).toEqual([]);
  });
});
