// The session of one client, as a small state machine: the strategy that made it, a generation
// number that changes with every new session, at most one re-login in flight, and a memory of
// a refused re-login so a burst of failing calls does not hammer Login.
//
// `call` wraps the raw invoke: a call that fails with NotAuthenticated (a fault, or inside a
// PropertyCollector answer's missingSet) re-authenticates once for all concurrent callers when
// the strategy can be replayed, then is retried once. Login methods are never retried.
import { CookieJar } from 'tough-cookie';
import type { ManagedObjectReference, UserSession } from '../generated/types.ts';
import { vimFault } from '../binding/decode.ts';
import { isVimFault, TransportError, VimFault } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Invoke } from '../soap/invoke.ts';
import { notAuthenticatedInResult } from './missing-set.ts';
import { SESSION_METHODS, type LoginContext, type LoginStrategy, type MutualTlsChannel } from './strategies.ts';
import type { CertificateAndKey } from '../certs/certificates.ts';

export const SESSION_COOKIE = 'vmware_soap_session';

/** The `vmware_soap_session` value the jar holds for `url`, without the quotes vCenter puts around it. */
export function sessionIdIn(jar: CookieJar, url: string): string | undefined {
  return jar.getCookiesSync(url).find((c) => c.key === SESSION_COOKIE)?.value.replace(/^"(.*)"$/, '$1');
}

export type SessionEvent = 'login' | 'reauthenticated' | 'logout' | 'sessionLost';

export interface SessionOptions {
  invoke: Invoke;
  sessionManager: ManagedObjectReference;
  propertyCollector: ManagedObjectReference;
  jar: CookieJar;
  url: string;
  logger: Logger;
  reauthenticate: boolean;
  emit: (event: SessionEvent, detail?: unknown) => void;
  mutualTls: (credentials: CertificateAndKey) => MutualTlsChannel;
}

const BACKOFF_MIN_MS = 1_000;
const BACKOFF_MAX_MS = 60_000;

export class Session {
  userSession: UserSession | undefined;
  readonly #o: SessionOptions;
  #strategy: LoginStrategy | undefined;
  #generation = 0;
  #pending: Promise<void> | undefined;
  #refused: { generation: number; error: unknown; until: number } | undefined;
  #backoffMs = 0;
  #lostGeneration = -1;
  #closed = false;

  constructor(options: SessionOptions) {
    this.#o = options;
  }

  /** The current `vmware_soap_session` value (without the quotes vCenter puts around it). */
  get sessionId(): string | undefined {
    return sessionIdIn(this.#o.jar, this.#o.url);
  }

  get strategyKind(): string | undefined {
    return this.#strategy?.kind;
  }

  /** Calls a method under the session: waits for a re-login in flight, re-authenticates and retries once. */
  call: Invoke = async (method, _this, args, options) => {
    const invoke = this.#o.invoke;
    if (SESSION_METHODS.has(method)) return invoke(method, _this, args, options);
    return this.guard(async () => checked(method, await invoke(method, _this, args, options)), options?.signal);
  };

  /**
   * Runs one attempt of a (non-login) exchange under the session: it waits for a re-login in
   * flight, and when the attempt fails with NotAuthenticated it joins the single re-login of all
   * concurrent callers and runs once more. Exchanges that do not go through `call` (node-soap
   * clients on this session) use it too, so they share the same single flight. A signal stops
   * the wait; a client closed meanwhile rejects with ECLOSED.
   */
  async guard<T>(attempt: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.#pending) await waitFor(this.#pending, signal);
    this.#assertOpen();
    const generation = this.#generation;
    try {
      return await attempt();
    } catch (err) {
      if (!isVimFault(err, 'NotAuthenticated')) throw err;
      await this.#recover(generation, err, signal);
      this.#assertOpen();
      return attempt();
    }
  }

  /** From now on every call (and every call waiting for a re-login) fails with ECLOSED. */
  close(): void {
    this.#closed = true;
  }

  #assertOpen(): void {
    if (this.#closed) throw new TransportError('client is closed', { code: 'ECLOSED' });
  }

  /**
   * A login made on the side: its requests carry a cookie jar of their own (with the client's
   * other cookies, e.g. a load balancer's, but not its session), so the client's session is
   * untouched until the new one exists, and untouched if the login is refused.
   */
  async #loginOnTheSide(strategy: LoginStrategy): Promise<{ session: UserSession; id: string }> {
    const jar = new CookieJar();
    for (const c of this.#o.jar.getCookiesSync(this.#o.url)) if (c.key !== SESSION_COOKIE) jar.setCookieSync(c, this.#o.url);
    const invoke = this.#o.invoke;
    const session = await strategy.login({
      invoke: (method, _this, args, options) => invoke(method, _this, args, { ...options, jar }),
      sessionManager: this.#o.sessionManager,
      mutualTls: this.#o.mutualTls,
      adoptSessionId: (id) => setSessionCookie(jar, this.#o.url, id),
    });
    const id = sessionIdIn(jar, this.#o.url);
    if (!id) throw new TransportError(`the ${strategy.kind} login succeeded but the server set no session cookie`, { code: 'ENOSESSION' });
    return { session, id };
  }

  /** A new login replaces the current session only once it succeeded; the old one is then logged out so it does not linger on the server. */
  async login(strategy: LoginStrategy): Promise<UserSession> {
    this.#assertOpen();
    const { session, id } = await this.#loginOnTheSide(strategy);
    await this.#switchTo(id);
    this.#adopt(strategy, session);
    this.#o.logger.info('logged in', { strategy: strategy.kind, user: session.userName });
    this.#o.emit('login', session);
    return session;
  }

  /** Adopts an existing session id (VIM or vAPI); fails with NotAuthenticated if the server does not know it, leaving the current session as it was. */
  async attach(sessionId: string): Promise<UserSession> {
    if (typeof sessionId !== 'string' || !/^[\x21-\x7e]+$/.test(sessionId) || /[";,\\]/.test(sessionId)) {
      throw new TypeError('attachSession needs a session id (printable ASCII without quotes, semicolons, commas or backslashes)');
    }
    this.#assertOpen();
    const jar = new CookieJar();
    setSessionCookie(jar, this.#o.url, sessionId);
    const current = await this.#currentSession(jar);
    if (!current) throw vimFault('attachSession', { _typeName: 'NotAuthenticated' }, 'the session id is not (or no longer) valid on this server');
    await this.#switchTo(sessionId);
    this.#adopt({ kind: 'attached', replayable: false, login: async () => current }, current);
    this.#o.logger.info('attached a session', { user: current.userName });
    this.#o.emit('login', current);
    return current;
  }

  /** Ends the session the client has (if any), then makes `id` the client's session. */
  async #switchTo(id: string): Promise<void> {
    if (this.#strategy !== undefined || this.sessionId !== undefined) await this.logout();
    setSessionCookie(this.#o.jar, this.#o.url, id);
  }

  /** Ends the session on the server if there is one; never throws for a session that is already gone. */
  async logout(): Promise<void> {
    await this.#pending?.catch(() => undefined);
    const had = this.#strategy !== undefined || this.sessionId !== undefined;
    this.#strategy = undefined;
    this.#generation++;
    if (!had) return;
    try {
      await this.#o.invoke('Logout', this.#o.sessionManager, {});
    } catch (err) {
      // NotAuthenticated: already gone. Transport errors: nothing more we can do about it.
      this.#o.logger.debug('logout: session already gone or server unreachable', { error: err instanceof Error ? err.name : 'unknown' });
    } finally {
      this.userSession = undefined;
      this.#clearCookie();
    }
    this.#o.emit('logout');
  }

  #adopt(strategy: LoginStrategy, session: UserSession): void {
    this.#strategy = strategy;
    this.#generation++;
    this.userSession = session;
    this.#refused = undefined;
    this.#backoffMs = 0;
  }

  async #recover(generation: number, fault: VimFault, signal: AbortSignal | undefined): Promise<void> {
    const strategy = this.#strategy;
    if (!strategy || !strategy.replayable || !this.#o.reauthenticate) {
      if (!strategy && this.userSession === undefined && this.#generation === 0) {
        throw new VimFault(fault.method, fault.fault, `${fault.faultString ? `${fault.faultString}; ` : ''}this client has no session yet: log in first (login(), loginByToken(), …)`, fault.ancestors);
      }
      if (strategy && this.#lostGeneration !== generation && generation === this.#generation) {
        this.#lostGeneration = generation;
        this.userSession = undefined;
        this.#o.logger.warn('session lost', { strategy: strategy.kind });
        this.#o.emit('sessionLost', fault);
      }
      throw fault;
    }
    if (generation !== this.#generation) return; // already replaced by a newer session
    if (this.#pending) return waitFor(this.#pending, signal);
    const refused = this.#refused;
    if (refused && refused.generation === generation && Date.now() < refused.until) throw refused.error;
    this.#pending = this.#relogin(strategy, generation).finally(() => {
      this.#pending = undefined;
    });
    return waitFor(this.#pending, signal);
  }

  async #relogin(strategy: LoginStrategy, generation: number): Promise<void> {
    try {
      const { session, id } = await this.#loginOnTheSide(strategy);
      if (this.#strategy !== strategy || this.#closed) {
        // Logged out, replaced or closed meanwhile: the new session is nobody's, so it ends here.
        const jar = new CookieJar();
        setSessionCookie(jar, this.#o.url, id);
        await this.#o.invoke('Logout', this.#o.sessionManager, {}, { jar }).catch(() => undefined);
        return;
      }
      setSessionCookie(this.#o.jar, this.#o.url, id);
      this.#adopt(strategy, session);
      this.#o.logger.info('re-authenticated', { strategy: strategy.kind, user: session.userName });
      this.#o.emit('reauthenticated', session);
    } catch (err) {
      this.#backoffMs = Math.min(BACKOFF_MAX_MS, Math.max(BACKOFF_MIN_MS, this.#backoffMs * 2));
      this.#refused = { generation, error: err, until: Date.now() + this.#backoffMs };
      this.#o.logger.warn('re-authentication failed', { strategy: strategy.kind, error: err instanceof Error ? err.name : 'unknown', retryInMs: this.#backoffMs });
      throw err;
    }
  }

  async #currentSession(jar: CookieJar): Promise<UserSession | undefined> {
    const result = (await this.#o.invoke('RetrievePropertiesEx', this.#o.propertyCollector, {
      specSet: [{ propSet: [{ type: 'SessionManager', pathSet: ['currentSession'] }], objectSet: [{ obj: this.#o.sessionManager }] }],
      options: {},
    }, { jar })) as { objects?: { propSet?: { val: unknown }[] }[] } | undefined;
    return result?.objects?.[0]?.propSet?.[0]?.val as UserSession | undefined;
  }

  /** Expires the session cookie under whatever path the server set it. */
  #clearCookie(): void {
    for (const c of this.#o.jar.getCookiesSync(this.#o.url)) {
      if (c.key === SESSION_COOKIE) this.#o.jar.setCookieSync(`${SESSION_COOKIE}=; Path=${c.path ?? '/'}; Expires=Thu, 01 Jan 1970 00:00:00 GMT`, this.#o.url);
    }
  }
}

/** Makes `id` the session a jar sends to `url` (quoted, as vCenter sets it). */
function setSessionCookie(jar: CookieJar, url: string, id: string): void {
  jar.setCookieSync(`${SESSION_COOKIE}="${id}"; Path=/`, url);
}

/** `promise`, or an EABORTED rejection as soon as `signal` fires. */
function waitFor(promise: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortedWhileWaiting(signal));
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => reject(abortedWhileWaiting(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function abortedWhileWaiting(signal: AbortSignal): TransportError {
  return new TransportError('aborted while waiting for the session to be re-established', { code: 'EABORTED', cause: signal.reason });
}

function checked(method: string, value: unknown): unknown {
  const fault = notAuthenticatedInResult(method, value);
  if (fault) throw fault;
  return value;
}
