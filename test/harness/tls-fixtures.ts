// Certificates and keys for tests: the local TLS servers some tests run beside the harness, and
// the client and extension certificates tests log in with. An RSA key pair costs ~0.3 s of CPU
// (a random prime search, far longer on a busy machine), so keys and certificates are made once
// per machine and kept under node_modules/.cache, certificates renewed when they have less than a
// day left. The certificates share one key unless a test names another (`key`): what tells them
// apart is their subject and thumbprint, and a fresh clone (CI) would otherwise make ~26 keys,
// ~8 s of CPU. The tests of createExtensionCertificate itself call it directly.
import { createHash, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { extensionCertificateOn, rsaKeyPair, selfSignedCertificate, type CertificateAndKey, type ExtensionCertificateOptions, type KeyPair } from '../../src/certs/certificates.ts';

const CACHE = fileURLToPath(new URL('../../node_modules/.cache/vim25-test-certificates/', import.meta.url));
const DAY_MS = 86_400_000;
/** How long the fixtures' own certificates are valid; the cache renews them a day before. */
const DAYS = 30;
/** The key certificates share unless a test names another. */
const SHARED = 'shared';

/** What `make` made for `what` on this machine (while `fresh` accepts it), or a new one. */
function cached<T>(what: unknown, make: () => T, fresh: (kept: T) => boolean = () => true): T {
  const file = `${CACHE}${createHash('sha256').update(JSON.stringify(what)).digest('hex').slice(0, 32)}.json`;
  try {
    const kept = JSON.parse(readFileSync(file, 'utf8')) as T;
    if (fresh(kept)) return kept;
  } catch {
    // Not made yet (or unreadable): made below.
  }
  const made = make();
  mkdirSync(CACHE, { recursive: true });
  // Written aside and renamed: test files making the same one at once each leave a whole file.
  const tmp = `${file}.${process.pid}-${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, JSON.stringify(made), { mode: 0o600 });
  renameSync(tmp, file);
  return made;
}

const certificate = (what: unknown, make: () => CertificateAndKey): CertificateAndKey =>
  cached(what, make, (kept) => Date.parse(new X509Certificate(kept.cert).validTo) - Date.now() > DAY_MS);

/** The fixtures' RSA key called `name` (2048 bits, as TLS and vSphere want). */
function fixtureKey(name: string): KeyPair {
  return cached({ key: name }, () => rsaKeyPair(2048));
}

/** A self-signed server certificate for 127.0.0.1 (PEM certificate and key). */
export function loopbackServerCertificate(commonName = 'localhost'): CertificateAndKey {
  return certificate({ loopback: commonName }, () => selfSignedCertificate([{ name: 'commonName', value: commonName }], [
    { name: 'basicConstraints', cA: true },
    { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
  ], DAYS, fixtureKey(SHARED)));
}

/** A self-signed client certificate, subject attributes in the order given (DER order), on the key named `key`. */
export function clientCertificate(subject: { shortName: string; value: string }[], key = SHARED): CertificateAndKey & { sha1: string } {
  const pair = certificate({ client: subject, key }, () => selfSignedCertificate(subject, [{ name: 'extKeyUsage', clientAuth: true }], DAYS, fixtureKey(key)));
  return { ...pair, sha1: new X509Certificate(pair.cert).fingerprint };
}

/** createExtensionCertificate's certificate for these options, on the key named `key`, made once per machine. */
export function extensionCertificate(options: ExtensionCertificateOptions, key = SHARED): CertificateAndKey {
  return certificate({ extension: options, key }, () => extensionCertificateOn(options, fixtureKey(key)));
}
