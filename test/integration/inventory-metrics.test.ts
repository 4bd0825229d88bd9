// metrics() and watchMetrics() against the harness's PerformanceManager (vcsim's: its recorded
// vCenter counters, real-time statistics on hosts, VMs and resource pools only, samples made up
// for each query from the recorded data), and against what pyvmomi's QueryPerf reads there.
//
// Two things of vcsim's decide which counters are compared how. It adds random noise to a sample
// whose recorded value is 5 or more (normally distributed, a fifth of the value), so two reads of
// such a counter never agree on values: those are compared with pyvmomi by time, and their values
// (percent scaling included) against the answer of the same QueryPerf; values are compared with
// pyvmomi exactly where vcsim's data are constant and below 5 (a host's
// cpu.reservedCapacity.average, a cluster's vmop.numChangeHost.latest). And it leaves every 0
// value out of its answers (govmomi encodes them omitempty), so a series with a zero has fewer
// values than samples: metrics() gives it none (pyvmomi's zip would shift them), and the counters
// here are ones whose data have no zero. vcsim times its samples back from the query's endTime,
// so a window whose length is no multiple of the interval has no sample at its start (QueryPerf's
// startTime excludes it; vcsim would include one).
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';
import type { InventoryClient, ManagedObjectReference, PerfEntityMetric, PerfMetricIntSeries, VimClient } from 'vim25-soap';
// The module of src/, on the package's client (VimClient.metrics passes itself on the same way).
import { metrics, watchMetrics, type MetricPoint, type MetricRow } from '../../src/inventory/metrics.ts';
import { IntervalNotKeptError, NoRealtimeStatsError, UnknownCounterError } from '../../src/inventory/metrics-errors.ts';
import { inventoryStats, loggedIn, ownHarness } from '../harness/inventory.ts';
import { pythonOk } from '../peers/python.ts';
import type { HarnessInfo } from '../harness/vcsim.ts';
import { terminate } from '../fixtures.ts';

const PEER = fileURLToPath(new URL('../peers/pyvmomi_metrics.py', import.meta.url));

interface PeerQuery { entity: ManagedObjectReference; counters: string[]; instance: string; interval: number; start: Date; end: Date; maxSample: number }
interface PeerSeries { entity: { type: string; value: string }; counter: string; instance: string; unit: string; samples: [number, number][] }

/** pyvmomi's QueryPerf of the same entities, counters, interval and window (test/peers/pyvmomi_metrics.py). */
async function pyvmomiQueryPerf(info: HarnessInfo, queries: PeerQuery[]): Promise<PeerSeries[]> {
  const json = JSON.stringify(queries.map((q) => ({ ...q, entity: { type: q.entity.type, value: q.entity.value } })));
  return JSON.parse(await pythonOk([PEER, info.url, info.certFile, info.username, info.password, json], { timeoutMs: 60_000 })) as PeerSeries[];
}

/** The client as an InventoryClient that records each call's method, arguments and result (a catalog of its own, too). */
function counting(c: VimClient): { client: InventoryClient; calls: { method: string; args: unknown; result?: unknown }[]; count: (method: string) => number } {
  const calls: { method: string; args: unknown; result?: unknown }[] = [];
  const client: InventoryClient = {
    get serviceContent() {
      return c.serviceContent;
    },
    get apiVersion() {
      return c.apiVersion;
    },
    logger: c.logger,
    call: (async (method: string, _this: ManagedObjectReference, args?: object, options?: object) => {
      const call: { method: string; args: unknown; result?: unknown } = { method, args };
      calls.push(call);
      call.result = await (c.call as (m: string, t: ManagedObjectReference, a?: object, o?: object) => Promise<unknown>)(method, _this, args, options);
      return call.result;
    }) as InventoryClient['call'],
    on: (event, listener) => c.on(event, listener),
    off: (event, listener) => c.off(event, listener),
  };
  return { client, calls, count: (method) => calls.filter((x) => x.method === method).length };
}

/** A row as the peer prints a series: raw values, time order. */
const asSeries = (r: MetricRow<ManagedObjectReference<'ManagedEntity'>, string>): PeerSeries => ({
  entity: { type: r.ref.type, value: r.ref.value },
  counter: r.counter,
  instance: r.instance,
  unit: r.unit,
  samples: r.samples.map((s) => [s.time.getTime(), r.unit === 'percent' ? Math.round(s.value * 100) : s.value]),
});
const key = (s: PeerSeries): string => `${s.entity.type}:${s.entity.value} ${s.counter} [${s.instance}]`;
const byKey = (list: PeerSeries[]): Map<string, PeerSeries> => new Map(list.map((s) => [key(s), s]));

/** A window ending at a whole second in the past, `seconds` long. */
function window(seconds: number): { since: Date; until: Date } {
  const until = new Date(Math.floor(Date.now() / 1000) * 1000 - 1000);
  return { since: new Date(until.getTime() - seconds * 1000), until };
}

async function entities(c: VimClient) {
  const [vms, hosts, clusters] = await Promise.all([
    c.find('VirtualMachine', '/DC0/vm/*'),
    c.find('HostSystem', '/DC0/host/...'),
    c.find('ClusterComputeResource', '/DC0/host/*'),
  ]);
  return { vms, hosts, cluster: clusters[0]! };
}

describe('metrics (read-only, on the shared harness)', () => {
  it('reads the same samples as pyvmomi’s QueryPerf: times, instances, units, values; percent as percent', async () => {
    const info = inject('harness');
    const c = await loggedIn(info);
    const { vms, hosts, cluster } = await entities(c);
    const [vm, host] = [vms[0]!, hosts[0]!];
    const realtime = window(70);
    const historical = { since: new Date(realtime.until.getTime() - 1000_000), until: realtime.until };
    const recorded = counting(c);
    const [vmRows, hostRows, clusterRows, py] = await Promise.all([
      metrics(recorded.client, [vm], ['cpu.usage.average', 'mem.usage.average'], realtime),
      metrics(c, [host], ['cpu.reservedCapacity.average', 'cpu.usage.average'], realtime),
      // A cluster has no real-time statistics: 300 s by default.
      metrics(c, [cluster], ['vmop.numChangeHost.latest', 'cpu.usagemhz.average'], historical),
      pyvmomiQueryPerf(info, [
        { entity: vm, counters: ['cpu.usage.average', 'mem.usage.average'], instance: '', interval: 20, start: realtime.since, end: realtime.until, maxSample: 1000 },
        { entity: host, counters: ['cpu.reservedCapacity.average', 'cpu.usage.average'], instance: '', interval: 20, start: realtime.since, end: realtime.until, maxSample: 1000 },
        { entity: cluster, counters: ['vmop.numChangeHost.latest', 'cpu.usagemhz.average'], instance: '', interval: 300, start: historical.since, end: historical.until, maxSample: 1000 },
      ]),
    ]);
    const rows = [...vmRows, ...hostRows, ...clusterRows];
    expect(rows.map((r) => [r.ref.type, r.counter, r.instance, r.unit, r.interval])).toEqual([
      ['VirtualMachine', 'cpu.usage.average', '', 'percent', 20],
      ['VirtualMachine', 'mem.usage.average', '', 'percent', 20],
      ['HostSystem', 'cpu.reservedCapacity.average', '', 'megaHertz', 20],
      ['HostSystem', 'cpu.usage.average', '', 'percent', 20],
      ['ClusterComputeResource', 'vmop.numChangeHost.latest', '', 'number', 300],
      ['ClusterComputeResource', 'cpu.usagemhz.average', '', 'megaHertz', 300],
    ]);
    const ours = byKey(rows.map(asSeries));
    const theirs = byKey(py);
    expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
    const exact = new Set(['cpu.reservedCapacity.average', 'vmop.numChangeHost.latest']);
    for (const [k, s] of ours) {
      const p = theirs.get(k)!;
      expect(s.unit, k).toBe(p.unit);
      expect(s.samples.length, k).toBe(4);
      if (exact.has(s.counter)) expect(s.samples, k).toEqual(p.samples);
      else expect(s.samples.map(([t]) => t), k).toEqual(p.samples.map(([t]) => t));
    }
    expect(hostRows[0]!.samples.map((x) => x.value)).toEqual([4, 4, 4, 4]);

    // The values of the noisy counters against the answer they came from: paired by time, percent
    // (the server's hundredths) as percent.
    const [answer] = recorded.calls.find((x) => x.method === 'QueryPerf')!.result as PerfEntityMetric[];
    const times = answer!.sampleInfo!.map((i) => i.timestamp.getTime());
    for (const row of vmRows) {
      const id = row.counter === 'cpu.usage.average' ? 2 : 24;
      const raw = (answer!.value as PerfMetricIntSeries[]).find((v) => v.id.counterId === id)!.value!.map(Number);
      expect(row.samples.map((x) => [x.time.getTime(), x.value])).toEqual(times.map((t, i) => [t, raw[i]! / 100]).sort((a, b) => a[0]! - b[0]!));
      expect(row.samples.every((x) => x.value > 0 && x.value <= 100)).toBe(true);
    }
    // In time order, inside the window (startTime excluded, endTime included).
    const vmTimes = vmRows[0]!.samples.map((x) => x.time.getTime());
    expect(vmTimes[0]).toBeGreaterThan(realtime.since.getTime());
    expect(vmTimes.at(-1)).toBe(realtime.until.getTime());
  });

  it('without a window: the latest sample; instance * gives every instance, with the aggregate', async () => {
    const c = await loggedIn(inject('harness'));
    const { vms, hosts } = await entities(c);
    const latest = await metrics(c, [vms[0]!, hosts[0]!], ['cpu.usage.average', 'net.usage.average']);
    expect(latest.map((r) => [r.ref.type, r.counter, r.instance, r.samples.length])).toEqual([
      ['VirtualMachine', 'cpu.usage.average', '', 1],
      ['VirtualMachine', 'net.usage.average', '', 1],
      ['HostSystem', 'cpu.usage.average', '', 1],
      ['HostSystem', 'net.usage.average', '', 1],
    ]);
    const every = await metrics(c, [vms[0]!], ['net.usage.average'], { instance: '*' });
    // vcsim's recorded VM has these four instances of it (vCenter expands '*' itself; vcsim would echo it).
    expect(every.map((r) => r.instance)).toEqual(['', '4000', 'vmnic0', 'vmnic1']);
    const one = await metrics(c, [vms[0]!], ['net.usage.average'], { instance: 'vmnic1' });
    expect(one.map((r) => r.instance)).toEqual(['vmnic1']);
  });

  it('an unknown counter: UnknownCounterError naming the nearest counters the server has, and no QueryPerf', async () => {
    const c = await loggedIn(inject('harness'));
    const { vms } = await entities(c);
    const { client, count } = counting(c);
    const err = await metrics(client, vms, ['cpu.usage.average', 'cpu.usage.avrage' as 'cpu.usage.average']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownCounterError);
    expect((err as UnknownCounterError).counter).toBe('cpu.usage.avrage');
    expect((err as UnknownCounterError).suggestions[0]).toBe('cpu.usage.average');
    expect((err as Error).message).toMatch(/^metrics: counters: the server has no performance counter 'cpu\.usage\.avrage'; did you mean 'cpu\.usage\.average'/);
    expect(count('QueryPerf')).toBe(0);
    expect(count('RetrievePropertiesEx')).toBe(1);
  });

  it('real-time statistics of a cluster, a datacenter: NoRealtimeStatsError, where vcsim would answer made-up samples', async () => {
    const c = await loggedIn(inject('harness'));
    const { vms, cluster } = await entities(c);
    const [dc] = await c.find('Datacenter', '/DC0');
    const { client, count } = counting(c);
    const err = await metrics(client, [vms[0]!, cluster, dc!], ['cpu.usage.average'], { interval: 'realtime' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoRealtimeStatsError);
    expect((err as NoRealtimeStatsError).entities).toEqual([cluster, dc]);
    expect(count('QueryPerf')).toBe(0);
    // What the server answers when asked anyway: 20-second samples of a cluster.
    const raw = await c.call('QueryPerf', c.serviceContent.perfManager!, { querySpec: [{ entity: cluster, metricId: [{ counterId: 2, instance: '' }], intervalId: 20, maxSample: 1 }] });
    expect(raw?.[0]).toMatchObject({ _typeName: 'PerfEntityMetric', sampleInfo: [{ interval: 20 }] });
    // And a watch of them is refused the same way.
    await expect(watchMetrics(c, [cluster], ['cpu.usage.average']).next()).rejects.toBeInstanceOf(NoRealtimeStatsError);
  });

  it('an interval the server does not keep: IntervalNotKeptError (vcsim lists none: vCenter’s four are assumed)', async () => {
    const c = await loggedIn(inject('harness'));
    const { cluster } = await entities(c);
    const row = await c.retrieveOne(c.serviceContent.perfManager!, ['historicalInterval']);
    expect(row.historicalInterval ?? []).toEqual([]);
    const { client, count } = counting(c);
    const err = await metrics(client, [cluster], ['cpu.usage.average'], { interval: 600 as 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntervalNotKeptError);
    expect(err).toMatchObject({ interval: 600, kept: [300, 1800, 7200, 86400] });
    expect(count('QueryPerf')).toBe(0);
    const day = await metrics(client, [cluster], ['cpu.usage.average'], { interval: 86400 });
    expect(day.map((r) => [r.interval, r.samples.length])).toEqual([[86400, 1]]);
  });

  it('sends more entities than the batch size in several QueryPerf calls, and reads the same', async () => {
    const c = await loggedIn(inject('harness'));
    const { vms, hosts } = await entities(c);
    const all = [...vms, ...hosts];
    expect(all.length).toBe(8);
    const range = window(70);
    const counters = ['mem.usage.average', 'cpu.reservedCapacity.average'] as const;
    const batched = counting(c);
    const rows = await metrics(batched.client, all, counters, { ...range, batchSize: 3 });
    const queries = batched.calls.filter((x) => x.method === 'QueryPerf').map((x) => (x.args as { querySpec: { entity: ManagedObjectReference }[] }).querySpec.map((s) => s.entity.value));
    expect(queries).toEqual([all.slice(0, 3), all.slice(3, 6), all.slice(6)].map((b) => b.map((r) => r.value)));
    const whole = counting(c);
    // The same rows and times (vcsim's values are noisy: see above).
    const shape = (list: typeof rows) => list.map((r) => ({ ...r, samples: r.samples.map((x) => x.time.getTime()) }));
    expect(shape(await metrics(whole.client, all, counters, range))).toEqual(shape(rows));
    expect(whole.count('QueryPerf')).toBe(1);
    // One row per entity and counter it has.
    expect(rows.map((r) => `${r.ref.type} ${r.counter} ${r.samples.length}`)).toEqual([
      ...vms.map(() => 'VirtualMachine mem.usage.average 4'),
      ...hosts.flatMap(() => ['HostSystem mem.usage.average 4', 'HostSystem cpu.reservedCapacity.average 4']),
    ]);
    // Counters and what each entity has were read once for both reads of `whole`'s catalog.
    await metrics(whole.client, all, counters, range);
    expect([whole.count('RetrievePropertiesEx'), whole.count('QueryPerfProviderSummary'), whole.count('QueryAvailablePerfMetric'), whole.count('QueryPerf')]).toEqual([1, 8, 8, 2]);
  });

  it('an aborted read rejects with the signal’s reason and sends nothing more', async () => {
    const c = await loggedIn(inject('harness'));
    const { vms } = await entities(c);
    const { client, calls } = counting(c);
    const ctrl = new AbortController();
    ctrl.abort(new Error('enough'));
    await expect(metrics(client, vms, ['cpu.usage.average'], { signal: ctrl.signal })).rejects.toThrow('enough');
    expect(calls).toEqual([]);
  });
});

describe('watchMetrics (a harness of its own: sessions are terminated)', () => {
  it('yields each new sample once, in time order, and goes on after its session was terminated', async () => {
    const h = await ownHarness({ inventory: { datacenters: 1, clusters: 0, standaloneHosts: 1, vms: 1 } });
    const watcher = await loggedIn(h.info);
    const admin = await loggedIn(h.info);
    const [vm] = await watcher.find('VirtualMachine', '/DC0/vm/*');
    const relogins: unknown[] = [];
    watcher.on('reauthenticated', () => relogins.push(1));
    const { client, count } = counting(watcher);
    // vcsim makes a sample at the time of each query: asked every 50 ms, it has a new one each time.
    const it = watchMetrics(client, [vm!], ['cpu.usage.average', 'mem.usage.average'], { pollIntervalMs: 50 })[Symbol.asyncIterator]();
    const take = async (n: number): Promise<MetricPoint[]> => {
      const out: MetricPoint[] = [];
      while (out.length < n) out.push((await it.next()).value!);
      return out;
    };
    const before = await take(6);
    await terminate(admin, watcher);
    const after = await take(6);
    await it.return(undefined);
    expect(relogins).toHaveLength(1);
    const points = [...before, ...after];
    for (const counter of ['cpu.usage.average', 'mem.usage.average']) {
      const times = points.filter((p) => p.counter === counter).map((p) => p.time.getTime());
      expect(times.length).toBe(6);
      // Strictly later each time: never a sample twice.
      expect(times.every((t, i) => i === 0 || t > times[i - 1]!)).toBe(true);
    }
    expect(points.every((p) => p.ref.value === vm!.value && p.instance === '' && p.interval === 20)).toBe(true);
    // The counters were read again on the new session (it may be another server).
    expect(count('RetrievePropertiesEx')).toBe(2);
    // On the wire, one more: the one the terminated session was refused, sent again after the re-login.
    const { methods } = await inventoryStats(h.info);
    expect(methods.QueryPerf).toBe(count('QueryPerf') + 1);
  });

  it('ends at an abort while it waits for the next sample', async () => {
    const h = await ownHarness({ inventory: { datacenters: 1, clusters: 0, standaloneHosts: 1, vms: 1 } });
    const c = await loggedIn(h.info);
    const [vm] = await c.find('VirtualMachine', '/DC0/vm/*');
    const ctrl = new AbortController();
    const it = watchMetrics(c, [vm!], ['cpu.usage.average'], { signal: ctrl.signal })[Symbol.asyncIterator]();
    expect((await it.next()).value).toMatchObject({ counter: 'cpu.usage.average', interval: 20 });
    const pending = it.next();
    ctrl.abort(new Error('enough'));
    await expect(pending).rejects.toThrow('enough');
    expect((await inventoryStats(h.info)).methods.QueryPerf).toBe(1);
  });
});
