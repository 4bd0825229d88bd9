// Server URLs as the client reads them: the SDK endpoint a caller names, made canonical once at
// connect, and what a URL's host says (its bare name; whether it is this machine).

/**
 * The SDK endpoint `url` names: http(s) only, no credentials (they go to login()), `/sdk` when
 * it has no path, without query, fragment or trailing slashes. A TypeError for anything else.
 */
export function normalizeSdkUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TypeError(`not a URL: ${url}`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new TypeError(`expected an https:// URL, got ${u.protocol}`);
  if (u.username || u.password) throw new TypeError('put credentials in login(), not in the URL');
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/sdk';
  u.search = '';
  u.hash = '';
  return u.href.replace(/\/+$/, '');
}

/** The host name of `url` as a socket or a certificate names it: an IPv6 address without its brackets. */
export function urlHostname(url: string): string {
  return new URL(url).hostname.replace(/^\[|\]$/g, '');
}

/** Whether a server URL names this host (a loopback address or localhost). */
export function isLoopbackUrl(url: string): boolean {
  const host = urlHostname(url).toLowerCase();
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === '::ffff:127.0.0.1';
}
