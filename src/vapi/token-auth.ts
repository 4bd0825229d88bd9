// The Authorization header that makes a vAPI session from a SAML token (POST /api/session or
// /rest/com/vmware/cis/session), as vCenter's vAPI endpoint takes it and govmomi's
// sts.Signer.SignRequest sends it: `SIGN token="<base64 of the gzipped assertion>"`; a
// holder-of-key token proves its key by signing the request (RSA-SHA256 over the nonce, the
// method, the path, the host, the port and the body's SHA-256), with the signature, the nonce
// and the body hash as further parameters. A bearer token is the token alone.
import { createHash, createPrivateKey, randomInt, sign } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { TokenError, type SamlToken } from '../session/token.ts';

/** A vCenter STS assertion is a few KB; a header past this is not one. */
const MAX_ASSERTION_CHARS = 256 * 1024;

export function tokenAuthorization(token: SamlToken, method: string, url: URL, body: string | Uint8Array = ''): string {
  if (typeof token?.assertion !== 'string' || !/^\s*<([\w.-]+:)?Assertion[\s>]/.test(token.assertion)) {
    throw new TokenError('the token is not a SAML assertion');
  }
  if (token.assertion.length > MAX_ASSERTION_CHARS) throw new TokenError('the SAML assertion is too large');
  const params: [string, string][] = [['token', gzipSync(Buffer.from(token.assertion, 'utf8')).toString('base64')]];
  if (token.privateKey !== undefined) {
    let key;
    try {
      key = createPrivateKey(token.privateKey);
    } catch {
      throw new TokenError('the holder-of-key token\'s privateKey is not a PEM private key');
    }
    if (key.asymmetricKeyType !== 'rsa') throw new TokenError('a holder-of-key token signs a vAPI login with an RSA key only (RSA-SHA256)');
    const nonce = `${Date.now()}:${randomInt(2 ** 47)}`;
    const bodyHash = createHash('sha256').update(body).digest();
    // No port in the URL: govmomi signs "80", the port vCenter's vAPI endpoint sees behind its
    // reverse proxy; the harness checks the same.
    const signed = Buffer.concat([
      Buffer.from(`${nonce}\n${method.toUpperCase()}\n${url.pathname}\n${url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase()}\n${url.port || '80'}\n`, 'utf8'),
      bodyHash,
      Buffer.from('\n'),
    ]);
    params.push(
      ['signature_alg', 'RSA-SHA256'],
      ['signature', sign('sha256', signed, key).toString('base64')],
      ['nonce', nonce],
      ['bodyhash', bodyHash.toString('base64')],
    );
  }
  return `SIGN ${params.map(([k, v]) => `${k}="${v}"`).join(', ')}`;
}
