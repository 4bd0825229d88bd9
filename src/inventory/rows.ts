// PropertyCollector contents -> the rows the inventory layer hands out: the object's reference,
// one key per property path asked for, and the paths the server could not read with their fault.
import type { VimFault } from '../errors.ts';
import type { MissingProperty, ObjectContent, PropertyChange } from '../generated/types.ts';
import { faultFromLocalized, type ManagedObjectReference, type ManagedTypeName, type RowValue } from './typed-model.ts';

/**
 * One object: `ref`, a key per path asked for (undefined when the property is unset), and
 * `missing`, present only when the server refused some paths (a missingSet entry: no
 * permission, a property the object does not have …), each with its fault, hierarchy kept.
 */
export type Row<T extends ManagedTypeName, P extends string> = { ref: ManagedObjectReference<T> } & { [K in P]: RowValue<T, K> } & {
  missing?: Partial<Record<P, VimFault>>;
};

type Writable = Record<string, unknown> & { missing?: Record<string, VimFault> };

export function missingFaults(method: string, missing: readonly MissingProperty[] | undefined, into: Writable): void {
  if (!missing || missing.length === 0) return;
  into.missing ??= {};
  for (const m of missing) into.missing[m.path] = faultFromLocalized(method, m.fault);
}

export function toRow<T extends ManagedTypeName, P extends string>(method: string, content: ObjectContent, paths: readonly P[]): Row<T, P> {
  const row: Writable = { ref: content.obj };
  for (const p of paths) row[p] = undefined;
  for (const prop of content.propSet ?? []) row[prop.name] = prop.val;
  missingFaults(method, content.missingSet, row);
  return row as Row<T, P>;
}

/**
 * Applies one PropertyChange to a property map. With partialUpdates off the server names the
 * path asked for; a nested name (`info.progress` under `info`) is written into a copy of the
 * enclosing value, so a value handed out before is never changed under its holder.
 */
export function applyChange(props: Record<string, unknown>, change: PropertyChange, paths: readonly string[]): void {
  const value = change.op === 'remove' || change.op === 'indirectRemove' ? undefined : change.val;
  if (paths.includes(change.name) || !paths.some((p) => change.name.startsWith(`${p}.`))) {
    props[change.name] = value;
    return;
  }
  const base = paths.find((p) => change.name.startsWith(`${p}.`))!;
  const keys = change.name.slice(base.length + 1).split('.');
  const root: Record<string, unknown> = { ...(props[base] as Record<string, unknown> | undefined) };
  let node = root;
  for (const k of keys.slice(0, -1)) {
    const next = { ...(node[k] as Record<string, unknown> | undefined) };
    node[k] = next;
    node = next;
  }
  node[keys[keys.length - 1]!] = value;
  props[base] = root;
}
