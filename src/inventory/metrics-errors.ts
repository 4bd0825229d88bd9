// What metrics() and watchMetrics() refuse before they send a QueryPerf: input the server would
// answer with a fault, or worse, with something else than was asked (an interval it does not keep
// is silently summarized from another one; vcsim serves real-time samples of a cluster). Each is a
// ValidationError (nothing was queried), so a service can answer its own caller a 400 with it.
import { ValidationError } from '../errors.ts';
import type { ManagedObjectReference } from '../generated/types.ts';

/** A counter name the server does not have (PerformanceManager.perfCounter), with the nearest names it has. */
export class UnknownCounterError extends ValidationError {
  override name = 'UnknownCounterError';
  /** The name as given. */
  readonly counter: string;
  /** The server's names nearest to it, nearest first (at most 5; none when nothing is near). */
  readonly suggestions: readonly string[];

  constructor(method: string, counter: string, suggestions: readonly string[]) {
    const hint = suggestions.length > 0 ? `; did you mean ${suggestions.map((s) => `'${s}'`).join(', ')}?` : ' (names are group.name.rollup, e.g. cpu.usage.average)';
    super(method, 'counters', `the server has no performance counter '${counter}'${hint}`);
    this.counter = counter;
    this.suggestions = suggestions;
  }
}

/**
 * A historical interval the server does not keep (not among PerformanceManager.historicalInterval,
 * or disabled there). The server would answer with another interval's samples instead.
 */
export class IntervalNotKeptError extends ValidationError {
  override name = 'IntervalNotKeptError';
  /** The interval asked for, in seconds. */
  readonly interval: number;
  /** The sampling periods (seconds) of the historical intervals the server keeps. */
  readonly kept: readonly number[];

  constructor(method: string, interval: number, kept: readonly number[]) {
    const list = kept.length > 0 ? `it keeps ${kept.map((s) => `${s}`).join(', ')}` : 'it keeps none';
    super(method, 'interval', `the server keeps no ${interval}-second statistics (${list}; real-time statistics are interval 'realtime')`);
    this.interval = interval;
    this.kept = kept;
  }
}

/**
 * Real-time statistics asked of entities that have none (QueryPerfProviderSummary:
 * currentSupported false): clusters, datacenters, datastores, folders keep historical ones only.
 */
export class NoRealtimeStatsError extends ValidationError {
  override name = 'NoRealtimeStatsError';
  /** Every entity asked for that has no real-time statistics. */
  readonly entities: readonly ManagedObjectReference[];

  constructor(method: string, entities: readonly ManagedObjectReference[]) {
    const named = entities.slice(0, 3).map((e) => `${e.type}:${e.value}`).join(', ') + (entities.length > 3 ? ` and ${entities.length - 3} more` : '');
    super(method, 'interval', `${named} ${entities.length === 1 ? 'has' : 'have'} no real-time statistics: ask for a historical interval (300, 1800, 7200, 86400) or leave interval out`);
    this.entities = entities;
  }
}
