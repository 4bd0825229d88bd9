// VimClient.connect's bootstrap, all that happens before there is a client: the SDK URL made
// canonical, the transport (TLS policy, cookie jar, limits), the server's version
// (vimServiceVersions.xml) and a given WSDL read side by side, the wire chosen (soap/protocol.ts)
// and the ServiceContent read through the pipeline. It hands the parts to the client's
// constructor, which wires them together, and closes the transport it made if anything fails.
import type { CookieJar } from 'tough-cookie';
import { untilAborted } from './abort.ts';
import type { DecodeLimits } from './binding/decode.ts';
import type { SessionStore } from './fleet/store.ts';
import { WSDL_VERSION } from './generated/metadata.ts';
import type { ManagedObjectReference, ServiceContent } from './generated/types.ts';
import { silentLogger, type Logger } from './logger.ts';
import type { WsdlOperations } from './soap/call-exchange.ts';
import { soapPipeline, type PipelineOptions } from './soap/pipeline.ts';
import { checkProtocol, chooseWire, type Protocol, type ProtocolOption } from './soap/protocol.ts';
import { fetchServerVersion } from './soap/versions.ts';
import { cookieJar } from './transport/cookies.ts';
import { HttpTransport } from './transport/http.ts';
import type { TlsOptions } from './transport/tls.ts';
import { normalizeSdkUrl } from './transport/url.ts';
import { loadServiceDescription, wsdlLocation, type ServiceDescription } from './wsdl/load.ts';

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
   * process is busy (two requests in flight at once, or 10 000 requests), then undici's keep-alive
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

/** What connect hands the client's constructor. */
export interface ClientParts {
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

export const SERVICE_INSTANCE: ManagedObjectReference<'ServiceInstance'> = { type: 'ServiceInstance', value: 'ServiceInstance' };
const USER_AGENT = 'vim25-soap/0.1 (node)';

/** Learns the server's version, reads a WSDL if one is given, chooses the wire, reads the ServiceContent, and makes the client of them. */
export async function connect<C>(url: string, options: ConnectOptions, make: (parts: ClientParts) => C): Promise<C> {
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
    return make({ url: sdkUrl, serviceContent: content, jar, transport, pipeline, version, options, logger, protocol: chosen.protocol });
  } catch (err) {
    // A WSDL read still running is every client's that asked for the same WSDL since (one
    // read per process), on this transport: the transport is closed once the read has ended.
    if (wsdlRead) void wsdlRead.then(() => transport.close(), () => transport.close());
    else transport.close();
    throw err;
  }
}

function decodeLimits(options: ConnectOptions): DecodeLimits {
  return {
    ...(options.maxResponseElements !== undefined && { maxElements: options.maxResponseElements }),
    ...(options.maxResponseDepth !== undefined && { maxDepth: options.maxResponseDepth }),
  };
}
