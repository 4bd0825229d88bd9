// Which wire a client speaks: SOAP, or VI/JSON where the server serves it (vCenter 8.0 Update 1
// and later). Decided by a real request, never by a version string alone: the ServiceContent read
// over VI/JSON (GET .../ServiceInstance/ServiceInstance/content), whose answer is also the
// content the client needs, so choosing JSON costs no extra round trip.
import { decodeJsonResponseStream } from '../binding/json-decode.ts';
import type { DecodeLimits } from '../binding/decode.ts';
import { methodInfo } from '../binding/metadata.ts';
import { TransportError } from '../errors.ts';
import type { ServiceContent } from '../generated/types.ts';
import type { Logger } from '../logger.ts';
import type { HttpTransport } from '../transport/http.ts';
import { jsonBase, jsonWire } from './json-wire.ts';
import { soapWire } from './soap-wire.ts';
import type { WireFactory } from './wire.ts';

export type Protocol = 'soap' | 'json';
export type ProtocolOption = Protocol | 'auto';

export interface ChosenWire {
  protocol: Protocol;
  wire: WireFactory;
  /** The ServiceContent, when the probe that chose VI/JSON read it. */
  content?: ServiceContent | undefined;
}

export interface ChooseOptions {
  endpoint: string;
  transport: HttpTransport;
  /** The release the probe asks for: the server's vim25 version. */
  release: string;
  limits: DecodeLimits;
  logger: Logger;
  signal?: AbortSignal | undefined;
}

export function checkProtocol(value: unknown): ProtocolOption {
  if (value === undefined) return 'soap';
  if (value === 'soap' || value === 'json' || value === 'auto') return value;
  throw new TypeError(`protocol must be 'soap', 'json' or 'auto', not ${JSON.stringify(value)}`);
}

export async function chooseWire(wanted: ProtocolOption, o: ChooseOptions): Promise<ChosenWire> {
  if (wanted === 'soap') return { protocol: 'soap', wire: soapWire };
  const content = await probeJson(o);
  if (content) {
    o.logger.debug('protocol', { protocol: 'json', release: o.release, asked: wanted });
    return { protocol: 'json', wire: jsonWire, content };
  }
  if (wanted === 'json') {
    throw new TransportError(
      `${o.endpoint} serves no VI/JSON API for release ${o.release}: it needs vCenter 8.0 Update 1 or later. Connect with protocol 'soap' (or 'auto', which falls back to SOAP)`,
      { code: 'ENOJSON' },
    );
  }
  o.logger.debug('protocol', { protocol: 'soap', release: o.release, asked: wanted, why: 'no VI/JSON API' });
  return { protocol: 'soap', wire: soapWire };
}

/** The ServiceContent over VI/JSON, or undefined when the server answers that path with no VI/JSON. */
async function probeJson(o: ChooseOptions): Promise<ServiceContent | undefined> {
  const res = await o.transport.send(`${jsonBase(o.endpoint, o.release)}/ServiceInstance/ServiceInstance/content`, {
    method: 'GET',
    headers: { Accept: 'application/json' },
    ctx: { signal: o.signal },
  });
  if (res.status !== 200 || !/^application\/json\b/i.test(res.headers['content-type'] ?? '')) {
    res.body.resume();
    return undefined;
  }
  const info = methodInfo('RetrieveServiceContent')!;
  const decoded = await decodeJsonResponseStream(info, res.body, res.status, { maxBytes: o.transport.options.maxResponseBytes, ...o.limits });
  const content = decoded.kind === 'result' ? (decoded.value as ServiceContent | undefined) : undefined;
  return content?.about ? content : undefined;
}
