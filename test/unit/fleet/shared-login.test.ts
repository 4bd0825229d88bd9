// sharedLogin with a scripted login context and an in-memory store: the lock wait honours the
// login's signal, and the one client that holds the lock logs in while another adopts its session.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FileSessionStore } from '../../../src/fleet/file.ts';
import { MemorySessionStore } from '../../../src/fleet/memory.ts';
import { sharedLogin, type SharedLoginOptions } from '../../../src/fleet/shared-login.ts';
import { SessionStoreError, type SessionStore, type StoreLock } from '../../../src/fleet/store.ts';
import { VimFault } from '../../../src/errors.ts';
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

/** A logger that keeps every line, with its level and data. */
function lines(): Logger & { lines: string[] } {
  const all: string[] = [];
  const log = (level: string) => (message: string, data?: unknown) => void all.push(`${level} ${message}${data === undefined ? '' : ` ${JSON.stringify(data)}`}`);
  return { lines: all, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

/** The calls a store received, by method and first argument after the key. */
function watched<S extends SessionStore>(store: S): S & { calls: string[] } {
  const calls: string[] = [];
  return new Proxy(store, {
    get(target, name, receiver) {
      if (name === 'calls') return calls;
      const v = Reflect.get(target, name, receiver) as unknown;
      if (typeof v !== 'function' || name === 'constructor') return v;
      return (...args: unknown[]) => {
        calls.push([String(name), ...args.slice(1, 2).map((a) => (typeof a === 'object' && a !== null ? JSON.stringify(a) : String(a)))].join(' '));
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as S & { calls: string[] };
}

describe('sharedLogin and a store that fails', () => {
  it('logs in on its own when reading the store fails, warns once with what failed, and again only after the store worked', async () => {
    const live = new Set<string>();
    const store = new MemorySessionStore();
    const logger = lines();
    const get = store.get.bind(store);
    let failure: unknown = new TypeError('boom');
    store.get = async (key) => {
      if (failure !== undefined) throw failure;
      return get(key);
    };
    const inner = counting(live);
    const strategy = sharedLogin(inner, options(store, logger));
    await strategy.login(context(live));
    await strategy.login(context(live));
    expect(logger.lines).toEqual(['warn session store unavailable or its login lock held too long: this client logs in on its own and rejoins the store later {"error":"session store: get failed (TypeError)"}']);
    expect(inner.logins).toBe(2);
    failure = undefined;
    await strategy.login(context(live)); // the store works: this session is shared
    expect(await get(KEY)).toBe('session-3');
    failure = 'not an Error';
    await strategy.login(context(live));
    expect(logger.lines.at(-1)).toBe('warn session store unavailable or its login lock held too long: this client logs in on its own and rejoins the store later {"error":"session store: get failed (error)"}');
  });

  it('a store error that names no unreadable value is a failing store, not an empty one', async () => {
    const live = new Set<string>();
    const store = watched(new MemorySessionStore());
    store.get = async () => {
      throw new SessionStoreError('unavailable', 'session store: Redis get failed (ECONNREFUSED)');
    };
    const logger = lines();
    const inner = counting(live);
    await sharedLogin(inner, options(store, logger)).login(context(live));
    expect(inner.logins).toBe(1);
    expect(store.calls.filter((c) => !c.startsWith('get'))).toEqual([]); // no lock taken, nothing published
    expect(logger.lines).toEqual([expect.stringMatching(/logs in on its own.*"error":"session store: Redis get failed \(ECONNREFUSED\)"/)]);
  });

  it('a store whose lock call throws at once is a failing store too', async () => {
    const live = new Set<string>();
    const store = new MemorySessionStore();
    store.lock = () => {
      throw new Error('not even a promise');
    };
    const inner = counting(live);
    const logger = lines();
    await sharedLogin(inner, options(store, logger)).login(context(live));
    expect(inner.logins).toBe(1);
    expect(logger.lines).toEqual([expect.stringMatching(/logs in on its own.*lock failed \(Error\)/)]);
  });

  it('keeps its session to itself, with a warning, when publishing it fails', async () => {
    const live = new Set<string>();
    const store = new MemorySessionStore();
    store.compareAndSet = async () => {
      throw new RangeError('disk full');
    };
    const logger = lines();
    const inner = counting(live);
    const session = await sharedLogin(inner, options(store, logger)).login(context(live));
    expect(session.key).toBe('session-1');
    expect(logger.lines).toEqual(['warn session store: the new session could not be stored: this client keeps it to itself {"error":"session store: compareAndSet failed (RangeError)"}']);
  });

  it('keeps its session to itself, with a warning, when its lock expired before it could publish', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const live = new Set<string>();
    const store = new MemorySessionStore({ lockTtlMs: 3_000 });
    const lock = store.lock.bind(store);
    store.lock = async (key, ttl) => {
      const l = await lock(key, ttl);
      return l && { token: l.token, release: l.release }; // a store that cannot extend a lock
    };
    const logger = lines();
    const slow: LoginStrategy = {
      kind: 'password',
      replayable: true,
      login: async (ctx) => {
        vi.setSystemTime(Date.now() + 3_001); // a login longer than the lock's TTL
        live.add('slow');
        ctx.adoptSessionId('slow');
        return { userName: 'u', key: 'slow' } as never;
      },
    };
    expect((await sharedLogin(slow, options(store, logger)).login(context(live))).key).toBe('slow');
    expect(await store.get(KEY)).toBeUndefined();
    expect(logger.lines).toEqual(['warn session store: the login lock expired before the new session was stored: this client keeps it to itself']);
  });

  it('stores its own session once the store is back, says so, and warns again when it fails after', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const live = new Set<string>();
    const store = watched(new MemorySessionStore({ renewIntervalMs: 1_000 }));
    const get = store.get;
    let down = true;
    store.get = async (key: string) => {
      if (down) throw new Error('down');
      return get(key);
    };
    const logger = lines();
    const strategy = sharedLogin(counting(live), options(store, logger));
    await strategy.login(context(live));
    const cas = store.compareAndSet;
    store.compareAndSet = async (...args: Parameters<MemorySessionStore['compareAndSet']>) => {
      if (down) throw new Error('down');
      return cas(...args);
    };
    store.calls.length = 0;
    strategy.used!();
    await new Promise((resolve) => setImmediate(resolve));
    expect(store.calls).toEqual([]); // within renewIntervalMs of the login: nothing
    vi.setSystemTime(Date.now() + 1_000);
    strategy.used!();
    await vi.waitFor(() => expect(store.calls).toEqual(['compareAndSet undefined']));
    await new Promise((resolve) => setImmediate(resolve));
    expect(logger.lines).toHaveLength(1); // the store's failure was told at the login already
    down = false;
    vi.setSystemTime(Date.now() + 1_000);
    strategy.used!();
    await vi.waitFor(() => expect(logger.lines).toHaveLength(2));
    expect(logger.lines[1]).toBe('info session store is back: this client\'s session is the shared one again');
    expect(await store.get(KEY)).toBe('session-1');
    expect(store.release('x', 'y')).toBe(true);
    expect(store.calls).toContain('retain session-1');
    // Shared now: a renewal checks the stored session, and a failure is warned about again.
    store.get = async () => {
      throw new Error('down again');
    };
    store.compareAndSet = async () => {
      throw new Error('down again');
    };
    vi.setSystemTime(Date.now() + 1_000);
    await strategy.login(context(live));
    expect(logger.lines.at(-1)).toMatch(/^warn session store unavailable/);
  });

  it('renews at most once per renewIntervalMs and one renewal at a time, and only a session it holds', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const live = new Set<string>();
    const file = new FileSessionStore({ dir: join(root, `renew-${process.pid}-${Math.random().toString(36).slice(2)}`), renewIntervalMs: 1_000 });
    const touch = file.touch.bind(file);
    const store = watched(file);
    let release!: () => void;
    store.touch = async (key: string, id: string) => {
      await new Promise<void>((resolve) => (release = resolve));
      return touch(key, id);
    };
    const strategy = sharedLogin(counting(live), options(store));
    await strategy.login(context(live));
    const touches = (): number => store.calls.filter((c) => c.startsWith('touch')).length;
    vi.setSystemTime(Date.now() + 999);
    strategy.used!();
    expect(touches()).toBe(0);
    vi.setSystemTime(Date.now() + 1);
    strategy.used!();
    await vi.waitFor(() => expect(touches()).toBe(1));
    vi.setSystemTime(Date.now() + 5_000);
    strategy.used!(); // the renewal before it has not ended: none more
    expect(touches()).toBe(1);
    release();
    await vi.waitFor(async () => expect(await strategy.release!('close')).toBe('logout'));
    vi.setSystemTime(Date.now() + 5_000);
    strategy.used!(); // nothing held
    expect(touches()).toBe(1);
  });

  it('does not put back a session it stopped holding while the renewal ran', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const live = new Set<string>();
    const store = watched(new FileSessionStore({ dir: join(root, `gone-${Math.random().toString(36).slice(2)}`), renewIntervalMs: 0 }));
    const strategy = sharedLogin(counting(live), options(store));
    await strategy.login(context(live));
    await store.compareAndDelete(KEY, 'session-1'); // lost by the store
    let touched!: () => void;
    const done = new Promise<void>((resolve) => (touched = resolve));
    const touch = store.touch.bind(store);
    store.touch = async (key: string, id: string) => {
      const found = await touch(key, id);
      await strategy.release!('logout'); // released while the renewal runs
      touched();
      return found;
    };
    vi.setSystemTime(Date.now() + 1);
    strategy.used!();
    await done;
    await new Promise((resolve) => setImmediate(resolve));
    expect(await store.get(KEY)).toBeUndefined();
  });
});

describe('sharedLogin and the stored session', () => {
  it('checks a stored session the server answers NotAuthenticated for as dead: removes it, logs in and stores its own, quietly', async () => {
    const live = new Set<string>();
    const store = new MemorySessionStore();
    await store.compareAndSet(KEY, undefined, 'stale');
    const logger = lines();
    const ctx = context(live);
    const invoke = ctx.invoke;
    ctx.invoke = async (...args) => {
      if (ctx.sessionId() === 'stale') throw new VimFault('RetrievePropertiesEx', { _typeName: 'NotAuthenticated' }, 'gone', ['NoPermission', 'SecurityError', 'RuntimeFault', 'MethodFault']);
      return invoke(...args);
    };
    const inner = counting(live);
    const failing = inner.login;
    let fail = true;
    inner.login = async (c) => {
      if (fail) throw new Error('login refused');
      return failing(c);
    };
    await expect(sharedLogin(inner, options(store, logger)).login(ctx)).rejects.toThrow('login refused');
    expect(await store.get(KEY)).toBeUndefined(); // the dead id left the store though this login failed
    expect(logger.lines).toEqual(['debug the stored session is no longer valid: forgetting it']);
    fail = false;
    await store.compareAndSet(KEY, undefined, 'stale');
    await sharedLogin(inner, options(store, logger)).login(ctx);
    expect(await store.get(KEY)).toBe('session-1');
    expect(logger.lines.filter((l) => l.startsWith('warn'))).toEqual([]);
  });

  it('fails the login with the error of a check that failed otherwise, and logs in not at all', async () => {
    const live = new Set(['s']);
    const store = new MemorySessionStore();
    await store.compareAndSet(KEY, undefined, 's');
    const ctx = context(live);
    const down = new TypeError('socket hang up');
    ctx.invoke = async () => {
      throw down;
    };
    const inner = counting(live);
    await expect(sharedLogin(inner, options(store)).login(ctx)).rejects.toBe(down);
    expect(inner.logins).toBe(0);
    expect(await store.get(KEY)).toBe('s');
  });

  it('after its session died, does not check that id again: logs in once and replaces it in the store', async () => {
    const live = new Set<string>();
    const store = new MemorySessionStore();
    const inner = counting(live);
    const strategy = sharedLogin(inner, options(store));
    await strategy.login(context(live));
    live.delete('session-1'); // the server ended it: NotAuthenticated, then this re-login
    const ctx = context(live);
    await strategy.login(ctx);
    expect(ctx.adopted).toEqual(['session-2']); // session-1 not even checked
    expect(await store.get(KEY)).toBe('session-2');
  });

  it('adopts a session stored while it waited for the lock instead of logging in', async () => {
    const live = new Set(['theirs']);
    const store = new MemorySessionStore();
    const lock = store.lock.bind(store);
    store.lock = async (key, ttl) => {
      await store.compareAndSet(key, undefined, 'theirs'); // another client published just before
      store.lock = lock;
      return lock(key, ttl);
    };
    const inner = counting(live);
    const ctx = context(live);
    expect((await sharedLogin(inner, options(store)).login(ctx)).key).toBe('theirs');
    expect(inner.logins).toBe(0);
    expect(await store.lock(KEY, 1)).toBeDefined(); // its lock was released before it looked again
  });

  it('replaces another user\'s session that left the store while it logged in', async () => {
    const live = new Set(['planted']);
    const store = new MemorySessionStore();
    await store.compareAndSet(KEY, undefined, 'planted');
    const inner = counting(live);
    const login = inner.login;
    inner.login = async (c) => {
      await store.compareAndDelete(KEY, 'planted'); // another client removed it meanwhile
      return login(c);
    };
    await sharedLogin(inner, options(store)).login(context(live, undefined, new Map([['planted', 'mallory']])));
    expect(await store.get(KEY)).toBe('session-1');
  });

  it('a login that leaves no session id stores nothing and offers nothing later', async () => {
    const store = watched(new MemorySessionStore({ renewIntervalMs: 0 }));
    const idless: LoginStrategy = { kind: 'password', replayable: true, login: async () => ({ userName: 'u', key: 'x' }) as never };
    const strategy = sharedLogin(idless, options(store));
    expect(await strategy.login(context(new Set()))).toEqual({ userName: 'u', key: 'x' });
    strategy.used!();
    await new Promise((resolve) => setImmediate(resolve));
    expect(store.calls.filter((c) => c.startsWith('compareAndSet') || c.startsWith('retain'))).toEqual([]);
    expect(await strategy.release!('close')).toBe('logout');
  });

  it('waits for another client\'s lock until lockWaitMs has passed, not a poll less', async () => {
    vi.useFakeTimers();
    const live = new Set<string>();
    const store = new MemorySessionStore({ lockTtlMs: 5_000, lockWaitMs: 5_000, pollIntervalMs: 50 });
    await store.lock(KEY, 5_000); // free again exactly when this client would give up
    const inner = counting(live);
    const login = sharedLogin(inner, options(store)).login(context(live));
    await vi.advanceTimersByTimeAsync(5_000);
    await login;
    expect(await store.get(KEY)).toBe('session-1'); // logged in under the lock, shared
  });

  it('says why it stopped waiting when its login is aborted', async () => {
    const live = new Set<string>();
    const store = new MemorySessionStore({ pollIntervalMs: 60_000 });
    await store.lock(KEY, 60_000);
    const ctrl = new AbortController();
    const login = sharedLogin(counting(live), options(store)).login(context(live, ctrl.signal)).catch((e: unknown) => e);
    await new Promise((r) => setImmediate(r));
    ctrl.abort();
    expect(((await login) as Error).message).toMatch(/aborted while waiting for another client's login/);
  });
});

describe('sharedLogin renewing its lock', () => {
  it('extends the lock every third of its TTL, one extension at a time, and stops when the login ends', async () => {
    vi.useFakeTimers();
    const live = new Set<string>();
    const store = new MemorySessionStore({ lockTtlMs: 3_000, timeoutMs: 60_000 });
    let extensions = 0;
    let hang = false;
    const lock = store.lock.bind(store);
    store.lock = async (key, ttl) => {
      const l = (await lock(key, ttl))!;
      return { ...l, extend: async (ms: number) => {
        extensions++;
        if (hang) await new Promise(() => undefined);
        return l.extend!(ms);
      } };
    };
    let finish!: () => void;
    const slow: LoginStrategy = {
      kind: 'password',
      replayable: true,
      login: async (ctx) => {
        await new Promise<void>((resolve) => (finish = resolve));
        ctx.adoptSessionId('slow');
        return { userName: 'u', key: 'slow' } as never;
      },
    };
    const first = sharedLogin(slow, options(store)).login(context(live));
    await vi.advanceTimersByTimeAsync(999);
    expect(extensions).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(extensions).toBe(1);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(extensions).toBe(3);
    finish();
    await first;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(extensions).toBe(3); // the login ended: no more renewals
    expect(vi.getTimerCount()).toBe(0);

    await store.compareAndDelete(KEY, 'slow');
    hang = true; // an extension that never answers: the timer does not pile more on it
    const second = sharedLogin(slow, options(store)).login(context(live));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(extensions).toBe(4);
    finish();
    await second;
  });

  it('takes a lock a store grants late, after this client stopped waiting for it, and releases it', async () => {
    vi.useFakeTimers();
    const live = new Set<string>();
    const store = new MemorySessionStore({ timeoutMs: 20, lockTtlMs: 60_000 });
    const lock = store.lock.bind(store);
    let grant!: () => void;
    let asked = 0;
    store.lock = async (key, ttl) => {
      asked++;
      await new Promise<void>((resolve) => (grant = resolve));
      store.lock = lock;
      return lock(key, ttl);
    };
    const first = sharedLogin(counting(live), options(store)).login(context(live));
    await vi.advanceTimersByTimeAsync(20);
    await first; // on its own after the lock call timed out
    expect(asked).toBe(1);
    grant();
    await vi.advanceTimersByTimeAsync(0);
    expect(await store.lock(KEY, 1)).toBeDefined(); // the late lock was released at once
  });
});

describe('sharedLogin release', () => {
  it('keeps a shared session on close while another client holds it, and ends it for everyone on logout', async () => {
    const live = new Set<string>();
    const store = new MemorySessionStore();
    const a = sharedLogin(counting(live), options(store));
    const b = sharedLogin(counting(live), options(store));
    await a.login(context(live));
    await b.login(context(live));
    expect(await a.release!('close')).toBe('keep');
    expect(await store.get(KEY)).toBe('session-1');
    expect(await a.release!('close')).toBe('logout'); // holds nothing any more: nothing to keep
    expect(await b.release!('logout')).toBe('logout');
    expect(await store.get(KEY)).toBeUndefined();
  });

  it('the last client to close removes the session from a store that dies with the process', async () => {
    const live = new Set<string>();
    const store = new MemorySessionStore();
    const a = sharedLogin(counting(live), options(store));
    await a.login(context(live));
    expect(await a.release!('close')).toBe('logout');
    expect(await store.get(KEY)).toBeUndefined();
  });

  it('keeps the session on close in a store that counts no clients, and warns when it cannot remove one on logout', async () => {
    const live = new Set<string>();
    const file = new FileSessionStore({ dir: join(root, `release-${Math.random().toString(36).slice(2)}`) });
    const logger = lines();
    const a = sharedLogin(counting(live), options(file, logger));
    await a.login(context(live));
    expect(await a.release!('close')).toBe('keep');
    expect(await file.get(KEY)).toBe('session-1');
    await a.login(context(live));
    file.compareAndDelete = async () => {
      throw new SessionStoreError('unavailable', 'session store: cannot write');
    };
    expect(await a.release!('logout')).toBe('logout');
    expect(logger.lines).toEqual(['warn session store: could not remove the ended session {"error":"session store: cannot write"}']);
  });

  it('lets go of the session it held when it logs in again, and holds the new one', async () => {
    const live = new Set<string>();
    const store = watched(new MemorySessionStore());
    const a = sharedLogin(counting(live), options(store));
    await a.login(context(live));
    live.delete('session-1');
    await a.login(context(live));
    expect(store.calls.filter((c) => /^(retain|release) /.test(c))).toEqual(['retain session-1', 'release session-1', 'retain session-2']);
  });
});

describe('sharedLogin, what it says and what it keeps', () => {
  it('names the store call that failed: the removal of a dead session, the removal of an ended one', async () => {
    const live = new Set<string>();
    const store = new MemorySessionStore();
    await store.compareAndSet(KEY, undefined, 'stale');
    store.compareAndDelete = async () => {
      throw new TypeError('boom');
    };
    const logger = lines();
    const a = sharedLogin(counting(live), options(store, logger));
    await a.login(context(live)); // the dead session could not be removed: on its own
    expect(logger.lines.at(-1)).toMatch(/logs in on its own.*"error":"session store: compareAndDelete failed \(TypeError\)"/);
    await store.compareAndSet(KEY, 'stale', 'session-9');
    live.add('session-9');
    const b = sharedLogin(counting(live), options(store, logger));
    await b.login(context(live));
    expect(await b.release!('logout')).toBe('logout');
    expect(logger.lines.at(-1)).toBe('warn session store: could not remove the ended session {"error":"session store: compareAndDelete failed (TypeError)"}');
  });

  it('names the second compare-and-set when the first found the value gone and the second failed', async () => {
    const live = new Set(['planted']);
    const store = new MemorySessionStore();
    await store.compareAndSet(KEY, undefined, 'planted');
    let sets = 0;
    store.compareAndSet = async () => {
      if (++sets === 1) return false;
      throw new TypeError('boom');
    };
    const logger = lines();
    await sharedLogin(counting(live), options(store, logger)).login(context(live, undefined, new Map([['planted', 'mallory']])));
    expect(logger.lines.at(-1)).toBe('warn session store: the new session could not be stored: this client keeps it to itself {"error":"session store: compareAndSet failed (TypeError)"}');
  });

  it('offers a session it could not publish to the store later, as its own', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const live = new Set<string>();
    const file = new FileSessionStore({ dir: join(root, `offer-${Math.random().toString(36).slice(2)}`), renewIntervalMs: 0 });
    const set = file.compareAndSet.bind(file);
    let fail = true;
    file.compareAndSet = async (...args: Parameters<FileSessionStore['compareAndSet']>) => {
      if (fail) throw new TypeError('disk full');
      return set(...args);
    };
    const logger = lines();
    const a = sharedLogin(counting(live), options(file, logger));
    await a.login(context(live));
    fail = false;
    vi.setSystemTime(Date.now() + 1);
    a.used!();
    await vi.waitFor(() => expect(logger.lines.at(-1)).toBe('info session store is back: this client\'s session is the shared one again'));
    expect(await file.get(KEY)).toBe('session-1');
    expect(await a.release!('close')).toBe('keep'); // shared now, in a store that outlives the process
  });

  it('says so when it stores its session again after the store lost it', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const live = new Set<string>();
    const file = new FileSessionStore({ dir: join(root, `lost-${Math.random().toString(36).slice(2)}`), renewIntervalMs: 0 });
    const logger = lines();
    const a = sharedLogin(counting(live), options(file, logger));
    await a.login(context(live));
    await file.compareAndDelete(KEY, 'session-1');
    vi.setSystemTime(Date.now() + 1);
    a.used!();
    await vi.waitFor(() => expect(logger.lines).toEqual(['info session store: the stored session was gone: this client stored its own again']));
  });

  it('warns once when renewing fails, naming the call', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const live = new Set<string>();
    const file = new FileSessionStore({ dir: join(root, `touch-${Math.random().toString(36).slice(2)}`), renewIntervalMs: 0 });
    const logger = lines();
    const a = sharedLogin(counting(live), options(file, logger));
    await a.login(context(live));
    let touches = 0;
    file.touch = async () => {
      touches++;
      throw new TypeError('io');
    };
    for (let i = 1; i <= 2; i++) {
      vi.setSystemTime(Date.now() + 1);
      a.used!();
      await vi.waitFor(() => expect(touches).toBe(i));
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(logger.lines).toEqual(['warn session store: renewing failed {"error":"session store: touch failed (TypeError)"}']);
  });

  it('does not offer an own session it let go of while the renewal began', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const live = new Set<string>();
    const store = new MemorySessionStore({ renewIntervalMs: 0 });
    const get = store.get.bind(store);
    let down = true;
    store.get = async (key) => {
      if (down) throw new Error('down');
      return get(key);
    };
    const a = sharedLogin(counting(live), options(store));
    await a.login(context(live)); // on its own
    down = false;
    vi.setSystemTime(Date.now() + 1);
    a.used!();
    expect(await a.release!('close')).toBe('logout');
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(await get(KEY)).toBeUndefined();
  });

  it('offers nothing later for an own session without an id', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const store = watched(new MemorySessionStore({ renewIntervalMs: 0 }));
    store.get = async () => {
      throw new Error('down');
    };
    const idless: LoginStrategy = { kind: 'password', replayable: true, login: async () => ({ userName: 'u', key: 'x' }) as never };
    const a = sharedLogin(idless, options(store));
    await a.login(context(new Set()));
    store.get = async () => undefined;
    vi.setSystemTime(Date.now() + 1);
    a.used!();
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(store.calls.filter((c) => c.startsWith('compareAndSet'))).toEqual([]);
  });

  it('logs in again on a store that counts no clients, letting go of nothing it cannot', async () => {
    const live = new Set<string>();
    const file = new FileSessionStore({ dir: join(root, `again-${Math.random().toString(36).slice(2)}`) });
    const a = sharedLogin(counting(live), options(file));
    await a.login(context(live));
    live.delete('session-1');
    await a.login(context(live));
    expect(await file.get(KEY)).toBe('session-2');
  });

  it('does not put back a session it let go of while the renewal ran (a store with touch)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const live = new Set<string>();
    const store = watched(new MemorySessionStore({ renewIntervalMs: 0 }));
    const strategy = sharedLogin(counting(live), options(store));
    await strategy.login(context(live));
    await store.compareAndDelete(KEY, 'session-1'); // lost by the store
    Object.assign(store, {
      touch: async () => {
        await strategy.release!('close'); // let go of while the renewal runs
        return false;
      },
    });
    vi.setSystemTime(Date.now() + 1);
    strategy.used!();
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(store.calls.filter((c) => c.startsWith('touch'))).toHaveLength(1);
    expect(await store.get(KEY)).toBeUndefined();
  });
});
