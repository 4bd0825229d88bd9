// The end of the pipeline: one call on the wire. What no server may see is refused first (an
// operation outside the given WSDL, a method newer than the server); then the wire frames the
// call, the transport carries it, and the wire reads the answer. A pre-built request (node-soap's
// envelope) is sent as it is and its answer handed back as it came, read by the wire all the
// same, so the policies around the exchange see its value and its faults as they see any call's.
import { Readable } from 'node:stream';
import { ValidationError } from '../errors.ts';
import { checkMethodVersion } from '../managed/checks.ts';
import type { HttpResponse, HttpTransport } from '../transport/http.ts';
import type { Handler, PrebuiltRequest, SoapCall } from './pipeline.ts';
import type { Wire } from './wire.ts';

/** The operations of the WSDL a client was given, and where it came from. */
export interface WsdlOperations {
  names: ReadonlySet<string>;
  location: string;
}

export interface ExchangeOptions {
  wire: Wire;
  transport: HttpTransport;
  version: () => string;
  operations?: WsdlOperations | undefined;
}

export function exchange(o: ExchangeOptions): Handler {
  const { wire, transport, operations } = o;
  return async (call) => {
    const { info, options } = call;
    if (operations && !operations.names.has(info.name)) throw new ValidationError(info.name, '', `not an operation of the WSDL at ${operations.location}`);
    checkMethodVersion(info.name, o.version());
    const prebuilt = options.prebuilt;
    const request = prebuilt ?? wire.request(call);
    const method = request.method ?? 'POST';
    const res = await transport.send(request.url, {
      method,
      body: method === 'GET' ? undefined : request.body,
      headers: request.headers,
      freshConnection: call.freshConnection,
      ctx: { signal: options.signal, deadline: call.deadline, jar: options.jar },
    });
    return prebuilt ? passOn(o, call, prebuilt, res) : wire.answer(call, res);
  };
}

/**
 * A pre-built request's answer, handed to its caller as it came, with the error the wire made of
 * it (node-soap reports faults its own way). A 200 answer the caller streams is not read here.
 */
async function passOn({ wire, transport }: ExchangeOptions, call: SoapCall, prebuilt: PrebuiltRequest, res: HttpResponse): Promise<unknown> {
  if (prebuilt.stream && res.status === 200) {
    prebuilt.answered({ status: res.status, headers: res.headers, body: res.body });
    return undefined;
  }
  const answer = { status: res.status, headers: res.headers, body: await transport.readAll(res.body) };
  try {
    const value = await wire.answer(call, { ...res, body: Readable.from([answer.body]) });
    prebuilt.answered(answer);
    return value;
  } catch (err) {
    prebuilt.answered(answer, err);
    throw err;
  }
}
