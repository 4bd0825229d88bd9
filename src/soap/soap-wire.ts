// vim25 over SOAP 1.1: the binding's request body in the envelope (with the call's typed header),
// POSTed to the SDK endpoint with SOAPAction carrying the server's version; the answer streamed
// into the binding's decoder, a SOAP fault or an HTTP failure made a typed error by faults.ts.
// Everything a SOAP toolkit would derive from the WSDL at run time comes from the metadata our
// generator derived from the same WSDL.
import type { Readable } from 'node:stream';
import { TransportError } from '../errors.ts';
import { decodeResponseStream } from '../binding/decode.ts';
import { encodeRequest } from '../binding/encode.ts';
import type { MethodInfo } from '../binding/metadata.ts';
import { redactArgs, redactXml, secretsIn } from '../binding/redact.ts';
import type { HttpTransport } from '../transport/http.ts';
import { requestEnvelope } from './envelope.ts';
import { failedAnswer, faultError } from './faults.ts';
import type { Wire, WireOptions } from './wire.ts';

/** vim25 faults are a few KB; a larger error answer is read no further and reported as what it is. */
const MAX_ERROR_ANSWER_BYTES = 1 << 20;

export function soapWire(o: WireOptions): Wire {
  const { transport, limits } = o;
  const decodeLimits = { maxBytes: transport.options.maxResponseBytes, ...limits };
  return {
    protocol: 'soap',
    request: (call) => ({
      url: o.endpoint,
      headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"urn:vim25/${o.version()}"` },
      body: requestEnvelope(call.info.name, encodeRequest(call.info, call._this, call.args), call.options.header),
    }),

    async answer({ info }, res) {
      if (res.status !== 200) throw failedAnswer(info, res.status, await errorText(transport, info, res.status, res.body), limits);
      const decoded = await decodeResponseStream(info, res.body, res.status, decodeLimits);
      if (decoded.kind === 'fault') throw faultError(info.name, decoded.fault);
      return decoded.value;
    },

    redacted(call) {
      try {
        // Without the call's WS-Security header (it holds a token); a pre-built envelope's is cut out by redactXml.
        const envelope = call.options.prebuilt?.body ?? requestEnvelope(call.info.name, encodeRequest(call.info, call._this, call.args));
        return redactXml(envelope, secretsIn(call.info.request, call.args));
      } catch {
        // Arguments the schema refuses (the exchange will say so): the arguments as data.
        return JSON.stringify(redactArgs(call.info, call.args));
      }
    },
  };
}

/** A non-200 answer's text, read no further than an error answer can legitimately be. */
export async function errorText(transport: HttpTransport, info: MethodInfo, status: number, body: Readable): Promise<string> {
  try {
    return await transport.text(body, Math.min(MAX_ERROR_ANSWER_BYTES, transport.options.maxResponseBytes));
  } catch (err) {
    if (!(err instanceof TransportError) || err.code !== 'ERESPONSETOOLARGE') throw err;
    throw new TransportError(`${info.name}: HTTP ${status} with an answer over ${MAX_ERROR_ANSWER_BYTES} bytes, not read`, { status, code: `HTTP_${status}`, cause: err });
  }
}
