// The differential check of issue 9: every call of the integration suite goes through both
// engines. The engine the client asked for exchanges with the server; the other one is given
// the same call and, instead of the network, a replay of that exchange's answer. Both must put
// the same request on the wire (URL, headers, envelope bytes) and return deep-equal values or
// equivalent errors. Mismatches are collected, not thrown, so that a test which expects a
// failure cannot swallow one; differential-setup.ts fails every test file that has any.
import { Readable } from 'node:stream';
import { isDeepStrictEqual } from 'node:util';
import type { IncomingHttpHeaders } from 'node:http';
import type { DecodedResponse } from '../../src/binding/decode.ts';
import { DirectEngine } from '../../src/soap/direct-engine.ts';
import type { EngineFactory, EngineKind, SoapCall, SoapEngine } from '../../src/soap/engine.ts';
import { NodeSoapEngine } from '../../src/soap/node-soap-engine.ts';
import type { HttpResponse, HttpTransport, RequestContext } from '../../src/transport/http.ts';
import { loadServiceDescription, type ServiceDescription } from '../../src/wsdl/load.ts';
import { bundleDir } from '../../scripts/lib/paths.ts';

type SendInit = Parameters<HttpTransport['send']>[1];
type MakeEngine = (endpoint: string, transport: HttpTransport) => SoapEngine;

interface WireRequest {
  url: string;
  body: string | undefined;
  headers: Record<string, string> | undefined;
}

/** What the server answered: status, headers, the body's chunks and, if reading it failed, how. */
interface Recorded {
  response?: { status: number; headers: IncomingHttpHeaders; chunks: Buffer[]; bodyError?: unknown };
  error?: unknown;
}

type Outcome = { value: unknown } | { error: unknown };

export const differential = { compared: 0, mismatches: [] as string[] };

function replayBody(r: NonNullable<Recorded['response']>): Readable {
  const { chunks, bodyError } = r;
  return new Readable({
    read() {
      for (const c of chunks) this.push(c);
      if (bodyError === undefined) this.push(null);
      else this.destroy(bodyError as Error);
    },
  });
}

function answered(r: NonNullable<Recorded['response']>, ctx: RequestContext | undefined, transport: HttpTransport): HttpResponse {
  const body = replayBody(r);
  if (ctx) {
    ctx.status = r.status;
    ctx.body = body;
    ctx.maxResponseBytes = transport.options.maxResponseBytes;
  }
  return { status: r.status, headers: r.headers, body };
}

/** The real transport, recording the request and the whole answer, and handing a replay of it on. */
function recordingTransport(real: HttpTransport, sent: WireRequest[], recorded: Recorded): HttpTransport {
  const t = Object.create(real) as HttpTransport;
  t.send = async (url: string, init: SendInit): Promise<HttpResponse> => {
    sent.push({ url, body: init.body, headers: init.headers });
    let res: HttpResponse;
    try {
      res = await real.send(url, init);
    } catch (error) {
      recorded.error = error;
      throw error;
    }
    const r: NonNullable<Recorded['response']> = { status: res.status, headers: res.headers, chunks: [] };
    try {
      for await (const chunk of res.body) r.chunks.push(chunk as Buffer);
    } catch (error) {
      r.bodyError = error;
    }
    recorded.response = r;
    return answered(r, init.ctx, real);
  };
  return t;
}

/** A transport that answers with what the recording transport saw, without the network. */
function replayingTransport(real: HttpTransport, sent: WireRequest[], recorded: Recorded): HttpTransport {
  const t = Object.create(real) as HttpTransport;
  t.send = async (url: string, init: SendInit): Promise<HttpResponse> => {
    sent.push({ url, body: init.body, headers: init.headers });
    if (recorded.response) return answered(recorded.response, init.ctx, real);
    throw recorded.error;
  };
  return t;
}

function errorSummary(e: unknown): Record<string, unknown> {
  const err = e as { constructor?: { name?: string }; message?: string; code?: string; status?: number; faultName?: string; fault?: unknown };
  return { class: err?.constructor?.name, message: err?.message, code: err?.code, status: err?.status, faultName: err?.faultName, fault: err?.fault };
}

/**
 * Where two values first differ, as a path: reports must not show the values, which can be
 * passwords, session keys or tickets.
 */
export function firstDifference(a: unknown, b: unknown, path = '$'): string | undefined {
  if (isDeepStrictEqual(a, b)) return undefined;
  if (typeof a === 'string' && typeof b === 'string') {
    let i = 0;
    while (a[i] === b[i]) i++;
    return `${path} at character ${i} (lengths ${a.length}, ${b.length})`;
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)
    || Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) {
    return `${path} (${describe(a)} vs ${describe(b)})`;
  }
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
    if (d) return d;
  }
  return `${path} (same keys, different ${describe(a)})`;
}

function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? `array of ${v.length}` : typeof v === 'object' ? (v.constructor?.name ?? 'object') : typeof v;
}

function compareOutcomes(a: Outcome, b: Outcome): string | undefined {
  if ('value' in a && 'value' in b) return firstDifference(a.value, b.value, 'answer');
  if ('error' in a && 'error' in b) return firstDifference(errorSummary(a.error), errorSummary(b.error), 'error');
  return 'value' in a ? 'a value vs an error' : 'an error vs a value';
}

async function outcome(p: Promise<DecodedResponse>): Promise<Outcome> {
  try {
    return { value: await p };
  } catch (error) {
    return { error };
  }
}

/** Runs a call through `primary` on the network and through `secondary` on its replay, and compares. */
export class DifferentialEngine implements SoapEngine {
  constructor(
    private readonly primary: MakeEngine,
    private readonly secondary: MakeEngine,
    private readonly endpoint: string,
    private readonly transport: HttpTransport,
  ) {}

  async exchange(call: SoapCall): Promise<DecodedResponse> {
    const primarySent: WireRequest[] = [];
    const secondarySent: WireRequest[] = [];
    const recorded: Recorded = {};
    // A token login's envelope hook signs with a timestamp: the secondary gets the primary's
    // output for the same input, so only a different envelope can make the bytes differ.
    const hook = call.ctx.postProcess;
    const signed = new Map<string, string>();
    const primaryCtx: RequestContext = { ...call.ctx, postProcess: hook && ((xml) => {
      const out = hook(xml);
      signed.set(xml, out);
      return out;
    }) };
    const secondaryCtx: RequestContext = { ...call.ctx, postProcess: hook && ((xml) => signed.get(xml) ?? hook(xml)) };

    const first = this.primary(this.endpoint, recordingTransport(this.transport, primarySent, recorded)).exchange({ ...call, ctx: primaryCtx });
    const a = await outcome(first);
    // Copy what the transport reported back to the caller's context, as the engine would have.
    Object.assign(call.ctx, { status: primaryCtx.status, body: primaryCtx.body, text: primaryCtx.text, maxResponseBytes: primaryCtx.maxResponseBytes });
    if (primarySent.length > 0) {
      const b = await outcome(this.secondary(this.endpoint, replayingTransport(this.transport, secondarySent, recorded)).exchange({ ...call, ctx: secondaryCtx }));
      differential.compared++;
      const request = firstDifference(primarySent, secondarySent, 'requests');
      const answer = request ? undefined : compareOutcomes(a, b);
      if (request) differential.mismatches.push(`${call.info.name}: ${request}`);
      else if (answer) differential.mismatches.push(`${call.info.name}: ${answer}`);
    }
    if ('error' in a) throw a.error;
    return a.value as DecodedResponse;
  }
}

const bundleDescription = (): Promise<ServiceDescription> =>
  loadServiceDescription(`${bundleDir()}/vimService.wsdl`, undefined as unknown as HttpTransport);

/** Stands in for src/soap/engines.ts: the asked-for engine runs, the other one checks it. */
export async function differentialEngineFactory(kind: EngineKind, description: ServiceDescription | undefined): Promise<EngineFactory> {
  if (kind !== 'direct' && kind !== 'node-soap') throw new TypeError(`unknown engine ${String(kind)}`);
  const d = description ?? await bundleDescription();
  const direct: MakeEngine = (endpoint, transport) => new DirectEngine(endpoint, transport);
  const nodeSoap: MakeEngine = (endpoint, transport) => new NodeSoapEngine(d, endpoint, transport);
  const [primary, secondary] = kind === 'direct' ? [direct, nodeSoap] : [nodeSoap, direct];
  return (endpoint, transport) => new DifferentialEngine(primary, secondary, endpoint, transport);
}
