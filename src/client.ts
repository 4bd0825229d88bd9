// VimClient: the public surface. It wires one client's pieces together (transport with its TLS
// policy and cookie jar, the engine that exchanges SOAP messages, the session) and
// exposes typed calls. Everything on the wire goes through SoapInvoker.invoke.
import { EventEmitter } from 'node:events';
import { inspect } from 'node:util';
import type { CookieJar } from 'tough-cookie';
import { WSDL_VERSION } from './generated/metadata.ts';
import type { MethodName, VimMethods } from './generated/methods.ts';
import type { AboutInfo, ManagedObjectReference, ServiceContent, UserSession } from './generated/types.ts';
import type { ManagedTypeName } from './generated/managed.ts';
import { isManagedObjectReference, isManagedTypeName } from './managed/model.ts';
import { TransportError } from './errors.ts';
import { silentLogger, type Logger } from './logger.ts';
import { startKeepAlive, type KeepAlive } from './session/keepalive.ts';
import { Session, sessionIdIn, type SessionEvent } from './session/session.ts';
import { cleanUiApiEndpoint, hostAllowed, PluginSessionError, requestCloneTicket } from './session/plugin.ts';
import { cloneTicketLogin, extensionLogin, passwordLogin, sspiLogin, tokenLogin, type MutualTlsChannel, type TokenSource } from './session/strategies.ts';
import { localTicketLogin, SessionManagerCalls } from './session/manager.ts';
import { issueToken, type IssueTokenOptions, type SamlToken } from './session/token.ts';
import type { CertificateAndKey } from './certs/certificates.ts';
import type { EngineFactory, EngineKind } from './soap/engine.ts';
import { engineFactory } from './soap/engines.ts';
import { SoapInvoker, type CallOptions, type WsdlOperations } from './soap/invoke.ts';
import { fetchServerVersion } from './soap/versions.ts';
import { cookieJar } from './transport/cookies.ts';
import { HttpTransport } from './transport/http.ts';
import type { TlsOptions } from './transport/tls.ts';
import { loadServiceDescription, wsdlLocation } from './wsdl/load.ts';

export interface ConnectOptions {
  /**
   * How requests are written and answers read. 'direct' (default): by the binding generated
   * from the vim25 WSDL, straight to the transport. 'node-soap': node-soap, built from the WSDL
   * at run time, writes the envelope and drives the exchange (same bytes, same values).
   */
  engine?: EngineKind;
  /**
   * Path or URL of vimService.wsdl (or its directory). Default: $VIM25_WSDL_DIR; the node-soap
   * engine falls back to the server's `<sdk>/vimService.wsdl`. Calls to operations this WSDL
   * does not declare are refused before anything is sent.
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
  /** vim25 version for SOAPAction. Default: the server's (vimServiceVersions.xml, then about.apiVersion). */
  version?: string;
  /** Answers larger than this (decompressed) fail instead of being buffered. Default 256 MiB. */
  maxResponseBytes?: number;
  /** Concurrent connections to the server. Default 16. */
  maxSockets?: number;
}

export interface LoginOptions {
  username: string;
  password: string;
  locale?: string;
}

export type ClientEvent = SessionEvent;

export interface CertificateLoginOptions {
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

type CallArgs<M extends MethodName> = {} extends VimMethods[M]['args']
  ? [args?: VimMethods[M]['args'], options?: CallOptions]
  : [args: VimMethods[M]['args'], options?: CallOptions];

interface ClientParts {
  url: string;
  serviceContent: ServiceContent;
  jar: CookieJar;
  invoker: SoapInvoker;
  transport: HttpTransport;
  engines: EngineFactory;
  operations: WsdlOperations | undefined;
  options: ConnectOptions;
  logger: Logger;
}

/** What vCenter's port-80 proxy tunnels to: vpxd's own TLS endpoint. */
const SDK_TUNNEL = 'sdkTunnel:8089';

const SERVICE_INSTANCE: ManagedObjectReference<'ServiceInstance'> = { type: 'ServiceInstance', value: 'ServiceInstance' };
const USER_AGENT = 'vim25-soap/0.1 (node)';

export class VimClient extends EventEmitter {
  readonly url: string;
  readonly serviceContent: ServiceContent;
  readonly cookieJar: CookieJar;
  readonly #invoker: SoapInvoker;
  readonly #transport: HttpTransport;
  readonly #session: Session;
  readonly #keepAlive: KeepAlive | undefined;
  #closed = false;

  readonly #engines: EngineFactory;
  readonly #operations: WsdlOperations | undefined;
  readonly #options: ConnectOptions;
  /** The rest of SessionManager: properties, tickets, impersonation, locale, service message. */
  readonly sessionManager: SessionManagerCalls;

  private constructor(parts: ClientParts) {
    super();
    const { url, serviceContent, jar, invoker, transport, options, logger } = parts;
    this.url = url;
    this.serviceContent = serviceContent;
    this.cookieJar = jar;
    this.#invoker = invoker;
    this.#transport = transport;
    this.#engines = parts.engines;
    this.#operations = parts.operations;
    this.#options = options;
    this.#session = new Session({
      invoke: invoker.invoke,
      sessionManager: serviceContent.sessionManager!,
      propertyCollector: serviceContent.propertyCollector,
      jar,
      url,
      logger,
      reauthenticate: options.reauthenticate ?? true,
      emit: (event, detail) => this.emit(event, detail),
      mutualTls: (credentials) => this.#mutualTls(credentials),
    });
    this.sessionManager = new SessionManagerCalls(this.#session.call, serviceContent.sessionManager!, serviceContent.propertyCollector);
    const interval = options.keepAliveIntervalMs;
    this.#keepAlive = interval && interval > 0
      ? startKeepAlive(interval, async () => {
        if (this.#session.strategyKind !== undefined) await this.#session.call('CurrentTime', SERVICE_INSTANCE, {});
      }, logger)
      : undefined;
  }

  /** Connects to `https://host/sdk`: learns the server's version, loads the WSDL if one is needed, and reads the ServiceContent. */
  static async connect(url: string, options: ConnectOptions = {}): Promise<VimClient> {
    const sdkUrl = normalizeSdkUrl(url);
    const logger = options.logger ?? silentLogger;
    const jar = cookieJar();
    const transport = new HttpTransport({
      tls: options.tls ?? {},
      jar,
      logger,
      timeoutMs: options.timeoutMs ?? 120_000,
      maxResponseBytes: options.maxResponseBytes ?? 256 * 1024 * 1024,
      maxSockets: options.maxSockets ?? 16,
      idleSocketMs: 30_000,
      userAgent: USER_AGENT,
    });
    try {
      const kind = options.engine ?? 'direct';
      if (kind !== 'direct' && kind !== 'node-soap') throw new TypeError(`engine must be 'direct' or 'node-soap', not ${JSON.stringify(kind)}`);
      const location = wsdlLocation(options.wsdl, sdkUrl, kind === 'node-soap');
      const [description, serverVersion] = await Promise.all([
        location === undefined ? undefined : loadServiceDescription(location, transport),
        options.version === undefined ? fetchServerVersion(transport, sdkUrl) : Promise.resolve(options.version),
      ]);
      const engines = await engineFactory(kind, description);
      const operations = description && { names: description.operations, location: description.location };
      // Only a server that publishes no version file gets one bootstrap call with the bundle's version.
      const invoker = new SoapInvoker(engines(sdkUrl, transport), serverVersion ?? WSDL_VERSION, logger, operations);
      const content = (await invoker.invoke('RetrieveServiceContent', SERVICE_INSTANCE, {})) as ServiceContent;
      if (options.version === undefined) invoker.version = content.about.apiVersion;
      logger.debug('connected', { url: sdkUrl, apiVersion: content.about.apiVersion, apiType: content.about.apiType });
      return new VimClient({ url: sdkUrl, serviceContent: content, jar, invoker, transport, engines, operations, options, logger });
    } catch (err) {
      transport.close();
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
      const ticket = await requestCloneTicket(client.#transport, endpoint, sessionToken, vcGuid);
      await client.cloneSession(ticket);
      return client;
    } catch (err) {
      await client.close();
      throw err;
    }
  }

  get about(): AboutInfo {
    return this.serviceContent.about;
  }

  /** The vim25 version requests carry in SOAPAction. */
  get apiVersion(): string {
    return this.#invoker.version;
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
    return this.#session.login(passwordLogin(options.username, options.password, options.locale));
  }

  /** LoginExtensionByCertificate: an extension (solution) logs in with its registered certificate. */
  async loginByCertificate(options: CertificateLoginOptions): Promise<UserSession> {
    return this.#session.login(extensionLogin('LoginExtensionByCertificate', options?.extensionKey, options, options?.locale));
  }

  /** LoginExtensionBySubjectName: as loginByCertificate, matched on the certificate's subject name. */
  async loginBySubjectName(options: CertificateLoginOptions): Promise<UserSession> {
    return this.#session.login(extensionLogin('LoginExtensionBySubjectName', options?.extensionKey, options, options?.locale));
  }

  /**
   * LoginByToken with a SAML token (bearer, or holder-of-key with its key), or a provider of
   * fresh tokens, which also lets the session log in again when it dies.
   */
  async loginByToken(options: { token: TokenSource; locale?: string }): Promise<UserSession> {
    return this.#session.login(tokenLogin(options?.token, options?.locale));
  }

  /** LoginBySSPI: `next(challengeBase64)` answers each SSPIChallenge until the server decides. */
  async loginBySSPI(options: { token: string; next: (challenge: string) => Promise<string>; locale?: string }): Promise<UserSession> {
    return this.#session.login(sspiLogin(options?.token, options?.next, options?.locale));
  }

  /** AcquireLocalTicket, then Login with the one-time password file's content (local clients only). */
  async loginByLocalTicket(userName: string): Promise<UserSession> {
    return this.#session.login(localTicketLogin(userName));
  }

  /** ImpersonateUser: the session takes `userName`'s identity (a re-login restores the original one). */
  async impersonateUser(userName: string, locale?: string): Promise<UserSession> {
    const session = await this.sessionManager.impersonateUser(userName, locale);
    this.#session.userSession = session;
    return session;
  }

  /**
   * A token from the vCenter STS (WS-Trust Issue): bearer for a user and password, holder-of-key
   * with a certificate and key. The STS URL is the server's `config.vpxd.sso.sts.uri` setting;
   * pass it when not logged in.
   */
  async issueToken(options: Omit<IssueTokenOptions, 'stsUrl'> & { stsUrl?: string }): Promise<SamlToken> {
    const stsUrl = options.stsUrl ?? (await this.#stsUrl());
    return issueToken(this.#transport, { ...options, stsUrl });
  }

  async #stsUrl(): Promise<string> {
    const values = await this.call('QueryOptions', this.serviceContent.setting!, { name: 'config.vpxd.sso.sts.uri' });
    const url = values.find((v) => v.key === 'config.vpxd.sso.sts.uri')?.value;
    if (typeof url !== 'string') throw new TypeError('the server names no STS (config.vpxd.sso.sts.uri): pass stsUrl');
    return url;
  }

  /**
   * An HTTP request to the server authorized by a generic service ticket (e.g. a datastore
   * file GET), sent under the client's TLS policy. The ticket is single use.
   */
  async requestWithTicket(ticket: { id: string }, url: string, method: 'GET' | 'POST' = 'GET', body?: string): Promise<{ status: number; body: Buffer }> {
    const res = await this.#transport.send(new URL(url, this.url).href, {
      method,
      cookies: false,
      headers: { Cookie: `vmware_cgi_ticket=${ticket.id}` },
      body,
    });
    return { status: res.status, body: await this.#transport.readAll(res.body) };
  }

  /** CloneSession with a ticket from AcquireCloneTicket (single use, valid only on the server that issued it). */
  async cloneSession(ticket: string): Promise<UserSession> {
    if (typeof ticket !== 'string' || ticket === '') throw new TypeError('cloneSession needs a clone ticket string');
    return this.#session.login(cloneTicketLogin(ticket));
  }

  /** Adopts an existing session id: a VIM `vmware_soap_session` or a vAPI `vmware-api-session-id` (vSphere 8.0U3+). */
  async attachSession(sessionId: string): Promise<UserSession> {
    return this.#session.attach(sessionId);
  }

  /** A one-time ticket another client can redeem with cloneSession. Never cache it: it dies with this session. */
  async acquireCloneTicket(): Promise<string> {
    return (await this.#session.call('AcquireCloneTicket', this.serviceContent.sessionManager!, {})) as string;
  }

  /** Ends the session; does nothing (and does not throw) when there is none or it already died. */
  async logout(): Promise<void> {
    await this.#session.logout();
  }

  /**
   * A connection that presents a client certificate, for one extension login. On vCenter the
   * TLS proxy on 443 would swallow the certificate, so it goes through the sdkTunnel (HTTP
   * CONNECT on `tunnel.proxyPort`, default 80) with the server verified under its real name;
   * on ESXi it goes straight to the SDK URL. Its session cookie lives in a jar of its own.
   */
  #mutualTls(credentials: CertificateAndKey): MutualTlsChannel {
    const host = new URL(this.url).hostname.replace(/^\[|\]$/g, '');
    const viaTunnel = this.about.apiType === 'VirtualCenter';
    const tls = { ...this.#options.tls, cert: credentials.cert, key: credentials.key };
    delete tls.pfx;
    delete tls.passphrase;
    const jar = cookieJar();
    const base = this.#transport.options;
    const transport = new HttpTransport({
      ...base,
      tls,
      jar,
      maxSockets: 1,
      ...(viaTunnel && {
        tunnel: {
          proxyHost: host,
          proxyPort: this.#options.tunnel?.proxyPort ?? 80,
          target: SDK_TUNNEL,
          timeoutMs: base.timeoutMs,
          verifyHost: this.#options.tls?.servername ?? host,
        },
      }),
    });
    const endpoint = viaTunnel ? `https://${SDK_TUNNEL}/sdk` : this.url;
    const invoker = new SoapInvoker(this.#engines(endpoint, transport), this.apiVersion, base.logger, this.#operations);
    return {
      invoke: invoker.invoke,
      sessionId: () => sessionIdIn(jar, endpoint),
      close: () => transport.close(),
    };
  }

  /** Logs out and releases sockets and timers so the process can exit. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#keepAlive?.stop();
    try {
      await this.#session.logout();
    } catch (err) {
      if (!(err instanceof TransportError)) throw err;
    } finally {
      this.#transport.close();
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
    return this.#session.call(method, _this, args, options) as Promise<VimMethods[M]['result']>;
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

  override on(event: ClientEvent, listener: (...args: any[]) => void): this {
    return super.on(event, listener);
  }

  // inspect() and JSON.stringify() show what identifies the client, never the cookie jar.
  toJSON(): { url: string; apiVersion: string; user: string | undefined } {
    return { url: this.url, apiVersion: this.apiVersion, user: this.userSession?.userName };
  }

  [inspect.custom](): string {
    return `VimClient { url: '${this.url}', apiVersion: '${this.apiVersion}', user: ${this.userSession ? `'${this.userSession.userName}'` : 'none'} }`;
  }
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
