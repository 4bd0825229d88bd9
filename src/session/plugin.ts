// The vSphere Client plug-in server flow (../shared/seeds/plugin-server-clone-session.txt):
// the plug-in UI hands its server a session token and the uiApiEndpoint URL; the server asks
// the vsphere-ui service for a clone ticket for a given vCenter and redeems it with CloneSession.
// A plug-in server must not become a request forwarder, so the endpoint's host is checked
// against an allow-list before anything is sent, and the token and ticket never reach a log
// line or an error message. The ticket is only sent to an SDK endpoint that proved to be the
// vCenter the GUID names (pluginSession, which VimClient.fromPluginSession runs).
import { VimError } from '../errors.ts';
import type { HttpTransport } from '../transport/http.ts';
import { plainRequest } from '../transport/plain.ts';

export type PluginSessionErrorReason =
  | 'invalidEndpoint' // not a URL
  | 'insecureEndpoint' // http:// without allowHttp
  | 'hostNotAllowed' // endpoint host outside allowedHosts
  | 'unauthorized' // 401: the plug-in session token expired or is invalid
  | 'unknownVcenter' // 404: the vsphere-ui service does not know that vCenter GUID
  | 'badAnswer' // any other status, a non-JSON answer, or no ticket in it
  | 'vcenterMismatch'; // the SDK endpoint is not the vCenter the GUID names

export class PluginSessionError extends VimError {
  override name = 'PluginSessionError';

  constructor(readonly reason: PluginSessionErrorReason, message: string, readonly status: number | undefined = undefined) {
    super(message);
  }
}

/** `uiApiEndpoint` as the plug-in SDK gives it (`{ fullUrl }`) or as a string, without query and fragment. */
export function cleanUiApiEndpoint(uiApiEndpoint: string | { fullUrl: string }, allowHttp: boolean): URL {
  const raw = typeof uiApiEndpoint === 'string' ? uiApiEndpoint : uiApiEndpoint?.fullUrl;
  let url: URL;
  try {
    url = new URL(String(raw));
  } catch {
    throw new PluginSessionError('invalidEndpoint', 'uiApiEndpoint is not a URL');
  }
  if (url.username || url.password) throw new PluginSessionError('invalidEndpoint', 'uiApiEndpoint must not carry credentials');
  if (url.protocol !== 'https:' && !(allowHttp && url.protocol === 'http:')) {
    throw new PluginSessionError('insecureEndpoint', `uiApiEndpoint must be https (got ${url.protocol})`);
  }
  url.search = '';
  url.hash = '';
  url.pathname = url.pathname.replace(/\/+$/, '');
  return url;
}

/** Host names compare case-insensitively; an allow-list entry with a port must match the port too. */
export function hostAllowed(url: URL, allowedHosts: readonly string[]): boolean {
  const host = url.hostname.toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return allowedHosts.some((entry) => {
    // Not parsed with URL: it would drop an explicit default port (":443") from the entry.
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(entry.trim());
    return m !== null && m[1]!.toLowerCase() === host && (m[2] === undefined || m[2] === port);
  });
}

/** POST <endpoint>/vcenter/session/clone-ticket and return the ticket. */
export async function requestCloneTicket(transport: HttpTransport, endpoint: URL, sessionToken: string, vcGuid: string, signal?: AbortSignal): Promise<string> {
  const target = `${endpoint.href}/vcenter/session/clone-ticket`;
  const res = await plainRequest(transport, target, {
    method: 'POST',
    cookies: false,
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'vmware-api-session-id': sessionToken },
    body: JSON.stringify({ vc_guid: vcGuid }),
    // The answer is a short JSON object; a larger one is refused rather than buffered.
    maxBytes: 64 * 1024,
    signal,
  });
  const text = res.text();
  if (res.status === 401) throw new PluginSessionError('unauthorized', 'the vSphere Client refused the plug-in session token (expired or invalid)', 401);
  if (res.status === 404) throw new PluginSessionError('unknownVcenter', `the vSphere Client does not know vCenter ${vcGuid}`, 404);
  if (res.status !== 200 && res.status !== 201) throw new PluginSessionError('badAnswer', `clone-ticket request failed with HTTP ${res.status}`, res.status);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new PluginSessionError('badAnswer', `clone-ticket answer is not JSON (content-type ${String(res.headers['content-type'] ?? 'none')})`, res.status);
  }
  const ticket = (body as { session_clone_ticket?: unknown } | null)?.session_clone_ticket;
  if (typeof ticket !== 'string' || ticket === '') throw new PluginSessionError('badAnswer', 'clone-ticket answer has no session_clone_ticket', res.status);
  return ticket;
}

/** Where the plug-in flow goes: from the plug-in UI (token, endpoint, GUID) and the server's configuration. */
export interface PluginSessionTarget {
  sessionToken: string;
  uiApiEndpoint: string | { fullUrl: string };
  vcGuid: string;
  /** Default: https://<uiApiEndpoint host>/sdk. */
  sdkUrl?: string | undefined;
  /** Default: the SDK URL's host. */
  allowedHosts?: readonly string[] | undefined;
  allowHttp?: boolean | undefined;
  signal?: AbortSignal | undefined;
}

/** What the flow needs of the client it connects. */
export interface PluginSessionClient {
  readonly about: { instanceUuid?: string | undefined };
  cloneSession(ticket: string, options: { signal?: AbortSignal | undefined }): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * The vSphere Client plug-in server flow: checks the endpoint's host before any request,
 * connects to the SDK URL (`connect`), checks that it is the vCenter `vcGuid` names, then asks
 * the vsphere-ui service for a clone ticket (on the connected client's transport, `transportOf`)
 * and redeems it with CloneSession. The client is closed if any step after the connect fails.
 */
export async function pluginSession<C extends PluginSessionClient>(o: PluginSessionTarget, connect: (sdkUrl: string) => Promise<C>, transportOf: (client: C) => HttpTransport): Promise<C> {
  const { sessionToken, uiApiEndpoint, vcGuid, sdkUrl, allowedHosts, allowHttp, signal } = o;
  if (typeof sessionToken !== 'string' || sessionToken === '') throw new TypeError('fromPluginSession needs sessionToken');
  if (typeof vcGuid !== 'string' || vcGuid === '') throw new TypeError('fromPluginSession needs vcGuid');
  const endpoint = cleanUiApiEndpoint(uiApiEndpoint, allowHttp ?? false);
  const sdk = sdkUrl ?? `https://${endpoint.host}/sdk`;
  const allowed = allowedHosts ?? [new URL(sdk).host];
  if (!hostAllowed(endpoint, allowed)) {
    throw new PluginSessionError('hostNotAllowed', `uiApiEndpoint host ${endpoint.host} is not among the allowed hosts (${allowed.join(', ')})`);
  }
  const client = await connect(sdk);
  try {
    if (client.about.instanceUuid !== vcGuid) {
      throw new PluginSessionError('vcenterMismatch', `${sdk} is vCenter ${client.about.instanceUuid ?? '(no instanceUuid)'}, not ${vcGuid}`);
    }
    const ticket = await requestCloneTicket(transportOf(client), endpoint, sessionToken, vcGuid, signal);
    await client.cloneSession(ticket, { signal });
    return client;
  } catch (err) {
    await client.close();
    throw err;
  }
}
