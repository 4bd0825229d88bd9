// SharedVapiSession on its own, over real stores (memory) and a scripted server (create/check):
// one session made for many clients, a dead or foreign stored id replaced once, the key derived
// from the vim session's, a failing store treated as absent, release keeping a session the others hold.
import { describe, expect, it } from 'vitest';
import { MemorySessionStore } from '../../../src/fleet/memory.ts';
import { SessionStoreError, type SessionStore } from '../../../src/fleet/store.ts';
import type { Logger } from '../../../src/logger.ts';
import { SharedVapiSession, vapiKey, type Verdict } from '../../../src/vapi/shared-session.ts';

const VIM_KEY = 'v1-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
const KEY = vapiKey(VIM_KEY);
const TIMING = { pollIntervalMs: 1, lockWaitMs: 60_000, timeoutMs: 60_000 };

function logs(): { logger: Logger; lines: { level: string; message: string; data?: unknown }[] } {
  const lines: { level: string; message: string; data?: unknown }[] = [];
  const at = (level: string) => (message: string, data?: unknown) => lines.push({ level, message, data });
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

/** A server: sessions it made are alive until killed; `foreign` ones belong to another user. */
function server() {
  const alive = new Set<string>();
  const foreign = new Set<string>();
  let made = 0;
  return {
    alive,
    foreign,
    get made() {
      return made;
    },
    create: async (): Promise<string> => {
      await new Promise((r) => setImmediate(r));
      const id = `s${++made}`;
      alive.add(id);
      return id;
    },
    check: async (id: string): Promise<Verdict> => (foreign.has(id) ? 'foreign' : alive.has(id) ? 'ok' : 'dead'),
  };
}

const shared = (store: SessionStore, logger: Logger = logs().logger) => new SharedVapiSession({ store, key: Promise.resolve(VIM_KEY), userName: 'u@x', logger });

describe('SharedVapiSession', () => {
  it('its key is derived from the vim session\'s and is a valid store key of its own', () => {
    expect(KEY).not.toBe(VIM_KEY);
    expect(KEY).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(KEY.startsWith('v1-')).toBe(false);
  });

  it('8 clients on one store acquire concurrently: one session made, all share it', async () => {
    const store = new MemorySessionStore(TIMING);
    const s = server();
    const held = await Promise.all(Array.from({ length: 8 }, () => shared(store).acquire(s.create, s.check, undefined)));
    expect(s.made).toBe(1);
    expect(new Set(held.map((h) => h.id))).toEqual(new Set(['s1']));
    expect(held.every((h) => h.shared)).toBe(true);
    expect(await store.get(KEY)).toBe('s1');
    expect(await store.get(VIM_KEY)).toBeUndefined();
  });

  it('a dead id passed back by all its holders is replaced once, and republished', async () => {
    const store = new MemorySessionStore(TIMING);
    const s = server();
    const clients = Array.from({ length: 6 }, () => shared(store));
    await Promise.all(clients.map((c) => c.acquire(s.create, s.check, undefined)));
    s.alive.delete('s1');
    const again = await Promise.all(clients.map((c) => c.acquire(s.create, s.check, 's1')));
    expect(s.made).toBe(2);
    expect(again.map((h) => h.id)).toEqual(Array(6).fill('s2'));
    expect(await store.get(KEY)).toBe('s2');
  });

  it('a stored id that is dead is forgotten; another user\'s is refused with a warning; both replaced', async () => {
    for (const kind of ['dead', 'foreign'] as const) {
      const store = new MemorySessionStore(TIMING);
      const s = server();
      const { logger, lines } = logs();
      const planted = 'planted-id-123';
      if (kind === 'foreign') {
        s.alive.add(planted);
        s.foreign.add(planted);
      }
      await store.compareAndSet(KEY, undefined, planted);
      const held = await shared(store, logger).acquire(s.create, s.check, undefined);
      expect(held).toEqual({ id: 's1', shared: true });
      expect(await store.get(KEY)).toBe('s1');
      expect(lines.some((l) => l.level === 'warn' && /another user/.test(l.message))).toBe(kind === 'foreign');
      expect(JSON.stringify(lines)).not.toContain(planted);
    }
  });

  it('a store that fails: a session of its own, one warning, offered to the store when used again', async () => {
    const store = new MemorySessionStore({ ...TIMING, renewIntervalMs: 0 });
    let failing = true;
    const flaky: SessionStore = {
      timing: store.timing,
      get: (k) => (failing ? Promise.reject(new SessionStoreError('unavailable', 'down')) : store.get(k)),
      compareAndSet: (...a) => (failing ? Promise.reject(new SessionStoreError('unavailable', 'down')) : store.compareAndSet(...a)),
      compareAndDelete: (...a) => store.compareAndDelete(...a),
      lock: (...a) => store.lock(...a),
      touch: async () => true,
    };
    const s = server();
    const { logger, lines } = logs();
    const c = shared(flaky, logger);
    const a = await c.acquire(s.create, s.check, undefined);
    const b = await c.acquire(s.create, s.check, undefined);
    expect([a, b]).toEqual([{ id: 's1', shared: false }, { id: 's2', shared: false }]);
    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(1);
    failing = false;
    c.used(b);
    // The renewal runs in the background: a bounded number of event-loop turns, no clock.
    for (let turn = 0; turn < 100 && !b.shared; turn++) await new Promise((r) => setImmediate(r));
    expect(b.shared).toBe(true);
    expect(await store.get(KEY)).toBe('s2');
  });

  it('release: close keeps a session others of the process hold; the last close and any logout end it and clear the key', async () => {
    const store = new MemorySessionStore(TIMING);
    const s = server();
    const [a, b, c] = [shared(store), shared(store), shared(store)];
    const [ha, hb, hc] = await Promise.all([a, b, c].map((x) => x.acquire(s.create, s.check, undefined)));
    expect(await a.release(ha!, 'close')).toBe('keep');
    expect(await store.get(KEY)).toBe('s1');
    expect(await b.release(hb!, 'close')).toBe('keep');
    expect(await c.release(hc!, 'close')).toBe('logout');
    expect(await store.get(KEY)).toBeUndefined();

    const d = shared(store);
    const hd = await d.acquire(s.create, s.check, undefined);
    const e = shared(store);
    await e.acquire(s.create, s.check, undefined);
    expect(await d.release(hd, 'logout')).toBe('logout');
    expect(await store.get(KEY)).toBeUndefined();
    expect(await d.release({ id: 'x', shared: false }, 'close')).toBe('logout');
  });

  it('a lock held by another past lockWaitMs: a session of its own', async () => {
    const store = new MemorySessionStore({ ...TIMING, lockWaitMs: 0, lockTtlMs: 60_000 });
    const lock = await store.lock(KEY, 60_000);
    expect(lock).toBeDefined();
    const s = server();
    const held = await shared(store).acquire(s.create, s.check, undefined);
    expect(held).toEqual({ id: 's1', shared: false });
    await lock!.release();
  });
});
