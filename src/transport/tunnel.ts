// HTTP CONNECT through vCenter's reverse proxy (port 80 by default) to `sdkTunnel:8089`, where
// vpxd itself terminates TLS and so sees the client certificate of an extension login.
// Named imports: a default import of 'node:net' would reach the declarations (dist/transport/tunnel.d.ts)
// and fail a CommonJS consumer compiled without esModuleInterop ("Module '"node:net"' has no default export").
import { connect, type Socket } from 'node:net';
import { TransportError } from '../errors.ts';

export interface TunnelOptions {
  /** The vCenter host, whose proxy accepts the CONNECT. */
  proxyHost: string;
  proxyPort: number;
  /** What to CONNECT to; vCenter's proxy knows `sdkTunnel:8089`. */
  target: string;
  timeoutMs: number;
}

/** A TCP socket through which TLS to the tunnel target can be started. */
export function connectTunnel(o: TunnelOptions): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: o.proxyHost, port: o.proxyPort });
    let head = Buffer.alloc(0);
    const fail = (err: TransportError): void => {
      socket.destroy();
      reject(err);
    };
    socket.setTimeout(o.timeoutMs, () => fail(new TransportError(`tunnel proxy ${o.proxyHost}:${o.proxyPort} did not answer in time`, { code: 'ETIMEDOUT' })));
    socket.once('error', (err: NodeJS.ErrnoException) => fail(new TransportError(`tunnel proxy ${o.proxyHost}:${o.proxyPort}: ${err.code ?? err.message}`, { code: err.code ?? 'ETUNNEL', cause: err })));
    socket.once('connect', () => socket.write(`CONNECT ${o.target} HTTP/1.1\r\nHost: ${o.target}\r\n\r\n`));
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > 16 * 1024) fail(new TransportError('tunnel proxy sent an oversized answer', { code: 'ETUNNEL' }));
        return;
      }
      socket.off('data', onData);
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head.subarray(0, end).toString('latin1'))?.[1] ?? 0);
      if (status !== 200) {
        fail(new TransportError(`tunnel proxy refused CONNECT ${o.target} (HTTP ${status || 'garbage'})`, { code: 'ETUNNEL', status: status || undefined }));
        return;
      }
      // Paused, so that bytes which came with the answer wait for the TLS layer taking over
      // the socket instead of being emitted to no listener.
      socket.pause();
      const rest = head.subarray(end + 4);
      if (rest.length) socket.unshift(rest);
      socket.setTimeout(0);
      socket.removeAllListeners('error');
      resolve(socket);
    };
    socket.on('data', onData);
  });
}
