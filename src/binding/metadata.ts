// Lazy view over the generated positional tables: a type or method is parsed the first time
// something asks for it, so a process pays only for the part of vim25 it uses.
import { ENUMS, METHODS, TYPES } from '../generated/metadata.ts';

const F_OPTIONAL = 1;
const F_ARRAY = 2;
const F_SECRET = 4;

export interface FieldInfo {
  readonly name: string;
  readonly type: string;
  readonly optional: boolean;
  readonly array: boolean;
  readonly secret: boolean;
}

export interface TypeInfo {
  readonly name: string;
  readonly base: TypeInfo | undefined;
  /** All fields in schema order, inherited ones first. */
  readonly fields: readonly FieldInfo[];
  readonly fieldMap: ReadonlyMap<string, FieldInfo>;
}

export interface MethodInfo {
  readonly name: string;
  readonly request: TypeInfo;
  readonly result: FieldInfo | undefined;
  readonly faults: readonly string[];
}

/** XSD primitives that appear as declared types or as xsi:type values in anyType positions. */
export const PRIMITIVES: ReadonlySet<string> = new Set([
  'string', 'anyURI', 'boolean', 'byte', 'short', 'int', 'long', 'float', 'double', 'dateTime', 'base64Binary', 'anyType',
]);

export const MOREF = 'ManagedObjectReference';

/**
 * The row of `name` in a generated table (a row a line, `name|…`), found by searching the table:
 * an index of every row cost each process ~2.9 MB of RSS for the few dozen names a short one
 * asks for. A name holding the table's separators would match across them: it is no name.
 */
function rowOf(table: string, name: string): string | undefined {
  if (name === '' || name.includes('|') || name.includes('\n')) return undefined;
  const key = `${name}|`;
  let at = table.startsWith(key) ? 0 : table.indexOf(`\n${key}`);
  if (at < 0) return undefined;
  if (at > 0) at++;
  const end = table.indexOf('\n', at);
  return table.slice(at, end < 0 ? table.length : end);
}

/**
 * A generated table read lazily: each row is found and parsed once, when first asked for (null
 * remembers a name the table does not have).
 */
function lazyTable<T>(table: string, parse: (name: string, columns: string[]) => T): (name: string) => T | undefined {
  const parsed = new Map<string, T | null>();
  return (name) => {
    let value = parsed.get(name);
    if (value === undefined) {
      const line = rowOf(table, name);
      value = line === undefined ? null : parse(name, line.split('|'));
      parsed.set(name, value);
    }
    return value ?? undefined;
  };
}

function parseField(spec: string): FieldInfo {
  const [name, type, flags] = spec.split(':') as [string, string, string];
  const f = Number(flags);
  return { name, type, optional: (f & F_OPTIONAL) !== 0, array: (f & F_ARRAY) !== 0, secret: (f & F_SECRET) !== 0 };
}

/** The complex type `name`, or undefined for primitives, enums and names this bundle does not know. */
export const typeInfo: (name: string) => TypeInfo | undefined = lazyTable(TYPES, (name, [, baseName, spec]) => {
  const base = baseName ? typeInfo(baseName) : undefined;
  const own = spec ? spec.split(';').map(parseField) : [];
  const fields = base ? [...base.fields, ...own] : own;
  return { name, base, fields, fieldMap: new Map(fields.map((f) => [f.name, f])) };
});

const enumTable = lazyTable(ENUMS, (_name, [, values = '']): readonly string[] => Object.freeze(values.split(',')));

export function isEnum(name: string): boolean {
  return enumTable(name) !== undefined;
}

/** The values of a vim25 enum, in schema order. */
export function enumValues(name: string): readonly string[] | undefined {
  return enumTable(name);
}

/** The base types of `name`, nearest first (empty for unknown names). */
export function ancestorsOf(name: string): string[] {
  const out: string[] = [];
  for (let t = typeInfo(name)?.base; t; t = t.base) out.push(t.name);
  return out;
}

/** True when `name` derives (directly or not) from `ancestor`; false for equal names. */
export function isSubtypeOf(name: string, ancestor: string): boolean {
  for (let t = typeInfo(name)?.base; t; t = t.base) if (t.name === ancestor) return true;
  return false;
}

export const methodInfo: (name: string) => MethodInfo | undefined = lazyTable(METHODS, (name, [, requestType = '', result, faults]) => {
  const request = typeInfo(requestType);
  if (!request) throw new Error(`metadata: ${name} has unknown request type ${requestType}`);
  return {
    name,
    request,
    result: result ? parseField(`returnval:${result}`) : undefined,
    faults: faults ? faults.split(',') : [],
  };
});

/**
 * A method this bundle does not declare (a newer server's, called through node-soap, which wrote
 * the request from the server's WSDL): no known arguments, and its answer read by its own
 * xsi:types.
 */
export function undeclaredMethod(name: string): MethodInfo {
  return { name, request: { name: `${name}RequestType`, base: undefined, fields: [], fieldMap: new Map() }, result: undefined, faults: [] };
}
