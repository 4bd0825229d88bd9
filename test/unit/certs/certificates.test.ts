import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { describe, expect, it } from 'vitest';
import { createExtensionCertificate, loadCertificate, subjectName, thumbprint } from '../../../src/certs/certificates.ts';
import { extensionCertificate } from '../../harness/tls-fixtures.ts';

const pair = createExtensionCertificate({ commonName: 'com.example.ext', organizationalUnit: 'Solutions', organization: 'Example', days: 30 });

describe('createExtensionCertificate', () => {
  it('makes a 2048-bit RSA key and a valid self-signed SHA-256 certificate', () => {
    const x = new X509Certificate(pair.cert);
    expect(x.subject).toBe('O=Example\nOU=Solutions\nCN=com.example.ext');
    expect(x.verify(x.publicKey)).toBe(true);
    expect(x.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(x.checkPrivateKey(createPrivateKey(pair.key))).toBe(true);
    const parsed = forge.pki.certificateFromPem(pair.cert);
    expect(parsed.siginfo.algorithmOid).toBe(forge.pki.oids.sha256WithRSAEncryption);
    expect(parseInt(x.serialNumber[0]!, 16)).toBeLessThan(8); // positive
    expect(x.serialNumber.length).toBeGreaterThanOrEqual(30);
    const days = (new Date(x.validTo).getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29);
    expect(days).toBeLessThan(31);
    expect(new Date(x.validFrom).getTime()).toBeLessThanOrEqual(Date.now());
    expect(x.keyUsage).toContain('1.3.6.1.5.5.7.3.2'); // clientAuth
  });

  it('refuses weak keys and missing names', () => {
    expect(() => createExtensionCertificate({ commonName: 'x', keyBits: 1024 })).toThrow(RangeError);
    expect(() => createExtensionCertificate({ commonName: '' })).toThrow(TypeError);
  });
});

describe('thumbprint and subjectName', () => {
  it('gives colon-separated upper-case SHA-1 and SHA-256 of the DER certificate', () => {
    const der = new X509Certificate(pair.cert).raw;
    const expected = (alg: string) => createHash(alg).update(der).digest('hex').toUpperCase().match(/../g)!.join(':');
    expect(thumbprint(pair.cert)).toBe(expected('sha1'));
    expect(thumbprint(pair.cert, 'sha256')).toBe(expected('sha256'));
    expect(thumbprint(der, 'sha1')).toBe(expected('sha1'));
  });

  it('gives the RFC 4514 subject, most specific first, escaped', () => {
    expect(subjectName(pair.cert)).toBe('CN=com.example.ext,OU=Solutions,O=Example');
    // Made by createExtensionCertificate once per machine (an RSA key each time costs 0.1–0.5 s).
    const odd = extensionCertificate({ commonName: 'a,b+c', organization: ' Acme "Inc"' });
    expect(subjectName(odd.cert)).toBe('CN=a\\,b\\+c,O=\\ Acme \\"Inc\\"');
  });
});

describe('loadCertificate', () => {
  const p12 = (password: string) => {
    const asn1 = forge.pkcs12.toPkcs12Asn1(forge.pki.privateKeyFromPem(pair.key), [forge.pki.certificateFromPem(pair.cert)], password, { algorithm: '3des' });
    return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
  };

  it('reads PKCS#12 with its passphrase', () => {
    const loaded = loadCertificate({ pfx: p12('s3cret'), passphrase: 's3cret' });
    expect(thumbprint(loaded.cert)).toBe(thumbprint(pair.cert));
    expect(new X509Certificate(loaded.cert).checkPrivateKey(createPrivateKey(loaded.key))).toBe(true);
  });

  it('fails clearly on a wrong passphrase without echoing it', () => {
    let message = '';
    try {
      loadCertificate({ pfx: p12('s3cret'), passphrase: 'wrong-pass' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/pfx could not be read/);
    expect(message).not.toContain('wrong-pass');
  });

  it('checks PEM inputs', () => {
    expect(loadCertificate({ cert: pair.cert, key: pair.key }).cert).toBe(pair.cert);
    expect(() => loadCertificate({ cert: 'nope', key: pair.key })).toThrow(/not a PEM certificate/);
    expect(() => loadCertificate({ cert: pair.cert })).toThrow(/give cert and key/);
  });
});
