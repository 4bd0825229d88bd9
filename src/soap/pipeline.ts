// The call path of every vim25 call, as named policies around the exchange, assembled here and
// only here, in one order (outermost first):
//
//   logging  ->  session (re-authentication, single flight)  ->  replay  ->  exchange
//
// Logging sees every call once, however often it was sent; the session policy may run what is
// inside it twice (after a re-login); the replay policy may send once more on a fresh
// connection; the exchange writes the envelope, sends it and decodes the answer. Login calls
// go through a pipeline without the session policy.
import type { CookieJar } from 'tough-cookie';
import { ValidationError } from '../errors.ts';
import type { DecodeLimits } from '../binding/decode.ts';
import { methodInfo, type MethodInfo } from '../binding/metadata.ts';
import type { Logger } from '../logger.ts';
import type { HttpTransport } from '../transport/http.ts';
import type { SoapHeader } from './envelope.ts';
import { soapExchange, type WsdlOperations } from './exchange.ts';
import { loggingPolicy } from './logging-policy.ts';
import { replayPolicy } from './replay-policy.ts';

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
}

export type Handler = (call: SoapCall) => Promise<unknown>;

export type PolicyName = 'logging' | 'session' | 'replay';

export interface Policy {
  readonly name: PolicyName;
  handle(call: SoapCall, next: Handler): Promise<unknown>;
}

/** Outermost first. */
const ORDER: readonly PolicyName[] = ['logging', 'session', 'replay'];

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
  /** The vim25 version for SOAPAction, read at each call: the server's, once it is known. */
  version: () => string;
  limits: DecodeLimits;
  /** A given WSDL's operations: calls to others are refused before anything is sent. */
  operations?: WsdlOperations | undefined;
  /** The session policy, for calls made under a session (not for logins). */
  session?: Policy | undefined;
  /** Log each request as sent and each decoded answer, secrets redacted. */
  wire?: boolean | undefined;
}

/** The pipeline for one endpoint and transport: what a client sends its calls through. */
export function soapPipeline(o: PipelineOptions): Invoke {
  const policies = [loggingPolicy(o.logger, o.wire), replayPolicy(o.logger, o.transport.options.timeoutMs), ...(o.session ? [o.session] : [])];
  const run = chain(policies, soapExchange(o));
  return (method, _this, args, options = {}) => {
    const info = methodInfo(method);
    if (!info) return Promise.reject(new ValidationError(method, '', 'not a vim25 method'));
    return run({ info, _this, args, options });
  };
}
