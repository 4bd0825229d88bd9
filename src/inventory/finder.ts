// find(): objects by inventory path (govc's semantics, see glob.ts), by bare name or glob
// anywhere, or by moref id. A path costs one PropertyCollector round trip per level, for all
// the objects of that level at once, never one per object.
//
// The tag filter ({ tag: 'zone/us-east-1a' } or a tag id) of find and retrieve keeps the objects
// carrying that tag. The tag's objects come from vAPI tagging (the client's `tags`: the tag
// looked up, then list-attached-objects-on-tags, read while the inventory is) and are intersected
// with what the type, path and root select: a tag's association list may name objects of other
// types, objects outside the root, or objects that no longer exist, and none of those is kept.
import { abortedOr } from '../abort.ts';
import type { ManagedObjectReference as MoRef, ObjectSpec, TraversalSpec } from '../generated/types.ts';
import type { InventoryClient } from './inventory-client.ts';
import { InvalidPatternError } from './errors.ts';
import { globMatcher, isPath, parseInventoryPath } from './glob.ts';
import { isManagedType, type ManagedObjectReference, type ManagedTypeName, type PropertyPath } from './typed-model.ts';
import { retrieve, type Retrieve, type RetrieveOptions } from './retrieve.ts';
import type { Row } from './rows.ts';

export interface FindOptions {
  signal?: AbortSignal | undefined;
  /** Only objects carrying this tag: its id, or 'category/tag'. */
  tag?: string | undefined;
}

export interface TaggedRetrieveOptions extends RetrieveOptions {
  /** Only objects carrying this tag: its id, or 'category/tag'. */
  tag?: string | undefined;
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
  const { signal, tag } = options;
  try {
    if (tag === undefined) return await findAll(client, type, pattern, signal);
    checkTag(client, tag);
    return await withTag(client, tag, signal, () => findAll(client, type, pattern, signal), (ref) => ref);
  } catch (err) {
    throw abortedOr(signal, err);
  }
}

/** retrieve(), or with `tag`, the rows of the objects carrying that tag. */
export const retrieveTagged: Retrieve<TaggedRetrieveOptions> = async (client, type, paths, options = {}) => {
  const { tag, ...rest } = options;
  if (tag === undefined) return retrieve(client, type, paths, rest);
  checkTag(client, tag);
  try {
    return await withTag(client, tag, rest.signal, () => retrieve(client, type, paths, rest), (row) => row.ref);
  } catch (err) {
    throw abortedOr(rest.signal, err);
  }
};

function checkTag(client: InventoryClient, tag: unknown): void {
  if (typeof tag !== 'string' || tag === '') throw new TypeError("the tag filter names a tag by its id or as 'category/tag'");
  if (!client.tags) throw new TypeError('the tag filter needs a client with a tagging API (a VimClient\'s tags)');
}

/**
 * What `list` finds, kept where the tag is attached. The tag is looked up first (an unknown one
 * is the tagging API's RestError NOT_FOUND before any inventory read); then its objects and the
 * inventory are read at once. Neither is cut short when the other fails (an abort in the middle
 * of CreateContainerView would leave a view behind): the first failure is the answer once both
 * are over.
 */
async function withTag<R>(client: InventoryClient, tag: string, signal: AbortSignal | undefined, list: () => Promise<R[]>, refOf: (r: R) => MoRef): Promise<R[]> {
  const tags = client.tags!;
  const { id } = await tags.tag(tag, { signal });
  const [tagged, found] = await Promise.allSettled([tags.objects([id], { signal }), list()]);
  if (tagged.status === 'rejected') throw tagged.reason;
  if (found.status === 'rejected') throw found.reason;
  const keys = new Set<string>();
  for (const entry of tagged.value) {
    if (entry.tagId === id) for (const o of entry.objects) keys.add(`${o.type}:${o.value}`);
  }
  return found.value.filter((r) => {
    const ref = refOf(r);
    return keys.has(`${ref.type}:${ref.value}`);
  });
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
