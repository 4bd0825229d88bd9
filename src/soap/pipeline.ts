// The call path of every vim25 call, as named policies around the exchange, assembled here and
// only here, in one order (outermost first):
//
//   tracing  ->  logging  ->  session (re-authentication, single flight)  ->  replay  ->  exchange (the wire)
//
// Tracing publishes each call once on node:diagnostics_channel (diagnostics.ts), only while
// anybody subscribes, with the times it was sent again; logging sees every call once, however
// often it was sent; the session policy may run what is inside it twice (after a re-login); the
// replay policy may send once more on a fresh connection; the exchange has the wire (SOAP
// unless told otherwise) frame the call, sends it and has the wire read the answer. Login calls go through a pipeline without the session policy.
// Calls whose request was built elsewhere (node-soap's) take the same path: only their framing
// and the reading of their answer differ (`prebuilt`).
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { CookieJar } from 'tough-cookie';
import { ValidationError } from '../errors.ts';
import type { DecodeLimits } from '../binding/decode.ts';
import { methodInfo, undeclaredMethod, type MethodInfo } from '../binding/metadata.ts';
import type { Logger } from '../logger.ts';
import type { HttpTransport } from '../transport/http.ts';
import type { SoapHeader } from './envelope.ts';
import { exchange, type WsdlOperations } from './call-exchange.ts';
import { serverAddress, tracingPolicy, type CallMessage } from './diagnostics.ts';
import { loggingPolicy } from './logging-policy.ts';
import { replayPolicy } from './replay-policy.ts';
import { soapWire } from './soap-wire.ts';
import type { WireFactory, WireRequest } from './wire.ts';

export interface CallOptions {
  signal?: AbortSignal | undefined;
  /** Overrides the client's per-request timeout for this call. */
  timeoutMs?: number | undefined;
}

/** Options only the library's own layers use. */
export interface InvokeOptions extends CallOptions {
  /** A SOAP header for this request (the WS-Security header of a token login). */
  header?: SoapHeader | undefined;
  /** The cookie jar of a login made on the side, instead of the client's. */
  jar?: CookieJar | undefined;
  /** A request built elsewhere (node-soap's envelope), sent instead of one the wire writes. */
  prebuilt?: PrebuiltRequest | undefined;
}

/** An answer as it came off the wire, body and all. */
export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  /** The whole body, or, for a 200 answer the caller streams, the stream. */
  body: Buffer | Readable;
}

/**
 * A request whose body another toolkit wrote (node-soap: its envelope, signed or not), sent byte
 * for byte with its own headers. The wire still reads each answer, so the policies see the call's
 * value and faults; the caller gets every answer as it came through `answered`.
 */
export interface PrebuiltRequest extends WireRequest {
  /** A 200 answer is handed over as a stream, unread (node-soap's `stream: true`). */
  readonly stream?: boolean | undefined;
  /** Each answer the server gave, with the error the wire made of it (a fault, an answer that is not SOAP). */
  answered(answer: RawAnswer, error?: unknown): void;
}

export type Invoke = (method: string, _this: unknown, args: object | undefined, options?: InvokeOptions) => Promise<unknown>;

/** One call as it travels through the pipeline. */
export interface SoapCall {
  readonly info: MethodInfo;
  readonly _this: unknown;
  readonly args: object | undefined;
  readonly options: InvokeOptions;
  /** Set by the replay policy: send on a connection of its own. */
  readonly freshConnection?: boolean;
  /**
   * When the exchange must be over, epoch ms: set by the replay policy, so that a replay shares
   * its first attempt's deadline while a call retried after a re-login gets a whole one again.
   */
  readonly deadline?: number | undefined;
  /** Set by the tracing policy while anybody subscribes: what `vim25-soap:call` publishes (diagnostics.ts `retried`). */
  readonly traced?: CallMessage | undefined;
}

export type Handler = (call: SoapCall) => Promise<unknown>;

export type PolicyName = 'tracing' | 'logging' | 'session' | 'replay';

export interface Policy {
  readonly name: PolicyName;
  handle(call: SoapCall, next: Handler): Promise<unknown>;
}

/** Outermost first. */
const ORDER: readonly PolicyName[] = ['tracing', 'logging', 'session', 'replay'];

/** Chains `policies` around `terminal` in the pipeline's order, whatever order they are given in. */
export function chain(policies: readonly Policy[], terminal: Handler): Handler {
  const byName = new Map(policies.map((p) => [p.name, p]));
  if (byName.size !== policies.length) throw new TypeError('a pipeline takes each policy once');
  let next = terminal;
  for (const name of [...ORDER].reverse()) {
    const policy = byName.get(name);
    if (!policy) continue;
    const inner = next;
    next = (call) => policy.handle(call, inner);
  }
  return next;
}

export interface PipelineOptions {
  endpoint: string;
  transport: HttpTransport;
  logger: Logger;
  /** The vim25 version the server speaks, read at each call: the server's, once it is known. */
  version: () => string;
  limits: DecodeLimits;
  /** A given WSDL's operations: calls to others are refused before anything is sent. */
  operations?: WsdlOperations | undefined;
  /** The session policy, for calls made under a session (not for logins). */
  session?: Policy | undefined;
  /** Log each request as sent and each decoded answer, secrets redacted. */
  debug?: boolean | undefined;
  /** The protocol on the wire. Default: SOAP. */
  wire?: WireFactory | undefined;
}

/** The pipeline for one endpoint and transport: what a client sends its calls through. */
export function soapPipeline(o: PipelineOptions): Invoke {
  const wire = (o.wire ?? soapWire)(o);
  const policies = [
    tracingPolicy(wire.protocol ?? 'soap', serverAddress(o.endpoint)),
    loggingPolicy(o.logger, o.debug ? (call) => wire.redacted(call) : undefined),
    replayPolicy(o.logger, o.transport.options.timeoutMs),
    ...(o.session ? [o.session] : []),
  ];
  const run = chain(policies, exchange({ wire, transport: o.transport, version: o.version, operations: o.operations }));
  return (method, _this, args, options = {}) => {
    // A pre-built request may call what the bundle does not declare (a newer server's method).
    const info = methodInfo(method) ?? (options.prebuilt && undeclaredMethod(method));
    if (!info) return Promise.reject(new ValidationError(method, '', 'not a vim25 method'));
    return run({ info, _this, args, options });
  };
}
