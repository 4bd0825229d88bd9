// HTTP requests authorized by a generic service ticket (AcquireGenericServiceTicket,
// `client.sessionManager.acquireGenericServiceTicket`): the ticket travels in the
// `vmware_cgi_ticket` cookie in place of the session's, on the client's transport and so under
// its TLS policy. A datastore file GET, say.
import type { HttpTransport } from '../transport/http.ts';
import { plainRequest } from '../transport/plain.ts';

export interface TicketRequest {
  ticket: { id: string };
  /** Absolute, or relative to the SDK URL. */
  url: string;
  method?: 'GET' | 'POST' | undefined;
  body?: string | undefined;
  signal?: AbortSignal | undefined;
}

/** Sends the request once: a written request has spent the (single-use) ticket. */
export async function requestWithTicket(transport: HttpTransport, sdkUrl: string, o: TicketRequest): Promise<{ status: number; body: Buffer }> {
  if (typeof o?.ticket?.id !== 'string' || typeof o.url !== 'string') throw new TypeError('requestWithTicket needs { ticket, url }');
  const res = await plainRequest(transport, new URL(o.url, sdkUrl).href, {
    method: o.method ?? 'GET',
    cookies: false,
    headers: { Cookie: `vmware_cgi_ticket=${o.ticket.id}` },
    ...(o.body !== undefined && { body: o.body }),
    // A written request has spent the ticket: never sent twice.
    idempotent: false,
    signal: o.signal,
  });
  return { status: res.status, body: res.body };
}
