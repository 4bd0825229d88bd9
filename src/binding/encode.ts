// TS values -> the XML inside a vim25 request element, driven by the generated metadata:
// fields in xsd:sequence order (inherited first) whatever the JS key order, xsi:type where a
// subtype or an anyType value needs it, and every problem reported with its path before
// anything is sent.
import { ValidationError } from '../errors.ts';
import { MOREF, PRIMITIVES, isEnum, isSubtypeOf, typeInfo, type MethodInfo, type TypeInfo } from './metadata.ts';
import { escapeText, isMoRef, XSD_PREFIX, VIM_PREFIX } from './xml.ts';

type Obj = Record<string, unknown>;

class Encoder {
  readonly out: string[] = [];
  constructor(readonly method: string) {}

  fail(path: string, problem: string): never {
    throw new ValidationError(this.method, path, problem);
  }

  /** Writes `<name ...>` for a value of `declared` type; returns nothing, throws on bad input. */
  element(name: string, declared: string, value: unknown, path: string): void {
    if (declared === 'anyType') return this.anyType(name, value, path);
    if (declared === MOREF) return this.moRef(name, value, path, '');
    if (PRIMITIVES.has(declared) || isEnum(declared)) {
      const text = this.primitive(isEnum(declared) ? 'string' : declared, value, path);
      this.out.push(`<${name}>${text}</${name}>`);
      return;
    }
    const type = typeInfo(declared);
    if (!type) this.fail(path, `unknown declared type ${declared}`);
    this.object(name, type, value, path, false);
  }

  moRef(name: string, value: unknown, path: string, typeAttr: string): void {
    if (!isMoRef(value)) this.fail(path, 'expected a ManagedObjectReference { type, value }');
    const ref = value as { type: string; value: string; _typeName?: unknown };
    if (ref._typeName !== undefined && ref._typeName !== MOREF) this.fail(`${path}._typeName`, `${String(ref._typeName)} is not a ManagedObjectReference`);
    this.out.push(`<${name}${typeAttr} type="${escapeText(ref.type, true, () => this.fail(`${path}.type`, 'contains a character XML cannot carry'))}">${this.text(ref.value, `${path}.value`)}</${name}>`);
  }

  object(name: string, declared: TypeInfo, value: unknown, path: string, forceXsiType: boolean): void {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Date || value instanceof Uint8Array) {
      this.fail(path, `expected a ${declared.name} object`);
    }
    const obj = value as Obj;
    let type = declared;
    const tn = obj._typeName;
    if (tn !== undefined && tn !== declared.name) {
      const concrete = typeof tn === 'string' ? typeInfo(tn) : undefined;
      if (!concrete) this.fail(`${path}._typeName`, `${String(tn)} is not a vim25 data type`);
      if (!isSubtypeOf(concrete.name, declared.name)) this.fail(`${path}._typeName`, `${concrete.name} is not a subtype of ${declared.name}`);
      type = concrete;
    }
    const xsiType = type !== declared || forceXsiType ? ` xsi:type="${VIM_PREFIX}${type.name}"` : '';
    this.out.push(`<${name}${xsiType}>`);
    this.fields(type, obj, path);
    this.out.push(`</${name}>`);
  }

  fields(type: TypeInfo, obj: Obj, path: string): void {
    for (const key of Object.keys(obj)) {
      if (key !== '_typeName' && !type.fieldMap.has(key) && obj[key] !== undefined) {
        this.fail(path ? `${path}.${key}` : key, `${type.name} has no field ${key}`);
      }
    }
    for (const f of type.fields) {
      const v = obj[f.name];
      const fpath = path ? `${path}.${f.name}` : f.name;
      if (v === undefined || v === null) {
        if (!f.optional) this.fail(fpath, `required by ${type.name}`);
        continue;
      }
      if (f.array) {
        if (!Array.isArray(v)) this.fail(fpath, `expected an array of ${f.type}`);
        if (v.length === 0 && !f.optional) this.fail(fpath, `required by ${type.name} (at least one element)`);
        v.forEach((item, i) => this.element(f.name, f.type, item, `${fpath}[${i}]`));
      } else {
        if (Array.isArray(v) && f.type !== 'anyType') this.fail(fpath, `expected a single ${f.type}, not an array`);
        this.element(f.name, f.type, v, fpath);
      }
    }
  }

  text(value: unknown, path: string): string {
    if (typeof value !== 'string') this.fail(path, 'expected a string');
    return escapeText(value, false, () => this.fail(path, 'contains a character XML cannot carry'));
  }

  primitive(type: string, value: unknown, path: string): string {
    switch (type) {
      case 'string':
      case 'anyURI':
        return this.text(value, path);
      case 'boolean':
        if (typeof value !== 'boolean') this.fail(path, 'expected a boolean');
        return value ? 'true' : 'false';
      case 'byte':
        return this.integer(value, path, -128, 127);
      case 'short':
        return this.integer(value, path, -32768, 32767);
      case 'int':
        return this.integer(value, path, -2147483648, 2147483647);
      case 'long':
        if (typeof value === 'bigint') {
          if (value < -(2n ** 63n) || value >= 2n ** 63n) this.fail(path, 'out of range for xsd:long');
          return value.toString();
        }
        if (typeof value !== 'number' || !Number.isSafeInteger(value)) this.fail(path, 'expected a safe integer or a bigint for xsd:long');
        return String(value);
      case 'float':
      case 'double':
        if (typeof value !== 'number') this.fail(path, `expected a number for xsd:${type}`);
        if (Number.isNaN(value)) return 'NaN';
        if (!Number.isFinite(value)) return value > 0 ? 'INF' : '-INF';
        return String(value);
      case 'dateTime':
        if (!(value instanceof Date) || Number.isNaN(value.getTime())) this.fail(path, 'expected a valid Date');
        return value.toISOString();
      case 'base64Binary':
        if (!(value instanceof Uint8Array)) this.fail(path, 'expected a Uint8Array');
        return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
      default:
        return this.fail(path, `unsupported primitive xsd:${type}`);
    }
  }

  integer(value: unknown, path: string, min: number, max: number): string {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.fail(path, `expected an integer from ${min} to ${max}`);
    }
    return String(value);
  }

  /** anyType: boxed `{ _typeName, _value }`, data objects, MoRefs, arrays and inferred primitives. */
  anyType(name: string, value: unknown, path: string): void {
    if (value !== null && typeof value === 'object' && !(value instanceof Date) && !(value instanceof Uint8Array) && !Array.isArray(value)) {
      const obj = value as Obj;
      if ('_value' in obj) return this.boxed(name, obj, path);
      if (isMoRef(obj)) return this.moRef(name, obj, path, ` xsi:type="${VIM_PREFIX}${MOREF}"`);
      if (typeof obj._typeName !== 'string') this.fail(path, 'a data object in an anyType position needs _typeName');
      const type = typeInfo(obj._typeName);
      if (!type) this.fail(`${path}._typeName`, `${obj._typeName} is not a vim25 data type`);
      return this.object(name, type, obj, path, true);
    }
    if (Array.isArray(value)) return this.boxed(name, { _typeName: inferArrayType(value, path, this), _value: value }, path);
    const type = inferPrimitive(value);
    if (!type) this.fail(path, 'cannot infer an xsd type for this anyType value; box it as { _typeName, _value }');
    this.out.push(`<${name} xsi:type="${XSD_PREFIX}${type}">${this.primitive(type, value, path)}</${name}>`);
  }

  boxed(name: string, box: Obj, path: string): void {
    const tn = box._typeName;
    const extra = Object.keys(box).filter((k) => k !== '_typeName' && k !== '_value');
    if (extra.length) this.fail(`${path}.${extra[0]}`, 'a boxed value has only _typeName and _value');
    if (typeof tn !== 'string') this.fail(`${path}._typeName`, 'a boxed value needs _typeName');
    if (PRIMITIVES.has(tn) && tn !== 'anyType') {
      this.out.push(`<${name} xsi:type="${XSD_PREFIX}${tn}">${this.primitive(tn, box._value, `${path}._value`)}</${name}>`);
      return;
    }
    const type = tn.startsWith('ArrayOf') ? typeInfo(tn) : undefined;
    const item = type?.fields.length === 1 ? type.fields[0] : undefined;
    if (!type || !item) this.fail(`${path}._typeName`, `${tn} cannot be boxed (use a primitive or an ArrayOf type)`);
    if (!Array.isArray(box._value)) this.fail(`${path}._value`, `expected an array for ${tn}`);
    this.object(name, type, { [item.name]: box._value }, path, true);
  }
}

function inferPrimitive(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'bigint':
      return 'long';
    case 'number':
      return Number.isInteger(value) ? 'long' : 'double';
    default:
      if (value instanceof Date) return 'dateTime';
      if (value instanceof Uint8Array) return 'base64Binary';
      return undefined;
  }
}

const ARRAY_OF_PRIMITIVE: Record<string, string> = {
  string: 'ArrayOfString', boolean: 'ArrayOfBoolean', long: 'ArrayOfLong', double: 'ArrayOfDouble', dateTime: 'ArrayOfDateTime',
};

/** A plain array in an anyType position becomes ArrayOfX when its elements agree on X. */
function inferArrayType(values: unknown[], path: string, enc: Encoder): string {
  const kinds = new Set(values.map((v) => {
    if (isMoRef(v)) return `ArrayOf${MOREF}`;
    const p = inferPrimitive(v);
    if (p) return ARRAY_OF_PRIMITIVE[p] ?? '';
    const tn = (v as Obj | null)?._typeName;
    return typeof tn === 'string' ? `ArrayOf${tn}` : '';
  }));
  // Integers and fractions mixed: the whole array is doubles.
  if (kinds.size === 2 && kinds.has('ArrayOfLong') && kinds.has('ArrayOfDouble')) return 'ArrayOfDouble';
  const [kind] = kinds;
  if (kinds.size !== 1 || !kind || !typeInfo(kind)) enc.fail(path, 'cannot infer an ArrayOf type for this array; box it as { _typeName: "ArrayOf...", _value }');
  return kind;
}

/** The XML children of the `method` request element for `_this` and `args`. */
export function encodeRequest(method: MethodInfo, _this: unknown, args: object | undefined): string {
  const enc = new Encoder(method.name);
  const obj: Obj = { ...(args as Obj | undefined), _this };
  if ('_typeName' in obj) enc.fail('_typeName', 'method arguments have no _typeName');
  enc.fields(method.request, obj, '');
  return enc.out.join('');
}
