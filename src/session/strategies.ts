// Login strategies: how a session is created, and whether it can be created again by itself
// when the server forgets it. Each keeps its secret in a closure, out of reach of inspect().
import type { ManagedObjectReference, UserSession } from '../generated/types.ts';
import type { Invoke } from '../soap/invoke.ts';

export interface LoginContext {
  /** The raw invoke: login calls are never retried or re-authenticated. */
  invoke: Invoke;
  sessionManager: ManagedObjectReference;
}

export interface LoginStrategy {
  readonly kind: string;
  /** Whether the strategy can log in again by itself when the session dies. */
  readonly replayable: boolean;
  login(ctx: LoginContext): Promise<UserSession>;
}

/** Methods that create or end a session: never retried, never re-authenticated. */
export const SESSION_METHODS: ReadonlySet<string> = new Set([
  'Login', 'LoginByToken', 'LoginBySSPI', 'LoginExtensionByCertificate', 'LoginExtensionBySubjectName',
  'LoginExtensionByCertificate', 'CloneSession', 'ImpersonateUser', 'Logout',
]);

function withLocale(locale: string | undefined): { locale?: string } {
  return locale === undefined ? {} : { locale };
}

export function passwordLogin(username: string, password: string, locale?: string): LoginStrategy {
  return {
    kind: 'password',
    replayable: true,
    login: async ({ invoke, sessionManager }) =>
      (await invoke('Login', sessionManager, { userName: username, password, ...withLocale(locale) })) as UserSession,
  };
}

/** A clone ticket is single-use: the session it yields cannot be recreated from it. */
export function cloneTicketLogin(ticket: string): LoginStrategy {
  return {
    kind: 'cloneTicket',
    replayable: false,
    login: async ({ invoke, sessionManager }) => (await invoke('CloneSession', sessionManager, { cloneTicket: ticket })) as UserSession,
  };
}
