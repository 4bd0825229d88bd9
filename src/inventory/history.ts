// events() and tasks(): the event and task history through a HistoryCollector of their own,
// read a page at a time (ReadNextEvents / ReadNextTasks) and destroyed afterwards, also when the
// loop is left early. vCenter keeps a collector for the session's life and limits how many a
// session may hold, so one left behind costs every later caller.
import { abortedOr, throwIfAborted } from '../abort.ts';
import type { Event, EventTypes, ManagedObjectReference as MoRef, TaskInfo } from '../generated/types.ts';
import { destroy } from './cleanup.ts';
import type { InventoryClient } from './inventory-client.ts';

export interface HistoryOptions {
  /** Only what happened at or after this time. */
  since?: Date | undefined;
  /** Only what happened at or before this time. */
  until?: Date | undefined;
  /** Only about this entity (and, by default, everything below it). */
  entity?: MoRef<'ManagedEntity'> | undefined;
  recursion?: 'self' | 'children' | 'all' | undefined;
  /** Read this many per round trip (1–1000, default 100). */
  pageSize?: number | undefined;
  signal?: AbortSignal | undefined;
}

export interface EventsOptions extends HistoryOptions {
  /** Event type ids, e.g. ['VmPoweredOffEvent'] (EventFilterSpec.eventTypeId; `type`, its predecessor, is deprecated). */
  types?: readonly string[] | undefined;
}

/** A decoded event: its concrete vim25 type in `_typeName`, the subtype's fields (`vm`, `host`, …) present. */
export type TypedEvent = Event & { _typeName: string } & Record<string, unknown>;

/** The names of Event and its subtypes: what isEvent takes (listed by the generator: derived from DataTypes, they cost every consumer's check ~0.3 s). */
export type EventTypeName = keyof EventTypes;

/** Narrows an event to the type its name says (that type exactly, not its subtypes), e.g. `isEvent(e, 'VmPoweredOffEvent') && e.vm`. */
export function isEvent<N extends EventTypeName>(event: Event, typeName: N): event is EventTypes[N] & { _typeName: N } {
  return event._typeName === typeName;
}

interface Pager<T> {
  create: () => Promise<MoRef>;
  read: (collector: MoRef, maxCount: number) => Promise<T[] | undefined>;
  time: (item: T) => Date | undefined;
}

async function* history<T>(client: InventoryClient, options: HistoryOptions, pager: Pager<T>): AsyncGenerator<T, void, undefined> {
  const pageSize = options.pageSize ?? 100;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) throw new RangeError(`pageSize must be an integer from 1 to 1000, not ${String(pageSize)}`);
  const { signal, since, until } = options;
  let collector: MoRef;
  try {
    collector = await pager.create();
  } catch (err) {
    throw abortedOr(signal, err);
  }
  try {
    await client.call('SetCollectorPageSize', collector, { maxCount: pageSize }, { signal });
    await client.call('RewindCollector', collector, {}, { signal });
    for (;;) {
      const page = (await pager.read(collector, pageSize)) ?? [];
      if (page.length === 0) break;
      for (const item of page) {
        // The server filters by time too; a simulator may not, and an item outside the window is never wanted.
        const t = pager.time(item);
        if (t && ((since && t < since) || (until && t > until))) continue;
        yield item;
      }
      throwIfAborted(signal);
    }
  } catch (err) {
    throw abortedOr(signal, err);
  } finally {
    await destroy(client, 'DestroyCollector', collector);
  }
}

function timeFilter(options: HistoryOptions): { beginTime?: Date; endTime?: Date } | undefined {
  if (!options.since && !options.until) return undefined;
  return { ...(options.since && { beginTime: options.since }), ...(options.until && { endTime: options.until }) };
}

/** Events from the EventManager's history, decoded to their subtypes (VmPoweredOffEvent with its `vm`, …). */
export function events(client: InventoryClient, options: EventsOptions = {}): AsyncGenerator<TypedEvent, void, undefined> {
  const time = timeFilter(options);
  const filter = {
    ...(options.entity && { entity: { entity: options.entity, recursion: options.recursion ?? 'all' } }),
    ...(time && { time }),
    ...(options.types && options.types.length > 0 && { eventTypeId: [...options.types] }),
  };
  return history<TypedEvent>(client, options, {
    create: () => client.call('CreateCollectorForEvents', client.serviceContent.eventManager!, { filter }, { signal: options.signal }),
    read: async (collector, maxCount) => (await client.call('ReadNextEvents', collector, { maxCount }, { signal: options.signal })) as TypedEvent[] | undefined,
    time: (e) => e.createdTime,
  });
}

/** Tasks from the TaskManager's history (TaskInfo of each), e.g. the recent tasks on a VM. */
export function tasks(client: InventoryClient, options: HistoryOptions = {}): AsyncGenerator<TaskInfo, void, undefined> {
  const time = timeFilter(options);
  const filter = {
    ...(options.entity && { entity: { entity: options.entity, recursion: options.recursion ?? 'all' } }),
    ...(time && { time: { timeType: 'queuedTime' as const, ...time } }),
  };
  return history<TaskInfo>(client, options, {
    create: () => client.call('CreateCollectorForTasks', client.serviceContent.taskManager!, { filter }, { signal: options.signal }),
    read: (collector, maxCount) => client.call('ReadNextTasks', collector, { maxCount }, { signal: options.signal }),
    time: (t) => t.queueTime,
  });
}
