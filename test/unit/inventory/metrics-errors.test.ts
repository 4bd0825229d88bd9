// What metrics() says when it refuses its input: the errors' names, fields and messages.
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/errors.ts';
import { IntervalNotKeptError, NoRealtimeStatsError, UnknownCounterError } from '../../../src/inventory/metrics-errors.ts';
import { ref } from './scripted-client.ts';

describe('metrics errors', () => {
  it('UnknownCounterError suggests the nearest names, or says how names are made', () => {
    const near = new UnknownCounterError('metrics', 'cpu.usage.avg', ['cpu.usage.average', 'cpu.usagemhz.average']);
    expect(near).toBeInstanceOf(ValidationError);
    expect([near.name, near.counter, near.suggestions]).toEqual(['UnknownCounterError', 'cpu.usage.avg', ['cpu.usage.average', 'cpu.usagemhz.average']]);
    expect(near).toMatchObject({ method: 'metrics', path: 'counters' });
    expect(near.message).toContain("the server has no performance counter 'cpu.usage.avg'; did you mean 'cpu.usage.average', 'cpu.usagemhz.average'?");
    const far = new UnknownCounterError('metrics', 'x', []);
    expect(far.message).toContain("the server has no performance counter 'x' (names are group.name.rollup, e.g. cpu.usage.average)");
  });

  it('IntervalNotKeptError lists the intervals the server keeps, or says it keeps none', () => {
    const e = new IntervalNotKeptError('metrics', 600, [300, 1800]);
    expect([e.name, e.interval, e.kept]).toEqual(['IntervalNotKeptError', 600, [300, 1800]]);
    expect(e).toMatchObject({ method: 'metrics', path: 'interval' });
    expect(e.message).toContain("the server keeps no 600-second statistics (it keeps 300, 1800; real-time statistics are interval 'realtime')");
    expect(new IntervalNotKeptError('metrics', 300, []).message).toContain('the server keeps no 300-second statistics (it keeps none;');
  });

  it('NoRealtimeStatsError names up to three entities, and how many more', () => {
    const one = new NoRealtimeStatsError('metrics', [ref('ClusterComputeResource', 'domain-c1')]);
    expect([one.name, one.entities.length]).toEqual(['NoRealtimeStatsError', 1]);
    expect(one).toMatchObject({ method: 'metrics', path: 'interval' });
    expect(one.message).toContain('ClusterComputeResource:domain-c1 has no real-time statistics: ask for a historical interval (300, 1800, 7200, 86400) or leave interval out');
    const three = new NoRealtimeStatsError('metrics', [1, 2, 3].map((n) => ref('Datastore', `ds-${n}`)));
    expect(three.message).toContain('Datastore:ds-1, Datastore:ds-2, Datastore:ds-3 have no real-time statistics');
    const five = new NoRealtimeStatsError('metrics', [1, 2, 3, 4, 5].map((n) => ref('Datastore', `ds-${n}`)));
    expect(five.message).toContain('Datastore:ds-1, Datastore:ds-2, Datastore:ds-3 and 2 more have no real-time statistics');
  });
});
