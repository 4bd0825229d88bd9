// The one seam every vim25 call goes through: encode with the binding, exchange through the
// engine (envelope, SOAPAction, transport, decoding), and turn whatever came back into a value,
// a VimFault or a TransportError.
import { ValidationError } from '../errors.ts';
import { faultError } from '../binding/decode.ts';
import { encodeRequest } from '../binding/encode.ts';
import { methodInfo, type MethodInfo } from '../binding/metadata.ts';
import { redactArgs } from '../binding/redact.ts';
import { checkMethodVersion } from '../managed/model.ts';
import type { RequestContext } from '../transport/http.ts';
import type { Logger } from '../logger.ts';
import type { SoapEngine } from './engine.ts';
import { isIdempotent } from './idempotency.ts';

export interface CallOptions {
  signal?: AbortSignal | undefined;
  /** Overrides the client's per-request timeout for this call. */
  timeoutMs?: number | undefined;
}

/** Options only the library's own layers use. */
export interface InvokeOptions extends CallOptions {
  /** Rewrites the serialized envelope before it is sent (WS-Security headers of token logins). */
  envelope?: ((xml: string) => string) | undefined;
}

export type Invoke = (method: string, _this: unknown, args: object | undefined, options?: InvokeOptions) => Promise<unknown>;

/** The operations of the WSDL a client was given, and where it came from. */
export interface WsdlOperations {
  names: ReadonlySet<string>;
  location: string;
}

export class SoapInvoker {
  /** vim25 version sent in SOAPAction: the server's, set once it is known. */
  version: string;

  constructor(private readonly engine: SoapEngine, version: string, private readonly logger: Logger, private readonly operations?: WsdlOperations) {
    this.version = version;
  }

  /** Logs each call by name, time, outcome and its arguments with secret fields redacted; never results. */
  invoke: Invoke = async (method, _this, args, options = {}) => {
    const started = performance.now();
    const info = methodInfo(method);
    try {
      if (!info) throw new ValidationError(method, '', 'not a vim25 method');
      const value = await this.send(info, _this, args, options);
      // The redacted copy is made only if the logger reads it: no cost on the hot path otherwise.
      this.logger.debug('call', {
        method,
        ms: Math.round(performance.now() - started),
        get args() {
          return redactArgs(info, args);
        },
      });
      return value;
    } catch (err) {
      const e = err as { name?: string; faultName?: string; code?: string; status?: number };
      this.logger.debug('call failed', { method, ms: Math.round(performance.now() - started), error: e?.name, fault: e?.faultName, code: e?.code, status: e?.status });
      throw err;
    }
  };

  private async send(info: MethodInfo, _this: unknown, args: object | undefined, options: InvokeOptions): Promise<unknown> {
    const method = info.name;
    if (this.operations && !this.operations.names.has(method)) throw new ValidationError(method, '', `not an operation of the WSDL at ${this.operations.location}`);
    checkMethodVersion(method, this.version);
    const body = encodeRequest(info, _this, args);
    const ctx: RequestContext = { timeoutMs: options.timeoutMs, signal: options.signal, idempotent: isIdempotent(method), postProcess: options.envelope };
    const decoded = await this.engine.exchange({ info, body, soapAction: `"urn:vim25/${this.version}"`, ctx });
    if (decoded.kind === 'fault') throw faultError(method, decoded.fault);
    return decoded.value;
  }
}
