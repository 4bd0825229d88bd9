// events() and tasks() against a scripted client (no server): the filter and page size they ask
// for, the pages they read until an empty one, the time window they keep (the server filters by
// time too, a simulator may not), and the collector destroyed however the read ends.
import { describe, expect, it } from 'vitest';
import { abortedBy, VimFault } from '../../../src/errors.ts';
import type { Event, ManagedObjectReference, ServiceContent, TaskInfo } from '../../../src/generated/types.ts';
import { events, isEvent, tasks, type HistoryOptions } from '../../../src/inventory/history.ts';
import type { InventoryClient } from '../../../src/inventory/inventory-client.ts';
import { ref, ScriptedInventoryClient } from './scripted-client.ts';

const at = (minute: number): Date => new Date(Date.UTC(2026, 0, 1, 12, minute));
const event = (key: number, minute?: number): Event & { _typeName: string } =>
  ({ _typeName: 'VmPoweredOffEvent', key, chainId: key, ...(minute !== undefined && { createdTime: at(minute) }), userName: 'u', fullFormattedMessage: `e${key}` }) as never;
const task = (key: string, minute?: number): TaskInfo => ({ key, ...(minute !== undefined && { queueTime: at(minute) }) }) as never;

/** Answers the history calls: the collector's pages in order, then empty pages; what each call was given is kept. */
class HistoryClient extends ScriptedInventoryClient {
  override readonly serviceContent = {
    ...new ScriptedInventoryClient().serviceContent,
    eventManager: ref('EventManager', 'EventManager'),
    taskManager: ref('TaskManager', 'TaskManager'),
  } as ServiceContent;

  pages: Array<unknown[] | undefined | Error> = [];
  readonly args: Array<[string, unknown, AbortSignal | undefined]> = [];
  readonly failing = new Map<string, Error>();
  /** Called before ReadNext* answers (to abort between pages, say). */
  onRead: () => void = () => undefined;

  call = (async (method: string, _this: ManagedObjectReference, args: unknown, options?: { signal?: AbortSignal }) => {
    const signal = options?.signal;
    if (signal?.aborted) throw abortedBy(signal, 'request aborted');
    this.calls.push(`${method} ${_this.value}`);
    this.args.push([method, args, signal]);
    const failure = this.failing.get(method);
    if (failure) throw failure;
    if (method.startsWith('CreateCollectorFor')) return ref('HistoryCollector', 'session[1]collector');
    if (method === 'ReadNextEvents' || method === 'ReadNextTasks') {
      this.onRead();
      const page = this.pages.shift() ?? [];
      if (page instanceof Error) throw page;
      return page;
    }
    return undefined;
  }) as unknown as InventoryClient['call'];

  argsOf(method: string): unknown[] {
    return this.args.filter(([m]) => m === method).map(([, a]) => a);
  }
}

const all = async <T>(items: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = [];
  for await (const x of items) out.push(x);
  return out;
};

describe('events', () => {
  it('reads page after page until an empty one, at 100 a page by default, and destroys the collector', async () => {
    const client = new HistoryClient();
    client.pages = [[event(1), event(2)], [event(3)], []];
    expect((await all(events(client))).map((e) => e.key)).toEqual([1, 2, 3]);
    expect(client.calls).toEqual([
      'CreateCollectorForEvents EventManager',
      'SetCollectorPageSize session[1]collector',
      'RewindCollector session[1]collector',
      'ReadNextEvents session[1]collector',
      'ReadNextEvents session[1]collector',
      'ReadNextEvents session[1]collector',
      'DestroyCollector session[1]collector',
    ]);
    expect(client.argsOf('CreateCollectorForEvents')).toEqual([{ filter: {} }]);
    expect(client.argsOf('SetCollectorPageSize')).toEqual([{ maxCount: 100 }]);
    expect(client.argsOf('RewindCollector')).toEqual([{}]);
    expect(client.argsOf('ReadNextEvents')).toEqual([{ maxCount: 100 }, { maxCount: 100 }, { maxCount: 100 }]);
  });

  it('ends at a page the server leaves out', async () => {
    const client = new HistoryClient();
    client.pages = [[event(1)], undefined, [event(2)]];
    expect((await all(events(client))).map((e) => e.key)).toEqual([1]);
  });

  it('asks for the entity (and everything below it by default), the time window and the event types', async () => {
    const client = new HistoryClient();
    const vm = ref('VirtualMachine', 'vm-1') as unknown as ManagedObjectReference<'ManagedEntity'>;
    await all(events(client, { entity: vm, since: at(1), until: at(9), types: ['VmPoweredOffEvent', 'VmPoweredOnEvent'], pageSize: 7 }));
    await all(events(client, { entity: vm, recursion: 'self', since: at(1) }));
    await all(events(client, { until: at(9), types: [] }));
    expect(client.argsOf('CreateCollectorForEvents')).toEqual([
      { filter: { entity: { entity: vm, recursion: 'all' }, time: { beginTime: at(1), endTime: at(9) }, eventTypeId: ['VmPoweredOffEvent', 'VmPoweredOnEvent'] } },
      { filter: { entity: { entity: vm, recursion: 'self' }, time: { beginTime: at(1) } } },
      { filter: { time: { endTime: at(9) } } },
    ]);
    expect(client.argsOf('SetCollectorPageSize')[0]).toEqual({ maxCount: 7 });
    expect(client.argsOf('ReadNextEvents')[0]).toEqual({ maxCount: 7 });
  });

  it('keeps only what falls in the window, both ends included, and what has no time', async () => {
    const client = new HistoryClient();
    client.pages = [[event(1, 0), event(2, 1), event(3, 5), event(4, 9), event(5, 10), event(6)]];
    expect((await all(events(client, { since: at(1), until: at(9) }))).map((e) => e.key)).toEqual([2, 3, 4, 6]);
    client.pages = [[event(1, 0), event(2, 1), event(3, 10)]];
    expect((await all(events(client, { since: at(1) }))).map((e) => e.key)).toEqual([2, 3]);
    client.pages = [[event(1, 0), event(2, 9), event(3, 10)]];
    expect((await all(events(client, { until: at(9) }))).map((e) => e.key)).toEqual([1, 2]);
  });

  it('refuses a page size outside 1..1000 before asking the server anything', async () => {
    for (const pageSize of [0, 1001, 1.5, -1, Number.NaN]) {
      const client = new HistoryClient();
      await expect(all(events(client, { pageSize })), String(pageSize)).rejects.toThrow(new RangeError(`pageSize must be an integer from 1 to 1000, not ${String(pageSize)}`));
      expect(client.calls).toEqual([]);
    }
    for (const pageSize of [1, 1000]) await all(events(new HistoryClient(), { pageSize }));
  });

  it('destroys the collector when the loop is left early, when a read fails, and when the signal aborts between pages', async () => {
    const early = new HistoryClient();
    early.pages = [[event(1), event(2)], [event(3)]];
    for await (const e of events(early)) if (e.key === 1) break;
    expect(early.cleanup()).toEqual(['DestroyCollector session[1]collector']);
    expect(early.calls.filter((c) => c.startsWith('ReadNext'))).toHaveLength(1);

    const failing = new HistoryClient();
    const fault = new VimFault('ReadNextEvents', { _typeName: 'InvalidState' }, 'no');
    failing.pages = [[event(1)], fault];
    await expect(all(events(failing))).rejects.toBe(fault);
    expect(failing.cleanup()).toEqual(['DestroyCollector session[1]collector']);

    const aborted = new HistoryClient();
    const ctrl = new AbortController();
    aborted.pages = [[event(1)], [event(2)]];
    aborted.onRead = () => ctrl.abort();
    await expect(all(events(aborted, { signal: ctrl.signal }))).rejects.toMatchObject({ name: 'AbortError', code: 'EABORTED' });
    expect(aborted.cleanup()).toEqual(['DestroyCollector session[1]collector']);
    expect(aborted.calls.filter((c) => c.startsWith('ReadNext'))).toHaveLength(1);
    // Every call but the clean-up went out under the caller's signal.
    expect(aborted.args.map(([m, , s]) => [m, s === ctrl.signal])).toEqual([
      ['CreateCollectorForEvents', true], ['SetCollectorPageSize', true], ['RewindCollector', true], ['ReadNextEvents', true], ['DestroyCollector', false],
    ]);
  });

  it('a collector that could not be made is not destroyed, and its error is the caller\'s (an AbortError once aborted)', async () => {
    const client = new HistoryClient();
    const fault = new VimFault('CreateCollectorForEvents', { _typeName: 'InvalidArgument' }, 'no');
    client.failing.set('CreateCollectorForEvents', fault);
    await expect(all(events(client))).rejects.toBe(fault);
    expect(client.cleanup()).toEqual([]);
    const ctrl = new AbortController();
    const aborting = new HistoryClient();
    aborting.failing.set('CreateCollectorForEvents', new Error('socket closed'));
    aborting.call = ((orig) => (async (...args: Parameters<InventoryClient['call']>) => {
      ctrl.abort();
      return orig(...args);
    }) as unknown as InventoryClient['call'])(aborting.call);
    await expect(all(events(aborting, { signal: ctrl.signal }))).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('tasks', () => {
  it('reads TaskInfo pages with the queued-time window, and keeps the window by queueTime', async () => {
    const client = new HistoryClient();
    const vm = ref('VirtualMachine', 'vm-1') as unknown as ManagedObjectReference<'ManagedEntity'>;
    client.pages = [[task('a', 0), task('b', 1), task('c', 9), task('d', 10), task('e')]];
    const options: HistoryOptions = { entity: vm, recursion: 'children', since: at(1), until: at(9), pageSize: 3 };
    expect((await all(tasks(client, options))).map((t) => t.key)).toEqual(['b', 'c', 'e']);
    expect(client.calls[0]).toBe('CreateCollectorForTasks TaskManager');
    expect(client.argsOf('CreateCollectorForTasks')).toEqual([{ filter: { entity: { entity: vm, recursion: 'children' }, time: { timeType: 'queuedTime', beginTime: at(1), endTime: at(9) } } }]);
    expect(client.argsOf('ReadNextTasks')).toEqual([{ maxCount: 3 }, { maxCount: 3 }]);
    expect(client.cleanup()).toEqual(['DestroyCollector session[1]collector']);
    await all(tasks(client, { entity: vm }));
    await all(tasks(client));
    expect(client.argsOf('CreateCollectorForTasks').slice(1)).toEqual([{ filter: { entity: { entity: vm, recursion: 'all' } } }, { filter: {} }]);
  });
});

describe('isEvent', () => {
  it('tells an event by its exact type name', () => {
    const e = event(1);
    expect(isEvent(e, 'VmPoweredOffEvent')).toBe(true);
    expect(isEvent(e, 'VmEvent')).toBe(false);
  });
});
