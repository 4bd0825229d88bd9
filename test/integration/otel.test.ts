// vim25-soap/otel against a harness of its own (it powers a VM on and terminates sessions): the
// span trees of a paged retrieve, a failed task and a re-authentication under load, the metrics
// beside them, that no secret of several kinds of login reaches a span, an event or a metric,
// and that nothing is published while nobody subscribes. OpenTelemetry's SDK with in-memory
// exporters; providers are passed to instrument(), only the context manager is global.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tracingChannel } from 'node:diagnostics_channel';
import { context, trace, type Attributes } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AggregationTemporality, MeterProvider, MetricReader, type HistogramMetricData, type ResourceMetrics, type SumMetricData } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isVimFault, VimClient } from 'vim25-soap';
import { instrument, type Uninstrument } from 'vim25-soap/otel';
import { bundleIfPresent } from '../../scripts/lib/paths.ts';
import { Harness } from '../harness/vcsim.ts';
import { testPackage } from '../harness/package.ts';
import { SI, terminate } from '../fixtures.ts';

class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

let h: Harness;
let admin: VimClient;
const clients: VimClient[] = [];
const exporter = new InMemorySpanExporter();
let tracerProvider: BasicTracerProvider;
let reader: TestReader;
let meterProvider: MeterProvider;
let uninstrument: Uninstrument | undefined;
const contextManager = new AsyncLocalStorageContextManager();

/** The wire of the clients the tests make: each block runs on both. */
let protocol: 'soap' | 'json' = 'soap';
async function client(): Promise<VimClient> {
  const c = await VimClient.connect(h.info.url, { tls: { ca: h.ca }, protocol });
  clients.push(c);
  return c;
}
async function loggedIn(): Promise<VimClient> {
  const c = await client();
  await c.login({ username: h.info.username, password: h.info.password });
  return c;
}

beforeAll(async () => {
  // A password no span could hold by chance (the default, 'pass', is in the strategy's name).
  h = await Harness.start({ wsdlDir: bundleIfPresent(), password: 'Otel-Secret-Pw-91' });
  admin = await VimClient.connect(h.info.url, { tls: { ca: h.ca } });
  await admin.login({ username: h.info.username, password: h.info.password });
  context.setGlobalContextManager(contextManager.enable());
});
afterAll(async () => {
  uninstrument?.();
  context.disable();
  await Promise.all(clients.map((c) => c.close()));
  await admin?.close();
  await h?.stop();
});
beforeEach(() => {
  exporter.reset();
  tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  reader = new TestReader();
  meterProvider = new MeterProvider({ readers: [reader] });
  uninstrument = instrument({ tracerProvider, meterProvider });
});
afterEach(async () => {
  uninstrument?.();
  uninstrument = undefined;
  await meterProvider.shutdown();
});

const spans = (): ReadableSpan[] => exporter.getFinishedSpans();
const parentOf = (s: ReadableSpan): string | undefined => s.parentSpanContext?.spanId;
const childrenOf = (s: ReadableSpan): ReadableSpan[] =>
  spans().filter((c) => parentOf(c) === s.spanContext().spanId).sort((a, b) => (a.startTime[0] - b.startTime[0]) || (a.startTime[1] - b.startTime[1]));

/** The tree under `root`, one line a span: its name, then the attributes worth seeing. */
function tree(root: ReadableSpan, depth = 0): string[] {
  const a = root.attributes;
  const notes = [
    a['vim25.this.type'] && `this=${String(a['vim25.this.type'])}`,
    a['vim25.page'] !== undefined && `page=${String(a['vim25.page'])}`,
    a['vim25.fault'] && `fault=${String(a['vim25.fault'])}`,
    ...root.events.map((e) => `event=${e.name}`),
  ].filter(Boolean);
  return [`${'  '.repeat(depth)}${root.name}${notes.length ? ` (${notes.join(', ')})` : ''}`, ...childrenOf(root).flatMap((c) => tree(c, depth + 1))];
}

async function traced<T>(name: string, run: () => Promise<T>): Promise<{ value: T; root: ReadableSpan }> {
  const tracer = tracerProvider.getTracer('test');
  const value = await tracer.startActiveSpan(name, async (span) => {
    try {
      return await run();
    } finally {
      span.end();
    }
  });
  const root = spans().find((s) => s.name === name)!;
  return { value, root };
}

async function metrics(): Promise<ResourceMetrics> {
  const { resourceMetrics, errors } = await reader.collect();
  expect(errors).toEqual([]);
  return resourceMetrics;
}
function metric<T>(rm: ResourceMetrics, name: string): T | undefined {
  return rm.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name) as T | undefined;
}

describe('nothing is published while nobody subscribes', () => {
  it('a subscriber attached later sees only the calls made after it, and none once it is gone', async () => {
    uninstrument!();
    uninstrument = undefined;
    const calls = tracingChannel('vim25-soap:call');
    expect(calls.hasSubscribers).toBe(false);
    const c = await loggedIn();
    for (let i = 0; i < 5; i++) await c.call('CurrentTime', SI);
    let started = 0;
    const onStart = (): void => void started++;
    calls.start.subscribe(onStart);
    try {
      expect(started).toBe(0);
      await c.call('CurrentTime', SI);
      await c.call('CurrentTime', SI);
      expect(started).toBe(2);
    } finally {
      calls.start.unsubscribe(onStart);
    }
    await c.call('CurrentTime', SI);
    expect(started).toBe(2);
    expect(calls.hasSubscribers).toBe(false);
    expect(spans()).toEqual([]);
  });

  it('the main entry never loads @opentelemetry/api: only the otel entry names it', () => {
    const dist = join(testPackage(), 'dist');
    const files = readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js'));
    const naming = files.filter((f) => readFileSync(join(dist, f), 'utf8').includes('@opentelemetry/'));
    expect(naming).toEqual(['otel.js']);
  });
});

describe.each(['soap', 'json'] as const)('spans, over %s', (wire) => {
  beforeAll(() => {
    protocol = wire;
  });

  it('a paged retrieve: one span per page under the caller, the calls of each page under it', async () => {
    const c = await loggedIn();
    expect(c.protocol).toBe(wire);
    exporter.reset();
    const { value: pages, root } = await traced('list VMs', async () => {
      const out: number[] = [];
      for await (const page of c.retrievePages('VirtualMachine', ['name'], { pageSize: 2 })) out.push(page.length);
      return out;
    });
    expect(pages.length).toBeGreaterThanOrEqual(2);
    const lines = tree(root);
    expect(lines[0]).toBe('list VMs');
    const pageSpans = childrenOf(root);
    expect(pageSpans.map((s) => s.name)).toEqual(pageSpans.map(() => 'vim25 retrievePages'));
    expect(pageSpans.length).toBe(pages.length + 1); // the last pull ends the iterator (and destroys the view)
    expect(childrenOf(pageSpans[0]!).map((s) => s.name)).toEqual(['vim25 CreateContainerView', 'vim25 RetrievePropertiesEx']);
    expect(childrenOf(pageSpans[1]!).map((s) => s.name)).toEqual(['vim25 ContinueRetrievePropertiesEx']);
    expect(childrenOf(pageSpans.at(-1)!).map((s) => s.name)).toContain('vim25 DestroyView');
    const rpe = spans().find((s) => s.name === 'vim25 RetrievePropertiesEx')!;
    expect(rpe.kind).toBe(2); // SpanKind.CLIENT
    const url = new URL(h.info.url);
    expect(rpe.attributes).toEqual({
      'rpc.system': wire === 'json' ? 'vi-json' : 'soap',
      'rpc.service': 'vim25',
      'rpc.method': 'RetrievePropertiesEx',
      'server.address': url.hostname,
      'server.port': Number(url.port),
      'vim25.this.type': 'PropertyCollector',
    });
    console.log(`span tree of a paged retrieve:\n${lines.join('\n')}`);

    // A whole retrieve is one span over its calls.
    exporter.reset();
    const { root: r2 } = await traced('retrieve', () => c.retrieve('HostSystem', ['name']));
    const [op] = childrenOf(r2);
    expect(op?.name).toBe('vim25 retrieve');
    expect(op?.attributes).toMatchObject({ 'vim25.operation': 'retrieve', 'vim25.type': 'HostSystem' });
    expect(childrenOf(op!).map((s) => s.name)).toEqual(['vim25 CreateContainerView', 'vim25 RetrievePropertiesEx', 'vim25 DestroyView']);

    // The histogram counts every call the spans show, by method.
    const rm = await metrics();
    const hist = metric<HistogramMetricData>(rm, 'vim25.client.call.duration')!;
    expect(hist.descriptor.unit).toBe('s');
    const counted = new Map<string, number>();
    for (const p of hist.dataPoints) counted.set(String(p.attributes['rpc.method']), (counted.get(String(p.attributes['rpc.method'])) ?? 0) + p.value.count);
    expect(counted.get('ContinueRetrievePropertiesEx')).toBe(pages.length - 1);
    expect(counted.get('CreateContainerView')).toBe(2);
    expect(counted.get('RetrievePropertiesEx')).toBe(2);
    expect(hist.dataPoints.every((p) => p.attributes['vim25.outcome'] === 'ok')).toBe(true);
    const act = metric<SumMetricData>(rm, 'vim25.client.calls.active')!;
    expect(act.dataPoints.reduce((n, p) => n + p.value, 0)).toBe(0);
  });

  it('a watch: each pull of the iterator a span, the calls it made under it', async () => {
    const c = await loggedIn();
    exporter.reset();
    const { value: first, root } = await traced('watch VMs', async () => {
      for await (const u of c.watch('VirtualMachine', ['name'])) return u;
      return undefined;
    });
    expect(first?.kind).toBe('enter');
    const [page1] = childrenOf(root);
    expect(page1?.name).toBe('vim25 watch');
    expect(page1?.attributes).toMatchObject({ 'vim25.operation': 'watch', 'vim25.type': 'VirtualMachine', 'vim25.page': 1 });
    expect(childrenOf(page1!).map((s) => s.name)).toEqual(expect.arrayContaining(['vim25 CreateContainerView', 'vim25 CreateFilter', 'vim25 WaitForUpdatesEx']));
    // Leaving the loop cleans up under the caller's span (return() is not a page).
    expect(childrenOf(root).map((s) => s.name)).toContain('vim25 DestroyPropertyCollector');
  });

  it('a failed task: the waitForTask span and its calls, the fault on the span and the histogram', async () => {
    const c = await loggedIn();
    const vm = c.ref((await c.call('FindByInventoryPath', c.serviceContent.searchIndex!, { inventoryPath: 'DC0/vm/DC0_H0_VM0' }))!, 'VirtualMachine');
    await c.waitForTask(await c.call('PowerOnVM_Task', vm, {})).catch(() => undefined);
    exporter.reset();
    const { value: err, root } = await traced('power on again', async () => c.waitForTask(await c.call('PowerOnVM_Task', vm, {})).catch((e: unknown) => e));
    expect(isVimFault(err, 'InvalidPowerState')).toBe(true);
    const [power, wait] = childrenOf(root);
    expect(power?.name).toBe('vim25 PowerOnVM_Task');
    expect(power?.attributes['vim25.this.type']).toBe('VirtualMachine');
    expect(wait?.name).toBe('vim25 waitForTask');
    expect(wait?.status).toEqual({ code: 2, message: 'InvalidPowerState' }); // SpanStatusCode.ERROR
    expect(wait?.attributes).toMatchObject({ 'vim25.operation': 'waitForTask', 'vim25.task.count': 1, 'vim25.fault': 'InvalidPowerState' });
    const calls = childrenOf(wait!).map((s) => s.name);
    expect(calls[0]).toBe('vim25 CreatePropertyCollector');
    expect(calls).toContain('vim25 WaitForUpdatesEx');
    expect(calls.at(-1)).toBe('vim25 DestroyPropertyCollector');
    console.log(`span tree of a failed task:\n${tree(root).join('\n')}`);
    // A call that fails: a fault on its span, outcome 'fault' in the histogram.
    exporter.reset();
    const refused = await c.call('PowerOnVM_Task', c.ref('VirtualMachine', 'vm-nonexistent'), {}).catch((e: unknown) => e);
    expect(isVimFault(refused)).toBe(true);
    const [failed] = spans();
    expect(failed?.attributes['vim25.fault']).toBe((refused as { faultName: string }).faultName);
    expect(failed?.status.code).toBe(2);
    const hist = metric<HistogramMetricData>(await metrics(), 'vim25.client.call.duration')!;
    const faults = hist.dataPoints.filter((p) => p.attributes['vim25.outcome'] === 'fault');
    expect(faults.map((p) => [p.attributes['rpc.method'], p.value.count])).toEqual([['PowerOnVM_Task', 1]]);
  });

  it('a re-authentication under load: one re-login, an event on each call sent again, the counter at one', async () => {
    const c = await loggedIn();
    await terminate(admin, c);
    exporter.reset();
    const { root } = await traced('burst', () => Promise.all(Array.from({ length: 20 }, () => c.call('CurrentTime', SI))));
    const calls = childrenOf(root);
    expect(calls.length).toBe(20);
    const again = calls.filter((s) => s.events.some((e) => e.name === 'vim25.reauthenticated'));
    expect(again.length).toBe(20);
    expect(again.every((s) => s.attributes['vim25.attempts'] === 2 && s.status.code !== 2)).toBe(true);
    const logins = spans().filter((s) => s.name === 'vim25 Login');
    expect(logins.length).toBe(1);
    // The re-login is a child of the call that set it off (and ran meanwhile under it).
    expect(calls.some((s) => parentOf(logins[0]!) === s.spanContext().spanId)).toBe(true);
    const rm = await metrics();
    const reauths = metric<SumMetricData>(rm, 'vim25.client.reauthentications')!;
    expect(reauths.dataPoints.map((p) => [p.attributes['vim25.session.strategy'], p.value])).toEqual([['password', 1]]);
    const hist = metric<HistogramMetricData>(rm, 'vim25.client.call.duration')!;
    expect(hist.dataPoints.find((p) => p.attributes['rpc.method'] === 'CurrentTime')?.value.count).toBe(20);
    console.log(`span tree of a re-authentication:\n${tree(root).slice(0, 4).join('\n')}\n  …`);
  });
});

describe.each(['soap', 'json'] as const)('no secret in any span, event or metric, over %s', (wire) => {
  beforeAll(() => {
    protocol = wire;
  });

  it('after password, token and clone-ticket logins, a re-login, and an AcquireCloneTicket', async () => {
    const secrets = new Set<string>([h.info.password]);
    const a = await loggedIn();
    // A bearer token from the harness's STS, and a login with it.
    const token = await a.issueToken({ username: 'Administrator@vsphere.local', password: h.info.password });
    const b = await client();
    await b.loginByToken({ token });
    secrets.add(token.assertion);
    // A clone ticket, redeemed.
    const ticket = await a.acquireCloneTicket();
    secrets.add(ticket);
    const d = await client();
    await d.cloneSession(ticket);
    // A re-login of the password session.
    secrets.add(a.sessionId!).add(a.userSession!.key);
    await terminate(admin, a);
    await a.call('CurrentTime', SI);
    for (const x of [a, b, d]) secrets.add(x.sessionId!).add(x.userSession!.key);
    const refused = await (await client()).login({ username: h.info.username, password: 'not-the-password-7' }).catch((e: unknown) => e);
    expect(isVimFault(refused, 'InvalidLogin')).toBe(true);
    secrets.add('not-the-password-7');

    const values: string[] = [];
    const walk = (attrs: Attributes | undefined): void => {
      for (const v of Object.values(attrs ?? {})) values.push(...(Array.isArray(v) ? v.map(String) : [String(v)]));
    };
    for (const s of spans()) {
      values.push(s.name, s.status.message ?? '');
      walk(s.attributes);
      for (const e of s.events) {
        values.push(e.name);
        walk(e.attributes);
      }
    }
    const rm = await metrics();
    for (const m of rm.scopeMetrics.flatMap((x) => x.metrics)) for (const p of m.dataPoints) walk(p.attributes);
    expect(spans().map((s) => s.name)).toEqual(expect.arrayContaining(['vim25 Login', 'vim25 LoginByToken', 'vim25 CloneSession', 'vim25 AcquireCloneTicket']));
    expect(values.length).toBeGreaterThan(100);
    const present = [...secrets].filter((secret) => secret.length >= 4 && values.some((v) => v.includes(secret)));
    expect(present).toEqual([]);
    expect(values.join('\n')).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-/i); // nothing shaped like a session key
  });

  it('uninstrument() stops every span and metric', async () => {
    const c = await loggedIn();
    uninstrument!();
    exporter.reset();
    await c.call('CurrentTime', SI);
    expect(spans()).toEqual([]);
    expect(tracingChannel('vim25-soap:call').hasSubscribers).toBe(false);
    expect(tracingChannel('vim25-soap:operation').hasSubscribers).toBe(false);
  });
});
