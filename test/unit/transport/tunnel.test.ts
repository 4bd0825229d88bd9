// The sdkTunnel CONNECT against small proxies that answer, refuse, babble or stay silent.
import net, { type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TransportError } from '../../../src/errors.ts';
import { connectTunnel } from '../../../src/transport/tunnel.ts';

const servers: net.Server[] = [];
const accepted = new Set<net.Socket>();
afterEach(async () => {
  vi.restoreAllMocks();
  for (const s of accepted) s.destroy();
  accepted.clear();
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

async function proxy(onConnect: (socket: net.Socket, request: string) => void): Promise<number> {
  const server = net.createServer((socket) => {
    accepted.add(socket);
    let head = '';
    socket.on('data', (d: Buffer) => {
      head += d.toString('latin1');
      if (head.includes('\r\n\r\n')) onConnect(socket, head);
    });
    socket.on('error', () => undefined);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

const options = (proxyPort: number, timeoutMs = 2000) => ({ proxyHost: '127.0.0.1', proxyPort, target: 'sdkTunnel:8089', timeoutMs });

describe('connectTunnel', () => {
  it('sends CONNECT sdkTunnel:8089 and hands over the socket with what followed the answer', async () => {
    let request = '';
    const port = await proxy((socket, head) => {
      request = head;
      socket.write('HTTP/1.1 200 Connection established\r\n\r\nfirst bytes');
    });
    const socket = await connectTunnel(options(port));
    // Whoever takes the socket over reads what came with the answer.
    const first = await new Promise<string>((r) => {
      socket.once('data', (d: Buffer) => r(d.toString()));
      socket.resume();
    });
    socket.destroy();
    expect(request).toBe('CONNECT sdkTunnel:8089 HTTP/1.1\r\nHost: sdkTunnel:8089\r\n\r\n');
    expect(first).toBe('first bytes');
  });

  it.each([
    ['a refusal', 'HTTP/1.1 403 Forbidden\r\n\r\n', /refused CONNECT sdkTunnel:8089 \(HTTP 403\)/],
    ['garbage', 'SSH-2.0-OpenSSH\r\n\r\n', /HTTP garbage/],
  ])('fails on %s with ETUNNEL', async (_what, answer, message) => {
    const port = await proxy((socket) => socket.write(answer));
    const err = await connectTunnel(options(port)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect(err).toMatchObject({ code: 'ETUNNEL', message: expect.stringMatching(message) });
  });

  it('refuses an answer head over 16 KiB without buffering more', async () => {
    const port = await proxy((socket) => socket.write('HTTP/1.1 200 OK\r\n' + 'X: y\r\n'.repeat(4000)));
    await expect(connectTunnel(options(port))).rejects.toMatchObject({ code: 'ETUNNEL', message: expect.stringMatching(/oversized/) });
  });

  it('times out a silent proxy after timeoutMs', async () => {
    // The socket's idle timeout is on Node's internal timers, which no fake clock reaches: the
    // test reads what it is armed with instead of timing it on a clock a busy machine runs late.
    const armed = vi.spyOn(net.Socket.prototype, 'setTimeout');
    const port = await proxy(() => undefined);
    await expect(connectTunnel(options(port, 300))).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    expect(armed.mock.calls.map(([ms]) => ms)).toEqual([300]);
  });

  it('names a refused connection by its code', async () => {
    const port = await proxy(() => undefined);
    await new Promise<void>((r) => servers.pop()!.close(() => r()));
    await expect(connectTunnel(options(port))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
