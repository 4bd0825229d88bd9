// The TLS policy, decided once when a transport is built and applied to every connection it
// opens (WSDL download, calls, tunnels). Verification is on unless `insecure` is asked for;
// a thumbprint pin is checked on the finished handshake before the socket is handed to HTTP,
// so no request byte reaches a server whose certificate does not match.
import { createHash } from 'node:crypto';
import net, { type Socket } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
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

/**
 * What a TLS policy trusts, as a key: a document fetched under one policy is another policy's
 * only if the key is the same (a client that pins a thumbprint must not reuse what a client
 * with verification off read from the same URL). The client certificate says who asks, not
 * whom it trusts, and is left out; key material and passphrases never enter it.
 */
export function trustKey(tls: TlsOptions): string {
  const cas = tls.ca === undefined ? [] : Array.isArray(tls.ca) ? tls.ca : [tls.ca];
  const digest = (v: string | Buffer): string => createHash('sha256').update(v).digest('hex');
  const pin = tls.thumbprint === undefined ? '' : parseThumbprint(tls.thumbprint).value;
  return digest(JSON.stringify([tls.insecure === true, pin, cas.map(digest), tls.servername ?? '']));
}

export function checkPin(socket: TLSSocket, pin: Pin): TransportError | undefined {
  const cert = socket.getPeerCertificate();
  const actual = pin.algorithm === 'sha1' ? cert?.fingerprint : cert?.fingerprint256;
  if (actual === pin.value) return undefined;
  return new TransportError(`server certificate ${pin.algorithm} thumbprint ${actual ?? '(none)'} does not match the pinned thumbprint`, { code: 'ECERTPIN' });
}

/** Where a connection goes, as a URL names it (the host without IPv6 brackets). */
export interface Target {
  protocol: string;
  hostname: string;
  port: number;
}

/** Where a URL (or undici's connect parameters) points: the host without IPv6 brackets, the scheme's port if none is given. */
export function targetOf(where: { protocol: string; hostname: string; port: string }): Target {
  return { protocol: where.protocol, hostname: where.hostname.replace(/^\[|\]$/g, ''), port: Number(where.port) || (where.protocol === 'https:' ? 443 : 80) };
}

/** Opens one connection for a transport, under its TLS policy; both HTTP paths use it. */
export type Connector = (target: Target, callback: (err: Error | null, socket: Socket | null) => void) => void;

export interface ConnectorOptions {
  tls: TlsOptions;
  /** Opening a connection (TCP, handshakes) fails after this long. */
  timeoutMs: number;
  /** Reach the server through an HTTP CONNECT tunnel (vCenter's sdkTunnel), verifying it as `verifyHost`. */
  tunnel?: TunnelOptions & { verifyHost: string };
}

/** A connection, handed over once connected (and, with `secure`, once its handshake finished). */
function openSocket(target: Target, timeoutMs: number, secure?: tls.ConnectionOptions, onSession?: (session: Buffer) => void): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = secure ? tls.connect({ ...secure, ALPNProtocols: ['http/1.1'] }) : net.connect({ host: target.hostname, port: target.port });
    // Before the handshake: under TLS 1.2 the session comes with it.
    if (onSession) socket.on('session', onSession);
    socket.setNoDelay(true).setKeepAlive(true, 60_000);
    const timer = setTimeout(() => socket.destroy(new TransportError(`connecting to ${target.hostname}:${target.port} took longer than ${timeoutMs} ms`, { code: 'ETIMEDOUT' })), timeoutMs);
    let open = true;
    // Stays for the socket's life: an error after the handover is its HTTP client's to handle,
    // and must not be one without a listener in between.
    socket.on('error', (err) => {
      if (!open) return;
      open = false;
      clearTimeout(timer);
      reject(err);
    });
    socket.once(secure ? 'secureConnect' : 'connect', () => {
      open = false;
      clearTimeout(timer);
      resolve(socket);
    });
  });
}

/**
 * The connector of a transport, applying the TLS policy to every socket. No HTTP client writes
 * to a socket before it is handed over, and sockets are handed over only after the handshake
 * and every check passed; with a client certificate, the server is first verified in a
 * handshake without it, so the certificate is never shown to a server that fails verification
 * or the pin. Plain http:// connections pass through.
 */
export function policyConnector(o: ConnectorOptions): Connector {
  const t = o.tls;
  const pin = t.thumbprint === undefined ? undefined : parseThumbprint(t.thumbprint);
  const clientCert = t.cert !== undefined || t.pfx !== undefined;
  // A resumed TLS session shows no server certificate to check the pin against, and may carry
  // no client certificate to a server that reads it per connection: full handshakes then.
  const sessions = pin || clientCert ? undefined : new Map<string, Buffer>();
  // A pin without a CA stands in for chain verification (self-signed vCenter/ESXi).
  const verify = !t.insecure && !(pin && t.ca === undefined);
  // Made on first use, once: with a CA, making one costs ~10 ms of CPU (Node builds a
  // certificate store), which every new connection would pay again.
  const contexts: { with?: tls.SecureContext; without?: tls.SecureContext } = {};
  const context = (withClientCert: boolean): tls.SecureContext => {
    const key = withClientCert ? 'with' : 'without';
    return (contexts[key] ??= tls.createSecureContext({
      ...(t.ca !== undefined && { ca: t.ca }),
      ...(withClientCert && {
        ...(t.cert !== undefined && { cert: t.cert }),
        ...(t.key !== undefined && { key: t.key }),
        ...(t.pfx !== undefined && { pfx: t.pfx }),
        ...(t.passphrase !== undefined && { passphrase: t.passphrase }),
      }),
    }));
  };

  /** `inspect`: only to show the user which certificate was refused (no client certificate, no request). */
  const handshake = async (target: Target, kind: 'probe' | 'connect' | 'inspect'): Promise<TLSSocket> => {
    let host = target.hostname;
    let through: Socket | undefined;
    if (o.tunnel) {
      const { verifyHost, ...tunnel } = o.tunnel;
      // Verify the vCenter's own name, not "sdkTunnel".
      host = verifyHost;
      through = await connectTunnel(tunnel);
    }
    const servername = t.servername ?? (net.isIP(host) ? undefined : host);
    const resume = kind === 'connect' ? sessions : undefined;
    const sessionKey = servername ?? host;
    const socket = (await openSocket(target, o.timeoutMs, {
      host,
      port: target.port,
      ...(through && { socket: through }),
      ...(servername !== undefined && { servername }),
      ...(kind === 'inspect' ? { rejectUnauthorized: false } : { rejectUnauthorized: verify, secureContext: context(kind === 'connect') }),
      ...(resume?.has(sessionKey) && { session: resume.get(sessionKey)! }),
    }, resume && ((session) => resume.set(sessionKey, session)))) as TLSSocket;
    const mismatch = kind !== 'inspect' && pin && checkPin(socket, pin);
    if (mismatch) {
      socket.destroy();
      throw mismatch;
    }
    return socket;
  };

  return (target, callback) => {
    const verified = async (): Promise<Socket> => {
      if (target.protocol !== 'https:') return openSocket(target, o.timeoutMs);
      try {
        if (clientCert) (await handshake(target, 'probe')).destroy();
        return await handshake(target, 'connect');
      } catch (err) {
        if (!isVerificationError(err)) throw err;
        throw await untrusted(err as NodeJS.ErrnoException, () => handshake(target, 'inspect'));
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
