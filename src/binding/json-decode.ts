// VI/JSON answers (vCenter 8.0U1+) -> the same TS values the SOAP decoder (decode.ts) makes from
// the same data: `_typeName` on every data object, arrays where the schema says unbounded (and no
// field for an empty one, as XML cannot send one), primitives by declared type with the XML
// decoder's own conversion (decodePrimitive: an xsd:long beyond 2^53 is a bigint, a dateTime a
// Date, base64Binary a Uint8Array), MoRefs as { type, value }, anyType boxes
// ({ _typeName: 'int', _value: 5 }, { _typeName: 'ArrayOfString', _value: [...] }) unboxed as
// xsi:type'd anyType values are, and anything the metadata does not know (a newer server's type
// or field) decoded generically instead of failing. Faults (HTTP 500, a fault object named by its
// `_typeName`) come out as the DecodedFault of a SOAP fault, so both wires make the same VimFault.
//
// The answer is decoded as it streams (json-reader.ts), by a stack of frames driven by the
// metadata, without building a generic tree first. VI/JSON puts `_typeName` first in every
// object; an object whose `_typeName` comes later (allowed by JSON) is still decoded right:
// fields its declared type has are decoded as they come (a subtype inherits them), the others are
// kept as read and decoded once the type is known; in an anyType or unknown position, where
// nothing can be decoded before the type is known, the object is kept as read and decoded when it
// ends. Each value is kept and decoded again at most once: the time stays linear.
import type { Readable } from 'node:stream';
import { TransportError } from '../errors.ts';
import { decodeAnswerStream } from './answer-stream.ts';
import type { DecodedFault, DecodedResponse, DecodeLimits } from './decode.ts';
import { AnswerStrings, MAX_SAFE, dataObject, decodePrimitive, own } from './decode-values.ts';
import { JsonLimitError, JsonReader, JsonSyntaxError, type JsonHandler, type JsonLimits } from './json-reader.ts';
import { MOREF, PRIMITIVES, isEnum, typeInfo, type FieldInfo, type MethodInfo, type TypeInfo } from './metadata.ts';

type Obj = Record<string, unknown>;

/** What a VI/JSON answer may cost to decode; `maxElements` counts JSON values, `maxMarkup` bounds a key. */
export interface JsonDecodeLimits extends DecodeLimits {
  /** Longest string value, in characters (default 16 MiB). */
  maxString?: number;
}

// ---------------------------------------------------------------------------------------------
// Type names

const T_PRIMITIVE = 1;
const T_ENUM = 2;
const T_MOREF = 3;
const T_COMPLEX = 4;
const T_ANY = 5;
const T_UNKNOWN = 6;
/** A complex type that is an array box in an anyType position: ArrayOfString, ArrayOfVirtualDevice... */
const T_ARRAY_BOX = 7;

const kinds = new Map<string, number>();
/** T_ARRAY_BOX names: their item type. */
const arrayItems = new Map<string, string>();

/** What a declared or `_typeName` type name is, cached per name the metadata knows. */
function kindOf(name: string): number {
  let k = kinds.get(name);
  if (k === undefined) {
    if (name === 'anyType') k = T_ANY;
    else if (name === MOREF) k = T_MOREF;
    else if (PRIMITIVES.has(name)) k = T_PRIMITIVE;
    else if (isEnum(name)) k = T_ENUM;
    else {
      const info = typeInfo(name);
      if (!info) k = T_UNKNOWN;
      else if (name.startsWith('ArrayOf') && info.fields.length === 1) {
        k = T_ARRAY_BOX;
        arrayItems.set(name, info.fields[0]!.type);
      } else k = T_COMPLEX;
    }
    // Bounded: only names the metadata knows are kept; an answer's unknown names are not.
    if (k !== T_UNKNOWN) kinds.set(name, k);
  }
  return k;
}

/** VI/JSON's names for boxed primitives that XML spells otherwise (govmomi's vim25/json registry; the API's PrimitiveBinary, PrimitiveURI). */
const JSON_PRIMITIVE: ReadonlyMap<string, string> = new Map([['binary', 'base64Binary'], ['URI', 'anyURI'], ['uri', 'anyURI']]);

/** Boxed arrays of the API that the WSDL has not (or spells otherwise): their item type. */
const JSON_ARRAY_ITEM: ReadonlyMap<string, string> = new Map([
  ['ArrayOfBinary', 'base64Binary'], ['ArrayOfURI', 'anyURI'], ['ArrayOfDateTime', 'dateTime'], ['ArrayOfFloat', 'float'],
]);

// ---------------------------------------------------------------------------------------------
// Values kept as read, until their type is known

/** An object kept as read: key, value, key, value... in document order (one array: a few hundred thousand of them may be kept). */
class RawObject {
  readonly members: unknown[] = [];
}

/** A number kept as read whose text a JS number would not give back (9223372036854775807, 1.0, 1e2): its text. */
class RawNumber {
  constructor(readonly text: string) {}
}

/** A number kept as read: the JS number when it gives its text back exactly, else its text (no precision lost before its type is known). */
function rawNumber(text: string): number | RawNumber {
  const n = Number(text);
  return String(n) === text ? n : new RawNumber(own(text));
}

/** obj[key] = value for a key the answer chose: "__proto__" is a member, as JSON.parse makes it, not the object's prototype. */
function setMember(obj: Obj, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

/** Where a kept object's `_typeName` key is in its members, or -1. */
function typeNameAt(members: unknown[]): number {
  for (let i = 0; i < members.length; i += 2) if (members[i] === '_typeName') return i;
  return -1;
}

// ---------------------------------------------------------------------------------------------
// Frames

const F_ROOT = 0;
/** An object opened, none of its keys read: what it is depends on its first key. */
const F_PENDING = 1;
/** F_PENDING whose first key is `_typeName`: waiting for the name. */
const F_TYPENAME = 2;
/** A data object of a type the metadata knows. */
const F_OBJECT = 3;
/** An object decoded without metadata: an unknown type's, or one without `_typeName` in an anyType or unknown position. */
const F_GENERIC = 4;
/** An anyType box: a primitive or enum, or an ArrayOf. */
const F_BOX = 5;
const F_MOREF = 6;
const F_ARRAY = 7;
/** An object or array kept as read (RawObject, unknown[]). */
const F_RAW_OBJECT = 8;
const F_RAW_ARRAY = 9;
/** A value read and dropped. */
const F_SKIP = 10;

// How the next value is to be read (see slot()).
const S_TYPED = 0;
const S_GENERIC = 1;
const S_SKIP = 2;
const S_RAW = 3;
/** The value of an object's `_typeName` key. */
const S_TYPENAME = 4;

/**
 * One open object or array (or the document). Frames are kept per depth and reused by the next
 * container at that depth, as decode.ts does; every field is set again by `reset`.
 */
class Frame {
  kind = F_ROOT;
  /** F_PENDING, F_OBJECT: the declared type of this position (undefined: unknown or anyType). */
  declared: string | undefined = undefined;
  /** F_PENDING: the object is being replayed, so a `_typeName` can only be its first key. */
  replayed = false;
  /** F_OBJECT: its type, and whether that is settled (a `_typeName` was read) or only declared. */
  type: TypeInfo | undefined = undefined;
  settled = true;
  obj: Obj | undefined = undefined;
  /** F_OBJECT not settled: fields its declared type does not have, kept as read: key, value, key, value... */
  held: unknown[] | undefined = undefined;
  /** The current key and, in an F_OBJECT, its declaration. */
  key = '';
  field: FieldInfo | undefined = undefined;
  /** F_ARRAY: the item type (undefined: generic); F_BOX: the ArrayOf item type. */
  item: string | undefined = undefined;
  /** F_ARRAY: fills a declared array field (an empty one is left out, as XML has none). */
  arrayField = false;
  arr: unknown[] | undefined = undefined;
  /** F_BOX: the primitive of a primitive or enum box. */
  prim: string | undefined = undefined;
  /** F_BOX, F_ROOT: the value, and whether there was one. */
  value: unknown = undefined;
  has = false;
  /** F_MOREF */
  moType = '';
  moValue = '';
  /** F_RAW_*: what is being kept, and whether this frame is the outermost one (decoded when it ends). */
  raw: RawObject | unknown[] | undefined = undefined;
  rawRoot = false;

  reset(kind: number): this {
    this.kind = kind;
    this.declared = undefined;
    this.replayed = false;
    this.type = undefined;
    this.settled = true;
    this.obj = undefined;
    this.held = undefined;
    this.key = '';
    this.field = undefined;
    this.item = undefined;
    this.arrayField = false;
    this.arr = undefined;
    this.prim = undefined;
    this.value = undefined;
    this.has = false;
    this.moType = '';
    this.moValue = '';
    this.raw = undefined;
    this.rawRoot = false;
    return this;
  }

  /** Makes this frame an F_OBJECT of `info` (settled: see `settled`); returns its new object. */
  object(info: TypeInfo, settled: boolean): Obj {
    this.kind = F_OBJECT;
    this.type = info;
    this.settled = settled;
    return (this.obj = dataObject(info));
  }
}

/** A number where the schema does not say what it is: an integer exactly (a bigint beyond 2^53), else a double. */
function genericNumber(text: string): number | bigint {
  const n = Number(text);
  if (Number.isSafeInteger(n) || !/^-?\d+$/.test(text)) return n;
  const big = BigInt(text);
  return big > MAX_SAFE || big < -MAX_SAFE ? big : n;
}

/** Distinct type names an answer may give that the metadata does not know (a newer server has a few). */
export const MAX_UNKNOWN_TYPE_NAMES = 512;

/** Keys a VI/JSON fault object may carry its localized message in, when its type has no field of the name. */
const FAULT_MESSAGE_KEYS = ['faultstring', 'faultString', 'localizedMessage', 'msg', 'message'];

export class JsonResponseDecoder extends AnswerStrings implements JsonHandler {
  private readonly frames: Frame[] = [];
  private depth = 0;
  /** The next beginObject is a replayed object's that has no `_typeName` (or has it first). */
  private replaying = false;
  private readonly unknownNames = new Set<string>();
  /** The document's object named its type (a fault must). */
  private rootNamed = false;
  /** A fault object is expected (an error status), not the method's result. */
  private readonly faultExpected: boolean;

  // The slot of the value being read (slot()).
  private sMode = S_TYPED;
  private sType: string | undefined = undefined;
  private sArray = false;

  constructor(private readonly method: MethodInfo, private readonly status = 200) {
    super();
    this.faultExpected = status < 200 || status >= 300;
    this.push(F_ROOT);
  }

  /**
   * kindOf for a name an answer gave. The metadata finds a name it does not have by searching its
   * whole table (~0.4 ms), so an answer may name only so many types it does not know.
   */
  private kind(name: string): number {
    const k = kinds.get(name);
    if (k !== undefined) return k;
    if (this.unknownNames.has(name)) return T_UNKNOWN;
    if (this.unknownNames.size >= MAX_UNKNOWN_TYPE_NAMES) {
      throw new JsonLimitError('typeNames', `more than ${MAX_UNKNOWN_TYPE_NAMES} type names the metadata does not know`);
    }
    const found = kindOf(name);
    if (found === T_UNKNOWN) this.unknownNames.add(name);
    return found;
  }

  private push(kind: number): Frame {
    const f = (this.frames[this.depth] ??= new Frame()).reset(kind);
    this.depth++;
    return f;
  }

  private get top(): Frame {
    return this.frames[this.depth - 1]!;
  }

  /** Works out how the value starting now in the top frame is to be read: sMode, sType, sArray. */
  private slot(f: Frame): void {
    this.sArray = false;
    this.sType = undefined;
    switch (f.kind) {
      case F_ROOT: {
        if (this.faultExpected) {
          this.sMode = S_TYPED;
          this.sType = 'MethodFault';
          return;
        }
        const result = this.method.result;
        if (!result) {
          this.sMode = S_GENERIC;
          return;
        }
        this.sMode = S_TYPED;
        this.sType = result.type;
        this.sArray = result.array;
        return;
      }
      case F_OBJECT: {
        const fi = f.field;
        if (fi) {
          this.sMode = S_TYPED;
          this.sType = fi.type;
          this.sArray = fi.array;
        } else if (f.key === '_typeName') {
          this.sMode = f.settled ? S_SKIP : S_TYPENAME;
        } else {
          this.sMode = f.settled ? S_GENERIC : S_RAW;
        }
        return;
      }
      case F_ARRAY:
        if (f.item === undefined) this.sMode = S_GENERIC;
        else {
          this.sMode = S_TYPED;
          this.sType = f.item;
        }
        return;
      case F_BOX:
        if (f.key !== '_value') this.sMode = S_SKIP;
        else if (f.prim !== undefined) {
          this.sMode = S_TYPED;
          this.sType = f.prim;
        } else {
          this.sMode = S_TYPED;
          this.sType = f.item;
          this.sArray = true;
        }
        return;
      case F_GENERIC:
        this.sMode = f.key === '_typeName' ? S_SKIP : S_GENERIC;
        return;
      case F_MOREF:
        this.sMode = S_SKIP; // type and value are read by string()
        return;
      case F_TYPENAME:
        this.sMode = S_TYPENAME;
        return;
      case F_RAW_OBJECT:
      case F_RAW_ARRAY:
        this.sMode = S_RAW;
        return;
      default:
        this.sMode = S_SKIP;
    }
  }

  // --- events -------------------------------------------------------------------------------

  beginObject(): void {
    const parent = this.top;
    this.slot(parent);
    const replayed = this.replaying;
    this.replaying = false;
    switch (this.sMode) {
      case S_TYPED: {
        const t = this.sType!;
        const k = kindOf(t);
        if (k === T_MOREF) {
          this.push(F_MOREF);
          return;
        }
        const f = this.push(F_PENDING);
        f.declared = k === T_COMPLEX || k === T_ARRAY_BOX ? t : undefined;
        f.replayed = replayed;
        return;
      }
      case S_GENERIC: {
        const f = this.push(F_PENDING);
        f.replayed = replayed;
        return;
      }
      case S_RAW:
        this.push(F_RAW_OBJECT).raw = new RawObject();
        return;
      default:
        this.skip(parent);
    }
  }

  beginArray(): void {
    const parent = this.top;
    this.slot(parent);
    this.replaying = false;
    switch (this.sMode) {
      case S_TYPED: {
        const f = this.push(F_ARRAY);
        f.arr = [];
        f.item = this.sType;
        f.arrayField = this.sArray && parent.kind === F_OBJECT;
        return;
      }
      case S_GENERIC:
        this.push(F_ARRAY).arr = [];
        return;
      case S_RAW:
        this.push(F_RAW_ARRAY).raw = [];
        return;
      default:
        this.skip(parent);
    }
  }

  /** An object or array read and dropped: in an S_TYPENAME slot, `_typeName` is no name, and the object is read as if it had none. */
  private skip(parent: Frame): void {
    if (this.sMode === S_TYPENAME) this.noTypeName(parent);
    this.push(F_SKIP);
  }

  key(name: string): void {
    const f = this.top;
    switch (f.kind) {
      case F_OBJECT:
        f.key = name;
        f.field = f.type!.fieldMap.get(name);
        return;
      case F_PENDING:
        if (name === '_typeName') {
          f.kind = F_TYPENAME;
          return;
        }
        this.firstKeyNotTypeName(f);
        this.key(name);
        return;
      case F_RAW_OBJECT:
        (f.raw as RawObject).members.push(this.intern(name));
        return;
      default:
        f.key = name;
    }
  }

  endObject(): void {
    const f = this.top;
    let value: unknown;
    switch (f.kind) {
      case F_OBJECT:
        if (f.held) this.settle(f, undefined);
        value = f.obj;
        break;
      case F_GENERIC:
        value = f.obj;
        break;
      case F_PENDING: {
        // {}: an empty object of the declared type, as <x/> of a complex type is.
        const info = f.declared === undefined ? undefined : typeInfo(f.declared);
        value = info ? dataObject(info) : {};
        break;
      }
      case F_TYPENAME:
        // { "_typeName": } cannot end here: the reader would have refused it.
        value = {};
        break;
      case F_BOX:
        value = f.has ? f.value : f.prim !== undefined ? decodePrimitive(f.prim, '', this.str) : [];
        break;
      case F_MOREF:
        value = { type: this.intern(f.moType), value: this.intern(f.moValue) };
        break;
      case F_RAW_OBJECT:
        this.depth--;
        if (f.rawRoot) this.replay(f.raw);
        else this.keep(f.raw);
        return;
      default: // F_SKIP
        this.depth--;
        return;
    }
    this.depth--;
    this.put(value, false);
  }

  endArray(): void {
    const f = this.top;
    this.depth--;
    if (f.kind === F_ARRAY) {
      const arr = f.arr!;
      if (f.arrayField && arr.length === 0) return; // XML has no empty array: the field is absent
      this.put(arr, true);
    } else if (f.kind === F_RAW_ARRAY) {
      if (f.rawRoot) this.replay(f.raw);
      else this.keep(f.raw);
    }
  }

  string(value: string): void {
    const f = this.top;
    if (f.kind === F_MOREF) {
      if (f.key === 'type') f.moType = value;
      else if (f.key === 'value') f.moValue = value;
      return;
    }
    this.scalar(f, value, 0);
  }

  number(text: string): void {
    this.scalar(this.top, text, 1);
  }

  literal(value: boolean | null): void {
    this.scalar(this.top, value === null ? '' : value ? 'true' : 'false', value === null ? 3 : 2);
  }

  /** A scalar: `text` is a string's value, a number's text or a literal's; `what` 0 string, 1 number, 2 boolean, 3 null. */
  private scalar(f: Frame, text: string, what: number): void {
    this.slot(f);
    switch (this.sMode) {
      case S_TYPED: {
        if (what === 3) return; // null: absent
        const t = this.sType!;
        const k = kindOf(t);
        let v: unknown;
        if (k === T_PRIMITIVE) v = decodePrimitive(t, text, this.str);
        else if (k === T_ENUM) v = this.intern(text);
        else v = this.generic(text, what);
        this.put(v, false);
        return;
      }
      case S_GENERIC:
        if (what !== 3) this.put(this.generic(text, what), false);
        return;
      case S_RAW:
        this.keep(what === 0 ? this.intern(text) : what === 1 ? rawNumber(text) : what === 2 ? text === 'true' : null);
        return;
      case S_TYPENAME:
        if (what === 0) this.typeName(f, text);
        else this.noTypeName(f);
        return;
      default:
    }
  }

  /** A scalar where the schema says nothing: as JSON has it, numbers exactly. */
  private generic(text: string, what: number): unknown {
    if (what === 0) return this.intern(text);
    if (what === 1) return genericNumber(text);
    return text === 'true';
  }

  /** Hands a complete value to the frame it belongs to. */
  private put(value: unknown, isArray: boolean): void {
    const f = this.top;
    switch (f.kind) {
      case F_OBJECT: {
        const fi = f.field;
        if (fi) {
          f.obj![fi.name] = fi.array && !isArray ? [value] : value;
        } else {
          setMember(f.obj!, this.intern(f.key), value);
        }
        return;
      }
      case F_GENERIC:
        setMember(f.obj!, this.intern(f.key), value);
        return;
      case F_ARRAY:
        f.arr!.push(value);
        return;
      case F_BOX:
        f.value = f.prim === undefined && !isArray ? [value] : value;
        f.has = true;
        return;
      case F_ROOT: {
        const result = this.faultExpected ? undefined : this.method.result;
        f.value = result?.array && !isArray ? [value] : value;
        f.has = true;
        return;
      }
      default:
    }
  }

  // --- what an object is ---------------------------------------------------------------------

  /** An F_PENDING object whose first key is not `_typeName`. */
  private firstKeyNotTypeName(f: Frame): void {
    const info = f.declared === undefined ? undefined : typeInfo(f.declared);
    if (info) {
      // Its declared type's fields are read as they come; a `_typeName` may still name a subtype.
      f.object(info, f.replayed);
    } else if (f.replayed) {
      f.kind = F_GENERIC;
      f.obj = {};
    } else {
      // anyType or unknown: nothing can be decoded before the type is known.
      f.kind = F_RAW_OBJECT;
      f.raw = new RawObject();
      f.rawRoot = true;
    }
  }

  /** The `_typeName` of an object whose first key it is: what the object is. */
  private typeName(f: Frame, name: string): void {
    if (this.depth === 2) this.rootNamed = true;
    if (f.kind === F_OBJECT) {
      this.settle(f, name);
      return;
    }
    // F_TYPENAME
    let k = kinds.get(name);
    if (k === undefined) {
      // VI/JSON's own box names, then the metadata.
      const jsonPrim = JSON_PRIMITIVE.get(name);
      const jsonItem = JSON_ARRAY_ITEM.get(name);
      if (jsonPrim !== undefined || jsonItem !== undefined) {
        f.kind = F_BOX;
        if (jsonPrim !== undefined) f.prim = jsonPrim;
        else f.item = jsonItem;
        return;
      }
      k = this.kind(name);
    }
    switch (k) {
      case T_COMPLEX:
        f.object(typeInfo(name)!, true);
        return;
      case T_ARRAY_BOX:
        f.kind = F_BOX;
        f.item = arrayItems.get(name);
        return;
      case T_MOREF:
        f.kind = F_MOREF;
        return;
      case T_PRIMITIVE:
      case T_ENUM:
        f.kind = F_BOX;
        f.prim = k === T_ENUM ? 'string' : name;
        return;
      default:
    }
    // A type the metadata does not know (a newer server's): a subtype of the declared type keeps
    // that type's fields decoded; anything else is read generically. The name is kept either way.
    const declared = f.declared === undefined ? undefined : typeInfo(f.declared);
    const t = this.intern(name);
    if (declared) {
      f.object(declared, true)._typeName = t;
    } else {
      f.kind = F_GENERIC;
      f.obj = { _typeName: t };
    }
  }

  /** `_typeName` is not a string: the object is read as if it had none. */
  private noTypeName(f: Frame): void {
    if (f.kind === F_OBJECT) {
      if (f.held) this.settle(f, undefined);
      f.settled = true;
      return;
    }
    const info = f.declared === undefined ? undefined : typeInfo(f.declared);
    if (info) {
      f.object(info, true);
    } else {
      f.kind = F_GENERIC;
      f.obj = {};
    }
  }

  /**
   * An F_OBJECT read by its declared type learns its type: a `_typeName` after its first key
   * (`name`), or its end without one (undefined). The fields it held are decoded now.
   */
  private settle(f: Frame, name: string | undefined): void {
    if (name !== undefined && !f.settled) {
      const info = this.kind(name) === T_COMPLEX ? typeInfo(name) : undefined;
      if (info) f.type = info;
      f.obj!._typeName = info ? info.name : this.intern(name);
    }
    f.settled = true;
    const held = f.held;
    if (!held) return;
    f.held = undefined;
    const type = f.type!;
    for (let i = 0; i < held.length; i += 2) {
      const key = held[i] as string;
      f.key = key;
      f.field = type.fieldMap.get(key);
      this.replay(held[i + 1]);
    }
  }

  // --- values kept as read -------------------------------------------------------------------

  /** A value read in an S_RAW slot: into the raw container it belongs to, or held by an unsettled F_OBJECT. */
  private keep(value: unknown): void {
    const f = this.top;
    if (f.kind === F_RAW_OBJECT) (f.raw as RawObject).members.push(value);
    else if (f.kind === F_RAW_ARRAY) (f.raw as unknown[]).push(value);
    else if (f.kind === F_OBJECT) (f.held ??= []).push(this.intern(f.key), value);
  }

  /**
   * Decodes a value kept as read as if it were being read now, into the slot the top frame has
   * for it, with every object's `_typeName` first: each value kept is decoded once. Iterative, so
   * that no nesting the limits allow can overflow the stack.
   */
  private replay(value: unknown): void {
    // Open containers: the object or array, and the index of its next member (-1: an object's `_typeName`, first).
    const open: (RawObject | unknown[])[] = [];
    const next: number[] = [];
    /** Per open object, where its `_typeName` is (-1: none). */
    const typeAt: number[] = [];
    let v = value;
    for (;;) {
      if (v instanceof RawObject) {
        // Without `_typeName` first, the object would wait for one; with it first, it cannot come later.
        this.replaying = true;
        this.beginObject();
        this.replaying = false;
        open.push(v);
        next.push(-1);
        typeAt.push(typeNameAt(v.members));
      } else if (Array.isArray(v)) {
        this.beginArray();
        open.push(v);
        next.push(0);
        typeAt.push(-1);
      } else if (typeof v === 'string') {
        this.string(v);
      } else if (typeof v === 'number') {
        this.number(String(v));
      } else if (v instanceof RawNumber) {
        this.number(v.text);
      } else {
        this.literal(v as boolean | null);
      }
      // The next value to decode, closing the containers that have none left.
      for (;;) {
        const depth = open.length;
        if (depth === 0) return;
        const c = open[depth - 1]!;
        let i = next[depth - 1]!;
        if (c instanceof RawObject) {
          // i: the index of the next key in members (key, value, key, value...).
          const at = typeAt[depth - 1]!;
          const members = c.members;
          if (i === -1) {
            next[depth - 1] = 0;
            if (at >= 0) {
              this.key('_typeName');
              v = members[at + 1];
              break;
            }
            i = 0;
          }
          if (i === at) i += 2;
          if (i < members.length) {
            next[depth - 1] = i + 2;
            this.key(members[i] as string);
            v = members[i + 1];
            break;
          }
          open.pop();
          next.pop();
          typeAt.pop();
          this.endObject();
        } else {
          if (i < c.length) {
            next[depth - 1] = i + 1;
            v = c[i];
            break;
          }
          open.pop();
          next.pop();
          typeAt.pop();
          this.endArray();
        }
      }
    }
  }

  // --- the answer ----------------------------------------------------------------------------

  /** The decoded answer once the reader has ended; `empty`: the body held no value. */
  finish(empty: boolean): DecodedResponse {
    const root = this.frames[0]!;
    const name = this.method.name;
    if (this.faultExpected) {
      const fault = root.value;
      if (empty || !this.rootNamed || !fault || typeof fault !== 'object' || Array.isArray(fault) || typeof (fault as Obj)._typeName !== 'string') {
        throw new TransportError(`${name}: the HTTP ${this.status} answer is not a VI/JSON fault`, { code: 'ENOTSOAP', status: this.status });
      }
      return { kind: 'fault', fault: faultOf(fault as Obj & { _typeName: string }) };
    }
    const result = this.method.result;
    if (empty) {
      // No content: a void method's answer (and HTTP 204); a method that returns something says so.
      if (this.status !== 204 && result && !result.optional) {
        throw new TransportError(`${name}: empty VI/JSON answer`, { code: 'EBADJSON', status: this.status });
      }
      return { kind: 'result', value: result?.array ? [] : undefined };
    }
    if (!root.has && result?.array) return { kind: 'result', value: [] };
    return { kind: 'result', value: root.value };
  }
}

/** A VI/JSON fault object as the DecodedFault of a SOAP fault: the object, and its message apart. */
function faultOf(obj: Obj & { _typeName: string }): DecodedFault {
  const fields = typeInfo(obj._typeName)?.fieldMap;
  let faultString: string | undefined;
  for (const key of FAULT_MESSAGE_KEYS) {
    if (fields?.has(key) || !(key in obj)) continue;
    const v = obj[key];
    if (faultString === undefined && typeof v === 'string') faultString = v;
    delete obj[key];
  }
  if (faultString === undefined) {
    // The fault's own messages, as vCenter also sends them in faultMessage.
    const messages = obj.faultMessage;
    const first = Array.isArray(messages) ? (messages[0] as Obj | undefined) : undefined;
    if (first && typeof first.message === 'string') faultString = first.message;
  }
  return { faultCode: 'ServerFaultCode', faultString: faultString ?? '', detail: obj };
}

/** Syntax and limit errors become TransportErrors; anything else (a bug of ours) stays what it is. */
function asTransportError(method: string, err: unknown, status?: number): unknown {
  if (err instanceof JsonLimitError) {
    return new TransportError(`${method}: the answer is beyond the decoding limits: ${err.message}`, { code: 'ERESPONSELIMIT', status, cause: err });
  }
  if (err instanceof JsonSyntaxError) {
    return new TransportError(`${method}: malformed VI/JSON answer: ${err.message}`, { code: 'EBADJSON', status, cause: err });
  }
  return err;
}

function readerLimits(limits: JsonDecodeLimits): Partial<JsonLimits> {
  return {
    ...(limits.maxDepth !== undefined && { maxDepth: limits.maxDepth }),
    ...(limits.maxElements !== undefined && { maxValues: limits.maxElements }),
    ...(limits.maxMarkup !== undefined && { maxKey: limits.maxMarkup }),
    ...(limits.maxString !== undefined && { maxString: limits.maxString }),
  };
}

/** Decodes a complete VI/JSON answer held in memory (faults, small answers, tests). */
export function decodeJsonResponseText(method: MethodInfo, json: string, limits: JsonDecodeLimits = {}, status = 200): DecodedResponse {
  const decoder = new JsonResponseDecoder(method, status);
  const reader = new JsonReader(decoder, readerLimits(limits));
  try {
    if (limits.maxBytes !== undefined && Buffer.byteLength(json) > limits.maxBytes) {
      throw new TransportError(`${method.name}: response larger than ${limits.maxBytes} bytes`, { code: 'ERESPONSETOOLARGE', status });
    }
    reader.write(json);
    reader.end();
  } catch (err) {
    throw asTransportError(method.name, err, status);
  }
  return decoder.finish(reader.empty);
}

/** Decodes a VI/JSON answer as its chunks arrive, giving the event loop a turn every 256 KiB. */
export function decodeJsonResponseStream(method: MethodInfo, body: Readable, status: number, limits: JsonDecodeLimits = {}): Promise<DecodedResponse> {
  const decoder = new JsonResponseDecoder(method, status);
  const reader = new JsonReader(decoder, readerLimits(limits));
  return decodeAnswerStream(method.name, body, status, limits.maxBytes ?? Infinity, {
    write: (chunk) => reader.writeBytes(chunk),
    end: () => {
      reader.endBytes();
      return decoder.finish(reader.empty);
    },
  }, (err) => asTransportError(method.name, err, status));
}
