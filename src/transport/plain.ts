// Plain HTTP requests beside the SOAP calls (the version file, WSDL documents, the STS, the
// plug-in endpoint, ticketed file requests): under the transport's TLS policy and deadline,
// the answer read whole but no further than the caller says such an answer can be, and a GET
// sent again once if the server closed a kept-alive connection under it.
import type { IncomingHttpHeaders } from 'node:http';
import type { HttpTransport } from './http.ts';
import { replayOnce } from './replay.ts';

export interface PlainRequest {
  method?: 'GET' | 'POST';
  body?: string;
  headers?: Record<string, string>;
  /** false: neither send nor store cookies (requests to other services). Default true. */
  cookies?: boolean;
  /** Largest answer read; a larger one fails with ERESPONSETOOLARGE. Default: the transport's response limit. */
  maxBytes?: number;
  signal?: AbortSignal | undefined;
  /** Safe to send again after it was written. Default: a GET is. */
  idempotent?: boolean;
}

export interface PlainAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text(): string;
}

export async function plainRequest(transport: HttpTransport, url: string, r: PlainRequest = {}): Promise<PlainAnswer> {
  const method = r.method ?? 'GET';
  const deadline = Date.now() + transport.options.timeoutMs;
  const res = await replayOnce(
    (freshConnection) => transport.send(url, { method, body: r.body, headers: r.headers, cookies: r.cookies, freshConnection, ctx: { signal: r.signal, deadline } }),
    (written) => !written || (r.idempotent ?? method === 'GET'),
  );
  const body = await transport.readAll(res.body, r.maxBytes);
  return { status: res.status, headers: res.headers, body, text: () => body.toString('utf8') };
}
