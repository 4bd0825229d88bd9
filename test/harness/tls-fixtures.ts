// Certificates and keys for tests: the local TLS servers some tests run beside the harness, and
// the client and extension certificates tests log in with. An RSA key pair costs 0.1–0.5 s of
// CPU (a random prime search, far longer on a busy machine; the whole suite spent ~20 s on it),
// so each certificate is made once per machine and name and kept under node_modules/.cache,
// renewed when it has less than a day left. The tests of createExtensionCertificate itself call
// it directly.
import { createHash, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createExtensionCertificate, selfSignedCertificate, type CertificateAndKey, type ExtensionCertificateOptions } from '../../src/certs/certificates.ts';

const CACHE = fileURLToPath(new URL('../../node_modules/.cache/vim25-test-certificates/', import.meta.url));
const DAY_MS = 86_400_000;
/** How long the fixtures' own certificates are valid; the cache renews them a day before. */
const DAYS = 30;

/** The certificate `make` made for `what` on this machine, or a new one. */
function cached(what: unknown, make: () => CertificateAndKey): CertificateAndKey {
  const file = `${CACHE}${createHash('sha256').update(JSON.stringify(what)).digest('hex').slice(0, 32)}.json`;
  try {
    const kept = JSON.parse(readFileSync(file, 'utf8')) as CertificateAndKey;
    if (Date.parse(new X509Certificate(kept.cert).validTo) - Date.now() > DAY_MS) return kept;
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

/** A self-signed server certificate for 127.0.0.1 (PEM certificate and key). */
export function loopbackServerCertificate(commonName = 'localhost'): CertificateAndKey {
  return cached({ loopback: commonName }, () => selfSignedCertificate([{ name: 'commonName', value: commonName }], [
    { name: 'basicConstraints', cA: true },
    { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
  ], DAYS));
}

/** A self-signed client certificate, subject attributes in the order given (DER order). */
export function clientCertificate(subject: { shortName: string; value: string }[]): CertificateAndKey & { sha1: string } {
  const pair = cached({ client: subject }, () => selfSignedCertificate(subject, [{ name: 'extKeyUsage', clientAuth: true }], DAYS));
  return { ...pair, sha1: new X509Certificate(pair.cert).fingerprint };
}

/** createExtensionCertificate's certificate for these options, made once per machine. */
export function extensionCertificate(options: ExtensionCertificateOptions): CertificateAndKey {
  return cached({ extension: options }, () => createExtensionCertificate(options));
}
