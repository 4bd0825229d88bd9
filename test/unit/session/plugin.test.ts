import { describe, expect, it } from 'vitest';
import { cleanUiApiEndpoint, hostAllowed, PluginSessionError } from '../../../src/session/plugin.ts';

const reason = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    if (err instanceof PluginSessionError) return err.reason;
    throw err;
  }
  return 'none';
};

describe('cleanUiApiEndpoint', () => {
  it('drops query and fragment, keeps scheme, host, port and path', () => {
    expect(`${cleanUiApiEndpoint('https://vc.example.com/api/ui?x=1#f', false).href}/vcenter/session/clone-ticket`).toBe('https://vc.example.com/api/ui/vcenter/session/clone-ticket');
    expect(cleanUiApiEndpoint({ fullUrl: 'https://vc.example.com:8443/ui/api/?a=b' }, false).href).toBe('https://vc.example.com:8443/ui/api');
  });

  it('refuses http unless allowed, non-URLs and credentials', () => {
    expect(reason(() => cleanUiApiEndpoint('http://vc/api/ui', false))).toBe('insecureEndpoint');
    expect(cleanUiApiEndpoint('http://vc/api/ui', true).protocol).toBe('http:');
    expect(reason(() => cleanUiApiEndpoint('file:///etc/passwd', true))).toBe('insecureEndpoint');
    expect(reason(() => cleanUiApiEndpoint('not a url', false))).toBe('invalidEndpoint');
    expect(reason(() => cleanUiApiEndpoint({} as { fullUrl: string }, false))).toBe('invalidEndpoint');
    expect(reason(() => cleanUiApiEndpoint('https://u:p@vc/api/ui', false))).toBe('invalidEndpoint');
  });
});

describe('hostAllowed', () => {
  const url = (s: string) => new URL(s);
  it('compares host names case-insensitively and ports when the entry has one', () => {
    expect(hostAllowed(url('https://VC.example.com/api/ui'), ['vc.example.com'])).toBe(true);
    expect(hostAllowed(url('https://vc.example.com:8443/api/ui'), ['vc.example.com'])).toBe(true);
    expect(hostAllowed(url('https://vc.example.com:8443/api/ui'), ['vc.example.com:443'])).toBe(false);
    expect(hostAllowed(url('https://vc.example.com/api/ui'), ['vc.example.com:443'])).toBe(true);
    expect(hostAllowed(url('https://evil.example.com/api/ui'), ['vc.example.com'])).toBe(false);
    expect(hostAllowed(url('https://vc.example.com.evil.net/api/ui'), ['vc.example.com'])).toBe(false);
    expect(hostAllowed(url('https://127.0.0.1:4443/api/ui'), ['127.0.0.1:4443'])).toBe(true);
  });
});
