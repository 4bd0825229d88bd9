// The channel of an extension login against a local server that asks for a client certificate:
// straight to the SDK URL (ESXi), or through a CONNECT proxy to the sdkTunnel (vCenter), with
// the session cookie kept on the channel, apart from the client's.
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { CookieJar } from 'tough-cookie';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { silentLogger } from '../../../src/logger.ts';
import { sessionIdIn } from '../../../src/transport/session-cookie.ts';
import { openMutualTlsChannel, type MutualTlsOptions } from '../../../src/session/mutual-tls.ts';
import { HttpTransport } from '../../../src/transport/http.ts';
import { ENV } from '../../harness/hostile-server.ts';
import { extensionCertificate, loopbackServerCertificate } from '../../harness/tls-fixtures.ts';

const SM = { type: 'SessionManager', value: 'SessionManager' };
const tlsPair = loopbackServerCertificate();
const client = extensionCertificate({ commonName: 'client' });
const LOGIN = ENV('<LoginExtensionByCertificateResponse xmlns="urn:vim25"><returnval><key>ext-session</key><userName>com.example.ext</userName><fullName>ext</fullName>'
  + '<loginTime>2026-01-01T00:00:00Z</loginTime><lastActiveTime>2026-01-01T00:00:00Z</lastActiveTime><locale>en</locale><messageLocale>en</messageLocale>'
  + '<extensionSession>true</extensionSession><ipAddress>127.0.0.1</ipAddress><userAgent>t</userAgent><callCount>0</callCount></returnval></LoginExtensionByCertificateResponse>');

/** What reached the server: the Host it was asked for, the path, and the fingerprint of the client certificate it was shown. */
let seen: { host: string | undefined; path: string | undefined; shown: string | undefined }[] = [];
let port = 0;
const server = https.createServer({ cert: tlsPair.cert, key: tlsPair.key, requestCert: true, rejectUnauthorized: false }, (req, res) => {
  seen.push({ host: req.headers.host, path: req.url, shown: (req.socket as TLSSocket).getPeerCertificate().fingerprint256 });
  res.writeHead(200, { 'Content-Type': 'text/xml', 'Set-Cookie': 'vmware_soap_session="ext-session"; Path=/; Secure' }).end(LOGIN);
});
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
beforeEach(() => {
  seen = [];
});
afterAll(() => {
  server.closeAllConnections();
  return new Promise<void>((r) => server.close(() => r()));
});

/** A CONNECT proxy on `host` to the server, as vCenter's port 80 tunnels to vpxd; it records each CONNECT line. */
async function proxy(host: string): Promise<{ port: number; connects: string[] }> {
  const connects: string[] = [];
  const p = net.createServer((c) => c.once('data', (head: Buffer) => {
    connects.push(head.toString('latin1').split('\r\n')[0]!);
    const upstream = net.connect(port, '127.0.0.1', () => {
      c.write('HTTP/1.1 200 Connection established\r\n\r\n');
      c.pipe(upstream).pipe(c);
    });
    upstream.on('error', () => c.destroy());
    c.on('error', () => upstream.destroy());
  }));
  await new Promise<void>((r) => p.listen(0, host, r));
  onTestFinished(() => new Promise<void>((r) => p.close(() => r())));
  return { port: (p.address() as AddressInfo).port, connects };
}

function channel(o: Pick<MutualTlsOptions, 'url' | 'viaTunnel'> & Partial<MutualTlsOptions>) {
  const transport = new HttpTransport({ tls: { ca: tlsPair.cert }, jar: new CookieJar(), logger: silentLogger, timeoutMs: 5000, maxResponseBytes: 1 << 20, maxSockets: 4, idleSocketMs: 30_000, userAgent: 't', http: 'https' });
  const ch = openMutualTlsChannel({ transport, proxyPort: 1, pipeline: { logger: silentLogger, version: () => '8.0.3.0', limits: {} }, ...o }, client);
  onTestFinished(() => (ch.close(), transport.close()));
  return { ch, transport, login: () => ch.invoke('LoginExtensionByCertificate', SM, { extensionKey: 'com.example.ext' }).catch((e: unknown) => e) };
}

const fingerprint = new X509Certificate(client.cert).fingerprint256;

describe('openMutualTlsChannel', () => {
  it('ESXi: to the SDK URL itself, showing the certificate; the cookie stays on the channel; close() ends it', async () => {
    const url = `https://127.0.0.1:${port}/sdk`;
    const { ch, transport, login } = channel({ url, viaTunnel: false });
    expect(await login()).toMatchObject({ key: 'ext-session', userName: 'com.example.ext' });
    expect(seen).toEqual([{ host: `127.0.0.1:${port}`, path: '/sdk', shown: fingerprint }]);
    expect(ch.sessionId()).toBe('ext-session');
    // The client's own connection adopts the session only if the login strategy says so.
    expect(sessionIdIn(transport.options.jar, url)).toBeUndefined();
    ch.close();
    expect(await login()).toMatchObject({ name: 'TransportError', code: 'ECLOSED' });
    // The client's transport is not the channel's: it goes on, without the certificate.
    await transport.text((await transport.send(url, { method: 'POST', body: '' })).body);
    expect(seen.at(-1)!.shown).toBeUndefined();
  });

  it('vCenter: CONNECT sdkTunnel:8089 on the proxy port of the URL\'s host, the server verified under that host', async () => {
    const p = await proxy('127.0.0.1');
    // The URL's own port is not where the tunnel goes.
    const { ch, login } = channel({ url: 'https://127.0.0.1:1/sdk', viaTunnel: true, proxyPort: p.port });
    expect(await login()).toMatchObject({ key: 'ext-session' });
    // Every connection of the channel goes through the tunnel (the server is verified before the certificate is shown, on one of its own).
    expect(new Set(p.connects)).toEqual(new Set(['CONNECT sdkTunnel:8089 HTTP/1.1']));
    expect(seen).toEqual([{ host: 'sdktunnel:8089', path: '/sdk', shown: fingerprint }]);
    expect(ch.sessionId()).toBe('ext-session');
  });

  it('vCenter: verifies the server under the name it is given, and takes an IPv6 URL', async () => {
    const p = await proxy('127.0.0.1');
    const wrongName = channel({ url: 'https://127.0.0.1/sdk', viaTunnel: true, proxyPort: p.port, servername: 'vcenter.example' });
    expect(await wrongName.login()).toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    expect(seen).toEqual([]);
    const v6 = await proxy('::1');
    const bracketed = channel({ url: 'https://[::1]/sdk', viaTunnel: true, proxyPort: v6.port, servername: '127.0.0.1' });
    expect(await bracketed.login()).toMatchObject({ key: 'ext-session' });
    expect(v6.connects.length).toBeGreaterThan(0);
  });
});
