// The default engine: the envelope around the binding's request, straight to the transport, and
// the answer streamed into the binding's decoder. Everything node-soap would derive from the
// WSDL at run time comes from the metadata our generator derived from the same WSDL.
import { decodeResponseStream, type DecodedResponse } from '../binding/decode.ts';
import type { HttpTransport } from '../transport/http.ts';
import { failedAnswer, soapHeaders, type SoapCall, type SoapEngine } from './engine.ts';
import { requestEnvelope } from './envelope.ts';

export class DirectEngine implements SoapEngine {
  constructor(private readonly endpoint: string, private readonly transport: HttpTransport) {}

  async exchange({ info, body, soapAction, ctx }: SoapCall): Promise<DecodedResponse> {
    const envelope = requestEnvelope(info.name, body);
    const res = await this.transport.send(this.endpoint, {
      method: 'POST',
      body: ctx.postProcess ? ctx.postProcess(envelope) : envelope,
      headers: soapHeaders(soapAction),
      ctx,
    });
    if (res.status !== 200) throw failedAnswer(info, res.status, await this.transport.text(res.body));
    return decodeResponseStream(info, res.body, res.status, this.transport.options.maxResponseBytes);
  }
}
