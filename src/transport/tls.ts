// The TLS policy, decided once when a transport is built and applied to every connection it
// opens (WSDL download, calls, tunnels). Verification is on unless `insecure` is asked for;
// a thumbprint pin is checked on the finished handshake before the socket is handed to HTTP,
// so no request byte reaches a server whose certificate does not match.
import type http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { TransportError } from '../errors.ts';

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
}

/** An https.Agent that applies the TLS policy, including the pin, to every socket it creates. */
export class PolicyAgent extends https.Agent {
  private readonly pin: Pin | undefined;

  constructor(options: AgentOptions) {
    const { tls } = options;
    const pin = tls.thumbprint === undefined ? undefined : parseThumbprint(tls.thumbprint);
    super({
      keepAlive: true,
      maxSockets: options.maxSockets,
      maxFreeSockets: Math.min(options.maxSockets, 8),
      timeout: options.idleSocketMs,
      // A pin without a CA stands in for chain verification (self-signed vCenter/ESXi).
      rejectUnauthorized: !tls.insecure && !(pin && tls.ca === undefined),
      ...(tls.ca !== undefined && { ca: tls.ca }),
      ...(tls.cert !== undefined && { cert: tls.cert }),
      ...(tls.key !== undefined && { key: tls.key }),
      ...(tls.pfx !== undefined && { pfx: tls.pfx }),
      ...(tls.passphrase !== undefined && { passphrase: tls.passphrase }),
      ...(tls.servername !== undefined && { servername: tls.servername }),
    });
    this.pin = pin;
  }

  // http.Agent waits for the callback when createConnection returns nothing, so the request
  // is attached (and written) only after the handshake and the pin check have passed.
  override createConnection(options: http.ClientRequestArgs, callback?: (err: Error | null, socket: Duplex) => void): Duplex | null | undefined {
    const socket = (https.Agent.prototype as unknown as { createConnection(o: object): TLSSocket }).createConnection.call(this, options);
    if (!this.pin || !callback) return socket;
    const pin = this.pin;
    const onError = (err: Error): void => callback(err, socket);
    socket.once('error', onError);
    socket.once('secureConnect', () => {
      socket.off('error', onError);
      const err = checkPin(socket, pin);
      if (err) {
        socket.destroy();
        callback(err, socket);
      } else {
        callback(null, socket);
      }
    });
    return undefined;
  }
}
