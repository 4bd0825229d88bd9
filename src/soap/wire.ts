// The wire: how a call becomes an HTTP request and how an answer becomes the call's value or its
// fault. The exchange at the end of the pipeline calls it, and nothing above the pipeline knows
// which one runs. SOAP (soap-wire.ts: an envelope POSTed to the SDK endpoint with SOAPAction, the
// session in the vmware_soap_session cookie) is one. The VI/JSON protocol (vCenter 8.0U1+,
// json-wire.ts) fits the same shape: a JSON body POSTed to /sdk/vim25/{release}/{moType}/{moId}/{method}
// (or, for a read of one property, a GET of .../{property}), so `request` builds the URL and the
// HTTP method from the call's `_this`, arguments and the version; the session id travels in
// a vmware-api-session-id header, which such a wire reads from the call's cookie jar and stores
// there from a login's answer, so the session layer keeps one notion of the session; faults come
// as JSON objects named by `_typeName`, which `answer` maps to the same VimFaults.
import type { DecodeLimits } from '../binding/decode.ts';
import type { HttpTransport, HttpResponse } from '../transport/http.ts';
import type { SoapCall } from './pipeline.ts';

/** What the exchange sends: where, how, with which headers, and the body. */
export interface WireRequest {
  /** Default POST. A GET (a VI/JSON property read) is sent without its body. */
  readonly method?: 'GET' | 'POST' | undefined;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface Wire {
  /** The protocol, as traces name it (`rpc.system` soap or vi-json). Default: 'soap'. */
  readonly protocol?: 'soap' | 'json';
  /** The request for `call`; refuses (ValidationError) arguments the protocol cannot carry, before anything is sent. */
  request(call: SoapCall): WireRequest;
  /** The call's value in `res`, or throws what the answer is: a VimFault, or a TransportError for an answer that is no answer. */
  answer(call: SoapCall, res: HttpResponse): Promise<unknown>;
  /** The request as sent (a pre-built one too), its secrets redacted: for a debug log. */
  redacted(call: SoapCall): string;
}

/** What a wire is made with: the pipeline's endpoint, transport, vim25 version and decoding limits. */
export interface WireOptions {
  /** The SDK endpoint, e.g. https://vc.example.com/sdk. */
  endpoint: string;
  transport: HttpTransport;
  /** The vim25 version the server speaks, read at each call. */
  version: () => string;
  limits: DecodeLimits;
}

export type WireFactory = (o: WireOptions) => Wire;
