// VimClient: the public surface, wiring only. connect.ts bootstraps a client's pieces (the
// transport with its TLS policy and cookie jar, the wire, the ServiceContent); the constructor
// wires them to the session, its keepalive and the call pipeline, and every method hands its
// work to the module of its concern: the login strategies (session/strategies.ts), the plug-in
// flow (session/plugin.ts), STS tokens (session/token.ts), ticketed HTTP
// (session/service-ticket.ts), `ref()`'s checks (managed/checks.ts), the inventory layer
// (inventory/). Every call on the wire goes through the pipeline of soap/pipeline.ts.
import { markVapiClosing, rememberVapiCredentials, rememberVapiToken, restOf, vapiLoggedOut, type RestClient } from './vapi/rest.ts';
import { tagsOf, type TagsClient } from './vapi/tags.ts';
import { libraryOf, type LibraryClient } from './vapi/library.ts';
import { datastoreOf, type DatastoreFiles } from './transfer/datastore.ts';
import { guestOf, type GuestFiles } from './transfer/guest.ts';
import type { ImportOvfOptions } from './transfer/ovf-import.ts';
import type { ExportOvfOptions, ExportOvfResult } from './transfer/ovf-export.ts';
import type { TransferSource } from './transfer/source.ts';
import { EventEmitter } from 'node:events';
import { inspect } from 'node:util';
import type { CookieJar } from 'tough-cookie';
import { connect, SERVICE_INSTANCE, type ClientParts, type ConnectOptions } from './connect.ts';
import type { MethodName, VimMethods } from './generated/methods.ts';
import type { AboutInfo, ManagedObjectReference, ServiceContent, UserSession } from './generated/types.ts';
import { TransportError, type VimFault } from './errors.ts';
import { setInternals } from './internals.ts';
import type { ManagedTypeName } from './generated/managed.ts';
import { checkedReference } from './managed/checks.ts';
import type { Logger } from './logger.ts';
import { KeepAlive } from './session/keepalive.ts';
import { Session, type SessionEvent } from './session/session.ts';
import { pluginSession } from './session/plugin.ts';
import { requestWithTicket } from './session/service-ticket.ts';
import {
  brokerLogin, cloneTicketLogin, extensionLogin, localTicketLogin, passwordLogin, sspiLogin, tokenLogin, type BrokerLoginOptions, type TokenSource,
} from './session/strategies.ts';
import { SessionManagerCalls, type ImpersonateUserOptions } from './session/manager.ts';
import { issueTokenFromServer, type IssueTokenOptions, type SamlToken } from './session/token.ts';
import { soapPipeline, type CallOptions, type Invoke } from './soap/pipeline.ts';
import type { Protocol } from './soap/protocol.ts';
import type { HttpTransport } from './transport/http.ts';
import { urlHostname } from './transport/url.ts';
import { find, retrieveTagged, type FindOptions, type TaggedRetrieveOptions } from './inventory/finder.ts';
import { events, tasks, type EventsOptions, type HistoryOptions, type TypedEvent } from './inventory/history.ts';
import { metrics, watchMetrics, type CounterName, type MetricEntity, type MetricPoint, type MetricRow, type MetricsOptions, type WatchMetricsOptions } from './inventory/metrics.ts';
import type { ManagedObjectReference as TypedRef, PropertyPath, TaskRef, TaskResultOf } from './inventory/typed-model.ts';
import { retrieveOne, retrievePages, type RetrievePagesOptions } from './inventory/retrieve.ts';
import type { Row } from './inventory/rows.ts';
import { waitForTask, waitForTasks, type WaitForTaskOptions } from './inventory/task.ts';
import { watch, type WatchOptions, type WatchUpdate } from './inventory/watch.ts';
import type { TaskInfo } from './generated/types.ts';
import { sessionKey } from './fleet/key.ts';
import { sharedLogin } from './fleet/shared-login.ts';
import type { SessionStore } from './fleet/store.ts';

export type { ConnectOptions } from './connect.ts';

/** What every login and logout takes besides its credentials. */
export interface SessionCallOptions {
  signal?: AbortSignal | undefined;
}

/** An HTTP request authorized by a generic service ticket (AcquireGenericServiceTicket). */
export interface TicketRequestOptions extends SessionCallOptions {
  ticket: { id: string };
  /** Absolute, or relative to the SDK URL. */
  url: string;
  method?: 'GET' | 'POST' | undefined;
  body?: string | undefined;
}

export interface LoginOptions extends SessionCallOptions {
  username: string;
  password: string;
  locale?: string;
}

export interface BrokerLoginCallOptions extends BrokerLoginOptions, SessionCallOptions {}

/** Each event's listener arguments. */
export interface ClientEvents {
  login: [session: UserSession];
  reauthenticated: [session: UserSession];
  logout: [];
  /** A session that cannot be made again by itself (clone ticket, attached id, SSPI) died. */
  sessionLost: [fault: VimFault];
}

export type ClientEvent = keyof ClientEvents;

export interface CertificateLoginOptions extends SessionCallOptions {
  extensionKey: string;
  /** PEM certificate and key, or a PKCS#12 bundle with its passphrase. */
  cert?: string | Buffer;
  key?: string | Buffer;
  pfx?: string | Buffer;
  passphrase?: string;
  locale?: string;
}

export interface PluginSessionOptions extends ConnectOptions {
  /** From the plug-in UI's app.getSessionInfo(). */
  sessionToken: string;
  /** From app.getApiEndpoints(): the uiApiEndpoint object or its fullUrl. Query and fragment are dropped. */
  uiApiEndpoint: string | { fullUrl: string };
  /** The GUID (about.instanceUuid) of the vCenter to clone the session for. */
  vcGuid: string;
  /** The vCenter's SDK URL. Default: https://<uiApiEndpoint host>/sdk. */
  sdkUrl?: string;
  /** Hosts (optionally host:port) the uiApiEndpoint may point at. Default: the SDK URL's host. */
  allowedHosts?: readonly string[];
  /** Accept an http:// uiApiEndpoint (never the default). */
  allowHttp?: boolean;
}

/** The arguments of `client.call(method, _this, ...)` after `_this`: the method's arguments (optional when all are), then CallOptions. */
export type CallArgs<M extends MethodName> = {} extends VimMethods[M]['args']
  ? [args?: VimMethods[M]['args'], options?: CallOptions]
  : [args: VimMethods[M]['args'], options?: CallOptions];

export interface TokenLoginOptions extends SessionCallOptions {
  token: TokenSource;
  locale?: string;
}

export interface SspiLoginOptions extends SessionCallOptions {
  /** The first base64 SSPI token. */
  token: string;
  /** Answers each SSPIChallenge (base64) with the next token. */
  next: (challenge: string) => Promise<string>;
  locale?: string;
}

export interface LocalTicketLoginOptions extends SessionCallOptions {
  /** Where the server writes local tickets. Default: ESXi's /var/run/vmware-hostd-ticket. */
  directories?: readonly string[];
}

export class VimClient extends EventEmitter {
  readonly url: string;
  readonly serviceContent: ServiceContent;
  readonly #jar: CookieJar;
  readonly #transport: HttpTransport;
  readonly #session: Session;
  /** The pipeline with the session policy: what call() and every helper go through. */
  readonly #call: Invoke;
  readonly #version: { value: string };
  readonly #keepAlive: KeepAlive | undefined;
  readonly #store: SessionStore | undefined;
  readonly #logger: Logger;
  readonly #protocol: Protocol;
  #closed = false;
  /** The rest of SessionManager: properties, tickets, impersonation, locale, service message. */
  readonly sessionManager: SessionManagerCalls;

  private constructor(parts: ClientParts) {
    super();
    const { url, serviceContent, jar, transport, options, logger, pipeline } = parts;
    this.url = url;
    this.serviceContent = serviceContent;
    this.#jar = jar;
    this.#transport = transport;
    this.#version = parts.version;
    this.#protocol = parts.protocol;
    this.#store = options.sessionStore;
    this.#store?.attach?.();
    this.#logger = logger;
    const interval = options.keepAliveIntervalMs;
    this.#keepAlive = interval && interval > 0 ? new KeepAlive(interval, () => this.#call('CurrentTime', SERVICE_INSTANCE, {}), logger) : undefined;
    const host = urlHostname(url);
    this.#session = new Session({
      invoke: soapPipeline(pipeline),
      sessionManager: serviceContent.sessionManager!,
      propertyCollector: serviceContent.propertyCollector,
      jar,
      url,
      logger,
      reauthenticate: options.reauthenticate ?? true,
      emit: (event, detail) => this.#onSessionEvent(event, detail),
      mutualTls: {
        transport,
        url,
        viaTunnel: serviceContent.about.apiType === 'VirtualCenter',
        proxyPort: options.tunnel?.proxyPort ?? 80,
        servername: options.tls?.servername ?? host,
        pipeline,
      },
    });
    this.#call = soapPipeline({ ...pipeline, session: this.#session.policy });
    this.sessionManager = new SessionManagerCalls(this.#call, serviceContent.sessionManager!, serviceContent.propertyCollector);
    const version = this.#version;
    setInternals(this, {
      transport,
      url,
      get apiVersion() {
        return version.value;
      },
      call: this.#call,
      session: this.#session,
    });
  }

  /** Connects to `https://host/sdk`: learns the server's version, reads a WSDL if one is given, and reads the ServiceContent. */
  static async connect(url: string, options: ConnectOptions = {}): Promise<VimClient> {
    return connect(url, options, (parts) => new VimClient(parts));
  }

  /**
   * The vSphere Client plug-in server flow: trade the plug-in UI's session token for a clone
   * ticket at the vsphere-ui service, and redeem it with CloneSession on the vCenter. The
   * endpoint host is checked before any request, and the ticket is only sent to an SDK endpoint
   * that proved to be the vCenter `vcGuid` names.
   */
  static async fromPluginSession(options: PluginSessionOptions): Promise<VimClient> {
    // connect takes the options without the plug-in flow's own.
    const { sessionToken, uiApiEndpoint, vcGuid, sdkUrl, allowedHosts, allowHttp, ...connectOptions } = options;
    return pluginSession(options, (sdk) => VimClient.connect(sdk, connectOptions), (client) => client.#transport);
  }

  /**
   * The client's tough-cookie jar, which holds the session cookie. A getter, so that spreading
   * or enumerating a client does not copy the credential; its JSON and inspect() hide values.
   * It comes from tough-cookie's CommonJS build: give it cookies as strings (or Cookie objects
   * from `require('tough-cookie')`); a Cookie from an ES import of tough-cookie is refused.
   */
  get cookieJar(): CookieJar {
    return this.#jar;
  }

  get about(): AboutInfo {
    return this.serviceContent.about;
  }

  /** The vim25 version requests carry in SOAPAction. */
  get apiVersion(): string {
    return this.#version.value;
  }

  /** The vAPI REST endpoints (/api, /rest) on this client's transport and session. */
  get rest(): RestClient {
    return restOf(this);
  }

  /** vSphere tags (vAPI cis/tagging). */
  get tags(): TagsClient {
    return tagsOf(this);
  }

  /** Content libraries (vAPI content/library). */
  get library(): LibraryClient {
    return libraryOf(this);
  }

  /** Datastore files, streamed through the server's /folder URLs on the session: upload, download, downloadTo, list, stat, mkdir, delete, move, copy. */
  get datastore(): DatastoreFiles {
    return datastoreOf(this);
  }

  /** Files in a VM's guest (GuestFileManager transfers), streamed. */
  get guest(): GuestFiles {
    return guestOf(this);
  }

  // The OVF modules (and tar-stream) are loaded by the first import or export only.

  /** Deploys an OVA (a file path, Readable, Uint8Array or web ReadableStream), streamed through an HttpNfcLease; resolves with the VM. */
  async importOva(source: TransferSource, options?: ImportOvfOptions): Promise<ManagedObjectReference<'VirtualMachine'>> {
    return (await import('./transfer/ovf-import.ts')).importOva(this, source, options);
  }

  /** Deploys an OVF descriptor with its files beside it (a file path or an http(s) URL). */
  async importOvf(descriptor: string | URL, options?: ImportOvfOptions): Promise<ManagedObjectReference<'VirtualMachine'>> {
    return (await import('./transfer/ovf-import.ts')).importOvf(this, descriptor, options);
  }

  /** Exports a powered-off VM through ExportVm: its descriptor, disks and a SHA256 manifest, to `options.dir` or `options.sink`. */
  async exportOvf(vm: ManagedObjectReference<'VirtualMachine'>, options: ExportOvfOptions): Promise<ExportOvfResult> {
    return (await import('./transfer/ovf-export.ts')).exportOvf(this, vm, options);
  }

  /** The wire in use: 'soap', or 'json' (VI/JSON), as connect's `protocol` option decided. */
  get protocol(): Protocol {
    return this.#protocol;
  }

  /** The logger given to connect (silent by default): the inventory layer logs failed clean-ups through it. */
  get logger(): Logger {
    return this.#logger;
  }

  get userSession(): UserSession | undefined {
    return this.#session.userSession;
  }

  /** The `vmware_soap_session` value: also usable as `vmware-api-session-id` on vAPI (vSphere 8.0U3+). */
  get sessionId(): string | undefined {
    return this.#session.sessionId;
  }

  async login(options: LoginOptions): Promise<UserSession> {
    const strategy = passwordLogin(options?.username, options?.password, options?.locale);
    const session = await this.#session.login(!this.#store ? strategy : sharedLogin(strategy, {
      store: this.#store,
      key: sessionKey(this.url, options.username, options.password),
      userName: options.username,
      propertyCollector: this.serviceContent.propertyCollector,
      logger: this.#logger,
    }), options.signal);
    // A server before 8.0 U3 takes no vim session on vAPI: client.rest makes a session of its own from these.
    rememberVapiCredentials(this, options.username, options.password, this.#store);
    return session;
  }

  /**
   * CloneSession with a clone ticket from a SessionBroker (or any endpoint of the plug-in
   * clone-ticket shape). Replayable: when the session dies, the client asks the broker again.
   */
  async loginByBroker(options: BrokerLoginCallOptions): Promise<UserSession> {
    return this.#session.login(brokerLogin(this.#transport, options, this.about.instanceUuid), options?.signal);
  }

  /** LoginExtensionByCertificate: an extension (solution) logs in with its registered certificate. */
  async loginByCertificate(options: CertificateLoginOptions): Promise<UserSession> {
    return this.#session.login(extensionLogin('LoginExtensionByCertificate', options?.extensionKey, options, options?.locale), options?.signal);
  }

  /** LoginExtensionBySubjectName: as loginByCertificate, matched on the certificate's subject name. */
  async loginBySubjectName(options: CertificateLoginOptions): Promise<UserSession> {
    return this.#session.login(extensionLogin('LoginExtensionBySubjectName', options?.extensionKey, options, options?.locale), options?.signal);
  }

  /**
   * LoginByToken with a SAML token: the assertion XML (bearer), a SamlToken (bearer, or
   * holder-of-key with its key), or a provider of fresh tokens, which also lets the session log
   * in again when it dies.
   */
  async loginByToken(options: TokenLoginOptions): Promise<UserSession> {
    const session = await this.#session.login(tokenLogin(options?.token, options?.locale), options?.signal);
    // A server before 8.0 U3 takes no vim session on vAPI: client.rest makes a session of its own with the token.
    rememberVapiToken(this, options.token);
    return session;
  }

  /** LoginBySSPI: `next(challengeBase64)` answers each SSPIChallenge until the server decides. */
  async loginBySSPI(options: SspiLoginOptions): Promise<UserSession> {
    return this.#session.login(sspiLogin(options?.token, options?.next, options?.locale), options?.signal);
  }

  /**
   * AcquireLocalTicket, then Login with the one-time password file's content. Only for a server
   * on this host, and only a regular file directly inside `directories` (default: ESXi's
   * /var/run/vmware-hostd-ticket), owned by root or this process's user, is read; anything
   * else is a LocalTicketError and nothing is read.
   */
  async loginByLocalTicket(userName: string, options: LocalTicketLoginOptions = {}): Promise<UserSession> {
    return this.#session.login(localTicketLogin(this.url, userName, options.directories), options.signal);
  }

  /** ImpersonateUser: the session takes `userName`'s identity (a re-login restores the original one). */
  async impersonateUser(options: ImpersonateUserOptions): Promise<UserSession>;
  /** @deprecated Pass `{ userName, locale }` (with `signal`, `timeoutMs` if needed); this form goes in the next minor version. */
  async impersonateUser(userName: string, locale?: string): Promise<UserSession>;
  async impersonateUser(options: ImpersonateUserOptions | string, locale?: string): Promise<UserSession> {
    const session = await this.sessionManager.impersonateUser(typeof options === 'string' ? { userName: options, locale } : options);
    this.#session.userSession = session;
    return session;
  }

  /**
   * A token from the vCenter STS (WS-Trust Issue): bearer for a user and password, holder-of-key
   * with a certificate and key. The STS URL is the server's `config.vpxd.sso.sts.uri` setting;
   * pass it when not logged in.
   */
  async issueToken(options: Omit<IssueTokenOptions, 'stsUrl'> & { stsUrl?: string }): Promise<SamlToken> {
    return issueTokenFromServer(this.#transport, options, (name) => this.call('QueryOptions', this.serviceContent.setting!, { name }, { signal: options.signal }));
  }

  /**
   * An HTTP request to the server authorized by a generic service ticket (e.g. a datastore
   * file GET), sent under the client's TLS policy. The ticket is single use.
   */
  async requestWithTicket(options: TicketRequestOptions): Promise<{ status: number; body: Buffer }>;
  /** @deprecated Pass `{ ticket, url, method, body, signal }`; this form goes in the next minor version. */
  async requestWithTicket(ticket: { id: string }, url: string, method?: 'GET' | 'POST', body?: string, options?: SessionCallOptions): Promise<{ status: number; body: Buffer }>;
  async requestWithTicket(first: TicketRequestOptions | { id: string }, url?: string, method?: 'GET' | 'POST', body?: string, options: SessionCallOptions = {}): Promise<{ status: number; body: Buffer }> {
    return requestWithTicket(this.#transport, this.url, url === undefined ? (first as TicketRequestOptions) : { ticket: first as { id: string }, url, method, body, ...options });
  }

  /** CloneSession with a ticket from AcquireCloneTicket (single use, valid only on the server that issued it). */
  async cloneSession(ticket: string, options: SessionCallOptions = {}): Promise<UserSession> {
    return this.#session.login(cloneTicketLogin(ticket), options.signal);
  }

  /** Adopts an existing session id: a VIM `vmware_soap_session` or a vAPI `vmware-api-session-id` (vSphere 8.0U3+). */
  async attachSession(sessionId: string, options: SessionCallOptions = {}): Promise<UserSession> {
    return this.#session.attach(sessionId, options.signal);
  }

  /** A one-time ticket another client can redeem with cloneSession. Never cache it: it dies with this session. */
  async acquireCloneTicket(options: SessionCallOptions = {}): Promise<string> {
    return (await this.#call('AcquireCloneTicket', this.serviceContent.sessionManager!, {}, options)) as string;
  }

  /**
   * Ends the session; does nothing (and does not throw) when there is none, it already died or
   * the server cannot be reached. Rejects when aborted: the client has let go of the session all
   * the same, which the server may keep until its idle timeout.
   */
  async logout(options: SessionCallOptions = {}): Promise<void> {
    await this.#session.logout(options.signal);
    await vapiLoggedOut(this);
  }

  /**
   * Logs out and releases sockets and timers so the process can exit. Idempotent. An abort
   * rejects once everything is released (the session may then outlive the client on the server).
   */
  async close(options: SessionCallOptions = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#keepAlive?.stop();
    this.#session.close();
    markVapiClosing(this);
    try {
      // A session shared through a store stays for the clients and processes still using it.
      await this.#session.logout(options.signal, 'close');
    } finally {
      await vapiLoggedOut(this);
      this.#transport.close();
      await this.#store?.detach?.();
    }
  }

  /**
   * Calls any vim25 method; arguments and result are typed from the WSDL, `_this` from the
   * managed-object model: it must reference the method's managed type or a subtype
   * (`Destroy_Task` takes any ManagedEntity). A method newer than the server's release is
   * refused before anything is sent.
   */
  call<M extends MethodName>(method: M, _this: ManagedObjectReference<VimMethods[M]['this']>, ...[args, options]: CallArgs<M>): Promise<VimMethods[M]['result']> {
    if (this.#closed) return Promise.reject(new TransportError('client is closed', { code: 'ECLOSED' }));
    return this.#call(method, _this, args, options) as Promise<VimMethods[M]['result']>;
  }

  /** The keepalive runs only while there is a session to keep. */
  #onSessionEvent(event: SessionEvent, detail: unknown): void {
    if (event === 'login' || event === 'reauthenticated') this.#keepAlive?.start();
    else this.#keepAlive?.stop();
    this.emit(event, detail);
  }

  /** A reference from elsewhere (a stored `{ type, value }`) as a reference to `type`: checked at run time, that type or a subtype, else a TypeError. */
  ref<T extends ManagedTypeName>(plain: { type: string; value: string }, type: T): ManagedObjectReference<T>;
  // ref(type, value) after ref(plain, type): TypeScript 7 reports only the last overload that
  // fails, so a misspelt type name is "not assignable to parameter of type 'ManagedTypeName'"
  // (before, the error named the { type, value } parameter).
  /**
   * A ManagedObjectReference typed by its managed type, e.g. `client.ref('VirtualMachine', 'vm-42')`;
   * only managed type names compile. A reference from elsewhere (a stored `{ type, value }`, another
   * library's) goes through `ref(plain, type?)`: its type name is checked at run time, and with
   * `type` it must be that type or a subtype (`ref(stored, 'VirtualMachine')`), else a TypeError.
   */
  ref<T extends ManagedTypeName>(type: T, value: string): ManagedObjectReference<T>;
  // Without a type the result must not take one from the context: nothing checked it.
  ref(plain: { type: string; value: string }): ManagedObjectReference;
  ref(first: string | { type: string; value: string }, second?: string): ManagedObjectReference {
    return checkedReference(first, second);
  }

  override on<E extends keyof ClientEvents>(event: E, listener: (...args: ClientEvents[E]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }

  override once<E extends keyof ClientEvents>(event: E, listener: (...args: ClientEvents[E]) => void): this {
    return super.once(event, listener as (...args: unknown[]) => void);
  }

  override off<E extends keyof ClientEvents>(event: E, listener: (...args: ClientEvents[E]) => void): this {
    return super.off(event, listener as (...args: unknown[]) => void);
  }

  // inspect() and JSON.stringify() show what identifies the client, never the cookie jar.
  toJSON(): { url: string; apiVersion: string; user: string | undefined } {
    return { url: this.url, apiVersion: this.apiVersion, user: this.userSession?.userName };
  }

  [inspect.custom](): string {
    return `VimClient { url: '${this.url}', apiVersion: '${this.apiVersion}', user: ${this.userSession ? `'${this.userSession.userName}'` : 'none'} }`;
  }

  // The inventory layer (src/inventory/), written against the client's public surface only.

  /** Every object of `type` under `root` (default: the root folder), one row per object, every page followed; with `tag` ('category/tag' or an id), only the objects carrying that tag. */
  retrieve<T extends ManagedTypeName, P extends PropertyPath<T>>(type: T, paths: readonly P[], options?: TaggedRetrieveOptions): Promise<Array<Row<T, P>>> {
    return retrieveTagged(this, type, paths, options);
  }

  /** The properties of one object. */
  retrieveOne<T extends ManagedTypeName, P extends PropertyPath<T>>(ref: TypedRef & { type: T }, paths: readonly P[], options?: { signal?: AbortSignal | undefined }): Promise<Row<T, P>> {
    return retrieveOne(this, ref, paths, options);
  }

  /** As retrieve, a page (`pageSize` objects) at a time; leaving the loop cancels the rest. */
  retrievePages<T extends ManagedTypeName, P extends PropertyPath<T>>(type: T, paths: readonly P[], options?: RetrievePagesOptions): AsyncGenerator<Array<Row<T, P>>, void, undefined> {
    return retrievePages(this, type, paths, options);
  }

  /** Objects by inventory path (`/DC0/vm/*`, `vm/web-?`, `/DC0/.../db*`), bare name or glob, or moref id. */
  find<T extends ManagedTypeName>(type: T, pattern: string, options?: FindOptions): Promise<Array<TypedRef<T>>> {
    return find(this, type, pattern, options);
  }

  /** The task's result once it succeeded; its fault (a VimFault) when it failed. */
  waitForTask<R extends TaskRef>(task: R, options?: WaitForTaskOptions): Promise<TaskResultOf<R>> {
    return waitForTask(this, task, options);
  }

  /** Every task's result, in order; rejects with the first failure. */
  waitForTasks<R extends readonly TaskRef[]>(tasks: R, options?: WaitForTaskOptions): Promise<{ [K in keyof R]: TaskResultOf<R[K]> }> {
    return waitForTasks(this, tasks, options);
  }

  /** enter/modify/leave updates of every object of `type` under `root`; survives re-authentication. */
  watch<T extends ManagedTypeName, P extends PropertyPath<T>>(type: T, paths: readonly P[], options?: WatchOptions): AsyncGenerator<WatchUpdate<T, P>, void, undefined> {
    return watch(this, type, paths, options);
  }

  /** Events from the history, decoded to their subtypes. */
  events(options?: EventsOptions): AsyncGenerator<TypedEvent, void, undefined> {
    return events(this, options);
  }

  /** Tasks from the history (TaskInfo). */
  tasks(options?: HistoryOptions): AsyncGenerator<TaskInfo, void, undefined> {
    return tasks(this, options);
  }
  /** Samples of performance counters by name ('cpu.usage.average'): one row per entity × counter × instance, values in the counter's unit (percent as percent). */
  metrics<E extends MetricEntity, C extends CounterName>(entities: readonly E[], counters: readonly C[], options?: MetricsOptions): Promise<Array<MetricRow<E, C>>> {
    return metrics(this, entities, counters, options);
  }

  /** Each new real-time sample of those counters as it appears (every 20 s); survives re-authentication. */
  watchMetrics<E extends MetricEntity, C extends CounterName>(entities: readonly E[], counters: readonly C[], options?: WatchMetricsOptions): AsyncGenerator<MetricPoint<E, C>, void, undefined> {
    return watchMetrics(this, entities, counters, options);
  }

}
