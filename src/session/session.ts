// The session of one client: which login strategy made it, the UserSession it returned, and
// the `vmware_soap_session` cookie in the client's jar that carries it on the wire.
import type { CookieJar } from 'tough-cookie';
import type { ManagedObjectReference, UserSession } from '../generated/types.ts';
import { isVimFault, TransportError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Invoke } from '../soap/invoke.ts';

export const SESSION_COOKIE = 'vmware_soap_session';

export interface LoginContext {
  invoke: Invoke;
  sessionManager: ManagedObjectReference;
}

/** How a session is (re)created. Certificate, token and SSPI logins plug in here too. */
export interface LoginStrategy {
  readonly kind: string;
  /** Whether the strategy can log in again by itself when the session dies. */
  readonly replayable: boolean;
  login(ctx: LoginContext): Promise<UserSession>;
}

export function passwordLogin(username: string, password: string, locale?: string): LoginStrategy {
  return {
    kind: 'password',
    replayable: true,
    login: async ({ invoke, sessionManager }) =>
      (await invoke('Login', sessionManager, { userName: username, password, ...(locale !== undefined && { locale }) })) as UserSession,
  };
}

export type SessionEvent = 'login' | 'logout';

export class Session {
  userSession: UserSession | undefined;

  constructor(
    private readonly invoke: Invoke,
    private readonly sessionManager: ManagedObjectReference,
    private readonly jar: CookieJar,
    private readonly url: string,
    private readonly logger: Logger,
    private readonly emit: (event: SessionEvent, session?: UserSession) => void,
  ) {}

  /** The current `vmware_soap_session` value (without the quotes vCenter puts around it). */
  get sessionId(): string | undefined {
    const cookie = this.jar.getCookiesSync(this.url).find((c) => c.key === SESSION_COOKIE);
    return cookie?.value.replace(/^"(.*)"$/, '$1');
  }

  async login(strategy: LoginStrategy): Promise<UserSession> {
    const session = await strategy.login({ invoke: this.invoke, sessionManager: this.sessionManager });
    this.userSession = session;
    this.logger.info('logged in', { strategy: strategy.kind, user: session.userName });
    this.emit('login', session);
    return session;
  }

  /** Ends the session on the server if there is one; never throws for a session that is already gone. */
  async logout(): Promise<void> {
    const hadSession = this.sessionId !== undefined || this.userSession !== undefined;
    if (!hadSession) return;
    try {
      await this.invoke('Logout', this.sessionManager, {});
    } catch (err) {
      if (!isVimFault(err, 'NotAuthenticated') && !(err instanceof TransportError)) throw err;
      this.logger.debug('logout: session already gone', { reason: err instanceof Error ? err.name : 'unknown' });
    } finally {
      this.userSession = undefined;
      this.jar.removeAllCookiesSync();
    }
    this.emit('logout');
  }
}
