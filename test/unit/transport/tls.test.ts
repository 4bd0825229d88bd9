// The TLS policy's connector on its own, against local servers: what test/unit/transport/http.test.ts
// does not see through a transport (thumbprint forms, where a URL points, session resumption,
// the handshake's deadline). Verification, pins and mutual TLS on both HTTP stacks are there.
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { thumbprint } from '../../../src/certs/certificates.ts';
import { TransportError } from '../../../src/errors.ts';
import { parseThumbprint, policyConnector, targetOf, type ConnectorOptions, type Target } from '../../../src/transport/tls.ts';
import { extensionCertificate, loopbackServerCertificate } from '../../harness/tls-fixtures.ts';

const pair = loopbackServerCertificate();
const SHA256 = thumbprint(pair.cert, 'sha256');

describe('parseThumbprint', () => {
  it('takes SHA-1 and SHA-256 in any case, with colons, spaces or dashes, as Node prints them', () => {
    const bare = SHA256.replaceAll(':', '');
    expect(parseThumbprint(bare.toLowerCase())).toEqual({ algorithm: 'sha256', value: SHA256 });
    expect(parseThumbprint(SHA256.replaceAll(':', ' '))).toEqual({ algorithm: 'sha256', value: SHA256 });
    const sha1 = thumbprint(pair.cert, 'sha1');
    expect(parseThumbprint(sha1.replaceAll(':', '-').toLowerCase())).toEqual({ algorithm: 'sha1', value: sha1 });
  });

  it.each(['', 'AB:CD', `${SHA256}:00`, SHA256.replace(/^../, 'ZZ')])('refuses %j with a TypeError that names both forms', (bad) => {
    expect(() => parseThumbprint(bad)).toThrow(TypeError);
    expect(() => parseThumbprint(bad)).toThrow(/SHA-1 \(40 hex digits\) or SHA-256 \(64 hex digits\)/);
  });
});

describe('targetOf', () => {
  it('strips IPv6 brackets and fills in the scheme\'s port', () => {
    expect(targetOf(new URL('https://[::1]/sdk'))).toEqual({ protocol: 'https:', hostname: '::1', port: 443 });
    expect(targetOf(new URL('http://vc.example.com/sdk'))).toEqual({ protocol: 'http:', hostname: 'vc.example.com', port: 80 });
    expect(targetOf(new URL('https://10.0.0.1:8443/sdk'))).toEqual({ protocol: 'https:', hostname: '10.0.0.1', port: 8443 });
  });
});

describe('policyConnector', () => {
  let server: Server;
  let target: Target;
  /** Per finished handshake on the server: whether it resumed a session. */
  const resumed: boolean[] = [];

  beforeAll(async () => {
    // TLS 1.2: its sessions come with the handshake, so the first connection's can be resumed by the next.
    server = createTlsServer({ cert: pair.cert, key: pair.key, maxVersion: 'TLSv1.2' }, (socket: TLSSocket) => {
      resumed.push(socket.isSessionReused());
      socket.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    target = { protocol: 'https:', hostname: '127.0.0.1', port: (server.address() as AddressInfo).port };
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const connect = (o: ConnectorOptions, to: Target = target): Promise<Socket> =>
    new Promise((resolve, reject) => policyConnector(o)(to, (err, socket) => (err ? reject(err) : resolve(socket!))));

  /** Two connections through one connector, one after the other: per handshake the server finished, whether it was resumed. */
  async function twoConnections(o: ConnectorOptions, handshakes: number): Promise<boolean[]> {
    const connector = policyConnector(o);
    const open = (): Promise<Socket> => new Promise((resolve, reject) => connector(target, (err, s) => (err ? reject(err) : resolve(s!))));
    const from = resumed.length;
    for (let i = 0; i < 2; i++) {
      const s = await open();
      await new Promise((r) => s.once('close', r).resume());
    }
    await expect.poll(() => resumed.length).toBe(from + handshakes);
    return resumed.slice(from);
  }

  it('resumes TLS sessions under a CA, and makes a full handshake every time under a pin (a resumed one shows no certificate to check)', async () => {
    expect(await twoConnections({ tls: { ca: pair.cert }, timeoutMs: 5000 }, 2)).toEqual([false, true]);
    expect(await twoConnections({ tls: { thumbprint: SHA256 }, timeoutMs: 5000 }, 2)).toEqual([false, false]);
  });

  it('never resumes with a client certificate (a server may read it per connection): two full handshakes a connection, the probe and the one that presents it', async () => {
    const client = extensionCertificate({ commonName: 'client' });
    expect(await twoConnections({ tls: { ca: pair.cert, cert: client.cert, key: client.key }, timeoutMs: 5000 }, 4)).toEqual([false, false, false, false]);
  });

  it('hands over a socket whose handshake is done and verified', async () => {
    const socket = (await connect({ tls: { ca: pair.cert }, timeoutMs: 5000 })) as TLSSocket;
    expect(socket.authorized).toBe(true);
    expect(socket.alpnProtocol).toBe(false); // asked for http/1.1; this server speaks no ALPN
    socket.destroy();
  });

  it('gives up on a server that accepts the connection but never finishes the handshake: ETIMEDOUT at timeoutMs, not before', async () => {
    const silent = createTcpServer(() => {});
    const held: Socket[] = [];
    silent.on('connection', (s) => held.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const to = { ...target, port: (silent.address() as AddressInfo).port };
      let settled = false;
      const accepted = new Promise((r) => silent.once('connection', r));
      const outcome = connect({ tls: { ca: pair.cert }, timeoutMs: 30_000 }, to).catch((e: unknown) => e).finally(() => (settled = true));
      await accepted;
      vi.advanceTimersByTime(29_999);
      await new Promise((r) => setImmediate(r));
      expect(settled).toBe(false);
      vi.advanceTimersByTime(1);
      const err = await outcome;
      expect(err).toBeInstanceOf(TransportError);
      expect(err).toMatchObject({ code: 'ETIMEDOUT' });
      expect((err as Error).message).toContain('took longer than 30000 ms');
    } finally {
      vi.useRealTimers();
      for (const s of held) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  it('opens plain TCP for http:// targets, with no TLS at all', async () => {
    const plain = createTcpServer((s) => s.end('plain'));
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    try {
      const socket = await connect({ tls: { ca: pair.cert }, timeoutMs: 5000 }, { protocol: 'http:', hostname: '127.0.0.1', port: (plain.address() as AddressInfo).port });
      expect('encrypted' in socket).toBe(false);
      const text = await new Promise<string>((resolve) => {
        let got = '';
        socket.on('data', (c: Buffer) => (got += c.toString())).on('end', () => resolve(got));
      });
      expect(text).toBe('plain');
    } finally {
      await new Promise<void>((r) => plain.close(() => r()));
    }
  });
});
