// What metrics() needs to know of a server's PerformanceManager before it can ask for samples,
// read once per client and kept until the client re-authenticates (the `reauthenticated` event:
// the new session may be on another server, of another version, whose counter ids differ):
// the counters (PerformanceManager.perfCounter) by name and by id, the historical intervals it
// keeps, and per entity its provider summary (whether it has real-time statistics, and their
// refresh rate) and, per interval, the metrics it has (QueryAvailablePerfMetric: counter and
// instance). Concurrent callers share one read of each; a read that fails is forgotten, so the
// next caller tries again. Per-entity entries are bounded (least recently used dropped first).
import { untilAborted } from '../abort.ts';
import { VimError } from '../errors.ts';
import type { ManagedObjectReference, PerfCounterInfo, PerfMetricId } from '../generated/types.ts';
import type { InventoryClient } from './inventory-client.ts';
import { retrieveOne } from './retrieve.ts';

export interface CounterCatalog {
  /** By `group.name.rollup`; the first the server lists where two share a name. */
  readonly byName: ReadonlyMap<string, PerfCounterInfo>;
  readonly byKey: ReadonlyMap<number, PerfCounterInfo>;
  /**
   * The sampling periods (seconds) of the enabled historical intervals; undefined when the server
   * lists none at all (vcsim lists none: then vCenter's defaults are assumed).
   */
  readonly kept: readonly number[] | undefined;
}

export interface ProviderInfo {
  /** QueryPerfProviderSummary.currentSupported: the entity has real-time statistics. */
  readonly realtime: boolean;
  /** Seconds between real-time samples (refreshRate; 20 on vSphere), undefined without real-time statistics. */
  readonly refreshRate: number | undefined;
}

/** `group.name.rollup`, the name users know a counter by (govc's, Telegraf's, the vSphere Client's). */
export function counterName(c: PerfCounterInfo): string {
  return `${c.groupInfo.key}.${c.nameInfo.key}.${c.rollupType}`;
}

/**
 * The metrics one entity has at one interval, kept small (an entity can have a thousand: a host
 * with a metric per CPU thread, NIC, path, datastore): counter ids in a typed array, sorted, and
 * the instance of each alongside.
 */
export class Availability {
  readonly #ids: Int32Array;
  readonly #instances: readonly string[];

  constructor(metrics: readonly PerfMetricId[]) {
    const sorted = [...metrics].sort((a, b) => a.counterId - b.counterId || (a.instance < b.instance ? -1 : a.instance > b.instance ? 1 : 0));
    this.#ids = Int32Array.from(sorted, (m) => m.counterId);
    this.#instances = sorted.map((m) => m.instance);
  }

  /** The instances of that counter the entity has ('' is the aggregate), sorted, '' first; none: the entity does not have it. */
  instances(counterId: number): string[] {
    let lo = 0;
    let hi = this.#ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#ids[mid]! < counterId) lo = mid + 1;
      else hi = mid;
    }
    const out: string[] = [];
    for (let i = lo; i < this.#ids.length && this.#ids[i] === counterId; i++) {
      const instance = this.#instances[i]!;
      if (out[out.length - 1] !== instance) out.push(instance);
    }
    return out;
  }
}

/** A Map that keeps at most `max` entries, dropping the least recently used. */
class Bounded<V> {
  readonly #map = new Map<string, V>();

  constructor(readonly max: number) {}

  get(key: string): V | undefined {
    const v = this.#map.get(key);
    if (v !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, v);
    }
    return v;
  }

  set(key: string, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.max) this.#map.delete(this.#map.keys().next().value!);
  }

  /** Removes the entry if it still is `value` (a newer one stays). */
  forget(key: string, value: V): void {
    if (this.#map.get(key) === value) this.#map.delete(key);
  }

  clear(): void {
    this.#map.clear();
  }

  get size(): number {
    return this.#map.size;
  }
}

/** Entities (per interval, for what they have) whose descriptions a client keeps. */
export const MAX_CACHED_ENTITIES = 10_000;

const key = (ref: ManagedObjectReference): string => `${ref.type}:${ref.value}`;

/** The PerformanceManager, or a clear error where the server has none. */
export function perfManager(client: InventoryClient): ManagedObjectReference<'PerformanceManager'> {
  const pm = client.serviceContent.perfManager;
  if (!pm) throw new VimError('the server has no PerformanceManager (ServiceContent.perfManager is unset)');
  return pm;
}

export class PerfCatalog {
  /** Counts re-authentications: an operation that saw it change while it ran may have mixed two servers' ids. */
  generation = 0;
  readonly #client: InventoryClient;
  #counters: Promise<CounterCatalog> | undefined;
  readonly #providers = new Bounded<Promise<ProviderInfo>>(MAX_CACHED_ENTITIES);
  readonly #available = new Bounded<Promise<Availability>>(MAX_CACHED_ENTITIES);

  constructor(client: InventoryClient) {
    this.#client = client;
    // For the client's life (one listener per client, whatever the number of operations).
    client.on('reauthenticated', () => {
      this.generation++;
      this.#counters = undefined;
      this.#providers.clear();
      this.#available.clear();
    });
  }

  /** How many entity descriptions are kept (for tests). */
  get cachedEntities(): { providers: number; available: number } {
    return { providers: this.#providers.size, available: this.#available.size };
  }

  // A shared read runs without any one caller's signal (the others still want it); each caller
  // stops waiting when its own signal fires.

  counters(signal: AbortSignal | undefined): Promise<CounterCatalog> {
    let p = this.#counters;
    if (!p) {
      const read = this.#readCounters();
      p = read;
      this.#counters = read;
      read.catch(() => {
        if (this.#counters === read) this.#counters = undefined;
      });
    }
    return untilAborted(p, signal, 'aborted');
  }

  provider(entity: ManagedObjectReference, signal: AbortSignal | undefined): Promise<ProviderInfo> {
    return this.#shared(this.#providers, key(entity), async () => {
      const s = await this.#client.call('QueryPerfProviderSummary', perfManager(this.#client), { entity });
      const refreshRate = s.currentSupported ? (s.refreshRate !== undefined && s.refreshRate > 0 ? s.refreshRate : 20) : undefined;
      return { realtime: s.currentSupported, refreshRate };
    }, signal);
  }

  available(entity: ManagedObjectReference, intervalId: number, signal: AbortSignal | undefined): Promise<Availability> {
    return this.#shared(this.#available, `${key(entity)}@${intervalId}`, async () => {
      const ids = await this.#client.call('QueryAvailablePerfMetric', perfManager(this.#client), { entity, intervalId });
      return new Availability(ids ?? []);
    }, signal);
  }

  #shared<V>(cache: Bounded<Promise<V>>, k: string, read: () => Promise<V>, signal: AbortSignal | undefined): Promise<V> {
    let p = cache.get(k);
    if (!p) {
      const made = read();
      p = made;
      cache.set(k, made);
      made.catch(() => cache.forget(k, made));
    }
    return untilAborted(p, signal, 'aborted');
  }

  async #readCounters(): Promise<CounterCatalog> {
    const row = await retrieveOne(this.#client, perfManager(this.#client), ['perfCounter', 'historicalInterval']);
    const byName = new Map<string, PerfCounterInfo>();
    const byKey = new Map<number, PerfCounterInfo>();
    for (const c of row.perfCounter ?? []) {
      byKey.set(c.key, c);
      const name = counterName(c);
      if (!byName.has(name)) byName.set(name, c);
    }
    const intervals = row.historicalInterval ?? [];
    const kept = intervals.length === 0 ? undefined : [...new Set(intervals.filter((i) => i.enabled).map((i) => i.samplingPeriod))].sort((a, b) => a - b);
    return { byName, byKey, kept };
  }
}

const catalogs = new WeakMap<InventoryClient, PerfCatalog>();

/** The client's catalog, made on first use. */
export function catalogOf(client: InventoryClient): PerfCatalog {
  let c = catalogs.get(client);
  if (!c) {
    c = new PerfCatalog(client);
    catalogs.set(client, c);
  }
  return c;
}

/** Edit distance (Levenshtein), for suggestions. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * The names nearest to a misspelt one, nearest first, at most `max`: of the same group with the
 * rest within an edit distance of about a third of its length (`cpu.usag.average`), of the same
 * group and name with any rollup (`cpu.usage.avg`, `mem.usage`), or within two edits of the whole
 * (a misspelt group); only the name itself where the case alone differs.
 */
export function nearestNames(name: string, names: Iterable<string>, max = 5): string[] {
  const wanted = name.toLowerCase();
  const dot = wanted.indexOf('.');
  const group = dot === -1 ? wanted : wanted.slice(0, dot);
  const rest = dot === -1 ? '' : wanted.slice(dot + 1);
  const parts = wanted.split('.');
  const stem = parts.length >= 3 ? parts.slice(0, -1).join('.') : wanted;
  const limit = Math.max(2, Math.ceil(rest.length * 0.3));
  const scored: Array<[string, number]> = [];
  for (const n of names) {
    const lower = n.toLowerCase();
    if (lower === wanted) return [n];
    const d = distance(wanted, lower);
    const sameGroup = lower.startsWith(`${group}.`) && distance(rest, lower.slice(group.length + 1)) <= limit;
    if (sameGroup || lower.startsWith(`${stem}.`) || d <= 2) scored.push([n, d]);
  }
  return scored.sort((x, y) => x[1] - y[1] || (x[0] < y[0] ? -1 : 1)).slice(0, max).map(([n]) => n);
}
