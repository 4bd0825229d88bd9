// The TLS policy, decided once when a transport is built and applied to every connection it
// opens (WSDL download, calls, tunnels). Verification is on unless `insecure` is asked for;
// a thumbprint pin is checked on the finished handshake before the socket is handed to HTTP,
// so no request byte reaches a server whose certificate does not match.
import type http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { TransportError } from '../errors.ts';
import { connectTunnel, type TunnelOptions } from './tunnel.ts';

export interface TlsOptions {
  /** CA certificate(s) (PEM) to verify the server against, instead of Node's default store. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Pin the server's certificate by its SHA-256 or SHA-1 thumbprint (any case, colons optional). */
  thumbprint?: string;
  /** Skip verification entirely. Logged as a warning; never the default. */
  insecure?: boolean;
  /** Client certificate and key (PEM) or PKCS#12 bundle, for mutual TLS. */
  cert?: string | Buffer;
  key?: string | Buffer;
  pfx?: string | Buffer;
  passphrase?: string;
  /** Name to send as SNI and to verify the certificate against, when it differs from the URL's host. */
  servername?: string;
}

export interface Pin {
  algorithm: 'sha1' | 'sha256';
  /** Upper-case hex, colon-separated, as Node's `fingerprint` / `fingerprint256`. */
  value: string;
}

export function parseThumbprint(thumbprint: string): Pin {
  const hex = thumbprint.replace(/[:\s-]/g, '').toUpperCase();
  if (!/^[0-9A-F]+$/.test(hex) || (hex.length !== 40 && hex.length !== 64)) {
    throw new TypeError('tls.thumbprint must be a SHA-1 (40 hex digits) or SHA-256 (64 hex digits) thumbprint');
  }
  return { algorithm: hex.length === 40 ? 'sha1' : 'sha256', value: hex.match(/../g)!.join(':') };
}

export function checkPin(socket: TLSSocket, pin: Pin): TransportError | undefined {
  const cert = socket.getPeerCertificate();
  const actual = pin.algorithm === 'sha1' ? cert?.fingerprint : cert?.fingerprint256;
  if (actual === pin.value) return undefined;
  return new TransportError(`server certificate ${pin.algorithm} thumbprint ${actual ?? '(none)'} does not match the pinned thumbprint`, { code: 'ECERTPIN' });
}

export interface AgentOptions {
  tls: TlsOptions;
  maxSockets: number;
  /** Idle keep-alive sockets are closed after this long, below vCenter's own idle limit. */
  idleSocketMs: number;
  /** Reach the server through an HTTP CONNECT tunnel (vCenter's sdkTunnel), verifying it as `verifyHost`. */
  tunnel?: TunnelOptions & { verifyHost: string };
}

type ConnectOptions = tls.ConnectionOptions & { host?: string; servername?: string };

/**
 * An https.Agent that applies the TLS policy to every socket it creates. Sockets reach HTTP
 * only after the handshake and every check passed; with a client certificate, the server is
 * first verified in a handshake without it, so the certificate is never shown to a server
 * that fails verification or the pin.
 */
export class PolicyAgent extends https.Agent {
  private readonly pin: Pin | undefined;
  private readonly hasClientCert: boolean;
  private readonly tunnel: AgentOptions['tunnel'];

  constructor(options: AgentOptions) {
    const { tls: t } = options;
    const pin = t.thumbprint === undefined ? undefined : parseThumbprint(t.thumbprint);
    super({
      keepAlive: true,
      maxSockets: options.maxSockets,
      maxFreeSockets: Math.min(options.maxSockets, 8),
      timeout: options.idleSocketMs,
      // A pin without a CA stands in for chain verification (self-signed vCenter/ESXi).
      rejectUnauthorized: !t.insecure && !(pin && t.ca === undefined),
      ...(t.ca !== undefined && { ca: t.ca }),
      ...(t.cert !== undefined && { cert: t.cert }),
      ...(t.key !== undefined && { key: t.key }),
      ...(t.pfx !== undefined && { pfx: t.pfx }),
      ...(t.passphrase !== undefined && { passphrase: t.passphrase }),
      ...(t.servername !== undefined && { servername: t.servername }),
    });
    this.pin = pin;
    this.hasClientCert = t.cert !== undefined || t.pfx !== undefined;
    this.tunnel = options.tunnel;
  }

  // http.Agent waits for the callback when createConnection returns nothing, so the request
  // is attached (and written) only once the socket is verified.
  override createConnection(options: http.ClientRequestArgs, callback?: (err: Error | null, socket: Duplex) => void): Duplex | null | undefined {
    if (!callback || (!this.pin && !this.hasClientCert && !this.tunnel)) {
      return (https.Agent.prototype as unknown as { createConnection(o: object): TLSSocket }).createConnection.call(this, options);
    }
    this.verifiedSocket(options as ConnectOptions).then(
      (socket) => callback(null, socket),
      (err: Error) => callback(err, undefined as unknown as Duplex),
    );
    return undefined;
  }

  private async verifiedSocket(options: ConnectOptions): Promise<TLSSocket> {
    if (this.hasClientCert) {
      const { cert: _c, key: _k, pfx: _p, passphrase: _pp, ...probe } = options;
      (await this.handshake(probe)).destroy();
    }
    return this.handshake(options);
  }

  private async handshake(options: ConnectOptions): Promise<TLSSocket> {
    let connect: ConnectOptions = options;
    if (this.tunnel) {
      const { verifyHost, ...tunnel } = this.tunnel;
      const socket = await connectTunnel(tunnel);
      // Verify the vCenter's own name, not "sdkTunnel"; SNI only carries DNS names.
      connect = { ...options, socket, host: verifyHost, servername: net.isIP(verifyHost) ? '' : verifyHost };
    }
    const socket = tls.connect(connect);
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    socket.removeAllListeners('error');
    const err = this.pin && checkPin(socket, this.pin);
    if (err) {
      socket.destroy();
      throw err;
    }
    return socket;
  }
}
