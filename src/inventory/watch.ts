// watch(): enter/modify/leave updates of every object of a type under a folder, from
// WaitForUpdatesEx on a collector of its own (updates.ts). It survives re-authentication and
// lost answers: the loop rebuilds collector, view and filter (on the new session), and the full
// state the new filter reports is diffed against what this watch last reported, so nothing that
// changed while the session was dead, or in an answer that never came, is missed (govmomi and
// pyvmomi both lose the filter there).
import type { ManagedObjectReference as MoRef, ObjectUpdate } from '../generated/types.ts';
import type { VimFault } from '../errors.ts';
import type { InventoryClient } from './inventory-client.ts';
import { diffStates, stateKey, type ObjectState } from './diff.ts';
import { checkPropertyPaths, type ManagedObjectReference, type ManagedTypeName, type RowValue, type PropertyPath } from './typed-model.ts';
import { tracedPages } from './observe.ts';
import { applyChange, missingFaults } from './rows.ts';
import { checkMaxWait, updateSets, type CollectorSetup } from './updates.ts';
import { createView, destroyView, viewObjectSpec } from './view.ts';

export interface WatchOptions {
  root?: MoRef<'ManagedEntity'> | undefined;
  signal?: AbortSignal | undefined;
  /**
   * The longest one WaitForUpdatesEx may stay open (1–60 s, default 30). A server may hold a
   * wait open until then even after the session died, so this bounds how late a watch learns
   * of a dead session when nothing else re-authenticates the client sooner.
   */
  maxWaitSeconds?: number | undefined;
}

export interface WatchUpdate<T extends ManagedTypeName, P extends string> {
  kind: 'enter' | 'modify' | 'leave';
  ref: ManagedObjectReference<T>;
  /** enter: every path asked for; modify: the paths that changed; leave: the last known values. */
  props: { [K in P]?: RowValue<T, K> };
  /** Paths the server refused for this object (missingSet), with their faults. */
  missing?: Partial<Record<P, VimFault>>;
}

const DEFAULT_MAX_WAIT_SECONDS = 30;

function objectState(update: ObjectUpdate, paths: readonly string[], previous: ObjectState | undefined): ObjectState {
  const state: ObjectState = { ref: update.obj, props: { ...previous?.props } };
  for (const change of update.changeSet ?? []) applyChange(state.props, change, paths);
  const missing: Record<string, unknown> & { missing?: Record<string, VimFault> } = {};
  missingFaults('WaitForUpdatesEx', update.missingSet, missing);
  if (missing.missing) state.missing = missing.missing;
  return state;
}

export function watch<T extends ManagedTypeName, P extends PropertyPath<T>>(
  client: InventoryClient,
  type: T,
  paths: readonly P[],
  options: WatchOptions = {},
): AsyncGenerator<WatchUpdate<T, P>, void, undefined> {
  checkPropertyPaths(type, paths, client.apiVersion);
  const maxWaitSeconds = checkMaxWait(options.maxWaitSeconds ?? DEFAULT_MAX_WAIT_SECONDS);
  return tracedPages({ operation: 'watch', type }, updates(client, type, paths, options, maxWaitSeconds));
}

async function* updates<T extends ManagedTypeName, P extends PropertyPath<T>>(
  client: InventoryClient,
  type: T,
  paths: readonly P[],
  options: WatchOptions,
  maxWaitSeconds: number,
): AsyncGenerator<WatchUpdate<T, P>, void, undefined> {
  const root = options.root ?? client.serviceContent.rootFolder;
  const setup: CollectorSetup = async (collector, signal) => {
    const view = await createView(client, root, [type], signal);
    try {
      await client.call('CreateFilter', collector, {
        spec: { objectSet: [viewObjectSpec(view)], propSet: [{ type, pathSet: [...paths] }] },
        partialUpdates: false,
      }, { signal });
    } catch (err) {
      // The loop destroys only the views a setup returns: this one is not handed over yet.
      await destroyView(client, view);
      throw err;
    }
    return [view];
  };
  // What the consumer has been told, and (while a new collector reports its full state) what the server says now.
  let reported = new Map<string, ObjectState>();
  let full: { collector: MoRef; state: Map<string, ObjectState> } | undefined;
  for await (const { set, collector, fresh, complete } of updateSets(client, setup, options.signal, maxWaitSeconds)) {
    const objects = (set.filterSet ?? []).flatMap((f) => f.objectSet ?? []);
    if (fresh) {
      // A collector rebuilt in the middle of a truncated full state starts it over: what the
      // old one had said of objects since gone would otherwise stay.
      if (full?.collector !== collector) full = { collector, state: new Map() };
      const state = full.state;
      for (const u of objects) {
        const key = stateKey(u.obj);
        if (u.kind === 'leave') state.delete(key);
        else state.set(key, objectState(u, paths, state.get(key)));
      }
      if (!complete) continue;
      const before = reported;
      reported = state;
      full = undefined;
      for (const change of diffStates(before, reported)) yield change as WatchUpdate<T, P>;
      continue;
    }
    for (const u of objects) {
      const key = stateKey(u.obj);
      const was = reported.get(key);
      if (u.kind === 'leave') {
        reported.delete(key);
        yield { kind: 'leave', ref: u.obj as ManagedObjectReference<T>, props: { ...was?.props } as WatchUpdate<T, P>['props'] };
        continue;
      }
      const now = objectState(u, paths, was);
      reported.set(key, now);
      const props: Record<string, unknown> = {};
      if (u.kind === 'enter' || !was) Object.assign(props, now.props);
      else for (const c of u.changeSet ?? []) {
        const base = paths.find((p) => c.name === p || c.name.startsWith(`${p}.`)) ?? c.name;
        props[base] = now.props[base];
      }
      const update: WatchUpdate<T, P> = { kind: was ? 'modify' : 'enter', ref: u.obj as ManagedObjectReference<T>, props: props as WatchUpdate<T, P>['props'] };
      if (now.missing) update.missing = now.missing as Partial<Record<P, VimFault>>;
      yield update;
    }
  }
}
