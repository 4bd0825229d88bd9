// The files of src/generated/ that need the managed-object model as well as the bundle:
// managed types and their properties, property paths, and the runtime table of releases.
// Pure functions of the two models, like emit.ts.
import type { ComplexType, Field, SchemaModel } from './schema.ts';
import { managedSubtypes, type JoinedModel, type ManagedProperty } from './managed.ts';
import { docLine, F_ARRAY, F_OPTIONAL, fieldTs, MANAGED_HEADER, memberTs, propName, type ReferenceFields } from './emit.ts';

const TASK_TYPES = `declare const taskResult: unique symbol;
/**
 * A Task reference that remembers what the task's \`info.result\` holds once it succeeded (\`void\`:
 * nothing). Methods ending in _Task return one; the brand is type-level only, the value is a plain
 * \`{ type: 'Task', value }\`.
 */
export type TaskRef<R = unknown> = T.ManagedObjectReference<'Task'> & { readonly [taskResult]?: R };
/** The result type a Task reference carries: \`unknown\` for a Task reference that does not say. */
export type TaskResultOf<X extends T.ManagedObjectReference<'Task'>> = X extends { readonly [taskResult]?: infer R } ? R : unknown;
`;

function propertyDoc(p: ManagedProperty): string {
  return docLine([p.privilege && `Privilege: ${p.privilege}.`], p.since);
}

/** managed.ts: type names, the subtype relation, Task references and each type's properties. */
export function emitManaged(model: SchemaModel, joined: JoinedModel): string {
  const names = [...joined.types.keys()];
  const subtypes = managedSubtypes(joined);
  const out = [MANAGED_HEADER,
    `// Properties whose type the bundle lacks are not here: ${joined.skipped.properties.join(', ') || 'none'}.`,
    "import type * as T from './types.js';", '',
    '/** Every managed type of the managed-object model. */',
    `export type ManagedTypeName =\n${names.map((n) => `  | '${n}'`).join('\n')};`, '',
    '/** Each managed type with the types derived from it: where a reference to it is expected, a reference to any of these fits. */',
    'export interface ManagedSubtypes {',
    ...names.map((n) => `  ${n}: ${subtypes.get(n)!.map((s) => `'${s}'`).join(' | ')};`),
    '}', '', TASK_TYPES];
  for (const t of joined.types.values()) {
    out.push(docLine([`The properties of \`${t.vmodlName}\`, inherited ones included.`], t.since));
    out.push(`export interface ${t.name}Properties${t.base ? ` extends ${t.base}Properties` : ''} {`);
    for (const p of joined.properties.get(t.name)!) {
      out.push(`  ${propertyDoc(p)}`, `  ${propName(p.name)}${p.optional ? '?' : ''}: ${memberTs(model, p, 'T.')};`);
    }
    out.push('}', '');
  }
  out.push('/** Each managed type\'s properties by type name. */', 'export interface ManagedObjectTypes {');
  for (const n of names) out.push(`  ${n}: ${n}Properties;`);
  out.push('}', '');
  return out.join('\n');
}

/** A data type's fields, inherited ones first, each with the type that declares it. */
function allFields(model: SchemaModel, t: ComplexType): Array<[string, Field]> {
  const base = t.base ? model.types.get(t.base) : undefined;
  return [...(base ? allFields(model, base) : []), ...t.fields.map((f): [string, Field] => [t.name, f])];
}

/**
 * The paths below a data-typed property, as a PropertyCollector accepts them: dotted field
 * names through single values of the declared type. A path ends at an array (the collector
 * does not index into them), at a reference, and where a type would repeat itself
 * (LocalizedMethodFault.fault.faultCause... is endless).
 */
export function dataPaths(model: SchemaModel, refs: ReferenceFields, typeName: string, prefix: string, optional: boolean): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const walk = (t: ComplexType, path: string, opt: boolean, stack: string[]): void => {
    for (const [owner, f] of allFields(model, t)) {
      const key = `${path}.${f.name}`;
      const o = opt || f.optional;
      out.push([key, `${fieldTs(model, refs, owner, f, 'T.')}${f.array ? '[]' : ''}${o ? ' | undefined' : ''}`]);
      const next = model.types.get(f.type);
      if (!f.array && next && next.textType === undefined && !stack.includes(f.type)) walk(next, key, o, [...stack, f.type]);
    }
  };
  const t = model.types.get(typeName);
  if (t) walk(t, prefix, optional, [typeName]);
  return out;
}

/** paths.ts: for each managed type, every property path with its value type. */
export function emitPaths(model: SchemaModel, joined: JoinedModel): string {
  const out = [MANAGED_HEADER,
    "import type * as T from './types.js';",
    "import type { ManagedTypeName } from './managed.js';", ''];
  for (const t of joined.types.values()) {
    out.push(`export interface ${t.name}Paths${t.base ? ` extends ${t.base}Paths` : ''} {`);
    for (const p of joined.properties.get(t.name)!) {
      out.push(`  ${propName(p.name)}: ${memberTs(model, p, 'T.')}${p.optional ? ' | undefined' : ''};`);
      if (p.kind === 'data' && !p.array) {
        for (const [path, ts] of dataPaths(model, joined.referenceFields, p.type, p.name, p.optional)) out.push(`  ${propName(path)}: ${ts};`);
      }
    }
    out.push('}', '');
  }
  out.push('/** Each managed type\'s property paths (keys) with the value at each (`| undefined` where a step is optional). */',
    'export interface ManagedObjectPaths {',
    ...[...joined.types.keys()].map((n) => `  ${n}: ${n}Paths;`),
    '}', '',
    '/** The dotted paths a PropertyCollector accepts for a managed type, e.g. `\'runtime.powerState\'`, `\'config.hardware.numCPU\'`. */',
    'export type PropertyPath<Type extends ManagedTypeName> = keyof ManagedObjectPaths[Type] & string;',
    '/** The value at a property path; `| undefined` where the property or a field on the way is optional. */',
    'export type PathValue<Type extends ManagedTypeName, Path extends PropertyPath<Type>> = ManagedObjectPaths[Type][Path];',
    '');
  return out.join('\n');
}

/**
 * model.ts: what the library checks at run time, as compact positional tables (parsed on first use):
 *   MANAGED_TYPES    name|base|since|property:type:since:flags;...
 *   MANAGED_METHODS  name|thisType|since
 */
export function emitModelMetadata(joined: JoinedModel): string {
  const types = [...joined.types.values()].map((t) => {
    const props = joined.properties.get(t.name)!.map((p) => `${p.name}:${p.type}:${p.since}:${(p.optional ? F_OPTIONAL : 0) | (p.array ? F_ARRAY : 0)}`);
    return `${t.name}|${t.base ?? ''}|${t.since}|${props.join(';')}`;
  });
  const methods = [...joined.methods.entries()].map(([name, { owner, method }]) => `${name}|${owner}|${method.since}`);
  return [MANAGED_HEADER,
    `export const MANAGED_TYPES: string = ${JSON.stringify(types.join('\n'))};`,
    `export const MANAGED_METHODS: string = ${JSON.stringify(methods.join('\n'))};`,
    ''].join('\n');
}
