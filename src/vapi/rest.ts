// The vSphere Automation (vAPI) REST endpoints beside the SDK: /api/... (vSphere 7.0 U2+) and
// /rest/... (older servers; answers wrapped in { value }), JSON in and out, sent through the
// client's own transport (its TLS policy, cookie jar, deadline, response-size limit and abort)
// and under the client's session policy: a 401 re-authenticates through the same single-flight
// guard as a vim25 call that failed NotAuthenticated, then the request is sent once more.
//
// The session: on vSphere 8.0 U3+ a vim session id is valid on vAPI (unified sessions), so
// the client's `sessionId` goes as `vmware-api-session-id`. Whether the server takes it is
// learnt from the first request and remembered: on an older server the client makes a vAPI
// session of its own (POST /api/session with the password login's credentials, or the token
// login's SAML token: token-auth.ts), keeps it beside the vim session, makes it again when it
// dies, and logs it out with the client. With a fleet session store (a password login) that
// session is shared through the store beside the vim session's (shared-session.ts).
import { abortedBy, TransportError, VimError } from '../errors.ts';
import { sameUser } from '../fleet/identity.ts';
import { sessionKey } from '../fleet/key.ts';
import type { SessionStore } from '../fleet/store.ts';
import { currentToken, type TokenSource } from '../session/strategies.ts';
import type { SamlToken } from '../session/token.ts';
import { SharedVapiSession, type Held, type Verdict } from './shared-session.ts';
import { tokenAuthorization } from './token-auth.ts';
import { internalsOf, type ClientInternals } from '../internals.ts';
import type { Logger } from '../logger.ts';
import { readCurrentSession } from '../session/manager.ts';
import { vimFault } from '../soap/faults.ts';
import type { SoapCall } from '../soap/pipeline.ts';
import { undeclaredMethod } from '../binding/metadata.ts';
import type { HttpResponse, HttpTransport } from '../transport/http.ts';
import { excerpt } from '../transport/http.ts';
import { replayOnce } from '../transport/replay.ts';
import type { ManagedObjectReference } from '../generated/types.ts';

export type RestMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export type QueryValue = string | number | boolean;

export interface RestOptions {
  /** Query parameters; an array repeats the parameter. */
  query?: Record<string, QueryValue | readonly QueryValue[] | undefined> | undefined;
  /** Sent as JSON. */
  body?: unknown;
  signal?: AbortSignal | undefined;
  /** Overrides the client's per-request timeout for this request. */
  timeoutMs?: number | undefined;
}

/** How this client authenticates on vAPI: not known yet, with its vim session id, or with a vAPI session of its own. */
export type VapiSessionMode = 'unknown' | 'unified' | 'separate';

/**
 * A vAPI error answer: /api's `{ error_type, messages }` or /rest's `{ type, value: { messages } }`.
 * `errorType` is the /api name (NOT_FOUND, INVALID_ARGUMENT, UNAUTHENTICATED, ...) in both cases.
 */
export class RestError extends VimError {
  override name = 'RestError';
  readonly status: number;
  readonly errorType: string;
  /** The messages' text (their default_message), in order. */
  readonly messages: readonly string[];
  readonly method: string;
  /** The request's path, without its query. */
  readonly path: string;

  constructor(method: string, path: string, status: number, errorType: string, messages: readonly string[], detail?: string) {
    super(`${method} ${path}: ${status} ${errorType}${messages.length ? `: ${messages.join('; ')}` : ''}${detail ? ` (${detail})` : ''}`);
    this.method = method;
    this.path = path;
    this.status = status;
    this.errorType = errorType;
    this.messages = messages;
  }
}

/**
 * What the client's login can make a vAPI session with, kept out of reach (closures): a password
 * login's basic-auth header (and its fleet store), or a token login's SAML token.
 */
type VapiLogin =
  | { kind: 'password'; username: string; authorization: () => string; shared: SharedVapiSession | undefined }
  | { kind: 'token'; token: () => Promise<SamlToken> };
const logins = new WeakMap<object, VapiLogin>();

/**
 * @internal Called by VimClient.login (a password login): the credentials a vAPI session of the
 * client's own needs on a server without unified sessions, and the fleet store that shares it.
 */
export function rememberVapiCredentials(client: object, username: string, password: string, store?: SessionStore): void {
  const authorization = (): string => `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
  const url = internalsOf(client)?.url;
  const shared = store && url ? new SharedVapiSession({ store, key: sessionKey(url, username, password), userName: username, logger: (client as ClientLike).logger }) : undefined;
  logins.set(client, { kind: 'password', username, authorization, shared });
}

/**
 * @internal Called by VimClient.loginByToken: the token a vAPI session of the client's own is made
 * with. A provider is asked for a fresh token each time (tokens expire), as a re-login does.
 */
export function rememberVapiToken(client: object, source: TokenSource): void {
  logins.set(client, { kind: 'token', token: () => currentToken(source) });
}

const closing = new WeakSet<object>();

/** @internal Called by VimClient.close before its logout: a vAPI session shared through a store stays for the others. */
export function markVapiClosing(client: object): void {
  closing.add(client);
}

const clients = new WeakMap<object, RestClient>();

/** The client's vAPI REST access (one per client). */
export function restOf(client: object): RestClient {
  let rest = clients.get(client);
  if (!rest) {
    const internals = internalsOf(client);
    if (!internals) throw new TypeError('restOf needs a VimClient made by this package');
    rest = new RestClient(client, internals);
    clients.set(client, rest);
  }
  return rest;
}

/** @internal Settles once the vAPI session of a client's own, if it had one, is logged out after its close. */
export function vapiLoggedOut(client: object): Promise<void> {
  return clients.get(client)?.loggedOut() ?? Promise.resolve();
}

const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'PUT', 'DELETE']);
const SESSION_HEADER = 'vmware-api-session-id';
/** Marks the NotAuthenticated fault a 401 becomes inside the session policy, with the RestError callers see. */
const unauthenticated = new WeakMap<object, Error>();

interface ClientLike {
  readonly serviceContent: { sessionManager?: ManagedObjectReference | undefined; propertyCollector: ManagedObjectReference };
  readonly logger: Logger;
  on(event: 'logout', listener: () => void): unknown;
}

export class RestClient {
  readonly #client: ClientLike;
  readonly #internals: ClientInternals;
  readonly #origin: string;
  #mode: VapiSessionMode = 'unknown';
  /** The vAPI session of the client's own ('separate'), or its creation (or adoption from a store) in flight. */
  #own: Promise<Held> | undefined;
  #held: Held | undefined;
  /** The store that shares #held, if it is shared. */
  #sharedBy: SharedVapiSession | undefined;
  #loggingOut: Promise<void> = Promise.resolve();

  /** @internal restOf(client) makes it. */
  constructor(client: object, internals: ClientInternals) {
    this.#client = client as ClientLike;
    this.#internals = internals;
    this.#origin = new URL(internals.url).origin;
    // A logout or close ends the vAPI session too. The client's transport may be closing: the
    // DELETE goes on a transport of its own, under the same TLS policy.
    this.#client.on('logout', () => {
      if (this.#held !== undefined || this.#own !== undefined) this.#loggingOut = this.logout({ ownTransport: true, mode: closing.has(client) ? 'close' : 'logout' });
    });
  }

  get sessionMode(): VapiSessionMode {
    return this.#mode;
  }

  get<T = unknown>(path: string, options?: Omit<RestOptions, 'body'>): Promise<T> {
    return this.request<T>('GET', path, options);
  }

  post<T = unknown>(path: string, options?: RestOptions): Promise<T> {
    return this.request<T>('POST', path, options);
  }

  put<T = unknown>(path: string, options?: RestOptions): Promise<T> {
    return this.request<T>('PUT', path, options);
  }

  patch<T = unknown>(path: string, options?: RestOptions): Promise<T> {
    return this.request<T>('PATCH', path, options);
  }

  delete<T = unknown>(path: string, options?: RestOptions): Promise<T> {
    return this.request<T>('DELETE', path, options);
  }

  /** Uses a vAPI session made elsewhere (e.g. by POST /api/session) instead of the vim session. */
  useSession(sessionId: string): void {
    if (typeof sessionId !== 'string' || !/^[\x21-\x7e]+$/.test(sessionId)) throw new TypeError('useSession needs a session id (printable ASCII)');
    this.#mode = 'separate';
    const held = { id: sessionId, shared: false };
    this.#held = held;
    this.#sharedBy = undefined;
    this.#own = Promise.resolve(held);
  }

  /**
   * Ends the vAPI session of the client's own, if it has one; never throws for one already gone.
   * One shared through a fleet store ends for every client (mode 'logout'); on close ('close') it
   * stays while others of this process hold it, and in a store that outlives the process.
   */
  async logout(options: { signal?: AbortSignal; ownTransport?: boolean; mode?: 'logout' | 'close' } = {}): Promise<void> {
    const pending = this.#own;
    const sharedBy = this.#sharedBy;
    this.#own = undefined;
    this.#held = undefined;
    this.#sharedBy = undefined;
    if (!pending) return;
    const held = await pending.catch(() => undefined);
    if (held === undefined) return;
    if (sharedBy && (await sharedBy.release(held, options.mode ?? 'logout').catch(() => 'logout' as const)) === 'keep') {
      this.#client.logger.debug('vAPI session kept for the other clients of the session store');
      return;
    }
    const id = held.id;
    const transport = options.ownTransport ? this.#internals.transport.derive({}) : this.#internals.transport;
    try {
      const res = await transport.send(`${this.#origin}/api/session`, {
        method: 'DELETE' as 'POST',
        headers: { [SESSION_HEADER]: id, Accept: 'application/json' },
        ctx: { signal: options.signal },
        cookies: false,
      });
      res.body.resume();
      this.#client.logger.info('vAPI session logged out', { status: res.status });
    } catch (err) {
      this.#client.logger.debug('vAPI logout: session already gone or server unreachable', { error: err instanceof Error ? err.name : 'unknown' });
    } finally {
      if (options.ownTransport) transport.close();
    }
  }

  /** @internal Settles once a logout started by the client's logout or close is over. */
  loggedOut(): Promise<void> {
    return this.#loggingOut;
  }

  async request<T = unknown>(method: RestMethod, path: string, options: RestOptions = {}): Promise<T> {
    const m = method.toUpperCase() as RestMethod;
    if (!['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].includes(m)) throw new TypeError(`unsupported HTTP method ${method}`);
    const shown = checkPath(path);
    const url = this.#origin + shown + queryString(options.query);
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const logger = this.#client.logger;
    const started = Date.now();
    try {
      if (options.signal?.aborted) throw abortedBy(options.signal, `${m} ${shown} aborted`);
      const value = await this.#underSession(m, shown, url, body, options);
      logger.debug('rest', { method: m, path: shown, ms: Date.now() - started });
      return value as T;
    } catch (err) {
      const e = err as { name?: string; code?: string; status?: number; errorType?: string };
      logger.debug('rest failed', { method: m, path: shown, ms: Date.now() - started, error: e?.name, code: e?.code, status: e?.status, errorType: e?.errorType });
      throw err;
    }
  }

  /** One request under the client's session policy: a 401 joins the single re-login of every caller, then is sent once more. */
  async #underSession(method: RestMethod, path: string, url: string, body: string | undefined, options: RestOptions): Promise<unknown> {
    // Not a vim25 method: what the session policy reads of it is its name (for its log) and options.
    const call: SoapCall = { info: undeclaredMethod(`${method} ${path}`), _this: undefined, args: undefined, options: { signal: options.signal, timeoutMs: options.timeoutMs } };
    try {
      return await this.#internals.session.policy.handle(call, () => this.#attempt(method, path, url, body, options));
    } catch (err) {
      const rest = typeof err === 'object' && err !== null ? unauthenticated.get(err) : undefined;
      throw rest ?? err;
    }
  }

  async #attempt(method: RestMethod, path: string, url: string, body: string | undefined, options: RestOptions, probed = false): Promise<unknown> {
    if (this.#mode === 'separate') return this.#withOwnSession(method, path, url, body, options);
    const id = this.#internals.session.sessionId;
    if (id === undefined) throw vimFault(`${method} ${path}`, { _typeName: 'NotAuthenticated' }, 'no session');
    const res = await this.#send(method, url, body, id, options);
    if (res.status !== 401) {
      if (this.#mode === 'unknown') this.#mode = 'unified';
      return this.#answer(method, path, res);
    }
    const error = await this.#error(method, path, res);
    if (this.#mode === 'unified' || probed) {
      // The vim session is gone (or, probed: it was replaced and still refused): the session policy re-authenticates.
      const fault = vimFault(`${method} ${path}`, { _typeName: 'NotAuthenticated' }, error.message);
      unauthenticated.set(fault, error);
      throw fault;
    }
    // Unknown: a dead vim session, or a server that does not take vim ids on vAPI. Reading the
    // current session through the session policy re-authenticates a dead one.
    const sm = this.#client.serviceContent.sessionManager;
    const current = sm ? await readCurrentSession(this.#internals.call, this.#client.serviceContent.propertyCollector, sm, { signal: options.signal }) : undefined;
    if (this.#internals.session.sessionId !== id) return this.#attempt(method, path, url, body, options, true);
    if (!current) {
      // The vim session is gone: the session policy re-authenticates, and the request is sent again.
      const fault = vimFault(`${method} ${path}`, { _typeName: 'NotAuthenticated' }, error.message);
      unauthenticated.set(fault, error);
      throw fault;
    }
    this.#mode = 'separate';
    this.#client.logger.info('the server does not take vim session ids on vAPI (before vSphere 8.0 U3): using a vAPI session of its own');
    return this.#withOwnSession(method, path, url, body, options);
  }

  async #withOwnSession(method: RestMethod, path: string, url: string, body: string | undefined, options: RestOptions): Promise<unknown> {
    const held = await this.#ownSession(options.signal);
    const res = await this.#send(method, url, body, held.id, options);
    if (res.status !== 401) {
      this.#sharedBy?.used(held);
      return this.#answer(method, path, res);
    }
    res.body.resume();
    // The vAPI session died (idle timeout, terminated), or a stored one was refused: made again
    // (or adopted from the store) once, for every caller.
    if (this.#held === held) {
      this.#own = undefined;
      this.#held = undefined;
    }
    const again = await this.#ownSession(options.signal, held.id);
    return this.#answer(method, path, await this.#send(method, url, body, again.id, options));
  }

  /** The vAPI session of the client's own, made (or adopted from a fleet store) once for every concurrent caller. */
  #ownSession(signal: AbortSignal | undefined, dead?: string): Promise<Held> {
    if (!this.#own) {
      const login = logins.get(this.#client);
      const shared = login?.kind === 'password' && this.#internals.session.strategyKind === 'password' ? login.shared : undefined;
      const made: Promise<Held> = shared
        ? shared.acquire(() => this.#createSession(), (id) => this.#check(id), dead)
        : this.#createSession().then((id) => ({ id, shared: false }));
      this.#own = made;
      made.then(
        (held) => {
          if (this.#own !== made) return;
          this.#held = held;
          this.#sharedBy = shared;
        },
        () => {
          if (this.#own === made) this.#own = undefined;
        },
      );
    }
    const own = this.#own;
    if (!signal) return own;
    return new Promise<Held>((resolve, reject) => {
      const onAbort = (): void => reject(abortedBy(signal, 'aborted while waiting for the vAPI session'));
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      own.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  async #createSession(): Promise<string> {
    const kind = this.#internals.session.strategyKind;
    const login = logins.get(this.#client);
    if (!login || login.kind !== kind) {
      throw new RestError('POST', '/api/session', 401, 'UNAUTHENTICATED', [], `this server (before vSphere 8.0 U3) does not take vim session ids on its vAPI endpoints, and the client's session was made by ${kind ? `${/^[aeiou]/i.test(kind) ? 'an' : 'a'} ${kind}` : 'no'} login, whose credentials cannot make a vAPI session: log in with login({ username, password }) or loginByToken({ token }), or hand the client a vAPI session made elsewhere with rest.useSession(id)`);
    }
    // A token is fetched once per session made; a holder-of-key signature covers the path, so each request signs its own.
    const token = login.kind === 'token' ? await login.token() : undefined;
    const authorization = (path: string): string => (token ? tokenAuthorization(token, 'POST', new URL(this.#origin + path)) : (login as { authorization: () => string }).authorization());
    const post = (path: string): Promise<HttpResponse> =>
      replayOnce(
        (freshConnection) => this.#internals.transport.send(this.#origin + path, { method: 'POST', headers: { Authorization: authorization(path), Accept: 'application/json', 'vmware-use-header-authn': 'true' }, freshConnection }),
        (written) => !written,
      );
    let res = await post('/api/session');
    let path = '/api/session';
    if (res.status === 404) {
      // Before 7.0 U2: only /rest.
      res.body.resume();
      path = '/rest/com/vmware/cis/session';
      res = await post(path);
    }
    if (token && res.status === 401) {
      const refused = await this.#error('POST', path, res);
      // vCenter discloses nothing more; these are the documented causes.
      throw new RestError('POST', path, 401, refused instanceof RestError ? refused.errorType : 'UNAUTHENTICATED', refused instanceof RestError ? refused.messages : [], 'the server refused the SAML token for a vAPI session: it expired (log in with a token provider, loginByToken({ token: async () => ... }), so that a fresh one is used), the clocks differ, it is not delegable, or the vAPI endpoint takes no bearer tokens (use a holder-of-key token)');
    }
    const id = await this.#answer('POST', path, res);
    if (typeof id !== 'string' || id === '') throw new TransportError('the vAPI login succeeded but the server answered no session id', { code: 'ENOSESSION' });
    this.#client.logger.info('vAPI session created', login.kind === 'password' ? { user: login.username } : { login: 'token' });
    return id;
  }

  /** Whether a vAPI session id from a fleet store is alive and this client's user's (GET /api/session). */
  async #check(id: string): Promise<Verdict> {
    const login = logins.get(this.#client);
    const get = (path: string, method: 'GET' | 'POST'): Promise<HttpResponse> =>
      replayOnce(
        (freshConnection) => this.#internals.transport.send(this.#origin + path, { method, headers: { [SESSION_HEADER]: id, Accept: 'application/json' }, cookies: false, freshConnection }),
        () => true,
      );
    let path = '/api/session';
    let res = await get(path, 'GET');
    if (res.status === 404) {
      res.body.resume();
      path = '/rest/com/vmware/cis/session';
      res = await get(`${path}?~action=get`, 'POST');
    }
    if (res.status === 401) {
      res.body.resume();
      return 'dead';
    }
    const info = await this.#answer('GET', path, res);
    const user = typeof info === 'object' && info !== null ? (info as { user?: unknown }).user : undefined;
    return login?.kind === 'password' && sameUser(login.username, user) ? 'ok' : 'foreign';
  }

  #send(method: RestMethod, url: string, body: string | undefined, sessionId: string, options: RestOptions): Promise<HttpResponse> {
    const headers: Record<string, string> = { [SESSION_HEADER]: sessionId, Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    // One deadline for the attempt and its replay.
    const deadline = Date.now() + (options.timeoutMs ?? this.#internals.transport.options.timeoutMs);
    return replayOnce(
      (freshConnection) => this.#internals.transport.send(url, { method: method as 'POST', body, headers, ctx: { signal: options.signal, deadline }, freshConnection }),
      (written) => !written || IDEMPOTENT.has(method),
      () => this.#client.logger.debug('replaying a request whose connection the server closed', { method }),
    );
  }

  /** The answer's value (a /rest answer unwrapped), or its error. */
  async #answer(method: RestMethod, path: string, res: HttpResponse): Promise<unknown> {
    if (res.status >= 400) throw await this.#error(method, path, res);
    const text = (await readAll(this.#internals.transport, res)).trim();
    if (res.status === 204 || text === '') return undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new TransportError(`${method} ${path}: the answer is not JSON`, { code: 'EBADJSON', status: res.status, excerpt: excerpt(text), cause: err });
    }
    if (path.startsWith('/rest/') && typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length <= 1) {
      return (value as { value?: unknown }).value;
    }
    return value;
  }

  async #error(method: RestMethod, path: string, res: HttpResponse): Promise<RestError | TransportError> {
    const text = (await readAll(this.#internals.transport, res, 1 << 20)).trim();
    let parsed: unknown;
    try {
      parsed = text === '' ? {} : JSON.parse(text);
    } catch {
      // A proxy's or a crashed service's page: a transport failure, as for a vim25 call; a 4xx
      // without a vAPI body is still the server's answer about the request.
      if (res.status >= 500) return new TransportError(`${method} ${path}: HTTP ${res.status}`, { status: res.status, code: `HTTP_${res.status}`, excerpt: excerpt(text) });
      parsed = {};
    }
    const { errorType, messages } = vapiError(parsed, res.status);
    return new RestError(method, path, res.status, errorType, messages);
  }
}

async function readAll(transport: HttpTransport, res: HttpResponse, limit?: number): Promise<string> {
  return (await transport.readAll(res.body, limit)).toString('utf8');
}

const BY_STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'UNAUTHORIZED', 404: 'NOT_FOUND', 409: 'ALREADY_EXISTS', 500: 'ERROR', 503: 'SERVICE_UNAVAILABLE',
};

/** /api's { error_type, messages } or /rest's { type: 'com.vmware.vapi.std.errors.not_found', value: { messages } }. */
function vapiError(body: unknown, status: number): { errorType: string; messages: string[] } {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  let type = typeof b.error_type === 'string' ? b.error_type : undefined;
  let list: unknown = b.messages;
  if (type === undefined && typeof b.type === 'string') {
    type = b.type.slice(b.type.lastIndexOf('.') + 1).toUpperCase();
    list = (b.value as { messages?: unknown } | undefined)?.messages;
  }
  const messages = Array.isArray(list)
    ? list.map((m) => (typeof m === 'string' ? m : typeof (m as { default_message?: unknown })?.default_message === 'string' ? (m as { default_message: string }).default_message : '')).filter((m) => m !== '')
    : [];
  return { errorType: type ?? BY_STATUS[status] ?? `HTTP_${status}`, messages };
}

/** A path under /api/ or /rest/ on the client's server, nothing else. */
function checkPath(path: string): string {
  if (typeof path !== 'string' || !/^\/(api|rest)(\/|$)/.test(path) || /[?#\s]/.test(path) || path.split('/').some((s) => s === '..' || s === '.')) {
    throw new TypeError(`a vAPI path starts with /api/ or /rest/, without a query (use options.query) or dot segments: ${JSON.stringify(String(path).slice(0, 100))}`);
  }
  return path;
}

function queryString(query: RestOptions['query']): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) params.append(k, String(one));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}
