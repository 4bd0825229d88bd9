// The end of the pipeline: one vim25 request on the wire. The binding's request body in the
// envelope, the SOAP headers, the transport, and the answer streamed into the binding's
// decoder. Everything a SOAP toolkit would derive from the WSDL at run time comes from the
// metadata our generator derived from the same WSDL.
import type { Readable } from 'node:stream';
import { TransportError, ValidationError } from '../errors.ts';
import { decodeResponseStream, type DecodeLimits } from '../binding/decode.ts';
import { encodeRequest } from '../binding/encode.ts';
import type { MethodInfo } from '../binding/metadata.ts';
import { checkMethodVersion } from '../managed/model.ts';
import type { HttpTransport } from '../transport/http.ts';
import { requestEnvelope } from './envelope.ts';
import { failedAnswer, faultError } from './faults.ts';
import type { Handler } from './pipeline.ts';

/** The operations of the WSDL a client was given, and where it came from. */
export interface WsdlOperations {
  names: ReadonlySet<string>;
  location: string;
}

/** vim25 faults are a few KB; a larger error answer is read no further and reported as what it is. */
const MAX_ERROR_ANSWER_BYTES = 1 << 20;

export function soapExchange(o: { endpoint: string; transport: HttpTransport; version: () => string; limits: DecodeLimits; operations?: WsdlOperations | undefined }): Handler {
  const { transport, limits, operations } = o;
  const decodeLimits = { maxBytes: transport.options.maxResponseBytes, ...limits };
  return async (call) => {
    const { info, options } = call;
    const method = info.name;
    if (operations && !operations.names.has(method)) throw new ValidationError(method, '', `not an operation of the WSDL at ${operations.location}`);
    checkMethodVersion(method, o.version());
    const envelope = requestEnvelope(method, encodeRequest(info, call._this, call.args), options.header);
    const res = await transport.send(o.endpoint, {
      method: 'POST',
      body: envelope,
      headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"urn:vim25/${o.version()}"` },
      freshConnection: call.freshConnection,
      ctx: { signal: options.signal, deadline: call.deadline, jar: options.jar },
    });
    if (res.status !== 200) throw failedAnswer(info, res.status, await errorText(transport, info, res.status, res.body), limits);
    const decoded = await decodeResponseStream(info, res.body, res.status, decodeLimits);
    if (decoded.kind === 'fault') throw faultError(method, decoded.fault);
    return decoded.value;
  };
}

async function errorText(transport: HttpTransport, info: MethodInfo, status: number, body: Readable): Promise<string> {
  try {
    return await transport.text(body, Math.min(MAX_ERROR_ANSWER_BYTES, transport.options.maxResponseBytes));
  } catch (err) {
    if (!(err instanceof TransportError) || err.code !== 'ERESPONSETOOLARGE') throw err;
    throw new TransportError(`${info.name}: HTTP ${status} with an answer over ${MAX_ERROR_ANSWER_BYTES} bytes, not read`, { status, code: `HTTP_${status}`, cause: err });
  }
}
