// The rest of SessionManager as typed calls: properties, tickets, impersonation, locale and
// the service message. Faults stay VimFaults with the names the reference lists.
import type {
  ManagedObjectReference, SessionManagerGenericServiceTicket, SessionManagerLocalTicket, SessionManagerServiceRequestSpec, UserSession,
} from '../generated/types.ts';
import type { SessionManagerProperties } from '../generated/managed.ts';
import type { CallOptions, Invoke, InvokeOptions } from '../soap/pipeline.ts';

/**
 * The session a request's cookie names, in one round trip (SessionManager.currentSession):
 * undefined when the server answers without one. Used to check a session id before adopting it.
 */
export async function readCurrentSession(invoke: Invoke, propertyCollector: ManagedObjectReference, sessionManager: ManagedObjectReference, options?: InvokeOptions): Promise<UserSession | undefined> {
  const result = (await invoke('RetrievePropertiesEx', propertyCollector, {
    specSet: [{ propSet: [{ type: 'SessionManager', pathSet: ['currentSession'] }], objectSet: [{ obj: sessionManager }] }],
    options: {},
  }, options)) as { objects?: { propSet?: { val: unknown }[] }[] } | undefined;
  return result?.objects?.[0]?.propSet?.[0]?.val as UserSession | undefined;
}

export interface ImpersonateUserOptions extends CallOptions {
  userName: string;
  locale?: string | undefined;
}

const PROPERTIES = ['currentSession', 'sessionList', 'message', 'defaultLocale', 'supportedLocaleList', 'messageLocaleList'] as const;

export class SessionManagerCalls {
  /** @internal The client makes it (`client.sessionManager`); its arguments are the call path's own. */
  constructor(private readonly call: Invoke, private readonly sessionManager: ManagedObjectReference, private readonly propertyCollector: ManagedObjectReference) {}

  /** The SessionManager's properties (those the server has; privileges decide which). */
  async properties(names: readonly (typeof PROPERTIES)[number][] = PROPERTIES, options: CallOptions = {}): Promise<Partial<SessionManagerProperties>> {
    const result = (await this.call('RetrievePropertiesEx', this.propertyCollector, {
      specSet: [{ propSet: [{ type: 'SessionManager', pathSet: [...names] }], objectSet: [{ obj: this.sessionManager }] }],
      options: {},
    }, options)) as { objects?: { propSet?: { name: string; val: unknown }[] }[] } | undefined;
    return Object.fromEntries((result?.objects?.[0]?.propSet ?? []).map((p) => [p.name, p.val])) as Partial<SessionManagerProperties>;
  }

  async sessionIsActive(sessionId: string, userName: string, options: CallOptions = {}): Promise<boolean> {
    return (await this.call('SessionIsActive', this.sessionManager, { sessionID: sessionId, userName }, options)) as boolean;
  }

  /** Ends other sessions; stops at the first unknown id (NotFound), as the server does. */
  async terminateSessions(sessionIds: readonly string[], options: CallOptions = {}): Promise<void> {
    await this.call('TerminateSession', this.sessionManager, { sessionId: [...sessionIds] }, options);
  }

  async setLocale(locale: string, options: CallOptions = {}): Promise<void> {
    await this.call('SetLocale', this.sessionManager, { locale }, options);
  }

  async updateServiceMessage(message: string, options: CallOptions = {}): Promise<void> {
    await this.call('UpdateServiceMessage', this.sessionManager, { message }, options);
  }

  /** ImpersonateUser: the session takes `userName`'s identity. */
  async impersonateUser(options: ImpersonateUserOptions): Promise<UserSession>;
  /** @deprecated Pass `{ userName, locale }` (with `signal`, `timeoutMs` if needed); this form goes in the next minor version. */
  async impersonateUser(userName: string, locale?: string): Promise<UserSession>;
  async impersonateUser(options: ImpersonateUserOptions | string, locale?: string): Promise<UserSession> {
    const o = typeof options === 'string' ? { userName: options, locale } : options;
    if (typeof o?.userName !== 'string' || o.userName === '') throw new TypeError('impersonateUser needs { userName }');
    const { userName, locale: l, ...call } = o;
    return (await this.call('ImpersonateUser', this.sessionManager, { userName, ...(l !== undefined && { locale: l }) }, call)) as UserSession;
  }

  async acquireGenericServiceTicket(spec: SessionManagerServiceRequestSpec, options: CallOptions = {}): Promise<SessionManagerGenericServiceTicket> {
    return (await this.call('AcquireGenericServiceTicket', this.sessionManager, { spec }, options)) as SessionManagerGenericServiceTicket;
  }

  async acquireLocalTicket(userName: string, options: CallOptions = {}): Promise<SessionManagerLocalTicket> {
    return (await this.call('AcquireLocalTicket', this.sessionManager, { userName }, options)) as SessionManagerLocalTicket;
  }
}
