// The node-soap engine (`engine: 'node-soap'`): node-soap, built from the vim25 WSDL, writes the
// envelope and drives the exchange through our transport; its "SAX stream" is the raw body
// (see wsdl/node-soap.ts), which the binding's decoder reads.
import type { Readable } from 'node:stream';
import { TransportError } from '../errors.ts';
import { decodeResponseStream, type DecodedResponse } from '../binding/decode.ts';
import type { HttpTransport } from '../transport/http.ts';
import type { ServiceDescription } from '../wsdl/load.ts';
import { SoapClients } from '../wsdl/node-soap.ts';
import { failedAnswer, type SoapCall, type SoapEngine } from './engine.ts';

type SoapCallback = (err: unknown, result: unknown) => void;
type SoapMethod = (args: object, callback: SoapCallback, options: object, extraHeaders: object) => void;

export class NodeSoapEngine implements SoapEngine {
  private readonly clients: SoapClients;

  constructor(description: ServiceDescription, endpoint: string, transport: HttpTransport) {
    this.clients = new SoapClients(description, endpoint, transport);
  }

  async exchange({ info, body, soapAction, ctx }: SoapCall): Promise<DecodedResponse> {
    const method = info.name;
    const client = await this.clients.get(method);
    const fn = (client as unknown as Record<string, SoapMethod>)[method]!;
    return new Promise<DecodedResponse>((resolve, reject) => {
      fn.call(client, { $xml: body }, (err, result) => {
        if (err instanceof TransportError) {
          reject(err);
          return;
        }
        // Non-200 answers reach us whole (HttpTransport.requestStream), whatever node-soap made of them.
        if (ctx.status !== undefined && ctx.status !== 200 && ctx.text !== undefined) {
          reject(failedAnswer(info, ctx.status, ctx.text));
          return;
        }
        if (err) {
          const e = err as Error;
          reject(new TransportError(`${method}: ${e?.message ?? String(err)}`, { code: 'ENETWORK', cause: err }));
          return;
        }
        const stream = (result as { saxStream?: Readable } | null)?.saxStream;
        if (!stream) {
          reject(new TransportError(`${method}: no SOAP answer`, { code: 'ENOTSOAP', status: ctx.status }));
          return;
        }
        decodeResponseStream(info, stream, ctx.status ?? 200, ctx.maxResponseBytes).then(resolve, reject);
      }, ctx, { SOAPAction: soapAction });
    });
  }
}
