// The walk both request encoders make over a value of a declared vim25 type (encode.ts for SOAP,
// json-encode.ts for VI/JSON): which type a value is (declared, a subtype named by `_typeName`,
// an anyType value's inferred or boxed type), every check on it and the ValidationError
// (method, path, problem) for each, so that a call refused on one wire is refused on the other
// with the same path and message. A subclass writes the output: each `write*`/`quote`/`list`
// hook gets values already checked.
import { ValidationError } from '../errors.ts';
import { MOREF, PRIMITIVES, isEnum, isSubtypeOf, typeInfo, type FieldInfo, type TypeInfo } from './metadata.ts';
import { isMoRef } from './xml.ts';

export type Obj = Record<string, unknown>;

export interface MoRefValue {
  type: string;
  value: string;
}

export abstract class EncodeWalk {
  readonly out: string[] = [];
  constructor(readonly method: string) {}

  fail(path: string, problem: string): never {
    throw new ValidationError(this.method, path, problem);
  }

  // --- output, per wire ------------------------------------------------------------------------

  /** A string's text as the wire writes it (checked to be a string). */
  protected abstract quote(value: string, path: string): string;
  /** A float or double that is NaN or infinite. */
  protected abstract nonFinite(value: number, type: string, path: string): string;
  /** The text of a dateTime or base64Binary value (ISO 8601, base64). */
  protected abstract quoteText(text: string): string;
  /** A value of a declared primitive or enum type: `text` from primitive(). */
  protected abstract writePrimitive(name: string, text: string): void;
  /** A primitive in an anyType position, of xsd type `type` (inferred or boxed). */
  protected abstract writeTypedPrimitive(name: string, type: string, text: string): void;
  /** A MoRef; `anyType`: in an anyType position. `ref.value` is not yet checked (text()). */
  protected abstract writeMoRef(name: string, ref: MoRefValue, path: string, anyType: boolean): void;
  /** A data object of (concrete) `type`; `xsiType`: its type is not the declared one, or it is in an anyType position. */
  protected abstract writeObject(name: string, type: TypeInfo, obj: Obj, path: string, xsiType: boolean): void;
  /** An anyType box of ArrayOf `type`, whose one field is `item`, holding `items`. */
  protected abstract writeArrayBox(name: string, type: TypeInfo, item: FieldInfo, items: unknown[], path: string): void;
  /** Before a field's value: `more`, a member of the object was written before it. */
  protected abstract member(name: string, more: boolean): void;
  /** The items of an array field (at least one), each an element of `type` at `${path}[i]`. */
  protected abstract list(name: string, type: string, items: unknown[], path: string): void;

  // --- the walk --------------------------------------------------------------------------------

  /** Writes `value` of `declared` type (as a field or item `name`); throws on bad input. */
  element(name: string, declared: string, value: unknown, path: string): void {
    if (declared === 'anyType') return this.anyType(name, value, path);
    if (declared === MOREF) return this.moRef(name, value, path, false);
    if (PRIMITIVES.has(declared) || isEnum(declared)) {
      this.writePrimitive(name, this.primitive(isEnum(declared) ? 'string' : declared, value, path));
      return;
    }
    const type = typeInfo(declared);
    if (!type) this.fail(path, `unknown declared type ${declared}`);
    this.object(name, type, value, path, false);
  }

  moRef(name: string, value: unknown, path: string, anyType: boolean): void {
    if (!isMoRef(value)) this.fail(path, 'expected a ManagedObjectReference { type, value }');
    const ref = value as MoRefValue & { _typeName?: unknown };
    if (ref._typeName !== undefined && ref._typeName !== MOREF) this.fail(`${path}._typeName`, `${String(ref._typeName)} is not a ManagedObjectReference`);
    this.writeMoRef(name, ref, path, anyType);
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
    this.writeObject(name, type, obj, path, type !== declared || forceXsiType);
  }

  /**
   * The fields of `obj` in schema order. `more`: a member was written before them; `skip`: a
   * field left out. An empty optional array is left out (XML cannot send one).
   */
  fields(type: TypeInfo, obj: Obj, path: string, more = false, skip?: string): void {
    for (const key of Object.keys(obj)) {
      if (key !== '_typeName' && !type.fieldMap.has(key) && obj[key] !== undefined) {
        this.fail(path ? `${path}.${key}` : key, `${type.name} has no field ${key}`);
      }
    }
    for (const f of type.fields) {
      if (f.name === skip) continue;
      const v = obj[f.name];
      const fpath = path ? `${path}.${f.name}` : f.name;
      if (v === undefined || v === null) {
        if (!f.optional) this.fail(fpath, `required by ${type.name}`);
        continue;
      }
      if (f.array) {
        if (!Array.isArray(v)) this.fail(fpath, `expected an array of ${f.type}`);
        if (v.length === 0 && !f.optional) this.fail(fpath, `required by ${type.name} (at least one element)`);
        if (v.length === 0) continue;
        this.member(f.name, more);
        this.list(f.name, f.type, v, fpath);
      } else {
        if (Array.isArray(v) && f.type !== 'anyType') this.fail(fpath, `expected a single ${f.type}, not an array`);
        this.member(f.name, more);
        this.element(f.name, f.type, v, fpath);
      }
      more = true;
    }
  }

  text(value: unknown, path: string): string {
    if (typeof value !== 'string') this.fail(path, 'expected a string');
    return this.quote(value, path);
  }

  /** The text of a primitive of xsd `type`, as the wire writes it. */
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
        if (!Number.isFinite(value)) return this.nonFinite(value, type, path);
        return String(value);
      case 'dateTime':
        if (!(value instanceof Date) || Number.isNaN(value.getTime())) this.fail(path, 'expected a valid Date');
        return this.quoteText(value.toISOString());
      case 'base64Binary':
        if (!(value instanceof Uint8Array)) this.fail(path, 'expected a Uint8Array');
        return this.quoteText(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64'));
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
      if (isMoRef(obj)) return this.moRef(name, obj, path, true);
      if (typeof obj._typeName !== 'string') this.fail(path, 'a data object in an anyType position needs _typeName');
      const type = typeInfo(obj._typeName);
      if (!type) this.fail(`${path}._typeName`, `${obj._typeName} is not a vim25 data type`);
      return this.object(name, type, obj, path, true);
    }
    if (Array.isArray(value)) return this.boxed(name, { _typeName: this.inferArrayType(value, path), _value: value }, path);
    const type = inferPrimitive(value);
    if (!type) this.fail(path, 'cannot infer an xsd type for this anyType value; box it as { _typeName, _value }');
    this.writeTypedPrimitive(name, type, this.primitive(type, value, path));
  }

  boxed(name: string, box: Obj, path: string): void {
    const tn = box._typeName;
    const extra = Object.keys(box).filter((k) => k !== '_typeName' && k !== '_value');
    if (extra.length) this.fail(`${path}.${extra[0]}`, 'a boxed value has only _typeName and _value');
    if (typeof tn !== 'string') this.fail(`${path}._typeName`, 'a boxed value needs _typeName');
    if (PRIMITIVES.has(tn) && tn !== 'anyType') {
      this.writeTypedPrimitive(name, tn, this.primitive(tn, box._value, `${path}._value`));
      return;
    }
    const type = tn.startsWith('ArrayOf') ? typeInfo(tn) : undefined;
    const item = type?.fields.length === 1 ? type.fields[0] : undefined;
    if (!type || !item) this.fail(`${path}._typeName`, `${tn} cannot be boxed (use a primitive or an ArrayOf type)`);
    const items = box._value;
    if (!Array.isArray(items)) this.fail(`${path}._value`, `expected an array for ${tn}`);
    this.writeArrayBox(name, type, item, items, path);
  }

  /** A plain array in an anyType position becomes ArrayOfX when its elements agree on X. */
  inferArrayType(values: unknown[], path: string): string {
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
    if (kinds.size !== 1 || !kind || !typeInfo(kind)) this.fail(path, 'cannot infer an ArrayOf type for this array; box it as { _typeName: "ArrayOf...", _value }');
    return kind;
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
