// VimClient: the public surface, wiring only. It builds one client's pieces (the transport with
// its TLS policy and cookie jar, the call pipeline, the session and its keepalive) and exposes
// typed calls. Every call on the wire goes through the pipeline of soap/pipeline.ts.
import { EventEmitter } from 'node:events';
import { inspect } from 'node:util';
import type { CookieJar } from 'tough-cookie';
import { WSDL_VERSION } from './generated/metadata.ts';
import type { MethodName, VimMethods } from './generated/methods.ts';
import type { AboutInfo, ManagedObjectReference, ServiceContent, UserSession } from './generated/types.ts';
import { untilAborted } from './abort.ts';
import { TransportError, type VimFault } from './errors.ts';
import { setInternals } from './internals.ts';
import type { ManagedTypeName } from './generated/managed.ts';
import { isManagedObjectReference, isManagedTypeName } from './managed/model.ts';
import { silentLogger, type Logger } from './logger.ts';
import type { DecodeLimits } from './binding/decode.ts';
import { KeepAlive } from './session/keepalive.ts';
import { Session, type SessionEvent } from './session/session.ts';
import { cleanUiApiEndpoint, hostAllowed, PluginSessionError, requestCloneTicket } from './session/plugin.ts';
import { cloneTicketLogin, extensionLogin, passwordLogin, sspiLogin, tokenLogin, type TokenSource } from './session/strategies.ts';
import { localTicketLogin, SessionManagerCalls, type ImpersonateUserOptions } from './session/manager.ts';
import { DEFAULT_LOCAL_TICKET_DIRECTORIES, isLoopbackUrl, LocalTicketError } from './session/local-ticket.ts';
import { issueToken, type IssueTokenOptions, type SamlToken } from './session/token.ts';
import type { WsdlOperations } from './soap/exchange.ts';
import { soapPipeline, type CallOptions, type Invoke, type PipelineOptions } from './soap/pipeline.ts';
import { checkProtocol, chooseWire, type Protocol, type ProtocolOption } from './soap/protocol.ts';
import { fetchServerVersion } from './soap/versions.ts';
import { cookieJar } from './transport/cookies.ts';
import { HttpTransport } from './transport/http.ts';
import { plainRequest } from './transport/plain.ts';
import type { TlsOptions } from './transport/tls.ts';
import { loadServiceDescription, wsdlLocation, type ServiceDescription } from './wsdl/load.ts';
import { find, type FindOptions } from './inventory/finder.ts';
import { events, tasks, type EventsOptions, type HistoryOptions, type TypedEvent } from './inventory/history.ts';
import { metrics, watchMetrics, type CounterName, type MetricEntity, type MetricPoint, type MetricRow, type MetricsOptions, type WatchMetricsOptions } from './inventory/metrics.ts';
import type { ManagedObjectReference as TypedRef, PropertyPath, TaskRef, TaskResultOf } from './inventory/model.ts';
import { retrieve, retrieveOne, retrievePages, type RetrieveOptions, type RetrievePagesOptions } from './inventory/retrieve.ts';
import type { Row } from './inventory/rows.ts';
import { waitForTask, waitForTasks, type WaitForTaskOptions } from './inventory/task.ts';
import { watch, type WatchOptions, type WatchUpdate } from './inventory/watch.ts';
import type { TaskInfo } from './generated/types.ts';
import { sessionKey } from './fleet/key.ts';
import { sharedLogin } from './fleet/shared-login.ts';
import type { SessionStore } from './fleet/store.ts';
import { brokerLogin, type BrokerLoginOptions } from './fleet/broker.ts';

export interface ConnectOptions {
  /**
   * Path or URL of vimService.wsdl (or its directory), e.g. an older server's: calls to
   * operations it does not declare are refused before anything is sent. Default: none needed
   * (every type comes from the WSDL the library was generated from).
   */
  wsdl?: string;
  tls?: TlsOptions;
  /** Deadline for each request, in ms. Default 120 000. */
  timeoutMs?: number;
  /** Log in again when a replayable session dies (default true). */
  reauthenticate?: boolean;
  /** Keep the session alive while idle (default off). */
  keepAliveIntervalMs?: number;
  tunnel?: { proxyPort?: number };
  logger?: Logger;
  /**
   * Debug mode: `logger.debug` also receives each SOAP request as it is sent ('request', with
   * `envelope`) and each decoded answer ('call', with `result`), secret fields redacted (passwords,
   * tickets, session keys; a token login's WS-Security header is left out). For finding out what
   * went on the wire; it costs an extra encoding per call.
   */
  debug?: boolean;
  /** vim25 version for SOAPAction. Default: the server's (vimServiceVersions.xml, then about.apiVersion). */
  version?: string;
  /**
   * The wire: 'soap' (default), 'json' (vCenter 8.0 Update 1+'s VI/JSON API; a server without it
   * fails to connect with ENOJSON) or 'auto' (VI/JSON when the server serves it, else SOAP; the
   * `debug` log says which). Decided by reading the ServiceContent over VI/JSON. `client.protocol`
   * says which is in use. Every method, login and helper works on both; sessions are unified.
   */
  protocol?: ProtocolOption | undefined;
  /** Answers larger than this (decompressed) fail instead of being read further. Default 256 MiB. */
  maxResponseBytes?: number;
  /**
   * Elements one answer may hold, checked while it is decoded, so that memory is bounded by
   * what the caller allows and not only by the bytes on the wire. Default 2 000 000 (a
   * 2048-VM RetrievePropertiesEx page with every device has 299 012).
   */
  maxResponseElements?: number;
  /** How deep elements of an answer may nest. Default 256 (vim25 answers are under 20 deep). */
  maxResponseDepth?: number;
  /** Concurrent connections to the server. Default 16. */
  maxSockets?: number;
  /**
   * Which HTTP stack carries the requests. 'auto' (default): Node's own `node:https` until the
   * process is busy (two requests in flight at once, or 200 requests), then undici's keep-alive
   * pools, which are loaded only then. A short job never pays for loading undici and for V8
   * optimizing its WebAssembly HTTP parser (~50 ms and ~30 MB); a service gets undici's
   * throughput. 'https' or 'undici': that stack only. Both apply the same TLS policy, limits,
   * deadlines and replay rules.
   */
  http?: 'auto' | 'https' | 'undici';
  /** Aborts the connect. */
  signal?: AbortSignal | undefined;
  /**
   * Share password sessions with the other clients and processes using this store (see
   * "Sessions for a fleet"): login() adopts the live session the store has for this server and
   * identity, or logs in once for all of them; so does a re-login after NotAuthenticated.
   */
  sessionStore?: SessionStore;
}

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

interface ClientParts {
  url: string;
  serviceContent: ServiceContent;
  jar: CookieJar;
  transport: HttpTransport;
  pipeline: Omit<PipelineOptions, 'session'>;
  version: { value: string };
  options: ConnectOptions;
  logger: Logger;
  protocol: Protocol;
}

const SERVICE_INSTANCE: ManagedObjectReference<'ServiceInstance'> = { type: 'ServiceInstance', value: 'ServiceInstance' };
const USER_AGENT = 'vim25-soap/0.1 (node)';

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
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
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
    const sdkUrl = normalizeSdkUrl(url);
    const protocol = checkProtocol(options.protocol);
    const logger = options.logger ?? silentLogger;
    const signal = options.signal;
    const jar = cookieJar();
    const transport = new HttpTransport({
      tls: options.tls ?? {},
      jar,
      logger,
      timeoutMs: options.timeoutMs ?? 120_000,
      maxResponseBytes: options.maxResponseBytes ?? 256 * 1024 * 1024,
      maxSockets: options.maxSockets ?? 16,
      idleSocketMs: 30_000,
      http: options.http,
      userAgent: USER_AGENT,
    });
    let wsdlRead: Promise<ServiceDescription> | undefined;
    try {
      wsdlRead = options.wsdl === undefined ? undefined : loadServiceDescription(wsdlLocation(options.wsdl), transport);
      const [description, serverVersion] = await Promise.all([
        wsdlRead && untilAborted(wsdlRead, signal, 'aborted while reading the WSDL'),
        options.version === undefined ? fetchServerVersion(transport, sdkUrl, signal) : Promise.resolve(options.version),
      ]);
      const operations: WsdlOperations | undefined = description && { names: description.operations, location: description.location };
      // Only a server that publishes no version file gets one bootstrap call with the bundle's version.
      const version = { value: serverVersion ?? WSDL_VERSION };
      const limits = decodeLimits(options);
      const chosen = await chooseWire(protocol, { endpoint: sdkUrl, transport, release: version.value, limits, logger, signal });
      const pipeline = { endpoint: sdkUrl, transport, logger, version: () => version.value, limits, operations, debug: options.debug === true, wire: chosen.wire };
      const content = chosen.content ?? ((await soapPipeline(pipeline)('RetrieveServiceContent', SERVICE_INSTANCE, {}, { signal })) as ServiceContent);
      if (options.version === undefined) version.value = content.about.apiVersion;
      logger.debug('connected', { url: sdkUrl, apiVersion: content.about.apiVersion, apiType: content.about.apiType });
      return new VimClient({ url: sdkUrl, serviceContent: content, jar, transport, pipeline, version, options, logger, protocol: chosen.protocol });
    } catch (err) {
      // A WSDL read still running is every client's that asked for the same WSDL since (one
      // read per process), on this transport: the transport is closed once the read has ended.
      if (wsdlRead) void wsdlRead.then(() => transport.close(), () => transport.close());
      else transport.close();
      throw err;
    }
  }

  /**
   * The vSphere Client plug-in server flow: trade the plug-in UI's session token for a clone
   * ticket at the vsphere-ui service, and redeem it with CloneSession on the vCenter. The
   * endpoint host is checked before any request, and the ticket is only sent to an SDK endpoint
   * that proved to be the vCenter `vcGuid` names.
   */
  static async fromPluginSession(options: PluginSessionOptions): Promise<VimClient> {
    const { sessionToken, uiApiEndpoint, vcGuid, sdkUrl, allowedHosts, allowHttp, ...connectOptions } = options;
    if (typeof sessionToken !== 'string' || sessionToken === '') throw new TypeError('fromPluginSession needs sessionToken');
    if (typeof vcGuid !== 'string' || vcGuid === '') throw new TypeError('fromPluginSession needs vcGuid');
    const endpoint = cleanUiApiEndpoint(uiApiEndpoint, allowHttp ?? false);
    const sdk = sdkUrl ?? `https://${endpoint.host}/sdk`;
    const allowed = allowedHosts ?? [new URL(sdk).host];
    if (!hostAllowed(endpoint, allowed)) {
      throw new PluginSessionError('hostNotAllowed', `uiApiEndpoint host ${endpoint.host} is not among the allowed hosts (${allowed.join(', ')})`);
    }
    const client = await VimClient.connect(sdk, connectOptions);
    try {
      if (client.about.instanceUuid !== vcGuid) {
        throw new PluginSessionError('vcenterMismatch', `${sdk} is vCenter ${client.about.instanceUuid ?? '(no instanceUuid)'}, not ${vcGuid}`);
      }
      const ticket = await requestCloneTicket(client.#transport, endpoint, sessionToken, vcGuid, connectOptions.signal);
      await client.cloneSession(ticket, { signal: connectOptions.signal });
      return client;
    } catch (err) {
      await client.close();
      throw err;
    }
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
    if (typeof options?.username !== 'string' || typeof options.password !== 'string') {
      throw new TypeError('login needs { username, password } as strings');
    }
    const strategy = passwordLogin(options.username, options.password, options.locale);
    if (!this.#store) return this.#session.login(strategy, options.signal);
    return this.#session.login(sharedLogin(strategy, {
      store: this.#store,
      key: sessionKey(this.url, options.username, options.password),
      userName: options.username,
      propertyCollector: this.serviceContent.propertyCollector,
      logger: this.#logger,
    }), options.signal);
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
    return this.#session.login(tokenLogin(options?.token, options?.locale), options?.signal);
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
    if (!isLoopbackUrl(this.url)) throw new LocalTicketError('notLocal', `local tickets are files on the server's host: ${new URL(this.url).host} is not this host`);
    return this.#session.login(localTicketLogin(userName, options.directories ?? DEFAULT_LOCAL_TICKET_DIRECTORIES), options.signal);
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
    const stsUrl = options.stsUrl ?? (await this.#stsUrl(options.signal));
    return issueToken(this.#transport, { ...options, stsUrl });
  }

  async #stsUrl(signal: AbortSignal | undefined): Promise<string> {
    const values = await this.call('QueryOptions', this.serviceContent.setting!, { name: 'config.vpxd.sso.sts.uri' }, { signal });
    const url = values.find((v) => v.key === 'config.vpxd.sso.sts.uri')?.value;
    if (typeof url !== 'string') throw new TypeError('the server names no STS (config.vpxd.sso.sts.uri): pass stsUrl');
    return url;
  }

  /**
   * An HTTP request to the server authorized by a generic service ticket (e.g. a datastore
   * file GET), sent under the client's TLS policy. The ticket is single use.
   */
  async requestWithTicket(options: TicketRequestOptions): Promise<{ status: number; body: Buffer }>;
  /** @deprecated Pass `{ ticket, url, method, body, signal }`; this form goes in the next minor version. */
  async requestWithTicket(ticket: { id: string }, url: string, method?: 'GET' | 'POST', body?: string, options?: SessionCallOptions): Promise<{ status: number; body: Buffer }>;
  async requestWithTicket(first: TicketRequestOptions | { id: string }, url?: string, method?: 'GET' | 'POST', body?: string, options: SessionCallOptions = {}): Promise<{ status: number; body: Buffer }> {
    const o: TicketRequestOptions = url === undefined ? (first as TicketRequestOptions) : { ticket: first as { id: string }, url, method, body, ...options };
    if (typeof o?.ticket?.id !== 'string' || typeof o.url !== 'string') throw new TypeError('requestWithTicket needs { ticket, url }');
    const res = await plainRequest(this.#transport, new URL(o.url, this.url).href, {
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


  /** CloneSession with a ticket from AcquireCloneTicket (single use, valid only on the server that issued it). */
  async cloneSession(ticket: string, options: SessionCallOptions = {}): Promise<UserSession> {
    if (typeof ticket !== 'string' || ticket === '') throw new TypeError('cloneSession needs a clone ticket string');
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
    try {
      // A session shared through a store stays for the clients and processes still using it.
      await this.#session.logout(options.signal, 'close');
    } finally {
      this.#transport.close();
      this.#store?.detach?.();
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

  /**
   * A ManagedObjectReference typed by its managed type, e.g. `client.ref('VirtualMachine', 'vm-42')`;
   * only managed type names compile. A reference from elsewhere (a stored `{ type, value }`, another
   * library's) goes through `ref(plain, type?)`: its type name is checked at run time, and with
   * `type` it must be that type or a subtype (`ref(stored, 'VirtualMachine')`), else a TypeError.
   */
  ref<T extends ManagedTypeName>(type: T, value: string): ManagedObjectReference<T>;
  ref<T extends ManagedTypeName>(plain: { type: string; value: string }, type: T): ManagedObjectReference<T>;
  // Without a type the result must not take one from the context: nothing checked it.
  ref(plain: { type: string; value: string }): ManagedObjectReference;
  ref(first: string | { type: string; value: string }, second?: string): ManagedObjectReference {
    const plain = typeof first === 'object' && first !== null;
    const [type, value] = plain ? [first.type, first.value] : [first, second];
    if (!isManagedTypeName(type)) throw new TypeError(`${JSON.stringify(type)} is not a vim25 managed type`);
    if (typeof value !== 'string' || value === '') throw new TypeError(`a ${type} reference needs a value (the managed object id)`);
    const ref = { type, value };
    if (plain && second !== undefined && !isManagedObjectReference(ref, second as ManagedTypeName)) throw new TypeError(`${type} ${value} is not a ${second}`);
    return ref;
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

  /** Every object of `type` under `root` (default: the root folder), one row per object, every page followed. */
  retrieve<T extends ManagedTypeName, P extends PropertyPath<T>>(type: T, paths: readonly P[], options?: RetrieveOptions): Promise<Array<Row<T, P>>> {
    return retrieve(this, type, paths, options);
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

function decodeLimits(options: ConnectOptions): DecodeLimits {
  return {
    ...(options.maxResponseElements !== undefined && { maxElements: options.maxResponseElements }),
    ...(options.maxResponseDepth !== undefined && { maxDepth: options.maxResponseDepth }),
  };
}

function normalizeSdkUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TypeError(`not a URL: ${url}`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new TypeError(`expected an https:// URL, got ${u.protocol}`);
  if (u.username || u.password) throw new TypeError('put credentials in login(), not in the URL');
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/sdk';
  u.search = '';
  u.hash = '';
  return u.href.replace(/\/+$/, '');
}
