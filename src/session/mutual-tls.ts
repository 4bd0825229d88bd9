// The connection of an extension login, which presents a client certificate. On vCenter the
// TLS proxy on 443 would swallow the certificate, so it goes through the sdkTunnel (HTTP
// CONNECT on the proxy port, 80 by default) with the server verified under its real name; on
// ESXi it goes straight to the SDK URL. It is a transport derived from the client's (same TLS
// policy and limits), with a cookie jar of its own, closed after the login.
import { soapPipeline, type Invoke, type PipelineOptions } from '../soap/pipeline.ts';
import type { CertificateAndKey } from '../certs/certificates.ts';
import type { HttpTransport } from '../transport/http.ts';
import { sessionIdIn } from '../transport/session-cookie.ts';
import { urlHostname } from '../transport/url.ts';

/** What vCenter's port-80 proxy tunnels to: vpxd's own TLS endpoint. */
const SDK_TUNNEL = 'sdkTunnel:8089';

export interface MutualTlsChannel {
  invoke: Invoke;
  /** The session cookie the login set on this channel. */
  sessionId(): string | undefined;
  close(): void;
}

export interface MutualTlsOptions {
  /** The client's transport, which the channel's is derived from. */
  transport: HttpTransport;
  /** The client's SDK URL. */
  url: string;
  /** vCenter (through the sdkTunnel) rather than ESXi (direct). */
  viaTunnel: boolean;
  proxyPort: number;
  /** The name the server's certificate is verified against, when not the URL's host. */
  servername?: string | undefined;
  pipeline: Omit<PipelineOptions, 'endpoint' | 'transport' | 'session'>;
}

export function openMutualTlsChannel(o: MutualTlsOptions, credentials: CertificateAndKey): MutualTlsChannel {
  const host = urlHostname(o.url);
  const transport = o.transport.derive({
    clientCertificate: credentials,
    maxSockets: 1,
    ...(o.viaTunnel && {
      tunnel: { proxyHost: host, proxyPort: o.proxyPort, target: SDK_TUNNEL, timeoutMs: o.transport.options.timeoutMs, verifyHost: o.servername ?? host },
    }),
  });
  const endpoint = o.viaTunnel ? `https://${SDK_TUNNEL}/sdk` : o.url;
  return {
    invoke: soapPipeline({ ...o.pipeline, endpoint, transport }),
    sessionId: () => sessionIdIn(transport.options.jar, endpoint),
    close: () => transport.close(),
  };
}
