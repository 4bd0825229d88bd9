// The TLS policy, decided once when a transport is built and applied to every connection it
// opens (WSDL download, calls, tunnels). Verification is on unless `insecure` is asked for;
// a thumbprint pin is checked on the finished handshake before the socket is handed to HTTP,
// so no request byte reaches a server whose certificate does not match.
import type { Socket } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import { buildConnector, type ConnectFunction, type ConnectParams } from './undici.ts';
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

/** undici's `connect` option: opens one connection for a pool. */
export type Connector = ConnectFunction;

export interface ConnectorOptions {
  tls: TlsOptions;
  /** Opening a connection (TCP, handshakes) fails after this long. */
  timeoutMs: number;
  /** Reach the server through an HTTP CONNECT tunnel (vCenter's sdkTunnel), verifying it as `verifyHost`. */
  tunnel?: TunnelOptions & { verifyHost: string };
}

/**
 * The connect function of a transport's undici pools, applying the TLS policy to every socket.
 * undici writes to a socket only once it is handed over, so sockets are handed over only after
 * the handshake and every check passed; with a client certificate, the server is first
 * verified in a handshake without it, so the certificate is never shown to a server that fails
 * verification or the pin. Plain http:// connections pass through.
 */
export function policyConnector(o: ConnectorOptions): Connector {
  const t = o.tls;
  const pin = t.thumbprint === undefined ? undefined : parseThumbprint(t.thumbprint);
  const clientCert = t.cert !== undefined || t.pfx !== undefined;
  const verify = {
    timeout: o.timeoutMs,
    // A resumed TLS session shows no server certificate to check the pin against, and may
    // carry no client certificate to a server that reads it per connection: full handshakes.
    ...((pin || clientCert) && { maxCachedSessions: 0 }),
    // A pin without a CA stands in for chain verification (self-signed vCenter/ESXi).
    rejectUnauthorized: !t.insecure && !(pin && t.ca === undefined),
    ...(t.servername !== undefined && { servername: t.servername }),
  };
  // One secure context per connector, made on first use: with a CA, making one costs ~10 ms of
  // CPU (Node builds a certificate store), which every new connection would pay again.
  const connector = (withClientCert: boolean): Connector => {
    let built: Connector | undefined;
    return (params, callback) => {
      try {
        built ??= buildConnector({
          ...verify,
          secureContext: tls.createSecureContext({
            ...(t.ca !== undefined && { ca: t.ca }),
            ...(withClientCert && {
              ...(t.cert !== undefined && { cert: t.cert }),
              ...(t.key !== undefined && { key: t.key }),
              ...(t.pfx !== undefined && { pfx: t.pfx }),
              ...(t.passphrase !== undefined && { passphrase: t.passphrase }),
            }),
          }),
        });
      } catch (err) {
        callback(err as Error, null);
        return;
      }
      built(params, callback);
    };
  };
  const connect = connector(true);
  const probe = clientCert ? connector(false) : undefined;
  // Only to show the user which certificate was refused: no client certificate, no request.
  let inspector: Connector | undefined;
  const inspect = (params: ConnectParams, cb: Parameters<Connector>[1]): void => {
    inspector ??= buildConnector({ timeout: o.timeoutMs, rejectUnauthorized: false, maxCachedSessions: 0, ...(t.servername !== undefined && { servername: t.servername }) });
    inspector(params, cb);
  };

  const handshake = async (via: Connector, params: ConnectParams): Promise<Socket> => {
    if (o.tunnel) {
      const { verifyHost, ...tunnel } = o.tunnel;
      // Verify the vCenter's own name, not "sdkTunnel" (undici sends no SNI for an IP).
      params = { ...params, hostname: verifyHost, host: verifyHost, httpSocket: await connectTunnel(tunnel) };
    }
    const socket = await new Promise<Socket>((resolve, reject) => via(params, (err, s) => (err ? reject(err) : resolve(s))));
    const mismatch = pin && checkPin(socket as TLSSocket, pin);
    if (mismatch) {
      socket.destroy();
      throw mismatch;
    }
    return socket;
  };

  return (params, callback) => {
    if (params.protocol !== 'https:') {
      connect(params, callback);
      return;
    }
    const verified = async (): Promise<Socket> => {
      try {
        if (probe) (await handshake(probe, params)).destroy();
        return await handshake(connect, params);
      } catch (err) {
        if (!isVerificationError(err)) throw err;
        throw await untrusted(err as NodeJS.ErrnoException, () => handshake(inspect, params));
      }
    };
    verified().then((socket) => callback(null, socket), (err: Error) => callback(err, null));
  };
}

/** OpenSSL's and Node's codes for a server certificate that failed verification. */
function isVerificationError(err: unknown): boolean {
  if (err instanceof TransportError) return false; // ours: a pin mismatch, a tunnel refusal
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? '';
  return code === 'ERR_TLS_CERT_ALTNAME_INVALID' || /CERT|SELF_SIGNED|ISSUER|UNABLE_TO_VERIFY/.test(code);
}

/**
 * A refused server certificate, named by its thumbprints so the user can decide to trust it:
 * what they need is `tls.thumbprint` (a self-signed vCenter or ESXi) or `tls.ca`.
 */
async function untrusted(err: NodeJS.ErrnoException, peek: () => Promise<Socket>): Promise<TransportError> {
  let seen = '';
  try {
    const socket = (await peek()) as TLSSocket;
    const cert = socket.getPeerCertificate();
    socket.destroy();
    if (cert?.fingerprint) seen = ` (SHA-1 ${cert.fingerprint}, SHA-256 ${cert.fingerprint256})`;
  } catch {
    // The certificate could not be seen a second time: the refusal is still reported.
  }
  return new TransportError(
    `the server certificate${seen} is not trusted: ${err.code}: ${err.message}. Pass tls.thumbprint to pin that certificate, or tls.ca with the CA that issued it`,
    { code: err.code ?? 'ECERTUNTRUSTED', cause: err },
  );
}
