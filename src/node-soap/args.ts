// node-soap-style arguments -> the values our binding encodes. node-soap's serializer writes an
// object's keys in JS order where it cannot find them in the declared type, so a subtype's own
// fields (TraversalSpec in selectSet, VirtualDisk in deviceChange) come out of schema order, and
// an anyType value without an xsi:type reaches the server untyped. Our encoder knows the
// sequence order and writes xsi:type where vim25 needs it, so the adapter translates node-soap's
// conventions into the binding's and lets the encoder write the XML:
//
// - `{ attributes: { type: 'Folder' }, $value: 'group-d1' }` (how node-soap writes and reads a
//   MoRef) -> `{ type: 'Folder', value: 'group-d1' }`;
// - `attributes: { 'xsi:type': 'vim25:TraversalSpec' }` (or node-soap's `xsi_type: { type }`,
//   or our `_typeName`) names the concrete type of a data object or of an anyType value;
// - `{ attributes: { 'xsi:type': 'xsd:int' }, $value: 5 }` in an anyType position is a boxed
//   primitive; node-soap's decoded strings and numbers are converted to the declared primitive;
// - a single value where the schema has an array becomes a one-element array; null is omitted.
//
// Anything else is passed through unchanged and the encoder reports it with its path.
import { ValidationError } from '../errors.ts';
import { MOREF, PRIMITIVES, isEnum, typeInfo, type MethodInfo, type TypeInfo } from '../binding/metadata.ts';
import { localName } from '../binding/xml.ts';

type Obj = Record<string, unknown>;

export interface NodeSoapKeys {
  /** node-soap's `attributesKey` option (default 'attributes'). */
  attributes: string;
  /** node-soap's `valueKey` option (default '$value'). */
  value: string;
  /** node-soap's `xmlKey` option (default '$xml'). */
  xml: string;
}

class Converter {
  constructor(readonly method: string, readonly keys: NodeSoapKeys) {}

  fail(path: string, problem: string): never {
    throw new ValidationError(this.method, path, problem);
  }

  isPlainObject(v: unknown): v is Obj {
    return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date) && !(v instanceof Uint8Array);
  }

  attributesOf(v: Obj): Obj | undefined {
    const a = v[this.keys.attributes];
    return this.isPlainObject(a) ? a : undefined;
  }

  /** The type an object names for itself: `_typeName`, or xsi:type in its attributes (prefix dropped). */
  namedType(v: Obj): string | undefined {
    if (typeof v._typeName === 'string') return v._typeName;
    const attrs = this.attributesOf(v);
    if (!attrs) return undefined;
    for (const [k, t] of Object.entries(attrs)) {
      if (k === 'xsi_type' && this.isPlainObject(t) && typeof t.type === 'string') return localName(t.type);
      if (localName(k) === 'type' && k.includes(':') && typeof t === 'string') return localName(t);
    }
    return undefined;
  }

  /** `{ attributes, $value }` -> the value; anything else as it is. */
  unwrap(v: unknown): unknown {
    if (this.isPlainObject(v) && this.keys.value in v) return v[this.keys.value];
    return v;
  }

  refuseRawXml(v: Obj, path: string): void {
    if (this.keys.xml in v || '_xml' in v) {
      this.fail(path, `raw XML (${this.keys.xml in v ? this.keys.xml : '_xml'}) cannot be checked against the schema: pass the value as an object`);
    }
  }

  convert(declared: string, value: unknown, path: string): unknown {
    if (value === null || value === undefined) return undefined;
    if (declared === 'anyType') return this.anyType(value, path);
    if (declared === MOREF) return this.moRef(value);
    if (PRIMITIVES.has(declared)) return this.primitive(declared, this.unwrap(value));
    if (isEnum(declared)) return this.primitive('string', this.unwrap(value));
    const type = typeInfo(declared);
    if (!type || !this.isPlainObject(value)) return value;
    return this.object(type, value, path);
  }

  moRef(value: unknown): unknown {
    if (!this.isPlainObject(value)) return value;
    const attrs = this.attributesOf(value);
    if (attrs && typeof attrs.type === 'string' && this.keys.value in value) {
      return { type: attrs.type, value: String(value[this.keys.value]) };
    }
    return value;
  }

  object(declared: TypeInfo, value: Obj, path: string): Obj {
    this.refuseRawXml(value, path);
    const named = this.namedType(value);
    const concrete = named !== undefined && named !== declared.name ? typeInfo(named) : declared;
    if (!concrete) this.fail(path ? `${path}._typeName` : '_typeName', `${named} is not a vim25 data type`);
    const out: Obj = concrete === declared ? {} : { _typeName: concrete.name };
    for (const [rawKey, v] of Object.entries(value)) {
      if (rawKey === this.keys.attributes || rawKey === '_typeName') continue;
      // node-soap lets a key carry a namespace prefix ('vim25:name').
      const key = localName(rawKey);
      const field = concrete.fieldMap.get(key);
      const fpath = path ? `${path}.${key}` : key;
      if (!field) {
        out[key] = v;
        continue;
      }
      if (v === null || v === undefined) continue;
      if (field.array) {
        const items = Array.isArray(v) ? v : [v];
        out[key] = items.map((item, i) => this.convert(field.type, item, `${fpath}[${i}]`));
      } else {
        out[key] = this.convert(field.type, v, fpath);
      }
    }
    return out;
  }

  anyType(value: unknown, path: string): unknown {
    if (Array.isArray(value)) return value.map((v, i) => this.anyType(v, `${path}[${i}]`));
    if (!this.isPlainObject(value)) return value;
    this.refuseRawXml(value, path);
    const named = this.namedType(value);
    const attrs = this.attributesOf(value);
    if (named === MOREF || (named === undefined && attrs && typeof attrs.type === 'string' && this.keys.value in value)) {
      return this.moRef(value);
    }
    if (named === undefined) return this.keys.value in value ? value[this.keys.value] : value;
    if (PRIMITIVES.has(named) && named !== 'anyType') {
      return { _typeName: named, _value: this.primitive(named, this.unwrap(value)) };
    }
    if (isEnum(named)) return { _typeName: 'string', _value: this.primitive('string', this.unwrap(value)) };
    const type = typeInfo(named);
    if (!type) this.fail(`${path}._typeName`, `${named} is not a vim25 data type`);
    // A data object in an anyType position always carries its type.
    return { ...this.object(type, value, path), _typeName: type.name };
  }

  /** node-soap's values for primitives are strings (or numbers, booleans and Dates it decoded): bring them to the binding's types. */
  primitive(type: string, v: unknown): unknown {
    switch (type) {
      case 'string':
      case 'anyURI':
        return typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' ? String(v) : v;
      case 'boolean':
        if (v === 'true' || v === '1') return true;
        if (v === 'false' || v === '0') return false;
        return v;
      case 'byte':
      case 'short':
      case 'int':
      case 'float':
      case 'double':
        return typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)) ? Number(v) : v;
      case 'long':
        if (typeof v === 'string' && /^\s*[-+]?\d+\s*$/.test(v)) {
          const n = Number(v);
          return Number.isSafeInteger(n) ? n : BigInt(v.trim());
        }
        return v;
      case 'dateTime':
        return typeof v === 'string' || typeof v === 'number' ? new Date(v) : v;
      case 'base64Binary':
        return typeof v === 'string' ? new Uint8Array(Buffer.from(v, 'base64')) : v;
      default:
        return v;
    }
  }
}

/**
 * The arguments of a node-soap call to `method`, as our binding takes them: `_this` and the
 * other request fields, converted by the request type's declared field types.
 */
export function bindingArgs(method: MethodInfo, args: unknown, keys: NodeSoapKeys): { _this: unknown; args: Obj } {
  const c = new Converter(method.name, keys);
  if (args === null || args === undefined) return { _this: undefined, args: {} };
  if (!c.isPlainObject(args)) return c.fail('', 'expected the arguments as an object');
  const { _this, ...rest } = c.object(method.request, args, '');
  return { _this, args: rest };
}
