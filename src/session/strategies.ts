// Login strategies, every one of them: how a session is created, and whether it can be created
// again by itself when the server forgets it (password, clone ticket, extension certificate,
// SAML token, SSPI, local ticket, a session broker's clone ticket). Each keeps its secret in a
// closure, out of reach of inspect(). The session (session.ts) runs them; fleet/shared-login.ts
// wraps one to share its session through a store.
import type { ManagedObjectReference, SessionManagerLocalTicket, UserSession } from '../generated/types.ts';
import { loadCertificate, type CertificateAndKey, type CertificateSource } from '../certs/certificates.ts';
import { isVimFault, TransportError, VimError } from '../errors.ts';
import type { Invoke } from '../soap/pipeline.ts';
import type { HttpTransport } from '../transport/http.ts';
import { isLoopbackUrl } from '../transport/url.ts';
import { DEFAULT_LOCAL_TICKET_DIRECTORIES, LocalTicketError, readLocalTicket } from './local-ticket.ts';
import type { MutualTlsChannel } from './mutual-tls.ts';
import { cleanUiApiEndpoint, PluginSessionError, requestCloneTicket } from './plugin.ts';
import { tokenHeader, TokenError, type SamlToken } from './token.ts';

export interface LoginContext {
  /** The login's signal (none for a re-login, which every waiting call shares); `invoke` already carries it, other waits must too. */
  signal: AbortSignal | undefined;
  /** The raw invoke: login calls are never retried or re-authenticated. */
  invoke: Invoke;
  sessionManager: ManagedObjectReference;
  /** Opens a mutual-TLS channel to the server (through the sdkTunnel on vCenter). */
  mutualTls(credentials: CertificateAndKey): MutualTlsChannel;
  /** Makes a session created on another channel the client's session. */
  adoptSessionId(sessionId: string): void;
  /** Drops the session id adopted so far (one found not to be usable), so the login sends none. */
  forgetSessionId(): void;
  /** The session id the login has so far (set by the server or adopted). */
  sessionId(): string | undefined;
}

export interface LoginStrategy {
  readonly kind: string;
  /** Whether the strategy can log in again by itself when the session dies. */
  readonly replayable: boolean;
  login(ctx: LoginContext): Promise<UserSession>;
  /**
   * A session shared with other clients (fleet/): how this client lets go of it when it logs
   * out ('logout'), closes or switches to another session ('close'). 'keep' leaves the session
   * on the server for the others; without this method the session is logged out.
   */
  release?(mode: 'logout' | 'close'): Promise<'logout' | 'keep'>;
  /** A call on the session succeeded (a shared session renews its place in the store). */
  used?(): void;
}

/** Methods that create or end a session: never retried, never re-authenticated. */
export const SESSION_METHODS: ReadonlySet<string> = new Set([
  'Login', 'LoginByToken', 'LoginBySSPI', 'LoginExtensionByCertificate', 'LoginExtensionBySubjectName',
  'CloneSession', 'ImpersonateUser', 'Logout',
]);

function withLocale(locale: string | undefined): { locale?: string } {
  return locale === undefined ? {} : { locale };
}

export function passwordLogin(username: string, password: string, locale?: string): LoginStrategy {
  if (typeof username !== 'string' || typeof password !== 'string') throw new TypeError('login needs { username, password } as strings');
  return {
    kind: 'password',
    replayable: true,
    login: async ({ invoke, sessionManager }) =>
      (await invoke('Login', sessionManager, { userName: username, password, ...withLocale(locale) })) as UserSession,
  };
}

/** A clone ticket is single-use: the session it yields cannot be recreated from it. */
export function cloneTicketLogin(ticket: string): LoginStrategy {
  if (typeof ticket !== 'string' || ticket === '') throw new TypeError('cloneSession needs a clone ticket string');
  return {
    kind: 'cloneTicket',
    replayable: false,
    login: async ({ invoke, sessionManager }) => (await invoke('CloneSession', sessionManager, { cloneTicket: ticket })) as UserSession,
  };
}

export type ExtensionLoginMethod = 'LoginExtensionByCertificate' | 'LoginExtensionBySubjectName';

/**
 * An extension (solution) login with a client certificate. The certificate must reach vpxd
 * itself, so the login runs on a mutual-TLS channel and its session cookie is then adopted by
 * the client's normal connection. Replayable: the certificate stays valid.
 */
export function extensionLogin(method: ExtensionLoginMethod, extensionKey: string, source: CertificateSource, locale?: string): LoginStrategy {
  if (typeof extensionKey !== 'string' || extensionKey === '') throw new TypeError(`${method} needs an extensionKey`);
  const credentials = loadCertificate(source);
  return {
    kind: method === 'LoginExtensionByCertificate' ? 'certificate' : 'subjectName',
    replayable: true,
    login: async (ctx) => {
      const channel = ctx.mutualTls(credentials);
      try {
        const session = (await channel.invoke(method, ctx.sessionManager, { extensionKey, ...withLocale(locale) }, { signal: ctx.signal })) as UserSession;
        const id = channel.sessionId();
        if (!id) throw new TransportError(`${method} succeeded but the server set no session cookie`, { code: 'ENOSESSION' });
        ctx.adoptSessionId(id);
        return session;
      } finally {
        channel.close();
      }
    },
  };
}

/** A SAML token: the assertion XML (bearer), a SamlToken (bearer or holder-of-key), or a provider of fresh ones. */
export type TokenSource = string | SamlToken | (() => Promise<SamlToken | string>);

/** The token a source gives now: a provider is asked for a fresh one each time (tokens expire). */
export async function currentToken(source: TokenSource): Promise<SamlToken> {
  const t = typeof source === 'function' ? await source() : source;
  return typeof t === 'string' ? { assertion: t } : t;
}

/**
 * LoginByToken with a SAML assertion (bearer or holder-of-key) in the request's WS-Security
 * header only. Replayable when given a provider, which is asked for a fresh token each time
 * (tokens expire); a fixed token logs in once.
 */
export function tokenLogin(source: TokenSource, locale?: string): LoginStrategy {
  if (typeof source !== 'function' && typeof source !== 'string' && typeof source?.assertion !== 'string') {
    throw new TypeError('loginByToken needs { token } as the SAML assertion, a SAML token or a token provider');
  }
  return {
    kind: 'token',
    replayable: typeof source === 'function',
    login: async ({ invoke, sessionManager }) => {
      const token = await currentToken(source);
      return (await invoke('LoginByToken', sessionManager, withLocale(locale), { header: await tokenHeader(token) })) as UserSession;
    },
  };
}

const SSPI_MAX_ROUNDS = 10;

/**
 * LoginBySSPI: the server answers each token with an SSPIChallenge fault carrying its own
 * token, which `next` turns into the client's next one, until the server accepts or refuses.
 * Not replayable: SSPI tokens are single-use.
 */
export function sspiLogin(first: string, next: (challenge: string) => Promise<string>, locale?: string): LoginStrategy {
  if (typeof first !== 'string' || first === '') throw new TypeError('loginBySSPI needs the first base64 token');
  if (typeof next !== 'function') throw new TypeError('loginBySSPI needs next(challenge) to answer challenges');
  return {
    kind: 'sspi',
    replayable: false,
    login: async ({ invoke, sessionManager }) => {
      let token = first;
      for (let round = 1; round <= SSPI_MAX_ROUNDS; round++) {
        try {
          return (await invoke('LoginBySSPI', sessionManager, { base64Token: token, ...withLocale(locale) })) as UserSession;
        } catch (err) {
          if (!isVimFault(err, 'SSPIChallenge')) throw err;
          token = await next(String(err.fault.base64Token ?? ''));
        }
      }
      throw new TokenError(`SSPI handshake did not finish within ${SSPI_MAX_ROUNDS} rounds`);
    },
  };
}

/**
 * Logs in with a local ticket: AcquireLocalTicket names a one-time password file readable only
 * by that user on the server's machine; its content is the password (read only after the checks
 * of local-ticket.ts). Only for a server on this host (`url`): else a LocalTicketError before
 * anything is sent. Single use, so not replayable.
 */
export function localTicketLogin(url: string, userName: string, directories: readonly string[] = DEFAULT_LOCAL_TICKET_DIRECTORIES): LoginStrategy {
  if (!isLoopbackUrl(url)) throw new LocalTicketError('notLocal', `local tickets are files on the server's host: ${new URL(url).host} is not this host`);
  return {
    kind: 'localTicket',
    replayable: false,
    login: async ({ invoke, sessionManager }) => {
      const ticket = (await invoke('AcquireLocalTicket', sessionManager, { userName })) as SessionManagerLocalTicket;
      const password = await readLocalTicket(ticket.passwordFilePath, directories);
      return (await invoke('Login', sessionManager, { userName: ticket.userName, password })) as UserSession;
    },
  };
}

export type SessionBrokerErrorReason = 'invalidUrl' | 'insecureUrl' | 'unauthorized' | 'unknownVcenter' | 'badAnswer';

/** A broker refused or could not answer a ticket request. Never carries the token or a ticket. */
export class SessionBrokerError extends VimError {
  override name = 'SessionBrokerError';

  constructor(readonly reason: SessionBrokerErrorReason, message: string, readonly status: number | undefined = undefined) {
    super(message);
  }
}

export interface BrokerLoginOptions {
  /** The broker's URL (SessionBroker.url), or a vSphere Client uiApiEndpoint. */
  url: string;
  token: string;
  /** Accept an http:// broker on another host (loopback brokers may always be http). */
  allowHttp?: boolean;
}

/**
 * CloneSession with a ticket from a broker (fleet/broker.ts, or any endpoint of the plug-in
 * clone-ticket shape: plugin.ts requestCloneTicket). Replayable: when the session dies, the next
 * login asks the broker for a new ticket.
 */
export function brokerLogin(transport: HttpTransport, options: BrokerLoginOptions, vcGuid: string | undefined): LoginStrategy {
  if (typeof options?.url !== 'string' || typeof options.token !== 'string' || options.token === '') throw new TypeError('loginByBroker needs { url, token }');
  let endpoint: URL;
  try {
    endpoint = cleanUiApiEndpoint(options.url, options.allowHttp === true || (URL.canParse(options.url) && isLoopbackUrl(options.url)));
  } catch (err) {
    throw new SessionBrokerError(err instanceof PluginSessionError && err.reason === 'insecureEndpoint' ? 'insecureUrl' : 'invalidUrl', `broker URL: ${(err as Error).message.replace(/uiApiEndpoint/g, 'the broker URL')}`);
  }
  const token = options.token;
  return {
    kind: 'broker',
    replayable: true,
    login: async ({ invoke, sessionManager, signal }) => {
      let ticket: string;
      try {
        ticket = await requestCloneTicket(transport, endpoint, token, vcGuid ?? '', signal);
      } catch (err) {
        if (!(err instanceof PluginSessionError)) throw err;
        const reason = err.reason === 'unauthorized' || err.reason === 'unknownVcenter' ? err.reason : 'badAnswer';
        const message = reason === 'unauthorized' ? 'the session broker refused the token'
          : reason === 'unknownVcenter' ? 'the session broker serves another vCenter'
            : `the session broker gave no ticket${err.status !== undefined ? ` (HTTP ${err.status})` : ''}`;
        throw new SessionBrokerError(reason, message, err.status);
      }
      return (await invoke('CloneSession', sessionManager, { cloneTicket: ticket })) as UserSession;
    },
  };
}
