// What a watch reports, as a pure function of what it knew and what the server says now. After
// a re-login the server can only tell the full state again; diffing it against the last state
// the consumer saw turns that into the enter/modify/leave updates it missed.
import { isDeepStrictEqual } from 'node:util';
import type { VimFault } from '../errors.ts';
import type { ManagedObjectReference } from '../generated/types.ts';

export interface ObjectState {
  ref: ManagedObjectReference;
  props: Record<string, unknown>;
  missing?: Record<string, VimFault>;
}

export interface StateChange {
  kind: 'enter' | 'modify' | 'leave';
  ref: ManagedObjectReference;
  /** enter: every property; modify: the changed ones; leave: the last known ones. */
  props: Record<string, unknown>;
  missing?: Record<string, VimFault>;
}

export const stateKey = (ref: ManagedObjectReference): string => `${ref.type}:${ref.value}`;

export function diffStates(before: ReadonlyMap<string, ObjectState>, after: ReadonlyMap<string, ObjectState>): StateChange[] {
  const changes: StateChange[] = [];
  for (const [key, now] of after) {
    const was = before.get(key);
    if (!was) {
      changes.push(withMissing({ kind: 'enter', ref: now.ref, props: { ...now.props } }, now.missing));
      continue;
    }
    const changed: Record<string, unknown> = {};
    let any = false;
    for (const path of new Set([...Object.keys(was.props), ...Object.keys(now.props)])) {
      if (!isDeepStrictEqual(was.props[path], now.props[path])) {
        changed[path] = now.props[path];
        any = true;
      }
    }
    const missingChanged = !isDeepStrictEqual(Object.keys(was.missing ?? {}).sort(), Object.keys(now.missing ?? {}).sort());
    if (any || missingChanged) changes.push(withMissing({ kind: 'modify', ref: now.ref, props: changed }, now.missing));
  }
  for (const [key, was] of before) {
    if (!after.has(key)) changes.push({ kind: 'leave', ref: was.ref, props: { ...was.props } });
  }
  return changes;
}

function withMissing(change: StateChange, missing: Record<string, VimFault> | undefined): StateChange {
  if (missing && Object.keys(missing).length > 0) change.missing = missing;
  return change;
}
