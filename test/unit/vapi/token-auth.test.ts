// The SIGN Authorization header a SAML token makes a vAPI session with: the gzipped token for a
// bearer token; for a holder-of-key token, an RSA-SHA256 signature over the request (govmomi's
// sts.Signer.SignRequest), checked here with node:crypto's verify and the certificate's key.
import { createHash, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { TokenError } from '../../../src/session/token.ts';
import { tokenAuthorization } from '../../../src/vapi/token-auth.ts';

const ASSERTION = '<saml2:Assertion xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a1"><saml2:Subject><saml2:NameID>u@x</saml2:NameID></saml2:Subject></saml2:Assertion>';
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privateKey = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;

function params(header: string): Record<string, string> {
  expect(header.startsWith('SIGN ')).toBe(true);
  return Object.fromEntries(header.slice(5).split(', ').map((p) => {
    const m = /^(\w+)="([^"]*)"$/.exec(p);
    expect(m, p).not.toBeNull();
    return [m![1]!, m![2]!];
  }));
}

describe('tokenAuthorization', () => {
  it('bearer: the token alone, gzipped and base64', () => {
    const p = params(tokenAuthorization({ assertion: ASSERTION }, 'POST', new URL('https://vc.example.com/api/session')));
    expect(Object.keys(p)).toEqual(['token']);
    expect(gunzipSync(Buffer.from(p.token!, 'base64')).toString('utf8')).toBe(ASSERTION);
  });

  it('holder-of-key: signs nonce, method, path, host, port and the body hash with the token\'s key', () => {
    const body = '{"x":1}';
    const p = params(tokenAuthorization({ assertion: ASSERTION, privateKey }, 'post', new URL('https://VC.Example.com:8443/api/session?q=1'), body));
    expect(Object.keys(p)).toEqual(['token', 'signature_alg', 'signature', 'nonce', 'bodyhash']);
    expect(p.signature_alg).toBe('RSA-SHA256');
    expect(p.nonce).toMatch(/^\d+:\d+$/);
    const hash = createHash('sha256').update(body).digest();
    expect(p.bodyhash).toBe(hash.toString('base64'));
    const signed = Buffer.concat([Buffer.from(`${p.nonce}\nPOST\n/api/session\nvc.example.com\n8443\n`), hash, Buffer.from('\n')]);
    expect(verify('sha256', signed, createPublicKey(privateKey), Buffer.from(p.signature!, 'base64'))).toBe(true);
    // Another path, host or port does not verify.
    const other = Buffer.concat([Buffer.from(`${p.nonce}\nPOST\n/api/other\nvc.example.com\n8443\n`), hash, Buffer.from('\n')]);
    expect(verify('sha256', other, createPublicKey(privateKey), Buffer.from(p.signature!, 'base64'))).toBe(false);
  });

  it('signs port 80 when the URL has none (as govmomi), an IPv6 host without brackets, an empty body\'s hash', () => {
    for (const [url, host, port] of [['https://vc.example.com/api/session', 'vc.example.com', '80'], ['https://[::1]:9443/api/session', '::1', '9443']] as const) {
      const p = params(tokenAuthorization({ assertion: ASSERTION, privateKey }, 'POST', new URL(url)));
      const hash = createHash('sha256').update('').digest();
      expect(p.bodyhash).toBe(hash.toString('base64'));
      const signed = Buffer.concat([Buffer.from(`${p.nonce}\nPOST\n/api/session\n${host}\n${port}\n`), hash, Buffer.from('\n')]);
      expect(verify('sha256', signed, createPublicKey(privateKey), Buffer.from(p.signature!, 'base64'))).toBe(true);
    }
  });

  it('a fresh nonce for every request', () => {
    const nonce = () => params(tokenAuthorization({ assertion: ASSERTION, privateKey }, 'POST', new URL('https://h/api/session'))).nonce;
    expect(new Set(Array.from({ length: 20 }, nonce)).size).toBe(20);
  });

  it('never carries the private key', () => {
    const header = tokenAuthorization({ assertion: ASSERTION, privateKey }, 'POST', new URL('https://h/api/session'));
    const der = rsa.privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64');
    expect(header).not.toContain(der.slice(40, 80));
    expect(header).not.toContain('PRIVATE KEY');
  });

  it('refuses what is not an assertion, a key that is not a PEM key, a key that is not RSA, an oversized token', () => {
    const url = new URL('https://h/api/session');
    expect(() => tokenAuthorization({ assertion: '<nope/>' }, 'POST', url)).toThrow(TokenError);
    expect(() => tokenAuthorization({ assertion: undefined as unknown as string }, 'POST', url)).toThrow(TokenError);
    expect(() => tokenAuthorization({ assertion: ASSERTION, privateKey: 'not a key' }, 'POST', url)).toThrow(/PEM private key/);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    expect(() => tokenAuthorization({ assertion: ASSERTION, privateKey: ec }, 'POST', url)).toThrow(/RSA key only/);
    const big = ASSERTION.replace('u@x', 'u'.repeat(300 * 1024));
    expect(() => tokenAuthorization({ assertion: big }, 'POST', url)).toThrow(/too large/);
  });

  it('the error for a bad key does not echo it', () => {
    const secret = '-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n-----END PRIVATE KEY-----';
    const err = (() => {
      try {
        tokenAuthorization({ assertion: ASSERTION, privateKey: secret }, 'POST', new URL('https://h/api/session'));
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(TokenError);
    expect(err!.message).not.toContain('c2VjcmV0');
  });
});
