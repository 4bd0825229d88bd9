// What the invoker needs from an engine: one vim25 request on the wire, its answer decoded.
// Two engines implement it (direct-engine.ts, node-soap-engine.ts); the differential tests
// run the whole integration suite through both and require the same bytes and the same values.
import { TransportError, type VimFault } from '../errors.ts';
import { decodeResponseText, faultError, type DecodedResponse } from '../binding/decode.ts';
import type { MethodInfo } from '../binding/metadata.ts';
import { excerpt, type HttpTransport, type RequestContext } from '../transport/http.ts';

export interface SoapCall {
  info: MethodInfo;
  /** The request element's children, as binding/encode.ts wrote them. */
  body: string;
  /** The SOAPAction header's value, quotes included. */
  soapAction: string;
  ctx: RequestContext;
}

export interface SoapEngine {
  exchange(call: SoapCall): Promise<DecodedResponse>;
}

export type EngineKind = 'direct' | 'node-soap';

/** Builds the engine for one endpoint and transport (a client has one; certificate logins make another). */
export type EngineFactory = (endpoint: string, transport: HttpTransport) => SoapEngine;

/** The HTTP headers of a vim25 request besides those the transport adds. */
export function soapHeaders(soapAction: string): Record<string, string> {
  return { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: soapAction };
}

/**
 * A non-200 answer, read whole: vim25 sends faults with HTTP 500; anything else (a 503 page
 * from a proxy, a 404) is an HTTP failure.
 */
export function failedAnswer(info: MethodInfo, status: number, text: string): VimFault | TransportError {
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
