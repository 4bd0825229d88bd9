// The session is the `vmware_soap_session` cookie. vCenter quotes its value; ids have no fixed
// format or length. On the VI/JSON wire the same id travels in the vmware-api-session-id header,
// which that wire reads from and stores into this cookie, so the jar stays the one place.
import type { CookieJar } from 'tough-cookie';

export const SESSION_COOKIE = 'vmware_soap_session';

/** The `vmware_soap_session` value the jar holds for `url`, without the quotes vCenter puts around it. */
export function sessionIdIn(jar: CookieJar, url: string): string | undefined {
  return jar.getCookiesSync(url).find((c) => c.key === SESSION_COOKIE)?.value.replace(/^"(.*)"$/, '$1');
}

/** Makes `id` the session a jar sends to `url` (quoted, as vCenter sets it). */
export function setSessionCookie(jar: CookieJar, url: string, id: string): void {
  jar.setCookieSync(`${SESSION_COOKIE}="${id}"; Path=/`, url);
}

/** Expires the session cookie under whatever path the server set it. */
export function clearSessionCookie(jar: CookieJar, url: string): void {
  for (const c of jar.getCookiesSync(url)) {
    if (c.key === SESSION_COOKIE) jar.setCookieSync(`${SESSION_COOKIE}=; Path=${c.path ?? '/'}; Expires=Thu, 01 Jan 1970 00:00:00 GMT`, url);
  }
}
