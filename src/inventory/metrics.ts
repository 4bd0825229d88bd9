// metrics() and watchMetrics(): performance counters by name ('cpu.usage.average'), as monitoring
// integrations read them (govmomi's performance.Manager.SampleByName, Telegraf's vSphere input).
// A name becomes a counter id through the server's own counter list; what an entity has is read
// from the server (QueryPerfProviderSummary: real-time statistics or not; QueryAvailablePerfMetric:
// which counters, with which instances), all of it once per client (metrics-catalog.ts). Bad input
// (a counter the server does not have, an interval it does not keep, real-time statistics of an
// entity without them) is refused before any QueryPerf; the entities are sent `batchSize` to a
// QueryPerf (vCenter bounds a query: config.vpxd.stats.maxQueryMetrics, 64 by default), and the
// answers come back as one row per entity × counter × instance, in time order, values in the
// counter's unit (percent as percent, not hundredths).
import { abortedOr, delay, throwIfAborted } from '../abort.ts';
import type { PerfEntityMetricBase, PerfMetricId, PerfQuerySpec } from '../generated/types.ts';
import type { InventoryClient } from './inventory-client.ts';
import { catalogOf, nearestNames, perfManager, type CounterCatalog } from './metrics-catalog.ts';
import type { KnownCounterName } from './metrics-counters.ts';
import { decodeQueryPerf, scaled, type RawSample } from './metrics-decode.ts';
import { IntervalNotKeptError, NoRealtimeStatsError, UnknownCounterError } from './metrics-errors.ts';
import type { ManagedObjectReference } from './typed-model.ts';
import { retried } from './updates.ts';

/** How a counter rolls samples up: the last part of its name. */
export type CounterRollup = 'average' | 'minimum' | 'maximum' | 'latest' | 'summation' | 'none';

/**
 * A counter's name, `group.name.rollup`: the well-known ones complete in an editor, and any other
 * of that shape is accepted (servers differ); a name without a rollup (`cpu.usage`) or with a
 * misspelt one (`cpu.usage.avg`) does not compile. Whether the server has it is checked at run
 * time (UnknownCounterError, with the nearest names it has).
 */
// The intersection keeps the template from absorbing the literals of the union (an editor would
// then offer none): `& {}` is simplified away and does not, an optional property keyed by a
// declared symbol (no value has it) does.
export type CounterName = KnownCounterName | (`${string}.${string}.${CounterRollup}` & { readonly [anyCounterName]?: never });
declare const anyCounterName: unique symbol;

/** vCenter's historical intervals, in seconds: a day of 5 minutes, a week of 30, a month of 2 hours, a year of days. */
export type HistoricalInterval = 300 | 1800 | 7200 | 86400;

/** 'realtime': the entity's own samples (every 20 s on hosts and VMs, kept an hour); else a historical interval. */
export type MetricInterval = 'realtime' | HistoricalInterval;

/** The entities QueryPerf takes: hosts, VMs, resource pools, vApps, clusters, datastores, datacenters. */
export type MetricEntity = ManagedObjectReference<'ManagedEntity'>;

export interface MetricsOptions {
  /**
   * Default: real-time where the entity has it (QueryPerfProviderSummary's currentSupported:
   * hosts, VMs), else 300, per entity. 'realtime' for an entity without it is a
   * NoRealtimeStatsError; an interval the server does not keep an IntervalNotKeptError.
   */
  interval?: MetricInterval | undefined;
  /** Samples after this time (QueryPerf's startTime, which excludes it). Default: the latest `maxSample`. */
  since?: Date | undefined;
  /** Samples up to this time, included. Default: up to the latest. */
  until?: Date | undefined;
  /** At most this many samples per row, the most recent. Default: 1 without `since`, all of them with it. */
  maxSample?: number | undefined;
  /**
   * '' the aggregate, '*' every instance (the aggregate among them), or one instance ('vmnic0',
   * 'scsi0:0', a CPU number). Default: the aggregate where the entity has one for that counter,
   * else every instance (a per-disk counter gives one row per disk).
   */
  instance?: string | undefined;
  /** Specs (entities) per QueryPerf, default 64 (vCenter's config.vpxd.stats.maxQueryMetrics). */
  batchSize?: number | undefined;
  /** What the server is asked to answer in: 'normal' (default) or 'csv' (smaller for long windows). Both are decoded. */
  format?: 'normal' | 'csv' | undefined;
  signal?: AbortSignal | undefined;
}

export interface MetricSample {
  time: Date;
  /** In the row's unit; percent as percent (the server's hundredths divided by 100). */
  value: number;
}

/** One entity × counter × instance. */
export interface MetricRow<E extends MetricEntity = MetricEntity, C extends string = CounterName> {
  ref: E;
  /** The name asked for. */
  counter: C;
  /** '' for the aggregate. */
  instance: string;
  /** The counter's unit (PerfCounterInfo.unitInfo.key): 'percent', 'kiloBytes', 'megaHertz', 'millisecond', 'number', … */
  unit: string;
  /** Seconds between samples (the real-time refresh rate, 20, or the historical interval). */
  interval: number;
  /** In time order; none when the server had none in the window. */
  samples: MetricSample[];
}

export interface WatchMetricsOptions {
  /** As metrics()'s. */
  instance?: string | undefined;
  /** Start with the samples after this time (within the hour a host keeps). Default: the latest sample of each. */
  since?: Date | undefined;
  /** How often to ask (ms). Default: the entities' refresh rate (20 s), when a new sample is due. */
  pollIntervalMs?: number | undefined;
  batchSize?: number | undefined;
  format?: 'normal' | 'csv' | undefined;
  signal?: AbortSignal | undefined;
}

/** One new real-time sample of one entity × counter × instance. */
export interface MetricPoint<E extends MetricEntity = MetricEntity, C extends string = CounterName> {
  ref: E;
  counter: C;
  instance: string;
  unit: string;
  interval: number;
  time: Date;
  value: number;
}

export const DEFAULT_BATCH_SIZE = 64;
/** vCenter's historical intervals, assumed kept where a server lists none (vcsim lists none). */
export const DEFAULT_KEPT_INTERVALS: readonly number[] = [300, 1800, 7200, 86400];
const DEFAULT_HISTORICAL = 300;
/** Entity descriptions read at once when none is cached yet (a first query of many entities). */
const CONCURRENCY = 8;
/** How far the server's clock may run ahead of ours without a sample being cut (see sampleBound). */
const SKEW_SECONDS = 600;
/** Historical samples appear once vCenter rolled them up, some intervals late: how far back to look without `since`. */
const LOOKBACK_INTERVALS = 3;

interface Checked {
  batchSize: number;
  format: 'normal' | 'csv';
}

const positiveInteger = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v > 0;
const isDate = (v: unknown): v is Date => v instanceof Date && !Number.isNaN(v.getTime());

function checkOptions(method: string, counters: readonly string[], o: MetricsOptions & { pollIntervalMs?: number | undefined }): Checked {
  if (!Array.isArray(counters) || counters.length === 0) throw new RangeError(`${method}: name at least one counter, e.g. 'cpu.usage.average'`);
  for (const c of counters) if (typeof c !== 'string') throw new TypeError(`${method}: counters are names (group.name.rollup), not ${typeof c}`);
  const i = o.interval;
  if (i !== undefined && i !== 'realtime' && !positiveInteger(i)) throw new RangeError(`${method}: interval is 'realtime' or a historical interval in seconds (300, 1800, 7200, 86400), not ${String(i)}`);
  if (o.since !== undefined && !isDate(o.since)) throw new TypeError(`${method}: since must be a valid Date`);
  if (o.until !== undefined && !isDate(o.until)) throw new TypeError(`${method}: until must be a valid Date`);
  if (o.since && o.until && o.since >= o.until) throw new RangeError(`${method}: since (${o.since.toISOString()}) must be before until (${o.until.toISOString()})`);
  if (o.maxSample !== undefined && !positiveInteger(o.maxSample)) throw new RangeError(`${method}: maxSample must be a positive integer, not ${String(o.maxSample)}`);
  if (o.batchSize !== undefined && !positiveInteger(o.batchSize)) throw new RangeError(`${method}: batchSize must be a positive integer, not ${String(o.batchSize)}`);
  if (o.pollIntervalMs !== undefined && !positiveInteger(o.pollIntervalMs)) throw new RangeError(`${method}: pollIntervalMs must be a positive integer, not ${String(o.pollIntervalMs)}`);
  if (o.format !== undefined && o.format !== 'normal' && o.format !== 'csv') throw new RangeError(`${method}: format is 'normal' or 'csv', not ${String(o.format)}`);
  if (o.instance !== undefined && typeof o.instance !== 'string') throw new TypeError(`${method}: instance is a string ('' the aggregate, '*' every instance)`);
  return { batchSize: o.batchSize ?? DEFAULT_BATCH_SIZE, format: o.format ?? 'normal' };
}

const refKey = (ref: { type: string; value: string }): string => `${ref.type}:${ref.value}`;

function unique<T>(items: readonly T[], key: (t: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((t) => {
    const k = key(t);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** `fn` over `items`, at most `limit` at a time, in order; after a failure no new item is started. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

interface EntityPlan<E> {
  entity: E;
  realtime: boolean;
  /** QueryPerf's intervalId: the refresh rate (real-time) or the historical interval. */
  intervalId: number;
  /** What to ask for: the counters it has, with the instances chosen. */
  ids: PerfMetricId[];
}

interface Plan<E> {
  /** The catalog's generation the plan was made in. */
  generation: number;
  counters: CounterCatalog;
  /** Counter id -> the name asked for. */
  names: Map<number, string>;
  entities: Array<EntityPlan<E>>;
}

function checkKept(method: string, seconds: number, counters: CounterCatalog): void {
  const kept = counters.kept ?? DEFAULT_KEPT_INTERVALS;
  if (!kept.includes(seconds)) throw new IntervalNotKeptError(method, seconds, kept);
}

function chooseInstances(available: string[], instance: string | undefined): string[] {
  if (instance === '*') return available;
  if (instance === undefined) return available.includes('') ? [''] : available;
  return available.includes(instance) ? [instance] : [];
}

/** Names -> ids, each entity's interval and the metrics it has: everything but the samples, from the catalog. */
async function makePlan<E extends MetricEntity>(
  client: InventoryClient,
  method: string,
  entities: readonly E[],
  names: readonly string[],
  interval: MetricInterval | undefined,
  instance: string | undefined,
  signal: AbortSignal | undefined,
): Promise<Plan<E>> {
  const catalog = catalogOf(client);
  const generation = catalog.generation;
  const counters = await catalog.counters(signal);
  const ids = new Map<number, string>();
  for (const name of names) {
    const info = counters.byName.get(name);
    if (!info) throw new UnknownCounterError(method, name, nearestNames(name, counters.byName.keys()));
    ids.set(info.key, name);
  }
  if (typeof interval === 'number') checkKept(method, interval, counters);
  const providers = await mapLimit(entities, CONCURRENCY, (e) => catalog.provider(e, signal));
  if (interval === 'realtime') {
    const without = entities.filter((_, i) => !providers[i]!.realtime);
    if (without.length > 0) throw new NoRealtimeStatsError(method, without);
  }
  const chosen = entities.map((entity, i) => {
    const p = providers[i]!;
    const realtime = interval === 'realtime' || (interval === undefined && p.realtime);
    return { entity, realtime, intervalId: realtime ? p.refreshRate! : (interval as number | undefined) ?? DEFAULT_HISTORICAL };
  });
  if (interval === undefined && chosen.some((c) => !c.realtime)) checkKept(method, DEFAULT_HISTORICAL, counters);
  const available = await mapLimit(chosen, CONCURRENCY, (c) => catalog.available(c.entity, c.intervalId, signal));
  return {
    generation,
    counters,
    names: ids,
    entities: chosen.map((c, i) => ({
      ...c,
      ids: [...ids.keys()].flatMap((counterId) => chooseInstances(available[i]!.instances(counterId), instance).map((inst) => ({ counterId, instance: inst }))),
    })),
  };
}

/** QueryPerf, `batchSize` specs at a time. */
async function query(client: InventoryClient, specs: readonly PerfQuerySpec[], batchSize: number, signal: AbortSignal | undefined): Promise<PerfEntityMetricBase[]> {
  const pm = perfManager(client);
  const out: PerfEntityMetricBase[] = [];
  for (let i = 0; i < specs.length; i += batchSize) {
    throwIfAborted(signal);
    const answer = await client.call('QueryPerf', pm, { querySpec: specs.slice(i, i + batchSize) }, { signal });
    for (const m of answer ?? []) out.push(m);
  }
  return out;
}

/**
 * maxSample for a window: every sample it can hold, and room for the server's clock running up
 * to SKEW_SECONDS ahead. A bound only (vCenter answers what the window has); sent because some
 * servers (vcsim) read an absent maxSample as none.
 */
function sampleBound(fromMs: number, toMs: number, intervalSeconds: number): number {
  return Math.floor(Math.max(0, toMs - fromMs) / 1000 / intervalSeconds) + 1 + Math.ceil(SKEW_SECONDS / intervalSeconds);
}

interface Window {
  /** Samples after this (ms), excluded: QueryPerf's startTime. */
  after?: number | undefined;
  /** Samples up to this (ms), included. */
  until?: number | undefined;
  /** At most this many per row, the most recent. */
  keep?: number | undefined;
}

const seriesKey = (ref: { type: string; value: string }, counterId: number, instance: string): string => `${refKey(ref)}\u0000${counterId}\u0000${instance}`;

/**
 * The answers as rows: one per entity × counter × instance planned, in the order asked, samples in
 * the window. Series whose values could not be paired with the times are logged (a warning: rows
 * without samples that the server did have).
 */
function toRows<E extends MetricEntity, C extends string>(client: InventoryClient, method: string, plan: Plan<E>, answer: readonly PerfEntityMetricBase[], window: Window): Array<MetricRow<E, C>> {
  const series = new Map<string, RawSample[]>();
  const decoded = decodeQueryPerf(answer);
  const misaligned = decoded.filter((s) => s.misaligned);
  if (misaligned.length > 0) {
    const counters = [...new Set(misaligned.map((s) => plan.names.get(s.counterId) ?? String(s.counterId)))];
    client.logger?.warn(`${method}: QueryPerf answered ${misaligned.length} series with another number of values than samples (a server that leaves values out: vcsim drops zeros); they are given no samples`, { method, series: misaligned.length, counters });
  }
  for (const s of decoded) {
    const k = seriesKey(s.entity, s.counterId, s.instance);
    const had = series.get(k);
    series.set(k, had ? [...had, ...s.samples].sort((a, b) => a.time.getTime() - b.time.getTime()) : s.samples);
  }
  const rows: Array<MetricRow<E, C>> = [];
  for (const ep of plan.entities) {
    for (const id of ep.ids) {
      const unit = plan.counters.byKey.get(id.counterId)?.unitInfo.key ?? '';
      let samples = (series.get(seriesKey(ep.entity, id.counterId, id.instance)) ?? [])
        .filter((s) => (window.after === undefined || s.time.getTime() > window.after) && (window.until === undefined || s.time.getTime() <= window.until))
        .map((s) => ({ time: s.time, value: scaled(s.raw, unit) }));
      if (window.keep !== undefined && samples.length > window.keep) samples = samples.slice(-window.keep);
      rows.push({ ref: ep.entity, counter: plan.names.get(id.counterId) as C, instance: id.instance, unit, interval: ep.intervalId, samples });
    }
  }
  return rows;
}

/**
 * Samples of `counters` (by name) of `entities`: one row per entity × counter × instance, values
 * in the counter's unit. Counters, intervals and what each entity has are read once per client
 * (again after a re-login); a re-login while the samples are read starts the read over once.
 */
export async function metrics<E extends MetricEntity, C extends CounterName>(
  client: InventoryClient,
  entities: readonly E[],
  counters: readonly C[],
  options: MetricsOptions = {},
): Promise<Array<MetricRow<E, C>>> {
  const checked = checkOptions('metrics', counters, options);
  const { signal, since, until, maxSample, interval } = options;
  const targets = unique(entities, refKey);
  if (targets.length === 0) return [];
  try {
    throwIfAborted(signal);
    for (let attempt = 0; ; attempt++) {
      const plan = await makePlan(client, 'metrics', targets, unique(counters, String), interval, options.instance, signal);
      const now = Date.now();
      const keep = maxSample ?? (since ? undefined : 1);
      const specs = plan.entities.filter((ep) => ep.ids.length > 0).map((ep): PerfQuerySpec => {
        // Without `since`, a historical interval needs a start (else the server answers its whole
        // history; maxSample is ignored for historical statistics): the last few intervals.
        const start = since ?? (ep.realtime ? undefined : new Date((until?.getTime() ?? now) - ep.intervalId * 1000 * ((keep ?? 1) + LOOKBACK_INTERVALS)));
        const spec: PerfQuerySpec = { entity: ep.entity, metricId: ep.ids, intervalId: ep.intervalId, format: checked.format };
        if (start) spec.startTime = start;
        if (until) spec.endTime = until;
        spec.maxSample = maxSample ?? (start ? sampleBound(start.getTime(), until?.getTime() ?? now, ep.intervalId) : 1);
        return spec;
      });
      const answer = await query(client, specs, checked.batchSize, signal);
      // A re-login meanwhile may have been to another server, whose counter ids differ.
      if (attempt === 0 && catalogOf(client).generation !== plan.generation) continue;
      return toRows<E, C>(client, 'metrics', plan, answer, { after: since?.getTime(), until: until?.getTime(), keep });
    }
  } catch (err) {
    throw abortedOr(signal, err);
  }
}

/**
 * Every new real-time sample of `counters` of `entities`, as it appears: QueryPerf every refresh
 * interval (20 s) for the samples after the last one seen, each sample handed out once, in time
 * order. It goes on across re-logins (the counters are read again, from the new session) and
 * transient failures (tried again with watch()'s backoff; the samples missed meanwhile come with
 * the next answer, within the hour a host keeps them), until the loop is left or `signal` fires.
 */
export function watchMetrics<E extends MetricEntity, C extends CounterName>(
  client: InventoryClient,
  entities: readonly E[],
  counters: readonly C[],
  options: WatchMetricsOptions = {},
): AsyncGenerator<MetricPoint<E, C>, void, undefined> {
  const checked = checkOptions('watchMetrics', counters, { ...options, interval: 'realtime' });
  return follow<E, C>(client, unique(entities, refKey), unique(counters, String), options, checked);
}

async function* follow<E extends MetricEntity, C extends string>(
  client: InventoryClient,
  entities: readonly E[],
  counters: readonly string[],
  options: WatchMetricsOptions,
  checked: Checked,
): AsyncGenerator<MetricPoint<E, C>, void, undefined> {
  if (entities.length === 0) return;
  const { signal } = options;
  const since = options.since?.getTime();
  // The newest sample handed out, per series (by counter name: ids may change with a re-login to
  // another server); a series' first sample comes once it is newer than `since`.
  const seen = new Map<string, number>();
  const pointKey = (ref: MetricEntity, counter: string, instance: string): string => `${refKey(ref)}\u0000${counter}\u0000${instance}`;
  try {
    for (;;) {
      throwIfAborted(signal);
      const plan = await retried(() => makePlan(client, 'watchMetrics', entities, counters, 'realtime', options.instance, signal), signal);
      const now = Date.now();
      const specs = plan.entities.filter((ep) => ep.ids.length > 0).map((ep): PerfQuerySpec => {
        // From the oldest of the entity's newest samples seen, so that no series misses one.
        const lasts = ep.ids.map((id) => seen.get(pointKey(ep.entity, plan.names.get(id.counterId)!, id.instance))).filter((t): t is number => t !== undefined);
        const after = lasts.length > 0 ? Math.min(...lasts) : since;
        const spec: PerfQuerySpec = { entity: ep.entity, metricId: ep.ids, intervalId: ep.intervalId, format: checked.format };
        if (after === undefined) spec.maxSample = 1;
        else {
          spec.startTime = new Date(after);
          spec.maxSample = sampleBound(after, now, ep.intervalId);
        }
        return spec;
      });
      const answer = await retried(() => query(client, specs, checked.batchSize, signal), signal);
      const points: Array<MetricPoint<E, C>> = [];
      for (const row of toRows<E, C>(client, 'watchMetrics', plan, answer, {})) {
        const k = pointKey(row.ref, row.counter, row.instance);
        const last = seen.get(k) ?? since ?? -Infinity;
        let newest = seen.get(k);
        for (const s of row.samples) {
          const t = s.time.getTime();
          if (t <= last) continue;
          points.push({ ref: row.ref, counter: row.counter, instance: row.instance, unit: row.unit, interval: row.interval, time: s.time, value: s.value });
          newest = Math.max(newest ?? t, t);
        }
        if (newest !== undefined) seen.set(k, newest);
      }
      // Stable: at one time, in the order asked (entity, counter, instance).
      points.sort((a, b) => a.time.getTime() - b.time.getTime());
      for (const p of points) yield p;
      const pollMs = options.pollIntervalMs ?? Math.min(...plan.entities.map((ep) => ep.intervalId)) * 1000;
      await delay(pollMs, signal, 'aborted');
    }
  } catch (err) {
    throw abortedOr(signal, err);
  }
}
