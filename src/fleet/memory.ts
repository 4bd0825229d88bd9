// MemorySessionStore: the clients of one process share one session per server and identity.
// It dies with the process, so the last client to let go of a session logs it out.
import { inspect } from 'node:util';
import type { SessionStore, StoreLock, StoreTiming, Unreadable } from './store.ts';

export class MemorySessionStore implements SessionStore {
  readonly timing: Partial<StoreTiming>;
  readonly #sessions = new Map<string, string>();
  readonly #locks = new Map<string, { token: string; until: number }>();
  readonly #refs = new Map<string, number>();
  #fence = 0;

  constructor(options: Partial<StoreTiming> = {}) {
    this.timing = { ...options };
  }

  async get(key: string): Promise<string | undefined> {
    return this.#sessions.get(key);
  }

  /** Never holds an unreadable value: `expected` is an id or undefined. */
  async compareAndSet(key: string, expected: string | Unreadable | undefined, id: string, lock?: StoreLock): Promise<boolean> {
    if (lock && !this.#holds(key, lock.token)) return false;
    if (this.#sessions.get(key) !== expected) return false;
    this.#sessions.set(key, id);
    return true;
  }

  async compareAndDelete(key: string, expected: string): Promise<boolean> {
    if (this.#sessions.get(key) !== expected) return false;
    this.#sessions.delete(key);
    return true;
  }

  async lock(key: string, ttlMs: number): Promise<StoreLock | undefined> {
    const now = Date.now();
    const held = this.#locks.get(key);
    if (held && held.until > now) return undefined;
    const token = String(++this.#fence);
    this.#locks.set(key, { token, until: now + ttlMs });
    return {
      token,
      release: async () => {
        if (this.#holds(key, token)) this.#locks.delete(key);
      },
      extend: async (ms) => {
        if (!this.#holds(key, token)) return false;
        this.#locks.set(key, { token, until: Date.now() + ms });
        return true;
      },
    };
  }

  retain(key: string, id: string): void {
    const ref = `${key}\0${id}`;
    this.#refs.set(ref, (this.#refs.get(ref) ?? 0) + 1);
  }

  release(key: string, id: string): boolean {
    const ref = `${key}\0${id}`;
    const n = (this.#refs.get(ref) ?? 0) - 1;
    if (n > 0) {
      this.#refs.set(ref, n);
      return false;
    }
    this.#refs.delete(ref);
    return true;
  }

  #holds(key: string, token: string): boolean {
    const held = this.#locks.get(key);
    return held !== undefined && held.token === token && held.until > Date.now();
  }

  toJSON(): { store: string; sessions: number } {
    return { store: 'memory', sessions: this.#sessions.size };
  }

  [inspect.custom](): string {
    return `MemorySessionStore { sessions: ${this.#sessions.size} }`;
  }
}
