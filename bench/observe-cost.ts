// What observability costs a call (issue 30: "zero cost when nobody subscribes — measure it"):
// the client's CPU per CurrentTime call against the harness with nobody subscribed to the
// library's diagnostics channels, with a no-op subscriber on `vim25-soap:call`, and with
// `instrument()` from vim25-soap/otel feeding the OpenTelemetry SDK (in-memory span exporter,
// a metric reader that is never collected).
//
//   npx tsx bench/observe-cost.ts [--rounds 9] [--calls 1000] [--warmup 4000]
//
// One process, one client, after a warm-up (the first calls pay V8's compilers and the switch to
// undici's pools, not observability). The modes take turns in rounds of `--calls` calls each,
// their order rotating per round, so a change of the machine's load falls on all of them. CPU
// time of this process (process.cpuUsage: user + system, all threads) per call; the harness is
// another process. Writes bench/observe-cost.json, which README's observability section quotes.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { VimClient } from '../src/index.ts';
import { instrument } from '../src/otel.ts';
import { bundleIfPresent, ROOT } from '../scripts/lib/paths.ts';
import { Harness } from '../test/harness/vcsim.ts';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const ROUNDS = arg('rounds', 9);
const CALLS = arg('calls', 1000);
const WARMUP = arg('warmup', 4000);
const SI = { type: 'ServiceInstance', value: 'ServiceInstance' } as const;

class IdleReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

type Mode = 'none' | 'noopSubscriber' | 'otel';
const MODES: Mode[] = ['none', 'noopSubscriber', 'otel'];

/** Turns a mode on; returns what turns it off. */
function enable(mode: Mode, exporter: InMemorySpanExporter): () => void {
  if (mode === 'none') return () => undefined;
  if (mode === 'noopSubscriber') {
    const noop = (): void => undefined;
    // A TracingChannel's start channel: what makes `hasSubscribers` true for the call channel.
    subscribe('tracing:vim25-soap:call:start', noop);
    return () => void unsubscribe('tracing:vim25-soap:call:start', noop);
  }
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const meterProvider = new MeterProvider({ readers: [new IdleReader()] });
  const off = instrument({ tracerProvider, meterProvider });
  return () => {
    off();
    exporter.reset();
    void meterProvider.shutdown();
  };
}

const cpuUs = (since: NodeJS.CpuUsage): number => {
  const u = process.cpuUsage(since);
  return u.user + u.system;
};
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const h = await Harness.start({ wsdlDir: bundleIfPresent(), captureDir: '' });
try {
  const client = await VimClient.connect(h.info.url, { tls: { ca: h.ca } });
  await client.login({ username: h.info.username, password: h.info.password });
  const exporter = new InMemorySpanExporter();
  const run = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) await client.call('CurrentTime', SI);
  };
  await run(WARMUP);
  const perCall: Record<Mode, number[]> = { none: [], noopSubscriber: [], otel: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < MODES.length; k++) {
      const mode = MODES[(round + k) % MODES.length]!;
      const off = enable(mode, exporter);
      const c0 = process.cpuUsage();
      await run(CALLS);
      perCall[mode].push(cpuUs(c0) / CALLS);
      off();
    }
  }
  await client.close();
  const summary = Object.fromEntries(MODES.map((m) => [m, {
    medianUsPerCall: Number(median(perCall[m]).toFixed(2)),
    minUsPerCall: Number(Math.min(...perCall[m]).toFixed(2)),
    maxUsPerCall: Number(Math.max(...perCall[m]).toFixed(2)),
    rounds: perCall[m].map((x) => Number(x.toFixed(2))),
  }]));
  // Paired within a round: the same stretch of the machine's load for each mode.
  const pairedOver = (m: Mode): number => median(perCall[m].map((x, i) => x - perCall.none[i]!));
  const record = {
    date: new Date().toISOString(),
    command: 'npx tsx bench/observe-cost.ts',
    node: process.version,
    cores: os.availableParallelism(),
    loadAverage: os.loadavg().map((x) => Number(x.toFixed(2))),
    settings: { rounds: ROUNDS, callsPerRound: CALLS, warmupCalls: WARMUP, call: 'CurrentTime' },
    modes: summary,
    overUsPerCall: { noopSubscriber: Number(pairedOver('noopSubscriber').toFixed(2)), otel: Number(pairedOver('otel').toFixed(2)) },
  };
  writeFileSync(join(ROOT, 'bench/observe-cost.json'), `${JSON.stringify(record, null, 2)}\n`);
  console.log(`node ${process.version}, ${ROUNDS} rounds of ${CALLS} calls after ${WARMUP}, load ${record.loadAverage.join(' ')}`);
  for (const m of MODES) console.log(`${m.padEnd(15)} ${summary[m]!.medianUsPerCall.toFixed(1).padStart(7)} µs CPU per call (${summary[m]!.minUsPerCall.toFixed(1)}–${summary[m]!.maxUsPerCall.toFixed(1)})`);
  console.log(`paired, over none: no-op subscriber +${record.overUsPerCall.noopSubscriber} µs, instrument() +${record.overUsPerCall.otel} µs`);
} finally {
  await h.stop();
}
