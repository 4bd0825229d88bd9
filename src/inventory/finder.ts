// find(): objects by inventory path (govc's semantics, see glob.ts), by bare name or glob
// anywhere, or by moref id. A path costs one PropertyCollector round trip per level, for all
// the objects of that level at once, never one per object.
import type { ManagedObjectReference as MoRef, ObjectSpec, SelectionSpec, TraversalSpec } from '../generated/types.ts';
import type { InventoryClient } from './client.ts';
import { globMatcher, isPath, parseInventoryPath } from './glob.ts';
import { isManagedType, type ManagedObjectReference, type ManagedTypeName } from './model.ts';
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

const specName = (type: string, path: string): string => `${type}.${path}`;

/** Traversal specs from a container of `type` to its children; `recursive` follows them to every descendant. */
function childSpecs(type: string | undefined, recursive: boolean): TraversalSpec[] {
  const all: SelectionSpec[] = CHILDREN.map(([t, p]) => ({ name: specName(t, p) }));
  // Only the container's own specs: a server that ignores TraversalSpec.type (vcsim does) would
  // otherwise follow HostSystem.vm or Network.host as if they were children.
  return CHILDREN.filter(([t]) => type === undefined || isManagedType(type, t)).map(([t, p]) => ({
    _typeName: 'TraversalSpec',
    name: specName(t, p),
    type: t,
    path: p,
    skip: false,
    ...(recursive && { selectSet: all }),
  }));
}

interface Named {
  ref: MoRef;
  name: string;
}

/** The children (or, recursively, every descendant) of `containers`, with their names: one round trip. */
async function below(client: InventoryClient, containers: readonly Named[], recursive: boolean, signal: AbortSignal | undefined): Promise<Named[]> {
  const objectSet: ObjectSpec[] = [];
  for (const c of containers) {
    const selectSet = childSpecs(recursive ? undefined : c.ref.type, recursive);
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

function unique(objects: Iterable<Named>): Named[] {
  const seen = new Map<string, Named>();
  for (const o of objects) seen.set(`${o.ref.type}:${o.ref.value}`, o);
  return [...seen.values()];
}

/**
 * The objects of `type` (or a subtype) that `pattern` names: an inventory path (`/DC0/vm/*`,
 * `vm/web-?`, `/DC0/.../db-*`), a bare name or glob matched anywhere under the root, or a moref id.
 */
export async function find<T extends ManagedTypeName>(client: InventoryClient, type: T, pattern: string, options: FindOptions = {}): Promise<Array<ManagedObjectReference<T>>> {
  if (typeof pattern !== 'string' || pattern === '') throw new TypeError('find needs a non-empty pattern');
  const { signal } = options;
  if (!isPath(pattern)) {
    const matches = globMatcher(pattern);
    const rows = await retrieve(client, type, ['name'], { signal });
    return rows.filter((r) => r.ref.value === pattern || matches(String(r.name))).map((r) => r.ref);
  }
  const path = parseInventoryPath(pattern);
  let current: Named[] = path.absolute
    ? [{ ref: client.serviceContent.rootFolder, name: '' }]
    : (await retrieve(client, 'Datacenter', ['name'], { signal })).map((r) => ({ ref: r.ref, name: String(r.name) }));
  for (const segment of path.segments) {
    if (current.length === 0) break;
    if (segment.kind === 'anyDepth') current = unique([...current, ...(await below(client, current, true, signal))]);
    else current = (await below(client, current, false, signal)).filter((o) => segment.test(o.name));
  }
  return current.filter((o) => isManagedType(o.ref.type, type)).map((o) => o.ref as ManagedObjectReference<T>);
}
