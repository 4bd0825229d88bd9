import { afterEach, describe, expect, it, vi } from 'vitest';
import { CookieJar } from 'tough-cookie';
import { cookieJar, CookieHeaders } from '../../../src/transport/cookies.ts';

const SDK = new URL('https://vc.example.com/sdk');
const OTHER = new URL('https://vc.example.com/api/session');
const PLAIN = new URL('http://vc.example.com/sdk');

describe('CookieHeaders', () => {
  afterEach(() => vi.useRealTimers());

  it.each([['a counting jar', cookieJar], ['a plain jar', () => new CookieJar()]])('answers what %s answers, through every change', (_name, make) => {
    vi.useFakeTimers({ now: new Date('2026-11-29T12:00:00Z') });
    const jar = make();
    const headers = new CookieHeaders(jar);
    const same = (url: URL): void => expect(headers.for(url)).toBe(jar.getCookieStringSync(url));
    same(SDK);
    expect(headers.for(SDK)).toBe('');
    jar.setCookieSync('vmware_soap_session="abc"; Path=/; Secure; HttpOnly', SDK);
    same(SDK);
    expect(headers.for(SDK)).toBe('vmware_soap_session="abc"');
    same(PLAIN); // secure cookie: not on http
    jar.setCookieSync('vmware_soap_session="def"; Path=/; Secure; HttpOnly', SDK);
    same(SDK);
    jar.setCookieSync('sdk_only=1; Path=/sdk', SDK);
    same(SDK);
    same(OTHER);
    jar.setCookieSync('short=1; Path=/; Max-Age=5', SDK);
    same(SDK);
    expect(headers.for(SDK)).toContain('short=1');
    vi.advanceTimersByTime(6_000);
    expect(headers.for(SDK)).not.toContain('short=1');
    same(SDK);
    jar.setCookieSync('vmware_soap_session=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT', SDK);
    same(SDK);
    expect(headers.for(SDK)).toBe('sdk_only=1');
    jar.removeAllCookiesSync();
    expect(headers.for(SDK)).toBe('');
  });

  it('asks a counting jar only when it changed', () => {
    const jar = cookieJar();
    jar.setCookieSync('vmware_soap_session="abc"; Path=/', SDK);
    const headers = new CookieHeaders(jar);
    const lookups = vi.spyOn(jar, 'getCookiesSync');
    for (let i = 0; i < 5; i++) headers.for(SDK);
    expect(lookups).toHaveBeenCalledTimes(1);
    jar.setCookieSync('vmware_soap_session="def"; Path=/', SDK);
    expect(headers.for(SDK)).toBe('vmware_soap_session="def"');
    expect(lookups).toHaveBeenCalledTimes(2);
  });
});
