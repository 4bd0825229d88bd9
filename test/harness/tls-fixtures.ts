// Certificates for the small local TLS servers some tests run beside the harness.
import forge from 'node-forge';

const made = new Map<string, { cert: string; key: string }>();

/** A self-signed server certificate for 127.0.0.1 (PEM certificate and key); one per name and process (each costs ~0.3 s of CPU). */
export function loopbackServerCertificate(commonName = 'localhost'): { cert: string; key: string } {
  let pair = made.get(commonName);
  if (!pair) made.set(commonName, (pair = create(commonName)));
  return pair;
}

function create(commonName: string): { cert: string; key: string } {
  const keys = forge.pki.rsa.generateKeyPair(2048);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 86_400_000);
  const attrs = [{ name: 'commonName', value: commonName }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([{ name: 'basicConstraints', cA: true }, { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(keys.privateKey) };
}
