// The WS-Security header of LoginByToken: a bearer assertion carried as issued, and for a
// holder-of-key token a signature that a verifier holding only the certificate accepts, over
// exactly the Timestamp and the Body.
import { SignedXml } from 'xml-crypto';
import { describe, expect, it } from 'vitest';
import { requestEnvelope } from '../../../src/soap/envelope.ts';
import { TokenError, tokenHeader, type SamlToken } from '../../../src/session/token.ts';
import { extensionCertificate } from '../../harness/tls-fixtures.ts';

const ASSERTION = '<saml2:Assertion xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion" ID="_4a1b" Version="2.0">'
  + '<saml2:Issuer>https://vc.example.com/sts</saml2:Issuer><saml2:Subject><saml2:NameID>u@vsphere.local</saml2:NameID></saml2:Subject></saml2:Assertion>';
const TIMESTAMP = /^<wsu:Timestamp wsu:Id="(_[0-9a-f-]{36})"><wsu:Created>([^<]+)<\/wsu:Created><wsu:Expires>([^<]+)<\/wsu:Expires><\/wsu:Timestamp>/;
const pair = extensionCertificate({ commonName: 'hok-user' });

/** Verifies as a server does: the signature by the certificate alone, every reference by its digest. */
function verify(xml: string): { valid: boolean; uris: (string | undefined)[] } {
  const sig = new SignedXml({ publicCert: pair.cert, idMode: 'wssecurity', getCertFromKeyInfo: () => null });
  sig.loadSignature(/<ds:Signature[\s\S]*<\/ds:Signature>/.exec(xml)![0]);
  let valid: boolean;
  try {
    valid = sig.checkSignature(xml);
  } catch {
    valid = false;
  }
  return { valid, uris: sig.getReferences().map((r) => r.uri) };
}

describe('tokenHeader', () => {
  it('bearer: a Timestamp valid for 10 minutes, then the assertion as issued, and nothing to sign', async () => {
    const before = Date.now();
    const header = await tokenHeader({ assertion: ASSERTION });
    expect(header).toEqual({ security: expect.any(String) });
    const security = header.security ?? '';
    const [stamp, id, created, expires] = TIMESTAMP.exec(security)!;
    expect(security.slice(stamp.length)).toBe(ASSERTION);
    expect(Date.parse(created!)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(created!)).toBeLessThanOrEqual(Date.now());
    expect(Date.parse(expires!) - Date.parse(created!)).toBe(600_000);
    expect((await tokenHeader({ assertion: ASSERTION })).security).not.toContain(id);
  });

  it.each([
    ['no assertion', undefined],
    ['an assertion that is not a string', { assertion: 42 }],
    ['an assertion without an ID', { assertion: '<saml2:Assertion xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion">SECRET-1</saml2:Assertion>' }],
    ['a document without an assertion', { assertion: '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_r">SECRET-2</samlp:Response>' }],
    ['malformed XML', { assertion: '<saml2:Assertion ID="_x">SECRET-3</saml2:Subject>' }],
  ])('refuses %s with a TokenError that does not repeat it', async (_what, token) => {
    const err = await tokenHeader(token as SamlToken).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokenError);
    expect((err as Error).message).not.toMatch(/SECRET/);
  });

  it('holder-of-key: signs the Timestamp and the Body with the token\'s key, naming the assertion, never carrying the key', async () => {
    const header = await tokenHeader({ assertion: ASSERTION, privateKey: pair.key, certificate: pair.cert });
    expect(header.bodyId).toMatch(/^_[0-9a-f-]{36}$/);
    const xml = requestEnvelope('LoginByToken', '<_this type="SessionManager">SessionManager</_this>', header);
    const tsId = TIMESTAMP.exec(header.security ?? '')![1];
    // Each reference's digest checked against the element carrying that wsu:Id: the Timestamp and the Body themselves.
    expect(verify(xml)).toEqual({ valid: true, uris: [`#${tsId}`, `#${header.bodyId}`] });
    expect(xml).toContain('<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>');
    expect(xml).toMatch(/<wsse:KeyIdentifier ValueType="[^"]+#SAMLID">_4a1b<\/wsse:KeyIdentifier><\/wsse:SecurityTokenReference><\/ds:KeyInfo><\/ds:Signature><\/wsse:Security>/);
    const keyLine = pair.key.split('\n').find((l) => l.length > 40)!;
    expect(xml).not.toContain(keyLine);
    expect(JSON.stringify(header)).not.toContain(keyLine);
  });
});
