// The managed-object model at run time: which release introduced each managed type, property
// and method, read from the compact generated tables on first use. The bundle's WSDL says what
// an operation looks like; this says whether the connected server has it yet.
import { ValidationError } from '../errors.ts';
import { typeInfo } from '../binding/metadata.ts';
import { MANAGED_METHODS, MANAGED_TYPES } from '../generated/model.ts';
import type { ManagedTypeName } from '../generated/managed.ts';
import type { ManagedObjectReference } from '../generated/types.ts';

const F_OPTIONAL = 1;
const F_ARRAY = 2;

interface PropertyRow {
  readonly type: string;
  readonly since: string;
  readonly optional: boolean;
  readonly array: boolean;
}

interface ManagedTypeRow {
  readonly name: string;
  readonly base: string | undefined;
  readonly since: string;
  readonly properties: ReadonlyMap<string, PropertyRow>;
}

let types: Map<string, ManagedTypeRow> | undefined;
let methods: Map<string, { owner: string; since: string }> | undefined;

// Both tables are small (138 and ~900 rows): each is read whole on first use.
function managedTypes(): Map<string, ManagedTypeRow> {
  types ??= new Map(MANAGED_TYPES.split('\n').map((line) => {
    const [name = '', base = '', since = '', props = ''] = line.split('|');
    const properties = new Map(props ? props.split(';').map((p) => {
      const [prop = '', type = '', propSince = '', flags = '0'] = p.split(':');
      return [prop, { type, since: propSince, optional: (Number(flags) & F_OPTIONAL) !== 0, array: (Number(flags) & F_ARRAY) !== 0 }] as const;
    }) : []);
    return [name, { name, base: base || undefined, since, properties }];
  }));
  return types;
}

function managedMethods(): Map<string, { owner: string; since: string }> {
  methods ??= new Map(MANAGED_METHODS.split('\n').map((line) => {
    const [name = '', owner = '', since = ''] = line.split('|');
    return [name, { owner, since }];
  }));
  return methods;
}

/**
 * Orders vim25 releases: dotted numbers, update suffixes (`2.5u2`) after their release, missing
 * parts as zeros (a server's `8.0.3` is the model's `8.0.3.0`).
 */
export function compareVersions(a: string, b: string): number {
  const x = a.split(/[.u]/).map((p) => Number.parseInt(p, 10) || 0);
  const y = b.split(/[.u]/).map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** True when something introduced in `since` is missing from a server speaking `apiVersion` ('' is the oldest core). */
function newer(since: string, apiVersion: string): boolean {
  return since !== '' && compareVersions(since, apiVersion) > 0;
}

/**
 * newer(), remembered: every call checks its method's version, and comparing two version
 * strings splits and parses both (~5 µs a call in a fresh process). A process sees a few API
 * versions and the model a few dozen `since` values, so the table stays small.
 */
const newerBySince = new Map<string, Map<string, boolean>>();
function newerCached(since: string, apiVersion: string): boolean {
  let bySince = newerBySince.get(apiVersion);
  if (bySince === undefined) newerBySince.set(apiVersion, (bySince = new Map()));
  let answer = bySince.get(since);
  if (answer === undefined) bySince.set(since, (answer = newer(since, apiVersion)));
  return answer;
}

/** True for the names of the model's managed types (what `client.ref` accepts). */
export function isManagedTypeName(name: unknown): name is ManagedTypeName {
  return typeof name === 'string' && managedTypes().has(name);
}

/** True when `name` is `ancestor` or derives from it (a VirtualMachine is a ManagedEntity). */
export function isManagedSubtype(name: string, ancestor: ManagedTypeName): boolean {
  for (const t of lineage(name)) if (t.name === ancestor) return true;
  return false;
}

/**
 * Narrows a reference from elsewhere (a stored `{ type, value }`, a method typed by a base type)
 * to a reference to `type`: true when its `type` names `type` or a subtype of it.
 */
export function isManagedObjectReference<T extends ManagedTypeName = ManagedTypeName>(value: unknown, type?: T): value is ManagedObjectReference<T> {
  if (typeof value !== 'object' || value === null) return false;
  const ref = value as { type?: unknown; value?: unknown };
  return typeof ref.value === 'string' && isManagedTypeName(ref.type) && (type === undefined || isManagedSubtype(ref.type, type));
}

/**
 * `client.ref`'s reference, checked at run time: from a managed type name and a value, or from a
 * plain `{ type, value }` (with `wanted`, it must reference that type or a subtype). A TypeError
 * for anything else.
 */
export function checkedReference(first: string | { type: string; value: string }, wanted?: string): ManagedObjectReference {
  const plain = typeof first === 'object' && first !== null;
  const [type, value] = plain ? [first.type, first.value] : [first, wanted];
  if (!isManagedTypeName(type)) throw new TypeError(`${JSON.stringify(type)} is not a vim25 managed type`);
  if (typeof value !== 'string' || value === '') throw new TypeError(`a ${type} reference needs a value (the managed object id)`);
  const ref = { type, value };
  if (plain && wanted !== undefined && !isManagedObjectReference(ref, wanted as ManagedTypeName)) throw new TypeError(`${type} ${value} is not a ${wanted}`);
  return ref;
}

/** The managed type whose `_this` a method takes, per the model (undefined for unknown methods). */
export function methodThisType(method: string): ManagedTypeName | undefined {
  return managedMethods().get(method)?.owner as ManagedTypeName | undefined;
}

/** Refuses a method the server's release does not have yet, before anything is sent. */
export function checkMethodVersion(method: string, apiVersion: string): void {
  const since = managedMethods().get(method)?.since;
  if (since !== undefined && newerCached(since, apiVersion)) {
    throw new ValidationError(method, '', `introduced in vim25 ${since}; the server speaks vim25 ${apiVersion}`);
  }
}

/** A managed type and its ancestors, nearest first. */
function* lineage(type: string): Generator<ManagedTypeRow> {
  for (let t = managedTypes().get(type); t; t = t.base === undefined ? undefined : managedTypes().get(t.base)) yield t;
}

function findProperty(type: string, name: string): { owner: ManagedTypeRow; property: PropertyRow } | undefined {
  for (const t of lineage(type)) {
    const property = t.properties.get(name);
    if (property) return { owner: t, property };
  }
  return undefined;
}

/**
 * A managed type's property (an inherited one too) as the model declares it: its type, whether it
 * is an array, and whether it holds references to managed objects (its type names a managed
 * type). Undefined when the model has no such property.
 */
export function propertyDeclaration(type: string, name: string): { type: string; array: boolean; reference: boolean } | undefined {
  const p = findProperty(type, name)?.property;
  return p && { type: p.type, array: p.array, reference: p.type === 'ManagedObject' || managedTypes().has(p.type) };
}

/**
 * Checks property paths for `type` before a PropertyCollector sees them: every step must exist
 * (fields of the declared data types; paths end at arrays and references), and the managed type
 * and the property must not be newer than `apiVersion`. Throws a ValidationError naming the
 * path (`paths[i]`) and, for a release problem, both versions. The model records releases for
 * managed types and their properties only, so fields inside data objects are checked for
 * existence, not release.
 */
export function checkPropertyPaths(type: ManagedTypeName, paths: readonly string[], apiVersion: string, method = 'RetrievePropertiesEx'): void {
  const row = managedTypes().get(type);
  if (!row) throw new ValidationError(method, 'type', `${String(type)} is not a managed type`);
  if (newer(row.since, apiVersion)) throw new ValidationError(method, 'type', `${type} was introduced in vim25 ${row.since}; the server speaks vim25 ${apiVersion}`);
  paths.forEach((path, i) => {
    const steps = typeof path === 'string' ? pathSteps(path) : undefined;
    if (!steps) throw new ValidationError(method, `paths[${i}]`, `${JSON.stringify(path)} is not a property path (name.name, or name["key"] into an array)`);
    const [head, ...rest] = steps as [PathStep, ...PathStep[]];
    const first = head.name;
    const found = findProperty(type, first);
    if (!found) throw new ValidationError(method, `paths[${i}]`, `${path}: ${type} has no property ${first}`);
    const { owner, property } = found;
    if (newer(property.since, apiVersion)) {
      throw new ValidationError(method, `paths[${i}]`, `${path}: ${owner.name}.${first} was introduced in vim25 ${property.since}; the server speaks vim25 ${apiVersion}`);
    }
    let step = keyed({ type: property.type, array: property.array, at: first }, head, path, i, method);
    for (const next of rest) {
      const data = step.array ? undefined : typeInfo(step.type);
      const field = data?.fieldMap.get(next.name);
      if (!field || next.name === '_this') throw new ValidationError(method, `paths[${i}]`, `${path}: ${step.at} (${step.type}${step.array ? '[]' : ''}) has no field ${next.name}`);
      step = keyed({ type: field.type, array: field.array, at: `${step.at}.${next.name}` }, next, path, i, method);
    }
  });
}

interface PathStep {
  name: string;
  /** `name["key"]`: the element of the array `name` whose key is `key`. */
  key?: string;
}

/** A `["key"]` step goes from an array to its element; anything else indexed is refused. */
function keyed(step: { type: string; array: boolean; at: string }, s: PathStep, path: string, i: number, method: string): { type: string; array: boolean; at: string } {
  if (s.key === undefined) return step;
  if (!step.array) throw new ValidationError(method, `paths[${i}]`, `${path}: ${step.at} is not an array, so it takes no ["key"]`);
  return { type: step.type, array: false, at: `${step.at}["${s.key}"]` };
}

/** The steps of a PropertyCollector path, read in one pass: `a.b`, `a["key"].b` (a key may hold dots). */
function pathSteps(path: string): PathStep[] | undefined {
  const steps: PathStep[] = [];
  let i = 0;
  for (;;) {
    const start = i;
    if (!/[A-Za-z_]/.test(path[i] ?? '')) return undefined;
    while (i < path.length && /\w/.test(path[i]!)) i++;
    const step: PathStep = { name: path.slice(start, i) };
    if (path[i] === '[') {
      if (path[i + 1] !== '"') return undefined;
      const close = path.indexOf('"', i + 2);
      if (close < 0 || path[close + 1] !== ']') return undefined;
      step.key = path.slice(i + 2, close);
      i = close + 2;
    }
    steps.push(step);
    if (i === path.length) return steps;
    if (path[i] !== '.') return undefined;
    i++;
  }
}
