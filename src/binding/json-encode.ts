// TS values -> the JSON body of a VI/JSON request (vCenter 8.0U1+), driven by the generated
// metadata as encode.ts is for SOAP: the same walk, the same checks and the same ValidationError
// (method, path, problem) for the same bad argument, so a call refused on one wire is refused on
// the other before anything is sent. What differs is only how values are written:
//
// - the body is the method's parameters as one object (`_this` travels in the URL, never here);
// - every data object carries `_typeName` first (also when it is the declared type: govmomi's
//   encoder does so, the API's examples all show it, and the server then never has to infer a
//   type); a MoRef is { "_typeName": "ManagedObjectReference", "type", "value" };
// - an anyType value is boxed: { "_typeName": "int", "_value": 5 },
//   { "_typeName": "ArrayOfString", "_value": ["a"] } (base64Binary is "binary" and
//   ArrayOfBase64Binary "ArrayOfBinary" in VI/JSON), as encode.ts infers or takes them;
// - Date -> ISO 8601 string, Uint8Array -> base64 string, bigint -> an exact JSON integer, numbers
//   for byte/short/int/long/float/double, enums as their strings;
// - fields in schema order, `_typeName` first; an empty optional array is left out, as XML
//   cannot send one.
//
// Two checks are the wire's own: JSON has no NaN or Infinity (xsd:double can say NaN and INF in
// XML), so they are refused; JSON carries every character, so the XML-only refusal of control
// characters does not apply.
import { ValidationError } from '../errors.ts';
import { MOREF, PRIMITIVES, isEnum, isSubtypeOf, typeInfo, type MethodInfo, type TypeInfo } from './metadata.ts';
import { isMoRef } from './xml.ts';

type Obj = Record<string, unknown>;

/** VI/JSON's names for boxes that the WSDL spells otherwise. */
const JSON_BOX_NAME: Readonly<Record<string, string>> = { base64Binary: 'binary', ArrayOfBase64Binary: 'ArrayOfBinary' };

const MOREF_TYPE_NAME = `"_typeName":"${MOREF}"`;

class JsonEncoder {
  readonly out: string[] = [];
  constructor(readonly method: string) {}

  fail(path: string, problem: string): never {
    throw new ValidationError(this.method, path, problem);
  }

  /** Writes a value of `declared` type; throws on bad input. */
  element(declared: string, value: unknown, path: string): void {
    if (declared === 'anyType') return this.anyType(value, path);
    if (declared === MOREF) return this.moRef(value, path);
    if (PRIMITIVES.has(declared) || isEnum(declared)) {
      this.out.push(this.primitive(isEnum(declared) ? 'string' : declared, value, path));
      return;
    }
    const type = typeInfo(declared);
    if (!type) this.fail(path, `unknown declared type ${declared}`);
    this.object(type, value, path);
  }

  moRef(value: unknown, path: string): void {
    if (!isMoRef(value)) this.fail(path, 'expected a ManagedObjectReference { type, value }');
    const ref = value as { type: string; value: string; _typeName?: unknown };
    if (ref._typeName !== undefined && ref._typeName !== MOREF) this.fail(`${path}._typeName`, `${String(ref._typeName)} is not a ManagedObjectReference`);
    this.out.push(`{${MOREF_TYPE_NAME},"type":${JSON.stringify(ref.type)},"value":${this.text(ref.value, `${path}.value`)}}`);
  }

  object(declared: TypeInfo, value: unknown, path: string): void {
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
    this.out.push(`{"_typeName":${JSON.stringify(type.name)}`);
    this.fields(type, obj, path, true);
    this.out.push('}');
  }

  /** The fields of `obj` as `"name":value` members; `more`: a member was written before them; `skip`: a field left out. */
  fields(type: TypeInfo, obj: Obj, path: string, more: boolean, skip?: string): void {
    for (const key of Object.keys(obj)) {
      if (key !== '_typeName' && !type.fieldMap.has(key) && obj[key] !== undefined) {
        this.fail(path ? `${path}.${key}` : key, `${type.name} has no field ${key}`);
      }
    }
    let comma = more;
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
        this.out.push(`${comma ? ',' : ''}${JSON.stringify(f.name)}:[`);
        v.forEach((item, i) => {
          if (i > 0) this.out.push(',');
          this.element(f.type, item, `${fpath}[${i}]`);
        });
        this.out.push(']');
      } else {
        if (Array.isArray(v) && f.type !== 'anyType') this.fail(fpath, `expected a single ${f.type}, not an array`);
        this.out.push(`${comma ? ',' : ''}${JSON.stringify(f.name)}:`);
        this.element(f.type, v, fpath);
      }
      comma = true;
    }
  }

  text(value: unknown, path: string): string {
    if (typeof value !== 'string') this.fail(path, 'expected a string');
    return JSON.stringify(value);
  }

  /** The JSON text of a primitive of xsd `type`. */
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
        if (!Number.isFinite(value)) this.fail(path, `${String(value)} cannot be sent in VI/JSON (JSON has no NaN or Infinity)`);
        return String(value);
      case 'dateTime':
        if (!(value instanceof Date) || Number.isNaN(value.getTime())) this.fail(path, 'expected a valid Date');
        return `"${value.toISOString()}"`;
      case 'base64Binary':
        if (!(value instanceof Uint8Array)) this.fail(path, 'expected a Uint8Array');
        return `"${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')}"`;
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
  anyType(value: unknown, path: string): void {
    if (value !== null && typeof value === 'object' && !(value instanceof Date) && !(value instanceof Uint8Array) && !Array.isArray(value)) {
      const obj = value as Obj;
      if ('_value' in obj) return this.boxed(obj, path);
      if (isMoRef(obj)) return this.moRef(obj, path);
      if (typeof obj._typeName !== 'string') this.fail(path, 'a data object in an anyType position needs _typeName');
      const type = typeInfo(obj._typeName);
      if (!type) this.fail(`${path}._typeName`, `${obj._typeName} is not a vim25 data type`);
      return this.object(type, obj, path);
    }
    if (Array.isArray(value)) return this.boxed({ _typeName: inferArrayType(value, path, this), _value: value }, path);
    const type = inferPrimitive(value);
    if (!type) this.fail(path, 'cannot infer an xsd type for this anyType value; box it as { _typeName, _value }');
    this.box(type, this.primitive(type, value, path));
  }

  box(typeName: string, json: string): void {
    this.out.push(`{"_typeName":"${JSON_BOX_NAME[typeName] ?? typeName}","_value":${json}}`);
  }

  boxed(box: Obj, path: string): void {
    const tn = box._typeName;
    const extra = Object.keys(box).filter((k) => k !== '_typeName' && k !== '_value');
    if (extra.length) this.fail(`${path}.${extra[0]}`, 'a boxed value has only _typeName and _value');
    if (typeof tn !== 'string') this.fail(`${path}._typeName`, 'a boxed value needs _typeName');
    if (PRIMITIVES.has(tn) && tn !== 'anyType') {
      this.box(tn, this.primitive(tn, box._value, `${path}._value`));
      return;
    }
    const type = tn.startsWith('ArrayOf') ? typeInfo(tn) : undefined;
    const item = type?.fields.length === 1 ? type.fields[0] : undefined;
    if (!type || !item) this.fail(`${path}._typeName`, `${tn} cannot be boxed (use a primitive or an ArrayOf type)`);
    const items = box._value;
    if (!Array.isArray(items)) this.fail(`${path}._value`, `expected an array for ${tn}`);
    // As encode.ts: the items are the ArrayOf type's one field (paths `${path}.string[0]`...).
    this.out.push(`{"_typeName":"${JSON_BOX_NAME[tn] ?? tn}","_value":[`);
    const ipath = `${path}.${item.name}`;
    items.forEach((v, i) => {
      if (i > 0) this.out.push(',');
      this.element(item.type, v, `${ipath}[${i}]`);
    });
    this.out.push(']}');
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

/** A plain array in an anyType position becomes ArrayOfX when its elements agree on X (as encode.ts). */
function inferArrayType(values: unknown[], path: string, enc: JsonEncoder): string {
  const kinds = new Set(values.map((v) => {
    if (isMoRef(v)) return `ArrayOf${MOREF}`;
    const p = inferPrimitive(v);
    if (p) return ARRAY_OF_PRIMITIVE[p] ?? '';
    const tn = (v as Obj | null)?._typeName;
    return typeof tn === 'string' ? `ArrayOf${tn}` : '';
  }));
  if (kinds.size === 2 && kinds.has('ArrayOfLong') && kinds.has('ArrayOfDouble')) return 'ArrayOfDouble';
  const [kind] = kinds;
  if (kinds.size !== 1 || !kind || !typeInfo(kind)) enc.fail(path, 'cannot infer an ArrayOf type for this array; box it as { _typeName: "ArrayOf...", _value }');
  return kind;
}

/**
 * The JSON body of a VI/JSON request for `method`: its parameters (not `_this`, which goes in the
 * URL) as one object, validated and typed as encodeRequest does for SOAP. `args._this`, if any, is
 * not sent (as encodeRequest, which writes the call's own `_this` in its place).
 */
export function encodeJsonRequest(method: MethodInfo, args: object | undefined): string {
  const enc: JsonEncoder = new JsonEncoder(method.name);
  const obj: Obj = { ...(args as Obj | undefined), _this: undefined };
  if ('_typeName' in obj) enc.fail('_typeName', 'method arguments have no _typeName');
  enc.out.push('{');
  enc.fields(method.request, obj, '', false, '_this');
  enc.out.push('}');
  return enc.out.join('');
}

/**
 * One value of vim25 type `type` (a data type, MoRef, enum, primitive or 'anyType') as VI/JSON
 * writes it: what a VI/JSON answer holds for such a value (tests, simulators). `array`: a list
 * of such values, as a JSON array.
 */
export function encodeJsonValue(type: string, value: unknown, array = false): string {
  const enc: JsonEncoder = new JsonEncoder(type);
  if (array) {
    if (!Array.isArray(value)) enc.fail('', `expected an array of ${type}`);
    enc.out.push('[');
    value.forEach((v, i) => {
      if (i > 0) enc.out.push(',');
      enc.element(type, v, `[${i}]`);
    });
    enc.out.push(']');
  } else {
    enc.element(type, value, '');
  }
  return enc.out.join('');
}
