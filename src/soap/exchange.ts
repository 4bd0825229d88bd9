// One vim25 request on the wire: the envelope around the binding's request body, the SOAP
// headers, the transport, and the answer streamed into the binding's decoder. Everything a SOAP
// toolkit would derive from the WSDL at run time comes from the metadata our generator derived
// from the same WSDL.
import type { Readable } from 'node:stream';
import { TransportError, type VimFault } from '../errors.ts';
import { decodeResponseStream, decodeResponseText, faultError, type DecodeLimits, type DecodedResponse } from '../binding/decode.ts';
import type { MethodInfo } from '../binding/metadata.ts';
import { excerpt, type HttpTransport, type RequestContext } from '../transport/http.ts';
import { requestEnvelope } from './envelope.ts';

export interface SoapRequest {
  info: MethodInfo;
  /** The request element's children, as binding/encode.ts wrote them. */
  body: string;
  /** The SOAPAction header's value, quotes included. */
  soapAction: string;
  ctx: RequestContext;
  /** Rewrites the serialized envelope before it is sent (WS-Security headers of token logins). */
  rewrite?: ((xml: string) => string) | undefined;
}

/** vim25 faults are a few KB; a larger error answer is read no further and reported as what it is. */
const MAX_ERROR_ANSWER_BYTES = 1 << 20;

/** Sends vim25 requests to one endpoint through one transport (a client has one; certificate logins make another). */
export class SoapExchange {
  constructor(private readonly endpoint: string, private readonly transport: HttpTransport, private readonly limits: DecodeLimits = {}) {}

  async exchange({ info, body, soapAction, ctx, rewrite }: SoapRequest): Promise<DecodedResponse> {
    const envelope = requestEnvelope(info.name, body);
    const res = await this.transport.send(this.endpoint, {
      method: 'POST',
      body: rewrite ? rewrite(envelope) : envelope,
      headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: soapAction },
      ctx,
    });
    if (res.status !== 200) throw failedAnswer(info, res.status, await this.errorText(info, res.status, res.body), this.limits);
    return decodeResponseStream(info, res.body, res.status, { maxBytes: this.transport.options.maxResponseBytes, ...this.limits });
  }

  private async errorText(info: MethodInfo, status: number, body: Readable): Promise<string> {
    try {
      return await this.transport.text(body, Math.min(MAX_ERROR_ANSWER_BYTES, this.transport.options.maxResponseBytes));
    } catch (err) {
      if (!(err instanceof TransportError) || err.code !== 'ERESPONSETOOLARGE') throw err;
      throw new TransportError(`${info.name}: HTTP ${status} with an answer over ${MAX_ERROR_ANSWER_BYTES} bytes, not read`, { status, code: `HTTP_${status}`, cause: err });
    }
  }
}

/**
 * A non-200 answer, read whole: vim25 sends faults with HTTP 500; anything else (a 503 page
 * from a proxy, a 404) is an HTTP failure.
 */
function failedAnswer(info: MethodInfo, status: number, text: string, limits: DecodeLimits): VimFault | TransportError {
  if (status === 500 && text.includes('Fault')) {
    try {
      const decoded = decodeResponseText(info, text, limits, status);
      if (decoded.kind === 'fault') return faultError(info.name, decoded.fault);
    } catch {
      // Not a decodable SOAP fault: reported below as what it is, a bad HTTP answer.
    }
  }
  return new TransportError(`${info.name}: HTTP ${status} without a SOAP answer`, { status, code: `HTTP_${status}`, excerpt: excerpt(text) });
}
