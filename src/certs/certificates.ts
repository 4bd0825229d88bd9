// Extension certificates with node-forge: creating a key pair and self-signed certificate for
// a solution user, loading PEM or PKCS#12, thumbprints in vSphere's form, and subject names.
// node-forge builds and converts; Node's own TLS does every handshake.
import { constants, generateKeyPairSync, privateEncrypt, X509Certificate } from 'node:crypto';
import { createRequire } from 'node:module';
import type Forge from 'node-forge';

// node-forge takes ~80 ms to load; only processes that handle certificates pay for it.
let forgeModule: typeof Forge | undefined;
const forge = (): typeof Forge => (forgeModule ??= createRequire(import.meta.url)('node-forge') as typeof Forge);

export interface ExtensionCertificateOptions {
  commonName: string;
  /** Validity in days from now (default 825). */
  days?: number;
  /** RSA key size, at least 2048 (default 2048). */
  keyBits?: number;
  organization?: string;
  organizationalUnit?: string;
}

export interface CertificateAndKey {
  /** PEM certificate. */
  cert: string;
  /** PEM private key (PKCS#8). A secret: never log it. */
  key: string;
}

export interface CertificateSource {
  cert?: string | Buffer | undefined;
  key?: string | Buffer | undefined;
  pfx?: string | Buffer | undefined;
  passphrase?: string | undefined;
}

/** A new RSA key and a self-signed SHA-256 certificate for an extension (solution) login. */
export function createExtensionCertificate(options: ExtensionCertificateOptions): CertificateAndKey {
  return extensionCertificateOn(options);
}

/** An RSA key pair in PEM: SPKI public key, PKCS#8 private key. */
export interface KeyPair {
  publicKey: string;
  privateKey: string;
}

/** A new RSA key pair of `bits`. */
export function rsaKeyPair(bits: number): KeyPair {
  return generateKeyPairSync('rsa', {
    modulusLength: bits,
    publicExponent: 0x10001,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

/**
 * createExtensionCertificate's certificate, on `keys` when given (`keyBits` then does not
 * apply). Not public API: the test fixtures give many certificates one key, since an RSA key
 * costs ~0.3 s of CPU to make.
 */
export function extensionCertificateOn(options: ExtensionCertificateOptions, keys?: KeyPair): CertificateAndKey {
  const { commonName, days = 825, keyBits = 2048 } = options;
  if (typeof commonName !== 'string' || commonName === '') throw new TypeError('createExtensionCertificate needs a commonName');
  if (!Number.isInteger(keyBits) || keyBits < 2048) throw new RangeError('keyBits must be an integer of at least 2048');
  if (!Number.isInteger(days) || days < 1) throw new RangeError('days must be a positive integer');
  // Conventional order, most general first: O, OU, CN (the string form reverses it).
  const subject: SubjectAttribute[] = [];
  if (options.organization) subject.push({ name: 'organizationName', value: options.organization });
  if (options.organizationalUnit) subject.push({ name: 'organizationalUnitName', value: options.organizationalUnit });
  subject.push({ name: 'commonName', value: commonName });
  return selfSignedCertificate(subject, [
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', clientAuth: true },
    { name: 'subjectKeyIdentifier' },
  ], days, keys ?? keyBits);
}

/** One attribute of a subject name, by forge's long or short name: `{ name: 'commonName', value }`, `{ shortName: 'CN', value }`. */
export type SubjectAttribute = { value: string } & ({ name: string } | { shortName: string });

/**
 * A self-signed SHA-256 certificate for `subject` with `extensions` (forge's forms), valid from
 * five minutes ago for `days`, on a new RSA key of `key` bits or on the key pair given. Not
 * public API (index.ts does not export it): the test fixtures make their certificates with it
 * too. Its signature names no forge type, so the declarations this file ships do not need
 * @types/node-forge.
 */
export function selfSignedCertificate(subject: SubjectAttribute[], extensions: object[], days: number, key: number | KeyPair = 2048): CertificateAndKey {
  const f = forge();
  // Node's crypto makes the key and the signature (forge signs in JavaScript: ~180 ms a
  // certificate); forge only builds the certificate around them.
  const keys = typeof key === 'number' ? rsaKeyPair(key) : key;
  const cert = f.pki.createCertificate();
  cert.publicKey = f.pki.publicKeyFromPem(keys.publicKey);
  // 16 random bytes, the first in 0x10..0x7f: positive (high bit clear) and with no leading zero
  // byte, which minimal DER would drop and strict parsers refuse; RFC 5280's maximum length.
  const serial = f.util.bytesToHex(f.random.getBytesSync(16));
  cert.serialNumber = ((parseInt(serial[0]!, 16) & 0x7) || 1).toString(16) + serial.slice(1);
  const now = new Date();
  cert.validity.notBefore = new Date(now.getTime() - 5 * 60_000);
  cert.validity.notAfter = new Date(now.getTime() + days * 86_400_000);
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions(extensions);
  cert.sign(nativeSigner(keys.privateKey), f.md.sha256.create());
  return { cert: f.pki.certificateToPem(cert), key: keys.privateKey };
}

// RFC 8017 §9.2, note 1: the DER of DigestInfo { sha256, NULL } up to the 32-byte digest.
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');

/** What forge's certificate.sign asks of a key: an RSASSA-PKCS1-v1_5 signature of the digest it computed. */
function nativeSigner(privateKeyPem: string): Forge.pki.rsa.PrivateKey {
  const sign = (md: Forge.md.MessageDigest): string => {
    if (md.algorithm !== 'sha256') throw new TypeError(`cannot sign a ${md.algorithm} digest`);
    const digest = Buffer.from(md.digest().getBytes(), 'binary');
    return privateEncrypt({ key: privateKeyPem, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([SHA256_DIGEST_INFO, digest])).toString('binary');
  };
  return { sign } as unknown as Forge.pki.rsa.PrivateKey;
}

/** PEM certificate and key from PEM inputs or a PKCS#12 bundle (pfx + passphrase). */
export function loadCertificate(source: CertificateSource): CertificateAndKey {
  const f = forge();
  if (source.pfx !== undefined) {
    const der = Buffer.isBuffer(source.pfx) ? source.pfx.toString('binary') : f.util.decode64(source.pfx);
    let p12: Forge.pkcs12.Pkcs12Pfx;
    try {
      p12 = f.pkcs12.pkcs12FromAsn1(f.asn1.fromDer(der), source.passphrase ?? '');
    } catch {
      throw new TypeError('pfx could not be read (not PKCS#12, or a wrong passphrase)');
    }
    const certBag = p12.getBags({ bagType: f.pki.oids.certBag! })[f.pki.oids.certBag!]?.[0];
    const keyBag = p12.getBags({ bagType: f.pki.oids.pkcs8ShroudedKeyBag! })[f.pki.oids.pkcs8ShroudedKeyBag!]?.[0]
      ?? p12.getBags({ bagType: f.pki.oids.keyBag! })[f.pki.oids.keyBag!]?.[0];
    if (!certBag?.cert || !keyBag?.key) throw new TypeError('pfx holds no certificate and private key');
    const key = f.pki.privateKeyInfoToPem(f.pki.wrapRsaPrivateKey(f.pki.privateKeyToAsn1(keyBag.key as Forge.pki.rsa.PrivateKey)));
    return { cert: f.pki.certificateToPem(certBag.cert), key };
  }
  if (source.cert === undefined || source.key === undefined) throw new TypeError('give cert and key (PEM), or pfx');
  const cert = source.cert.toString();
  const key = source.key.toString();
  try {
    f.pki.certificateFromPem(cert);
  } catch {
    throw new TypeError('cert is not a PEM certificate');
  }
  if (!/-----BEGIN (RSA |EC |ENCRYPTED )?PRIVATE KEY-----/.test(key)) throw new TypeError('key is not a PEM private key');
  return { cert, key };
}

/** vSphere's thumbprint form: colon-separated upper-case hex of the DER certificate's digest. */
export function thumbprint(cert: string | Buffer, algorithm: 'sha1' | 'sha256' = 'sha1'): string {
  const x509 = new X509Certificate(cert);
  return algorithm === 'sha1' ? x509.fingerprint : x509.fingerprint256;
}

const SHORT_NAMES: Record<string, string> = {
  commonName: 'CN', organizationalUnitName: 'OU', organizationName: 'O', localityName: 'L',
  stateOrProvinceName: 'ST', countryName: 'C', emailAddress: 'emailAddress', domainComponent: 'DC',
};

/** RFC 4514 escaping of an attribute value. */
function escapeDnValue(value: string): string {
  return value
    .replace(/[\\,+"<>;]/g, (c) => `\\${c}`)
    .replace(/^[#\s]/, (c) => `\\${c}`)
    .replace(/\s$/, (c) => `\\${c}`);
}

/**
 * The certificate's subject as vCenter compares it with Extension.subjectName: the RFC 4514
 * string, most specific RDN first (e.g. `CN=my-extension,OU=Solutions,O=Example`).
 */
export function subjectName(cert: string | Buffer): string {
  const parsed = forge().pki.certificateFromPem(cert.toString());
  return parsed.subject.attributes
    .map((a) => `${SHORT_NAMES[a.name ?? ''] ?? a.shortName ?? a.type}=${escapeDnValue(String(a.value))}`)
    .reverse()
    .join(',');
}
