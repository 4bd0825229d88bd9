// The session of one client, as a small state machine: the strategy that made it, a generation
// number that changes with every new session, at most one re-login in flight, and a memory of
// a refused re-login so a burst of failing calls does not hammer Login.
//
// Its policy sits in the call pipeline (soap/pipeline.ts): a call that fails with
// NotAuthenticated (a fault, or inside a PropertyCollector answer's missingSet) re-authenticates
// once for all concurrent callers when the strategy can be replayed, then is retried once.
// Login methods are never retried.
import type { CookieJar } from 'tough-cookie';
import type { ManagedObjectReference, UserSession } from '../generated/types.ts';
import { untilAborted } from '../abort.ts';
import { AbortError, isVimFault, TransportError, type VimFault } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { publishSession, retried, serverAddress, type SessionMessage } from '../soap/diagnostics.ts';
import { vimFault } from '../soap/faults.ts';
import type { Invoke, Policy } from '../soap/pipeline.ts';
import { clearSessionCookie, SESSION_COOKIE, sessionIdIn, setSessionCookie } from '../transport/session-cookie.ts';
import { readCurrentSession } from './manager.ts';
import { notAuthenticatedInResult } from './missing-set.ts';
import { openMutualTlsChannel, type MutualTlsOptions } from './mutual-tls.ts';
import { cookieJar } from '../transport/cookies.ts';
import { SESSION_METHODS, type LoginStrategy } from './strategies.ts';

export type SessionEvent = 'login' | 'reauthenticated' | 'logout' | 'sessionLost';

export interface SessionOptions {
  /** The pipeline without the session policy: logins and logouts are never re-authenticated. */
  invoke: Invoke;
  sessionManager: ManagedObjectReference;
  propertyCollector: ManagedObjectReference;
  jar: CookieJar;
  url: string;
  logger: Logger;
  reauthenticate: boolean;
  emit: (event: SessionEvent, detail?: unknown) => void;
  /** Where extension logins open their mutual-TLS connection. */
  mutualTls: MutualTlsOptions;
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

  /** The session's place in the call pipeline; login methods pass through untouched. */
  readonly policy: Policy = {
    name: 'session',
    handle: (call, next) => {
      const method = call.info.name;
      if (SESSION_METHODS.has(method)) return next(call);
      return this.#guard(async () => checked(method, await next(call)), call.options.signal, () => retried(call, 'reauthenticated'));
    },
  };

  /**
   * Runs one attempt of a (non-login) call under the session: it waits for a re-login in
   * flight, and when the attempt fails with NotAuthenticated it joins the single re-login of all
   * concurrent callers and runs once more. The call's signal stops the wait; a client closed
   * meanwhile rejects with ECLOSED.
   */
  async #guard<T>(attempt: () => Promise<T>, signal: AbortSignal | undefined, onRetry: () => void): Promise<T> {
    if (this.#pending) await waitFor(this.#pending, signal);
    this.#assertOpen();
    const generation = this.#generation;
    try {
      const result = await attempt();
      this.#strategy?.used?.();
      return result;
    } catch (err) {
      if (!isVimFault(err, 'NotAuthenticated')) throw err;
      await this.#recover(generation, err, signal);
      this.#assertOpen();
      onRetry();
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
  async #loginOnTheSide(strategy: LoginStrategy, signal?: AbortSignal): Promise<{ session: UserSession; id: string }> {
    const jar = cookieJar();
    for (const c of this.#o.jar.getCookiesSync(this.#o.url)) if (c.key !== SESSION_COOKIE) jar.setCookieSync(c, this.#o.url);
    const invoke = this.#o.invoke;
    const session = await strategy.login({
      signal,
      invoke: (method, _this, args, options) => invoke(method, _this, args, { signal, ...options, jar }),
      sessionManager: this.#o.sessionManager,
      mutualTls: (credentials) => openMutualTlsChannel(this.#o.mutualTls, credentials),
      adoptSessionId: (id) => setSessionCookie(jar, this.#o.url, id),
      forgetSessionId: () => clearSessionCookie(jar, this.#o.url),
      sessionId: () => sessionIdIn(jar, this.#o.url),
    });
    const id = sessionIdIn(jar, this.#o.url);
    if (!id) throw new TransportError(`the ${strategy.kind} login succeeded but the server set no session cookie`, { code: 'ENOSESSION' });
    return { session, id };
  }

  /** A new login replaces the current session only once it succeeded; the old one is then logged out so it does not linger on the server. */
  async login(strategy: LoginStrategy, signal?: AbortSignal): Promise<UserSession> {
    this.#assertOpen();
    const { session, id } = await this.#loginOnTheSide(strategy, signal);
    await this.#switchTo(id);
    this.#adopt(strategy, session);
    this.#o.logger.info('logged in', { strategy: strategy.kind, user: session.userName });
    this.#publish('login', strategy.kind);
    this.#o.emit('login', session);
    return session;
  }

  /** Adopts an existing session id (VIM or vAPI); fails with NotAuthenticated if the server does not know it, leaving the current session as it was. */
  async attach(sessionId: string, signal?: AbortSignal): Promise<UserSession> {
    if (typeof sessionId !== 'string' || !/^[\x21-\x7e]+$/.test(sessionId) || /[";,\\]/.test(sessionId)) {
      throw new TypeError('attachSession needs a session id (printable ASCII without quotes, semicolons, commas or backslashes)');
    }
    this.#assertOpen();
    const jar = cookieJar();
    setSessionCookie(jar, this.#o.url, sessionId);
    const current = await readCurrentSession(this.#o.invoke, this.#o.propertyCollector, this.#o.sessionManager, { jar, signal });
    if (!current) throw vimFault('attachSession', { _typeName: 'NotAuthenticated' }, 'the session id is not (or no longer) valid on this server');
    await this.#switchTo(sessionId);
    this.#adopt({ kind: 'attached', replayable: false, login: async () => current }, current);
    this.#o.logger.info('attached a session', { user: current.userName });
    this.#publish('login', 'attached');
    this.#o.emit('login', current);
    return current;
  }

  /**
   * Ends the session the client has (if any), then makes `id` the client's session. A shared
   * session is only let go of (see LoginStrategy.release), and one the new login found again
   * (the same id) is kept.
   */
  async #switchTo(id: string): Promise<void> {
    // Not under the login's signal: the new session exists, and the old one must not linger.
    if (this.#strategy !== undefined || this.sessionId !== undefined) await this.logout(undefined, 'close', this.sessionId === id);
    setSessionCookie(this.#o.jar, this.#o.url, id);
  }

  /**
   * Ends the session on the server if there is one; never throws for a session that is already
   * gone or a server that cannot be reached. A session shared with other clients is logged out
   * only when its strategy says so (`mode`: 'logout' from logout(), 'close' from close() and
   * from a switch to another session). The client lets go of the session in every case; an
   * abort then rejects, as the server may still have it (until its idle timeout).
   */
  async logout(signal?: AbortSignal, mode: 'logout' | 'close' = 'logout', keep = false): Promise<void> {
    let aborted: unknown;
    // A re-login in flight ends first, so that its session is the one ended; if the signal fires
    // meanwhile, the client lets go at once and the re-login ends its new session itself.
    if (this.#pending) {
      await waitFor(this.#pending.catch(() => undefined), signal).catch((err: unknown) => {
        aborted = err;
      });
    }
    const had = this.#strategy !== undefined || this.sessionId !== undefined;
    const strategy = this.#strategy;
    this.#strategy = undefined;
    this.#generation++;
    if (!had) {
      if (aborted !== undefined) throw aborted;
      return;
    }
    try {
      const verdict = strategy?.release ? await strategy.release(mode).catch(() => 'logout' as const) : 'logout';
      if (verdict === 'logout' && !keep && aborted === undefined) await this.#o.invoke('Logout', this.#o.sessionManager, {}, { signal });
    } catch (err) {
      if (signal?.aborted && (err instanceof AbortError || err === signal.reason)) aborted ??= err;
      // NotAuthenticated: already gone. Transport errors: nothing more we can do about it.
      else this.#o.logger.debug('logout: session already gone or server unreachable', { error: err instanceof Error ? err.name : 'unknown' });
    } finally {
      this.userSession = undefined;
      this.#clearCookie();
    }
    this.#publish('logout', strategy?.kind);
    this.#o.emit('logout');
    if (aborted !== undefined) throw aborted;
  }

  /**
   * Lets go of a session that a Logout sent through another toolkit (node-soap) has ended: as
   * logout() does, without sending one, so that no re-login brings it back.
   */
  async ended(signal?: AbortSignal): Promise<void> {
    await this.logout(signal, 'logout', true);
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
        // The same error object (callers may hold on to it), saying what to do.
        fault.message += ' (this client has no session yet: log in first, with login() or another login method)';
        throw fault;
      }
      if (strategy && this.#lostGeneration !== generation && generation === this.#generation) {
        this.#lostGeneration = generation;
        this.userSession = undefined;
        this.#o.logger.warn('session lost', { strategy: strategy.kind });
        this.#publish('lost', strategy.kind);
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
        // Logged out, replaced or closed meanwhile: the new session is nobody's, so it ends here
        // (unless others share it).
        if (strategy.release && (await strategy.release('close').catch(() => 'logout' as const)) === 'keep') return;
        const jar = cookieJar();
        setSessionCookie(jar, this.#o.url, id);
        await this.#o.invoke('Logout', this.#o.sessionManager, {}, { jar }).catch(() => undefined);
        return;
      }
      setSessionCookie(this.#o.jar, this.#o.url, id);
      this.#adopt(strategy, session);
      this.#o.logger.info('re-authenticated', { strategy: strategy.kind, user: session.userName });
      this.#publish('reauthenticated', strategy.kind);
      this.#o.emit('reauthenticated', session);
    } catch (err) {
      this.#backoffMs = Math.min(BACKOFF_MAX_MS, Math.max(BACKOFF_MIN_MS, this.#backoffMs * 2));
      this.#refused = { generation, error: err, until: Date.now() + this.#backoffMs };
      this.#o.logger.warn('re-authentication failed', { strategy: strategy.kind, error: err instanceof Error ? err.name : 'unknown', retryInMs: this.#backoffMs });
      throw err;
    }
  }

  /** On `vim25-soap:session` (soap/diagnostics.ts), while anybody subscribes: the event and the strategy's name, nothing else. */
  #publish(event: SessionMessage['event'], strategy: string | undefined): void {
    publishSession(event, strategy, () => serverAddress(this.#o.url));
  }

  #clearCookie(): void {
    clearSessionCookie(this.#o.jar, this.#o.url);
  }
}

function waitFor(promise: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  return untilAborted(promise, signal, 'aborted while waiting for the session to be re-established');
}

function checked(method: string, value: unknown): unknown {
  const fault = notAuthenticatedInResult(method, value);
  if (fault) throw fault;
  return value;
}
