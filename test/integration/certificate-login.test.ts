// Extension logins with a client certificate, through the sdkTunnel with the server verified.
import net from 'node:net';
import tls from 'node:tls';
import forge from 'node-forge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataObject, isVimFault, subjectName, TransportError, VimClient } from 'vim25-soap';
import { bundleIfPresent } from '../../scripts/lib/paths.ts';
import { Harness, harnessStats } from '../harness/vcsim.ts';
import { SI, withBundle } from '../fixtures.ts';
import { extensionCertificate } from '../harness/tls-fixtures.ts';

const KEY = 'com.example.vim25soap';
const SUBJECT_KEY = 'com.example.vim25soap.subject';
const ext = extensionCertificate({ commonName: KEY, organizationalUnit: 'Solutions', organization: 'Example' });
const other = extensionCertificate({ commonName: 'someone-else' });
let h: Harness;
let admin: VimClient;

async function connect(tls: Record<string, unknown> = {}): Promise<VimClient> {
  return VimClient.connect(h.info.url, { tls: { ca: h.ca, ...tls }, ...withBundle(), tunnel: { proxyPort: h.info.tunnelPort } });
}

beforeAll(async () => {
  h = await Harness.start({ wsdlDir: bundleIfPresent() });
  admin = await connect();
  await admin.login({ username: h.info.username, password: h.info.password });
  const em = admin.serviceContent.extensionManager!;
  const description = dataObject('Description', { label: 'vim25-soap test', summary: 'extension login test' });
  await admin.call('RegisterExtension', em, { extension: dataObject('Extension', { key: KEY, version: '1.0', description, lastHeartbeatTime: new Date() }) });
  await admin.call('SetExtensionCertificate', em, { extensionKey: KEY, certificatePem: ext.cert });
  await admin.call('RegisterExtension', em, { extension: dataObject('Extension', { key: SUBJECT_KEY, version: '1.0', description, subjectName: subjectName(ext.cert), lastHeartbeatTime: new Date() }) });
});
afterAll(async () => {
  await admin?.close();
  await h?.stop();
});

describe('loginByCertificate on vCenter (through the sdkTunnel)', () => {
  it('logs in over mutual TLS in the tunnel, then uses the normal connection with the session', async () => {
    const before = await harnessStats(h.info);
    const c = await connect();
    const session = await c.loginByCertificate({ extensionKey: KEY, cert: ext.cert, key: ext.key });
    expect(session.userName).toBe(KEY);
    expect(c.sessionId).toBeTruthy();
    expect(await c.call('CurrentTime', SI)).toBeInstanceOf(Date);
    const after = await harnessStats(h.info);
    // A probe handshake without the certificate, then the login itself.
    expect(after.tunnels - before.tunnels).toBe(2);
    expect((after.methods.LoginExtensionByCertificate ?? 0) - (before.methods.LoginExtensionByCertificate ?? 0)).toBe(1);
    expect((after.methods.CurrentTime ?? 0) - (before.methods.CurrentTime ?? 0)).toBe(1);
    await c.close();
  });

  it('accepts PKCS#12 via loadCertificate and re-authenticates with the certificate', async () => {
    const pfx = Buffer.from(forge.asn1.toDer(forge.pkcs12.toPkcs12Asn1(forge.pki.privateKeyFromPem(ext.key), [forge.pki.certificateFromPem(ext.cert)], 'p12-pass', { algorithm: '3des' })).getBytes(), 'binary');
    const c = await connect();
    await c.loginByCertificate({ extensionKey: KEY, pfx, passphrase: 'p12-pass' });
    const reauth = new Promise((resolve) => c.once('reauthenticated', resolve));
    await admin.call('TerminateSession', admin.serviceContent.sessionManager!, { sessionId: [c.userSession!.key] });
    expect(await c.call('CurrentTime', SI)).toBeInstanceOf(Date);
    await reauth;
    await c.close();
  });

  it('refuses a certificate that is not the extension\'s, and an unknown extension, with InvalidLogin', async () => {
    const c = await connect();
    const wrong = await c.loginByCertificate({ extensionKey: KEY, cert: other.cert, key: other.key }).catch((e: unknown) => e);
    expect(isVimFault(wrong, 'InvalidLogin')).toBe(true);
    const unknown = await c.loginByCertificate({ extensionKey: 'com.example.nobody', cert: ext.cert, key: ext.key }).catch((e: unknown) => e);
    expect(isVimFault(unknown, 'InvalidLogin')).toBe(true);
    expect(c.sessionId).toBeUndefined();
    await c.close();
  });

  it('never shows the client certificate to an impostor inside the tunnel (CA or pin)', async () => {
    // A tunnel proxy that hands the CONNECT to another TLS server, which asks for client certificates.
    // TLS 1.2: there the client sends its certificate before it can check the server's, so only
    // a verified probe handshake keeps it from the impostor.
    const impostorPair = extensionCertificate({ commonName: '127.0.0.1' });
    const presented: boolean[] = [];
    const impostor = tls.createServer({ cert: impostorPair.cert, key: impostorPair.key, requestCert: true, rejectUnauthorized: false, maxVersion: 'TLSv1.2' }, (s) => {
      presented.push(s.getPeerCertificate() !== null && Object.keys(s.getPeerCertificate()).length > 0);
      s.destroy();
    });
    let reached = 0;
    impostor.on('connection', () => reached++);
    impostor.on('tlsClientError', () => undefined);
    await new Promise<void>((r) => impostor.listen(0, '127.0.0.1', r));
    const proxy = net.createServer((client) => {
      client.once('data', () => {
        const upstream = net.connect((impostor.address() as net.AddressInfo).port, '127.0.0.1', () => {
          client.write('HTTP/1.1 200 Connection established\r\n\r\n');
          client.pipe(upstream).pipe(client);
        });
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const port = (proxy.address() as net.AddressInfo).port;
    try {
      for (const tlsOptions of [{ ca: h.ca }, { thumbprint: h.info.sha256 }]) {
        const c = await VimClient.connect(h.info.url, { tls: tlsOptions, ...withBundle(), tunnel: { proxyPort: port } });
        const err = await c.loginByCertificate({ extensionKey: KEY, cert: ext.cert, key: ext.key }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(TransportError);
        await c.close();
      }
      expect(reached).toBeGreaterThanOrEqual(2); // the impostor was reached, once per attempt...
      expect(presented.filter((p) => p)).toEqual([]); // ...and never saw a client certificate
    } finally {
      proxy.close();
      impostor.close();
    }
  });

  it('reports NoClientCertificate for a login without a client certificate', async () => {
    const c = await connect();
    const err = await c.call('LoginExtensionByCertificate', c.serviceContent.sessionManager!, { extensionKey: KEY }).catch((e: unknown) => e);
    expect(isVimFault(err, 'NoClientCertificate')).toBe(true);
    await c.close();
  });

  it('names a wrong PKCS#12 passphrase without printing it', async () => {
    const c = await connect();
    const pfx = Buffer.from(forge.asn1.toDer(forge.pkcs12.toPkcs12Asn1(forge.pki.privateKeyFromPem(ext.key), [forge.pki.certificateFromPem(ext.cert)], 'right-pass', { algorithm: '3des' })).getBytes(), 'binary');
    const err = await c.loginByCertificate({ extensionKey: KEY, pfx, passphrase: 'wrong-pass-123' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect((err as Error).message).toMatch(/passphrase/);
    expect((err as Error).message).not.toContain('wrong-pass-123');
    await c.close();
  });

  it('fails with a TransportError when the tunnel proxy refuses', async () => {
    const c = await VimClient.connect(h.info.url, { tls: { ca: h.ca }, ...withBundle(), tunnel: { proxyPort: 1 } });
    const err = await c.loginByCertificate({ extensionKey: KEY, cert: ext.cert, key: ext.key }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    await c.close();
  });
});

describe('loginBySubjectName', () => {
  it('logs in when the certificate subject matches the registered subject name', async () => {
    const c = await connect();
    const s = await c.loginBySubjectName({ extensionKey: SUBJECT_KEY, cert: ext.cert, key: ext.key });
    expect(s.userName).toBe(SUBJECT_KEY);
    expect(await c.call('CurrentTime', SI)).toBeInstanceOf(Date);
    const wrong = await connect();
    const err = await wrong.loginBySubjectName({ extensionKey: SUBJECT_KEY, cert: other.cert, key: other.key }).catch((e: unknown) => e);
    expect(isVimFault(err, 'InvalidLogin')).toBe(true);
    await c.close();
    await wrong.close();
  });
});

describe('loginByCertificate on ESXi (HostAgent): mutual TLS straight to the SDK URL', () => {
  it('logs in without the tunnel', async () => {
    const esx = await Harness.start({ wsdlDir: bundleIfPresent(), esx: true });
    try {
      // protocol 'auto': an ESXi serves no VI/JSON, whichever wire the run prefers.
      const opts = { tls: { ca: esx.ca }, ...withBundle(), tunnel: { proxyPort: esx.info.tunnelPort }, protocol: 'auto' as const };
      const root = await VimClient.connect(esx.info.url, opts);
      expect(root.about.apiType).toBe('HostAgent');
      await root.login({ username: esx.info.username, password: esx.info.password });
      const em = root.serviceContent.extensionManager!;
      const description = dataObject('Description', { label: 'esx test', summary: 'esx test' });
      await root.call('RegisterExtension', em, { extension: dataObject('Extension', { key: KEY, version: '1.0', description, lastHeartbeatTime: new Date() }) });
      await root.call('SetExtensionCertificate', em, { extensionKey: KEY, certificatePem: ext.cert });
      const c = await VimClient.connect(esx.info.url, opts);
      const s = await c.loginByCertificate({ extensionKey: KEY, cert: ext.cert, key: ext.key });
      expect(s.userName).toBe(KEY);
      expect(await c.call('CurrentTime', SI)).toBeInstanceOf(Date);
      expect((await harnessStats(esx.info)).tunnels).toBe(0);
      await Promise.all([c.close(), root.close()]);
    } finally {
      await esx.stop();
    }
  });
});
