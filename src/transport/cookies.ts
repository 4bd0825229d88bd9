// The Cookie header of a request without a jar lookup per call. tough-cookie's lookup (public
// suffix and domain matching) was ~8% of the client's CPU under load (issue 9), for an answer
// that changes only when the jar does or when a cookie expires. Jars made by cookieJar() count
// their store's changes; the header is cached per URL until the next change or expiry. Other
// jars are asked every time.
import { createRequire } from 'node:module';
import { inspect } from 'node:util';
import type * as ToughCookie from 'tough-cookie';
import type { CookieJar, MemoryCookieStore, SerializedCookieJar } from 'tough-cookie';

// tough-cookie's CommonJS build, through require(): its ES build imports tldts, a CommonJS
// package, and Node's translation of tldts for an ES import (a lexer pass over its source, a
// module namespace per export) cost every process ~12 ms and ~2 MB at start. This is the only
// module that loads tough-cookie; the rest of the library imports its types only.
const tough = createRequire(import.meta.url)('tough-cookie') as typeof ToughCookie;

const MUTATORS = ['putCookie', 'updateCookie', 'removeCookie', 'removeCookies', 'removeAllCookies'] as const;

interface CountingStore extends MemoryCookieStore {
  changes: number;
}

/**
 * The jar holds the session cookie, a bearer credential: JSON.stringify and inspect() of it show
 * which cookies it holds, never their values. serializeSync() still gives everything, for a
 * caller who asks for it on purpose (to persist a session).
 */
class ClientCookieJar extends tough.CookieJar {
  override toJSON(): SerializedCookieJar | undefined {
    const all = this.serializeSync();
    return all && { ...all, cookies: all.cookies.map((c) => ({ ...c, value: '[redacted]' })) };
  }

  [inspect.custom](): string {
    const keys = (this.serializeSync()?.cookies ?? []).map((c) => String(c.key));
    return `CookieJar { cookies: [${keys.join(', ')}], values hidden }`;
  }
}

/** A cookie jar whose store counts every change, so CookieHeaders can cache what it answers. */
export function cookieJar(): CookieJar {
  const store = new tough.MemoryCookieStore() as CountingStore;
  store.changes = 0;
  for (const name of MUTATORS) {
    const original = (store[name] as (...args: unknown[]) => unknown).bind(store);
    (store as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      store.changes++;
      return original(...args);
    };
  }
  return new ClientCookieJar(store);
}

export class CookieHeaders {
  #cached: { href: string; changes: number; until: number; header: string } | undefined;

  constructor(private readonly jar: CookieJar) {}

  /** What the jar would answer with getCookieStringSync(url). */
  for(url: URL): string {
    const store = this.jar.store as Partial<CountingStore>;
    if (typeof store.changes !== 'number') return this.jar.getCookieStringSync(url);
    const c = this.#cached;
    if (c && c.href === url.href && c.changes === store.changes && Date.now() < c.until) return c.header;
    // As getCookieStringSync does it, keeping the cookies to learn when the first one expires.
    const cookies = this.jar.getCookiesSync(url, { sort: true });
    const header = cookies.map((cookie) => cookie.cookieString()).join('; ');
    let until = Infinity;
    for (const cookie of cookies) until = Math.min(until, cookie.expiryTime() ?? Infinity);
    this.#cached = { href: url.href, changes: store.changes, until, header };
    return header;
  }
}
