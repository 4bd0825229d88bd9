// find(): objects by inventory path (govc's semantics, see glob.ts), by bare name or glob
// anywhere, or by moref id. A path costs one PropertyCollector round trip per level, for all
// the objects of that level at once, never one per object.
import { abortedOr } from '../abort.ts';
import type { ManagedObjectReference as MoRef, ObjectSpec, TraversalSpec } from '../generated/types.ts';
import type { InventoryClient } from './inventory-client.ts';
import { InvalidPatternError } from './errors.ts';
import { globMatcher, isPath, parseInventoryPath } from './glob.ts';
import { isManagedType, type ManagedObjectReference, type ManagedTypeName, type PropertyPath } from './typed-model.ts';
import { retrieve } from './retrieve.ts';

export interface FindOptions {
  signal?: AbortSignal | undefined;
}

/** What a path level goes through, per container type (what govc lists as a container's children). */
const CHILDREN: ReadonlyArray<readonly [type: string, path: string]> = [
  ['Folder', 'childEntity'],
  ['Datacenter', 'vmFolder'],
  ['Datacenter', 'hostFolder'],
  ['Datacenter', 'datastoreFolder'],
  ['Datacenter', 'networkFolder'],
  ['ComputeResource', 'host'],
  ['ComputeResource', 'resourcePool'],
  ['ResourcePool', 'resourcePool'],
  ['ResourcePool', 'vm'],
];

/** Traversal specs from a container of `type` to its children. */
function childSpecs(type: string): TraversalSpec[] {
  // Only the container's own specs: a server that ignores TraversalSpec.type (vcsim does) would
  // otherwise follow HostSystem.vm or VirtualMachine.resourcePool as if they were children.
  return CHILDREN.filter(([t]) => isManagedType(type, t as ManagedTypeName)).map(([t, p]) => ({ _typeName: 'TraversalSpec', name: `${t}.${p}`, type: t, path: p, skip: false }));
}

interface Named {
  ref: MoRef;
  name: string;
}

/** The children of `containers`, with their names: one round trip for all of them. */
async function children(client: InventoryClient, containers: readonly Named[], signal: AbortSignal | undefined): Promise<Named[]> {
  const objectSet: ObjectSpec[] = [];
  for (const c of containers) {
    const selectSet = childSpecs(c.ref.type);
    if (selectSet.length > 0) objectSet.push({ obj: c.ref, skip: true, selectSet });
  }
  if (objectSet.length === 0) return [];
  const found: Named[] = [];
  const pc = client.serviceContent.propertyCollector;
  let res = await client.call('RetrievePropertiesEx', pc, { specSet: [{ objectSet, propSet: [{ type: 'ManagedEntity', pathSet: ['name'] }] }], options: {} }, { signal });
  for (;;) {
    for (const o of res?.objects ?? []) found.push({ ref: o.obj, name: String(o.propSet?.find((p) => p.name === 'name')?.val ?? '') });
    if (!res?.token) return found;
    res = await client.call('ContinueRetrievePropertiesEx', pc, { token: res.token }, { signal });
  }
}

/**
 * `containers` and everything below them, a tree level per round trip. One recursive
 * traversal would save round trips, but a server that ignores TraversalSpec.type loops on it.
 */
async function descendants(client: InventoryClient, containers: readonly Named[], signal: AbortSignal | undefined): Promise<Named[]> {
  const seen = new Map<string, Named>();
  const key = (o: Named): string => `${o.ref.type}:${o.ref.value}`;
  for (const c of containers) seen.set(key(c), c);
  let frontier = [...seen.values()];
  while (frontier.length > 0) {
    frontier = (await children(client, frontier, signal)).filter((o) => !seen.has(key(o)));
    for (const o of frontier) seen.set(key(o), o);
  }
  return [...seen.values()];
}

/**
 * The objects of `type` (or a subtype) that `pattern` names: an inventory path (`/DC0/vm/*`,
 * `vm/web-?`, `/DC0/.../db-*`, `...`), a bare name or glob matched anywhere under the root, or a moref id.
 * A relative path is read under every datacenter: govc reads it under its one default
 * datacenter, which is the same where there is only one.
 */
export async function find<T extends ManagedTypeName>(client: InventoryClient, type: T, pattern: string, options: FindOptions = {}): Promise<Array<ManagedObjectReference<T>>> {
  if (typeof pattern !== 'string') throw new TypeError('find needs a pattern string');
  if (pattern === '') throw new InvalidPatternError('empty', 'empty: a name, a glob, a path or a moref id');
  try {
    return await findAll(client, type, pattern, options.signal);
  } catch (err) {
    throw abortedOr(options.signal, err);
  }
}

async function findAll<T extends ManagedTypeName>(client: InventoryClient, type: T, pattern: string, signal: AbortSignal | undefined): Promise<Array<ManagedObjectReference<T>>> {
  if (!isPath(pattern)) {
    const matches = globMatcher(pattern);
    // Every managed entity has a name; the finder's T is one of them.
    const rows = await retrieve(client, type, ['name' as PropertyPath<T>], { signal });
    return rows.filter((r) => r.ref.value === pattern || matches(String((r as { name?: unknown }).name))).map((r) => r.ref);
  }
  const path = parseInventoryPath(pattern);
  let current: Named[] = path.absolute
    ? [{ ref: client.serviceContent.rootFolder, name: '' }]
    : (await retrieve(client, 'Datacenter', ['name'], { signal })).map((r) => ({ ref: r.ref, name: String(r.name) }));
  for (const segment of path.segments) {
    if (current.length === 0) break;
    if (segment.kind === 'anyDepth') current = await descendants(client, current, signal);
    else current = (await children(client, current, signal)).filter((o) => segment.test(o.name));
  }
  // A VM is both in a VM folder and in a resource pool: a level can reach it twice.
  const found = new Map<string, ManagedObjectReference<T>>();
  for (const o of current) if (isManagedType(o.ref.type, type)) found.set(o.ref.value, o.ref as ManagedObjectReference<T>);
  return [...found.values()];
}
