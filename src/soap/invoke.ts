// The one seam every vim25 call goes through: encode with the binding, send with node-soap
// (envelope, SOAPAction, transport), decode node-soap's SAX stream with the binding, and turn
// whatever came back into a value, a VimFault or a TransportError.
import type { Readable } from 'node:stream';
import { TransportError, ValidationError } from '../errors.ts';
import { decodeResponseStream, decodeResponseText, faultError, type DecodedResponse } from '../binding/decode.ts';
import { encodeRequest } from '../binding/encode.ts';
import { methodInfo, type MethodInfo } from '../binding/metadata.ts';
import { redactArgs } from '../binding/redact.ts';
import { excerpt, type RequestContext } from '../transport/http.ts';
import type { SoapClients } from '../wsdl/load.ts';
import type { Logger } from '../logger.ts';
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

type SoapCallback = (err: unknown, result: unknown, rawResponse: unknown) => void;
type SoapMethod = (args: object, callback: SoapCallback, options: object, extraHeaders: object) => void;

export class SoapInvoker {
  /** vim25 version sent in SOAPAction: the server's, set once it is known. */
  version: string;

  constructor(private readonly clients: SoapClients, version: string, private readonly logger: Logger) {
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
    if (!this.clients.has(method)) throw new ValidationError(method, '', `not an operation of the WSDL at ${this.clients.description.location}`);
    const requestXml = encodeRequest(info, _this, args);
    const client = await this.clients.get(method);
    const fn = (client as unknown as Record<string, SoapMethod>)[method]!;
    const ctx: RequestContext = { timeoutMs: options.timeoutMs, signal: options.signal, idempotent: isIdempotent(method), postProcess: options.envelope };
    const decoded = await new Promise<DecodedResponse>((resolve, reject) => {
      fn.call(client, { $xml: requestXml }, (err, result) => {
        if (err) {
          reject(classifyFailure(info, err, ctx));
          return;
        }
        // The "SAX stream" node-soap hands back is the raw body: see SoapClients (wsdl/load.ts).
        const body = (result as { saxStream?: Readable } | null)?.saxStream;
        if (!body) {
          reject(new TransportError(`${method}: no SOAP answer`, { code: 'ENOTSOAP', status: ctx.status }));
          return;
        }
        decodeResponseStream(info, body, ctx.status ?? 200, ctx.maxResponseBytes).then(resolve, reject);
      }, ctx, { SOAPAction: `"urn:vim25/${this.version}"` });
    });
    if (decoded.kind === 'fault') throw faultError(method, decoded.fault);
    return decoded.value;
  }
}

/** A failed exchange: our transport's error, a SOAP fault in a non-200 answer, or a non-SOAP answer. */
function classifyFailure(info: MethodInfo, err: unknown, ctx: RequestContext): unknown {
  if (err instanceof TransportError) return err;
  const status = ctx.status;
  const text = ctx.text;
  if (status === undefined || text === undefined) {
    const e = err as Error;
    return new TransportError(`${info.name}: ${e?.message ?? String(err)}`, { code: 'ENETWORK', cause: err });
  }
  if (status === 500 && text.includes('Fault')) {
    try {
      const decoded = decodeResponseText(info, text);
      if (decoded.kind === 'fault') return faultError(info.name, decoded.fault);
    } catch {
      // Not a decodable SOAP fault: reported below as what it is, a bad HTTP answer.
    }
  }
  return new TransportError(`${info.name}: HTTP ${status} without a SOAP answer`, { status, code: `HTTP_${status}`, excerpt: excerpt(text) });
}
