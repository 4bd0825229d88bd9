// metrics() and watchMetrics() against a scripted PerformanceManager (no server): names to ids,
// the rows and their scaling, both answer formats, the checks made before any QueryPerf, the
// batches, the per-client cache and its end at a re-login, aborts, and the real-time follow on
// a fake clock (no 20 s of wall clock).
import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import { TransportError, ValidationError } from '../../../src/errors.ts';
import type { ManagedObjectReference, PerfCounterInfo, PerfEntityMetric, PerfEntityMetricBase, PerfEntityMetricCSV, PerfInterval, PerfMetricId, PerfMetricIntSeries, PerfMetricSeries, PerfMetricSeriesCSV, PerfQuerySpec } from '../../../src/generated/types.ts';
import type { InventoryClient } from '../../../src/inventory/inventory-client.ts';
import { catalogOf, MAX_CACHED_ENTITIES, nearestNames } from '../../../src/inventory/metrics-catalog.ts';
import { decodeQueryPerf, parseSampleInfoCsv, scaled } from '../../../src/inventory/metrics-decode.ts';
import { IntervalNotKeptError, NoRealtimeStatsError, UnknownCounterError } from '../../../src/inventory/metrics-errors.ts';
import { metrics, watchMetrics, type CounterName, type MetricRow } from '../../../src/inventory/metrics.ts';
import { ref, ScriptedInventoryClient } from './scripted-client.ts';

const counter = (key: number, name: string, unit: string): PerfCounterInfo => {
  const [group, n, rollup] = [name.slice(0, name.indexOf('.')), name.slice(name.indexOf('.') + 1, name.lastIndexOf('.')), name.slice(name.lastIndexOf('.') + 1)];
  return {
    key,
    nameInfo: { key: n, label: n, summary: n },
    groupInfo: { key: group, label: group, summary: group },
    unitInfo: { key: unit, label: unit, summary: unit },
    rollupType: rollup as PerfCounterInfo['rollupType'],
    statsType: 'rate',
  };
};
const COUNTERS = [
  counter(1, 'cpu.usage.none', 'percent'),
  counter(2, 'cpu.usage.average', 'percent'),
  counter(3, 'cpu.usage.minimum', 'percent'),
  counter(4, 'cpu.usage.maximum', 'percent'),
  counter(6, 'cpu.usagemhz.average', 'megaHertz'),
  counter(24, 'mem.usage.average', 'percent'),
  counter(143, 'net.usage.average', 'kiloBytesPerSecond'),
  counter(173, 'virtualDisk.read.average', 'kiloBytesPerSecond'),
];
const interval = (samplingPeriod: number, enabled = true): PerfInterval => ({ key: samplingPeriod, samplingPeriod, name: `${samplingPeriod}`, length: samplingPeriod * 288, level: 1, enabled });
const VCENTER_INTERVALS = [interval(300), interval(1800), interval(7200), interval(86400)];

const vm = (n: number) => ref('VirtualMachine', `vm-${n}`);
const host = (n: number) => ref('HostSystem', `host-${n}`);
const cluster = (n: number) => ref('ClusterComputeResource', `domain-c${n}`);
const id = (counterId: number, instance = ''): PerfMetricId => ({ counterId, instance });
/** What a VM has: CPU usage, MHz per vCPU and aggregate, memory, a NIC (no aggregate of the disk counter). */
/** A PerfMetricIntSeries, where the answer declares its base type. */
const series = (m: PerfMetricId, value: PerfMetricIntSeries['value']): PerfMetricSeries => ({ _typeName: 'PerfMetricIntSeries', id: m, value }) as PerfMetricSeries;
const VM_METRICS = [id(2), id(6), id(6, '0'), id(6, '1'), id(24), id(143), id(143, 'vmnic0'), id(173, 'scsi0:0'), id(173, 'scsi0:1')];
const CLUSTER_METRICS = [id(2), id(6), id(24)];

/** The raw value the scripted server has for a sample: distinct per counter, instance and time. */
const rawValue = (counterId: number, instance: string, t: number): number => counterId * 1000 + instance.length * 100 + ((t / 20_000) % 50);

/** A server clock's samples for a spec: aligned to the interval, after startTime, up to endTime (or now), newest maxSample, newest first (as vcsim). */
function answerFor(spec: PerfQuerySpec, now: number): PerfEntityMetric {
  const step = spec.intervalId! * 1000;
  const end = Math.floor((spec.endTime?.getTime() ?? now) / step) * step;
  const times: number[] = [];
  for (let t = end; times.length < (spec.maxSample ?? 1) && (spec.startTime === undefined || t > spec.startTime.getTime()); t -= step) times.push(t);
  return {
    _typeName: 'PerfEntityMetric',
    entity: spec.entity,
    sampleInfo: times.map((t) => ({ timestamp: new Date(t), interval: spec.intervalId! })),
    value: (spec.metricId ?? []).map((m) => series(m, times.map((t) => rawValue(m.counterId, m.instance, t)))),
  } as PerfEntityMetric;
}

type Answer = PerfEntityMetricBase[] | Error | 'hang';

/** A PerformanceManager: counters and intervals (RetrievePropertiesEx), provider summaries, available metrics, QueryPerf (scripted or from answerFor). */
class PerfClient extends ScriptedInventoryClient {
  override readonly serviceContent = { ...new ScriptedInventoryClient().serviceContent, perfManager: ref('PerformanceManager', 'PerfMgr') };
  intervals: PerfInterval[] = VCENTER_INTERVALS;
  /** The specs of each QueryPerf, in order. */
  readonly queries: PerfQuerySpec[][] = [];
  /** Answers for the next QueryPerf calls; when none is left, answerFor each spec. */
  script: Answer[] = [];
  /** Methods that fail once with this error. */
  readonly failing = new Map<string, Error>();
  #hung: (() => void) | undefined;

  /** Resolves once a QueryPerf scripted to hang has reached the server. */
  hang(): Promise<void> {
    this.script.push('hang');
    return new Promise((resolve) => {
      this.#hung = resolve;
    });
  }

  call = (async (method: string, _this: ManagedObjectReference, args: Record<string, unknown>, options?: { signal?: AbortSignal }) => {
    if (options?.signal?.aborted) throw options.signal.reason as Error;
    this.calls.push(`${method} ${_this.value}`);
    const failure = this.failing.get(method);
    if (failure) {
      this.failing.delete(method);
      throw failure;
    }
    switch (method) {
      case 'RetrievePropertiesEx':
        return { objects: [{ obj: this.serviceContent.perfManager, propSet: [{ name: 'perfCounter', val: COUNTERS }, { name: 'historicalInterval', val: this.intervals }] }] };
      case 'QueryPerfProviderSummary': {
        const entity = args.entity as ManagedObjectReference;
        const realtime = entity.type === 'VirtualMachine' || entity.type === 'HostSystem';
        return { entity, currentSupported: realtime, summarySupported: true, ...(realtime ? { refreshRate: 20 } : { refreshRate: -1 }) };
      }
      case 'QueryAvailablePerfMetric': {
        const entity = args.entity as ManagedObjectReference;
        if (entity.type === 'ClusterComputeResource') return args.intervalId === 20 ? [] : CLUSTER_METRICS;
        return VM_METRICS;
      }
      case 'QueryPerf': {
        const specs = args.querySpec as PerfQuerySpec[];
        this.queries.push(specs);
        const next = this.script.shift();
        if (next instanceof Error) throw next;
        if (next === 'hang') {
          this.#hung?.();
          return new Promise((_, reject) => options?.signal?.addEventListener('abort', () => reject(options.signal!.reason as Error), { once: true }));
        }
        return next ?? specs.map((s) => answerFor(s, Date.now()));
      }
      default:
        throw new Error(`unexpected ${method}`);
    }
  }) as unknown as InventoryClient['call'];

  /** How many times each method reached the server. */
  count(method: string): number {
    return this.calls.filter((c) => c.startsWith(`${method} `)).length;
  }
}

afterEach(() => {
  vi.useRealTimers();
});

describe('decoding QueryPerf answers', () => {
  it('normal format: in time order, -1 (no value) left out, xsd:long bigints as numbers', () => {
    const t = (s: number) => new Date(Date.UTC(2024, 4, 1, 10, 0, s));
    const answer: PerfEntityMetric[] = [{
      _typeName: 'PerfEntityMetric',
      entity: vm(1),
      // Newest first, as vcsim answers.
      sampleInfo: [{ timestamp: t(40), interval: 20 }, { timestamp: t(20), interval: 20 }, { timestamp: t(0), interval: 20 }],
      value: [series(id(2), [2534, -1, 17]), series(id(6, '0'), [9007199254740993n, 5, 6])],
    }];
    expect(decodeQueryPerf(answer)).toEqual([
      { entity: vm(1), counterId: 2, instance: '', samples: [{ time: t(0), raw: 17 }, { time: t(40), raw: 2534 }] },
      { entity: vm(1), counterId: 6, instance: '0', samples: [{ time: t(0), raw: 6 }, { time: t(20), raw: 5 }, { time: t(40), raw: 9007199254740992 }] },
    ]);
    expect(decodeQueryPerf(undefined)).toEqual([]);
    expect(decodeQueryPerf([{ _typeName: 'PerfEntityMetric', entity: vm(1) } as PerfEntityMetric])).toEqual([]);
  });

  it('csv format: "interval,time,…" sample info, values with -1 and blanks left out', () => {
    expect(parseSampleInfoCsv('20,2024-05-01T10:00:20Z,20,2024-05-01T10:00:40Z')).toEqual([new Date('2024-05-01T10:00:20Z'), new Date('2024-05-01T10:00:40Z')]);
    expect(parseSampleInfoCsv('')).toEqual([]);
    expect(parseSampleInfoCsv('20, not a date')).toEqual([undefined]);
    const answer: PerfEntityMetricCSV[] = [{
      _typeName: 'PerfEntityMetricCSV',
      entity: host(1),
      sampleInfoCSV: '20,2024-05-01T10:00:20Z, 20, 2024-05-01T10:00:40Z,20,2024-05-01T10:01:00Z',
      value: [
        { _typeName: 'PerfMetricSeriesCSV', id: id(2), value: '1250,-1, 30' },
        { _typeName: 'PerfMetricSeriesCSV', id: id(143, 'vmnic0'), value: ',7,8' },
        { _typeName: 'PerfMetricSeriesCSV', id: id(24) },
      ] as PerfMetricSeriesCSV[],
    }];
    expect(decodeQueryPerf(answer)).toEqual([
      { entity: host(1), counterId: 2, instance: '', samples: [{ time: new Date('2024-05-01T10:00:20Z'), raw: 1250 }, { time: new Date('2024-05-01T10:01:00Z'), raw: 30 }] },
      { entity: host(1), counterId: 143, instance: 'vmnic0', samples: [{ time: new Date('2024-05-01T10:00:40Z'), raw: 7 }, { time: new Date('2024-05-01T10:01:00Z'), raw: 8 }] },
      // No values at all for three samples: nothing to pair.
      { entity: host(1), counterId: 24, instance: '', samples: [], misaligned: true },
    ]);
  });

  it('a series with another number of values than samples (vcsim leaves zeros out) gets none, not shifted ones', () => {
    const answer: PerfEntityMetric[] = [{
      _typeName: 'PerfEntityMetric',
      entity: vm(1),
      sampleInfo: [0, 20, 40].map((s) => ({ timestamp: new Date(Date.UTC(2024, 4, 1, 10, 0, s)), interval: 20 })),
      // Recorded 5, 0, 7: the 0 was not sent.
      value: [series(id(2), [5, 7]), series(id(6), [1, 2, 3])],
    }];
    const [short, whole] = decodeQueryPerf(answer);
    expect(short).toEqual({ entity: vm(1), counterId: 2, instance: '', samples: [], misaligned: true });
    expect(whole!.samples.map((x) => x.raw)).toEqual([1, 2, 3]);
    expect(whole!.misaligned).toBeUndefined();
  });

  it('scales percent (hundredths) to percent, every other unit as it is', () => {
    expect(scaled(2534, 'percent')).toBe(25.34);
    expect(scaled(2534, 'megaHertz')).toBe(2534);
    expect(scaled(2534, 'kiloBytes')).toBe(2534);
  });
});

describe('metrics', () => {
  it('one row per entity × counter × instance, in the order asked, values in the unit, percent as percent', async () => {
    vi.useFakeTimers({ now: Date.UTC(2024, 4, 1, 10, 0, 30), toFake: ['Date'] });
    const client = new PerfClient();
    const rows = await metrics(client, [vm(1), cluster(1)], ['mem.usage.average', 'cpu.usagemhz.average', 'virtualDisk.read.average']);
    const latest = Date.UTC(2024, 4, 1, 10, 0, 20);
    const at300 = Date.UTC(2024, 4, 1, 10, 0, 0);
    expect(rows).toEqual([
      // The aggregate where there is one; a counter without one (per disk): every instance.
      { ref: vm(1), counter: 'mem.usage.average', instance: '', unit: 'percent', interval: 20, samples: [{ time: new Date(latest), value: rawValue(24, '', latest) / 100 }] },
      { ref: vm(1), counter: 'cpu.usagemhz.average', instance: '', unit: 'megaHertz', interval: 20, samples: [{ time: new Date(latest), value: rawValue(6, '', latest) }] },
      { ref: vm(1), counter: 'virtualDisk.read.average', instance: 'scsi0:0', unit: 'kiloBytesPerSecond', interval: 20, samples: [{ time: new Date(latest), value: rawValue(173, 'scsi0:0', latest) }] },
      { ref: vm(1), counter: 'virtualDisk.read.average', instance: 'scsi0:1', unit: 'kiloBytesPerSecond', interval: 20, samples: [{ time: new Date(latest), value: rawValue(173, 'scsi0:1', latest) }] },
      // A cluster has no real-time statistics: 300 s by default; it has no disk counter at all.
      { ref: cluster(1), counter: 'mem.usage.average', instance: '', unit: 'percent', interval: 300, samples: [{ time: new Date(at300), value: rawValue(24, '', at300) / 100 }] },
      { ref: cluster(1), counter: 'cpu.usagemhz.average', instance: '', unit: 'megaHertz', interval: 300, samples: [{ time: new Date(at300), value: rawValue(6, '', at300) }] },
    ]);
    // One QueryPerf; the VM real-time (latest sample), the cluster historical with a start (the
    // server would answer its whole history without one).
    expect(client.queries).toHaveLength(1);
    const [vmSpec, clusterSpec] = client.queries[0]!;
    expect(vmSpec).toEqual({ entity: vm(1), metricId: [id(24), id(6), id(173, 'scsi0:0'), id(173, 'scsi0:1')], intervalId: 20, format: 'normal', maxSample: 1 });
    expect(clusterSpec).toMatchObject({ entity: cluster(1), metricId: [id(24), id(6)], intervalId: 300, format: 'normal' });
    expect(clusterSpec!.startTime!.getTime()).toBe(Date.now() - 4 * 300_000);
  });

  it("instance '*' is every instance with the aggregate, a name only that instance", async () => {
    const client = new PerfClient();
    const all = await metrics(client, [vm(1)], ['cpu.usagemhz.average', 'net.usage.average'], { instance: '*' });
    expect(all.map((r) => `${r.counter}[${r.instance}]`)).toEqual(['cpu.usagemhz.average[]', 'cpu.usagemhz.average[0]', 'cpu.usagemhz.average[1]', 'net.usage.average[]', 'net.usage.average[vmnic0]']);
    const one = await metrics(client, [vm(1)], ['cpu.usagemhz.average', 'net.usage.average'], { instance: 'vmnic0' });
    expect(one.map((r) => `${r.counter}[${r.instance}]`)).toEqual(['net.usage.average[vmnic0]']);
    const aggregate = await metrics(client, [vm(1)], ['virtualDisk.read.average', 'cpu.usage.average'], { instance: '' });
    expect(aggregate.map((r) => `${r.counter}[${r.instance}]`)).toEqual(['cpu.usage.average[]']);
  });

  it('a window: samples after since (excluded) up to until (included), all of them, or the most recent maxSample', async () => {
    const client = new PerfClient();
    const since = new Date(Date.UTC(2024, 4, 1, 10, 0, 0));
    const until = new Date(Date.UTC(2024, 4, 1, 10, 2, 0));
    const [row] = await metrics(client, [vm(1)], ['cpu.usage.average'], { since, until });
    expect(row!.samples.map((s) => s.time.toISOString())).toEqual(['10:00:20', '10:00:40', '10:01:00', '10:01:20', '10:01:40', '10:02:00'].map((t) => `2024-05-01T${t}.000Z`));
    // Room for every sample of the window and for the server's clock running ahead.
    expect(client.queries[0]![0]).toMatchObject({ startTime: since, endTime: until, maxSample: 6 + 1 + 30 });
    const [last2] = await metrics(client, [vm(1)], ['cpu.usage.average'], { since, until, maxSample: 2 });
    expect(last2!.samples.map((s) => s.time.toISOString())).toEqual(['2024-05-01T10:01:40.000Z', '2024-05-01T10:02:00.000Z']);
    expect(client.queries[1]![0]!.maxSample).toBe(2);
    // A server that includes the sample at startTime (vcsim does): left out all the same.
    client.script = [[{
      _typeName: 'PerfEntityMetric',
      entity: vm(1),
      sampleInfo: [{ timestamp: since, interval: 20 }, { timestamp: new Date(since.getTime() + 20_000), interval: 20 }],
      value: [series(id(2), [100, 200])],
    } as PerfEntityMetric]];
    const [edge] = await metrics(client, [vm(1)], ['cpu.usage.average'], { since, until });
    expect(edge!.samples).toEqual([{ time: new Date(since.getTime() + 20_000), value: 2 }]);
  });

  it('logs the series it could not pair (values left out by the server), and gives them no samples', async () => {
    const client = new PerfClient();
    client.script = [[{
      _typeName: 'PerfEntityMetric',
      entity: vm(1),
      sampleInfo: [{ timestamp: new Date('2024-05-01T10:00:20Z'), interval: 20 }, { timestamp: new Date('2024-05-01T10:00:40Z'), interval: 20 }],
      value: [series(id(2), [1200]), series(id(24), [3000, 3100])],
    } as PerfEntityMetric]];
    const rows = await metrics(client, [vm(1)], ['cpu.usage.average', 'mem.usage.average'], { since: new Date('2024-05-01T10:00:00Z') });
    expect(rows.map((r) => [r.counter, r.samples.map((x) => x.value)])).toEqual([['cpu.usage.average', []], ['mem.usage.average', [30, 31]]]);
    expect(client.warnings).toEqual([{ message: expect.stringMatching(/^metrics: QueryPerf answered 1 series with another number of values than samples/), data: { method: 'metrics', series: 1, counters: ['cpu.usage.average'] } }]);
  });

  it('asks for csv when told, and reads it', async () => {
    const client = new PerfClient();
    client.script = [[{
      _typeName: 'PerfEntityMetricCSV',
      entity: vm(1),
      sampleInfoCSV: '20,2024-05-01T10:00:20Z,20,2024-05-01T10:00:40Z',
      value: [{ _typeName: 'PerfMetricSeriesCSV', id: id(2), value: '2534,1200' }],
    } as PerfEntityMetricCSV]];
    const [row] = await metrics(client, [vm(1)], ['cpu.usage.average'], { format: 'csv', since: new Date('2024-05-01T10:00:00Z') });
    expect(client.queries[0]![0]!.format).toBe('csv');
    expect(row!.samples).toEqual([{ time: new Date('2024-05-01T10:00:20Z'), value: 25.34 }, { time: new Date('2024-05-01T10:00:40Z'), value: 12 }]);
  });

  it('an unknown counter: UnknownCounterError with its nearest names, before any QueryPerf', async () => {
    const client = new PerfClient();
    const err = await metrics(client, [vm(1)], ['cpu.usage.average', 'cpu.usag.average']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownCounterError);
    expect(err).toBeInstanceOf(ValidationError);
    expect(err).toMatchObject({ counter: 'cpu.usag.average', suggestions: ['cpu.usage.average', 'cpu.usagemhz.average'] });
    expect((err as Error).message).toMatch(/no performance counter 'cpu\.usag\.average'; did you mean 'cpu\.usage\.average'/);
    // A rollup that does not compile, and a name without one, still get their group's names at run time.
    const avg = await metrics(client, [vm(1)], ['cpu.usage.avg' as CounterName]).catch((e: unknown) => e);
    expect((avg as UnknownCounterError).suggestions).toEqual(['cpu.usage.average', 'cpu.usage.none', 'cpu.usage.maximum', 'cpu.usage.minimum']);
    const far = await metrics(client, [vm(1)], ['zzz.nothing.latest']).catch((e: unknown) => e);
    expect(far).toMatchObject({ counter: 'zzz.nothing.latest', suggestions: [] });
    expect(client.count('QueryPerf')).toBe(0);
    expect(client.count('RetrievePropertiesEx')).toBe(1);
  });

  it('nearestNames: by edit distance, and every rollup of the same group and name', () => {
    const names = COUNTERS.map((c) => `${c.groupInfo.key}.${c.nameInfo.key}.${c.rollupType}`);
    expect(nearestNames('mem.usage', names)).toEqual(['mem.usage.average']);
    expect(nearestNames('MEM.USAGE.AVERAGE', names)).toEqual(['mem.usage.average']);
    expect(nearestNames('net.usag.average', names, 1)).toEqual(['net.usage.average']);
    expect(nearestNames('cpuu.usage.average', names)).toEqual(['cpu.usage.average']);
    expect(nearestNames('cpu', names)).toEqual(['cpu.usage.none', 'cpu.usage.average', 'cpu.usage.maximum', 'cpu.usage.minimum', 'cpu.usagemhz.average']);
  });

  it('an interval the server does not keep (absent, or disabled): IntervalNotKeptError with what it keeps', async () => {
    const client = new PerfClient();
    client.intervals = [interval(300), interval(1800, false), interval(7200), interval(86400)];
    const err = await metrics(client, [cluster(1)], ['cpu.usage.average'], { interval: 1800 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntervalNotKeptError);
    expect(err).toMatchObject({ interval: 1800, kept: [300, 7200, 86400] });
    expect(await metrics(client, [cluster(1)], ['cpu.usage.average'], { interval: 7200 })).toHaveLength(1);
    // A server that lists no intervals (vcsim): vCenter's four.
    const bare = new PerfClient();
    bare.intervals = [];
    const odd = await metrics(bare, [cluster(1)], ['cpu.usage.average'], { interval: 600 as 300 }).catch((e: unknown) => e);
    expect(odd).toMatchObject({ name: 'IntervalNotKeptError', interval: 600, kept: [300, 1800, 7200, 86400] });
    // The default for an entity without real-time statistics is 300: a server without it says so.
    const no300 = new PerfClient();
    no300.intervals = [interval(300, false), interval(1800)];
    await expect(metrics(no300, [vm(1), cluster(1)], ['cpu.usage.average'])).rejects.toMatchObject({ name: 'IntervalNotKeptError', interval: 300, kept: [1800] });
    expect(await metrics(no300, [vm(1)], ['cpu.usage.average'])).toHaveLength(1);
    expect(client.count('QueryPerf') + bare.count('QueryPerf') + no300.count('QueryPerf')).toBe(2);
  });

  it('real-time statistics of entities without them: NoRealtimeStatsError naming them, before any QueryPerf', async () => {
    const client = new PerfClient();
    const err = await metrics(client, [vm(1), cluster(1), cluster(2)], ['cpu.usage.average'], { interval: 'realtime' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoRealtimeStatsError);
    expect(err).toMatchObject({ entities: [cluster(1), cluster(2)] });
    expect((err as Error).message).toMatch(/ClusterComputeResource:domain-c1, ClusterComputeResource:domain-c2 have no real-time statistics/);
    expect(client.count('QueryPerf')).toBe(0);
  });

  it('refuses bad options before anything is sent', async () => {
    const client = new PerfClient();
    const cases: Array<[unknown[], object, RegExp]> = [
      [[], {}, /name at least one counter/],
      [['cpu.usage.average'], { maxSample: 0 }, /maxSample must be a positive integer/],
      [['cpu.usage.average'], { batchSize: 1.5 }, /batchSize must be a positive integer/],
      [['cpu.usage.average'], { interval: 'day' }, /interval is 'realtime' or a historical interval/],
      [['cpu.usage.average'], { since: new Date(2000), until: new Date(1000) }, /since .* must be before until/],
      [['cpu.usage.average'], { since: new Date(NaN) }, /since must be a valid Date/],
      [['cpu.usage.average'], { format: 'xml' }, /format is 'normal' or 'csv'/],
    ];
    for (const [counters, options, message] of cases) {
      await expect(metrics(client, [vm(1)], counters as CounterName[], options)).rejects.toThrow(message);
    }
    expect(() => watchMetrics(client, [vm(1)], ['cpu.usage.average'], { pollIntervalMs: 0 })).toThrow(/pollIntervalMs must be a positive integer/);
    expect(await metrics(client, [], ['cpu.usage.average'])).toEqual([]);
    expect(client.calls).toEqual([]);
  });

  it('sends at most batchSize entities per QueryPerf (default 64)', async () => {
    const client = new PerfClient();
    const vms = Array.from({ length: 5 }, (_, i) => vm(i));
    const rows = await metrics(client, vms, ['cpu.usage.average'], { batchSize: 2 });
    expect(client.queries.map((q) => q.map((s) => s.entity.value))).toEqual([['vm-0', 'vm-1'], ['vm-2', 'vm-3'], ['vm-4']]);
    expect(rows.map((r) => r.ref.value)).toEqual(vms.map((v) => v.value));
    const many = Array.from({ length: 130 }, (_, i) => vm(i));
    expect(await metrics(client, [...many, vm(0)], ['cpu.usage.average'])).toHaveLength(130);
    expect(client.queries.slice(3).map((q) => q.length)).toEqual([64, 64, 2]);
  });

  it('reads counters and what each entity has once per client, shared by concurrent callers, again after a re-login', async () => {
    const client = new PerfClient();
    await Promise.all([
      metrics(client, [vm(1), vm(2)], ['cpu.usage.average']),
      metrics(client, [vm(1), vm(2)], ['mem.usage.average']),
    ]);
    await metrics(client, [vm(1)], ['cpu.usage.average']);
    const reads = () => ['RetrievePropertiesEx', 'QueryPerfProviderSummary', 'QueryAvailablePerfMetric'].map((m) => client.count(m));
    expect(reads()).toEqual([1, 2, 2]);
    expect(client.count('QueryPerf')).toBe(3);
    // A re-login may be to another server: everything is read again.
    client.emit('reauthenticated');
    await metrics(client, [vm(1)], ['cpu.usage.average']);
    expect(reads()).toEqual([2, 3, 3]);
    // A read that failed is not kept: the next caller tries again.
    client.failing.set('QueryAvailablePerfMetric', new Error('refused'));
    await expect(metrics(client, [vm(3)], ['cpu.usage.average'])).rejects.toThrow('refused');
    expect(await metrics(client, [vm(3)], ['cpu.usage.average'])).toHaveLength(1);
    expect(catalogOf(client).cachedEntities).toEqual({ providers: 2, available: 2 });
    expect(MAX_CACHED_ENTITIES).toBe(10_000);
  });

  it('reads again, once, when the session was re-established while the samples were read', async () => {
    const client = new PerfClient();
    let first = true;
    const call = client.call;
    client.call = (async (...args: Parameters<InventoryClient['call']>) => {
      const result = await call(...args);
      if (args[0] === 'QueryPerf' && first) {
        first = false;
        client.emit('reauthenticated');
      }
      return result;
    }) as InventoryClient['call'];
    const rows = await metrics(client, [vm(1)], ['cpu.usage.average']);
    expect(rows).toHaveLength(1);
    expect(client.count('QueryPerf')).toBe(2);
    expect(client.count('RetrievePropertiesEx')).toBe(2);
  });

  it('rejects an abort as a call does: the reason given, or an AbortError; nothing more is sent', async () => {
    const client = new PerfClient();
    const done = new AbortController();
    done.abort(new Error('stop'));
    await expect(metrics(client, [vm(1)], ['cpu.usage.average'], { signal: done.signal })).rejects.toThrow('stop');
    expect(client.calls).toEqual([]);

    const hung = client.hang();
    const ctrl = new AbortController();
    const pending = metrics(client, [vm(1), vm(2), vm(3)], ['cpu.usage.average'], { signal: ctrl.signal, batchSize: 1 });
    await hung;
    ctrl.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError', code: 'EABORTED' });
    expect(client.count('QueryPerf')).toBe(1);
  });

  it('types: counters are group.name.rollup; rows carry the entity type and the names asked for', () => {
    const client = new PerfClient();
    const run = () => metrics(client, [ref('HostSystem', 'host-1')], ['cpu.usage.average', 'net.usage.average']);
    expectTypeOf<Awaited<ReturnType<typeof run>>[number]['counter']>().toEqualTypeOf<'cpu.usage.average' | 'net.usage.average'>();
    expectTypeOf<Awaited<ReturnType<typeof run>>[number]['ref']['type']>().toEqualTypeOf<'HostSystem'>();
    expectTypeOf<MetricRow['samples'][number]['value']>().toEqualTypeOf<number>();
    expectTypeOf<'cpu.usage.average'>().toExtend<CounterName>();
    // The well-known names stay members of the union (not absorbed by the template): what an editor completes.
    expectTypeOf<Extract<CounterName, 'cpu.usage.average'>>().toEqualTypeOf<'cpu.usage.average'>();
    // A counter a newer server has, of the right shape.
    expectTypeOf<'vsan.newThing.latest'>().toExtend<CounterName>();
    expectTypeOf<'cpu.usage.avg'>().not.toExtend<CounterName>();
    expectTypeOf<'cpu.usage'>().not.toExtend<CounterName>();
    // @ts-expect-error a misspelt rollup
    void (() => metrics(client, [vm(1)], ['cpu.usage.avg']));
    // @ts-expect-error not an entity QueryPerf takes
    void (() => metrics(client, [ref('Task', 'task-1')], ['cpu.usage.average']));
  });
});

/** The next point, the fake clock advanced a second at a time until it comes (at most 10 minutes). */
async function pull<T>(it: AsyncIterator<T>): Promise<T> {
  const p = it.next();
  let settled = false;
  p.then(() => (settled = true), () => (settled = true));
  for (let i = 0; i < 600 && !settled; i++) await vi.advanceTimersByTimeAsync(1_000);
  const r = await p;
  if (r.done) throw new Error('the watch ended');
  return r.value;
}

describe('watchMetrics', () => {
  it('yields each new real-time sample once, every 20 s of a fake clock, and starts the next query after the last', async () => {
    vi.useFakeTimers({ now: Date.UTC(2024, 4, 1, 10, 0, 5) });
    const client = new PerfClient();
    const it = watchMetrics(client, [vm(1), host(1)], ['cpu.usage.average'])[Symbol.asyncIterator]();
    const t0 = Date.UTC(2024, 4, 1, 10, 0, 0);
    // The latest sample of each series first, at once.
    expect((await it.next()).value).toEqual({ ref: vm(1), counter: 'cpu.usage.average', instance: '', unit: 'percent', interval: 20, time: new Date(t0), value: rawValue(2, '', t0) / 100 });
    expect((await it.next()).value).toMatchObject({ ref: host(1), time: new Date(t0) });
    expect(client.queries[0]!.map((s) => [s.startTime, s.maxSample])).toEqual([[undefined, 1], [undefined, 1]]);
    expect(await pull(it)).toMatchObject({ ref: vm(1), time: new Date(t0 + 20_000), value: rawValue(2, '', t0 + 20_000) / 100 });
    expect(Date.now()).toBe(t0 + 25_000);
    expect((await it.next()).value).toMatchObject({ ref: host(1), time: new Date(t0 + 20_000) });
    expect(client.queries[1]!.map((s) => s.startTime)).toEqual([new Date(t0), new Date(t0)]);
    // A consumer that comes back a minute later: the samples of that minute, in time order, once each.
    await vi.advanceTimersByTimeAsync(60_000);
    const got = [await pull(it)];
    for (let i = 0; i < 7; i++) got.push((await it.next()).value!);
    expect(got.map((v) => `${v.ref.value}@${(v.time.getTime() - t0) / 1000}`)).toEqual(['vm-1@40', 'host-1@40', 'vm-1@60', 'host-1@60', 'vm-1@80', 'host-1@80', 'vm-1@100', 'host-1@100']);
    expect(client.count('QueryPerf')).toBe(3);
    await it.return(undefined);
    expect(client.count('RetrievePropertiesEx')).toBe(1);
  });

  it('never hands out a sample twice, even when the server answers old ones again', async () => {
    vi.useFakeTimers({ now: Date.UTC(2024, 4, 1, 10, 0, 5) });
    const client = new PerfClient();
    const t0 = Date.UTC(2024, 4, 1, 10, 0, 0);
    const answer = (...times: number[]): PerfEntityMetric[] => [{
      _typeName: 'PerfEntityMetric',
      entity: vm(1),
      sampleInfo: times.map((t) => ({ timestamp: new Date(t0 + t * 1000), interval: 20 })),
      value: [series(id(2), times.map((t) => t))],
    } as PerfEntityMetric];
    // The second answer repeats the sample at 0 (a server including startTime, as vcsim may), the third has nothing new.
    client.script = [answer(0), answer(0, 20), answer(20), answer(20, 40)];
    const it = watchMetrics(client, [vm(1)], ['cpu.usage.average'])[Symbol.asyncIterator]();
    const times: number[] = [];
    for (let i = 0; i < 3; i++) times.push(((await pull(it)).time.getTime() - t0) / 1000);
    expect(times).toEqual([0, 20, 40]);
    expect(client.count('QueryPerf')).toBe(4);
    expect(client.queries.map((q) => (q[0]!.startTime?.getTime() ?? t0 - 1000) - t0)).toEqual([-1000, 0, 20_000, 20_000]);
    await it.return(undefined);
  });

  it('goes on across a transient failure (tried again after a pause) and a re-login (counters read again)', async () => {
    vi.useFakeTimers({ now: Date.UTC(2024, 4, 1, 10, 0, 5) });
    const client = new PerfClient();
    const it = watchMetrics(client, [vm(1)], ['cpu.usage.average'], { pollIntervalMs: 20_000 })[Symbol.asyncIterator]();
    await it.next();
    client.script = [new TransportError('socket hang up', { code: 'ECONNRESET' })];
    client.emit('reauthenticated');
    expect(await pull(it)).toMatchObject({ time: new Date(Date.UTC(2024, 4, 1, 10, 0, 20)) });
    expect(client.count('QueryPerf')).toBe(3);
    expect(client.count('RetrievePropertiesEx')).toBe(2);
    await it.return(undefined);
  });

  it('a fault ends it; an unknown counter and entities without real-time statistics are refused', async () => {
    const client = new PerfClient();
    client.script = [new Error('NoPermission')];
    await expect(watchMetrics(client, [vm(1)], ['cpu.usage.average']).next()).rejects.toThrow('NoPermission');
    await expect(watchMetrics(client, [vm(1), cluster(1)], ['cpu.usage.average']).next()).rejects.toBeInstanceOf(NoRealtimeStatsError);
    await expect(watchMetrics(client, [vm(1)], ['cpu.usage.avrage' as CounterName]).next()).rejects.toBeInstanceOf(UnknownCounterError);
    expect(await watchMetrics(client, [], ['cpu.usage.average']).next()).toEqual({ done: true, value: undefined });
    expect(client.count('QueryPerf')).toBe(1);
  });

  it('ends with the signal, while it waits for the next sample or a query is in flight', async () => {
    vi.useFakeTimers({ now: Date.UTC(2024, 4, 1, 10, 0, 5) });
    const client = new PerfClient();
    const ctrl = new AbortController();
    const it = watchMetrics(client, [vm(1)], ['cpu.usage.average'], { signal: ctrl.signal })[Symbol.asyncIterator]();
    await it.next();
    const waiting = it.next();
    await vi.advanceTimersByTimeAsync(5_000);
    ctrl.abort(new Error('enough'));
    await expect(waiting).rejects.toThrow('enough');
    expect(client.count('QueryPerf')).toBe(1);

    const again = new AbortController();
    const hanging = client.hang();
    const hung = watchMetrics(client, [vm(1)], ['cpu.usage.average'], { signal: again.signal }).next();
    await hanging;
    expect(client.count('QueryPerf')).toBe(2);
    again.abort();
    await expect(hung).rejects.toMatchObject({ name: 'AbortError', code: 'EABORTED' });
  });
});
