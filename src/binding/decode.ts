// SOAP response XML (as SAX events) -> clean TS values, driven by the generated metadata:
// `_typeName` on every data object, arrays where the schema says maxOccurs="unbounded",
// primitives by declared type or xsi:type, MoRefs as { type, value }, and anything the
// metadata does not know (a newer server) decoded generically instead of failing.
import type { Readable } from 'node:stream';
import { TransportError } from '../errors.ts';
import { decodeAnswerStream } from './answer-stream.ts';
import { AnswerStrings, dataObject, decodePrimitive } from './decode-values.ts';
import { MOREF, PRIMITIVES, isEnum, typeInfo, type FieldInfo, type MethodInfo, type TypeInfo } from './metadata.ts';
import { XSI_NS, localName } from './xml.ts';
import { NO_ATTRIBUTES, XmlLimitError, XmlReader, XmlSyntaxError, type XmlHandler, type XmlLimits } from './xml-reader.ts';

type Obj = Record<string, unknown>;

/**
 * One open element. Frames are kept per depth and reused by the next element at that depth
 * (an answer is deep but narrow: 11 levels for 299 012 elements in the 2048-VM retrieve), so
 * decoding allocates none per element; every field is set again by `reset` or `structural`.
 */
class Frame {
  name = '';
  /** How the parent declared this element; undefined when the parent does not know it. */
  field: FieldInfo | undefined = undefined;
  /** Data object being built (complex types), or undefined for text/MoRef/generic leaves. */
  type: TypeInfo | undefined = undefined;
  /** Primitive to convert the text to (enums decode as strings). */
  prim: string | undefined = undefined;
  /** The type named by xsi:type when the metadata does not know it. */
  unknownType: string | undefined = undefined;
  moType: string | undefined = undefined;
  /** ArrayOfX in an anyType position: the value is the inner array. */
  unwrap = false;
  value: Obj | undefined = undefined;
  text = '';
  /** Child element declarations for structural (non-data) elements: Body, the response, Fault detail. */
  children: ((name: string) => FieldInfo | undefined) | undefined = undefined;
  /** Generic objects: names seen more than once, collected into arrays. */
  repeated: Set<string> | undefined = undefined;

  reset(name: string, field: FieldInfo | undefined): this {
    this.name = name;
    this.field = field;
    this.type = undefined;
    this.prim = undefined;
    this.unknownType = undefined;
    this.moType = undefined;
    this.unwrap = false;
    this.value = undefined;
    this.text = '';
    this.children = undefined;
    this.repeated = undefined;
    return this;
  }
}

export interface DecodedFault {
  faultCode: string;
  faultString: string;
  /** The vim25 fault object from <detail>, if any. */
  detail: (Obj & { _typeName: string }) | undefined;
}

export type DecodedResponse = { kind: 'result'; value: unknown } | { kind: 'fault'; fault: DecodedFault };

function field(name: string, type: string, array = false): FieldInfo {
  return { name, type, optional: true, array, secret: false };
}

export class ResponseDecoder extends AnswerStrings implements XmlHandler {
  /** Frames by depth, reused (see Frame); `depth` of them are open. */
  private readonly frames: Frame[] = [];
  private depth = 0;
  /** The names an xsi:type attribute has in this answer: `xsi:type`, and `p:type` for every prefix bound to XSI_NS. */
  private readonly xsiTypeNames = new Set<string>(['xsi:type']);
  private result: unknown;
  private resultSeen = false;
  private fault: DecodedFault | undefined;
  private sawEnvelope = false;
  private sawResponse = false;

  constructor(private readonly method: MethodInfo, private readonly status = 200) {
    super();
  }

  /** Opens a frame at the next depth: the one this depth had before, or a new one. */
  private push(name: string, fieldInfo: FieldInfo | undefined): Frame {
    const f = (this.frames[this.depth] ??= new Frame()).reset(name, fieldInfo);
    this.depth++;
    return f;
  }

  private frame(name: string, fieldInfo: FieldInfo | undefined, xsiType: string | undefined, attrs: Record<string, string>): void {
    const f = this.push(name, fieldInfo);
    const declared = fieldInfo?.type;
    const typeName = xsiType ?? (declared === 'anyType' ? undefined : declared);
    if (typeName === undefined) {
      // Unknown field or an anyType value without xsi:type: a MoRef if it looks like one, else text or generic object.
      f.moType = attrs.type;
      return;
    }
    if (typeName === MOREF) {
      f.moType = attrs.type ?? '';
      return;
    }
    if (PRIMITIVES.has(typeName)) {
      f.prim = typeName;
      return;
    }
    if (isEnum(typeName)) {
      f.prim = 'string';
      return;
    }
    const info = typeInfo(typeName);
    if (!info) {
      f.unknownType = typeName;
      return;
    }
    f.type = info;
    f.value = dataObject(info);
    f.unwrap = declared === 'anyType' && info.name.startsWith('ArrayOf') && info.fields.length === 1;
  }

  private xsiType(attrs: Record<string, string>): string | undefined {
    for (const k in attrs) if (this.xsiTypeNames.has(k)) return localName(attrs[k]!);
    return undefined;
  }

  open(qname: string, attrs: Record<string, string>): void {
    if (attrs !== NO_ATTRIBUTES) for (const k in attrs) if (k.startsWith('xmlns:') && attrs[k] === XSI_NS) this.xsiTypeNames.add(`${k.slice(6)}:type`);
    const name = localName(qname);
    const parent = this.depth > 0 ? this.frames[this.depth - 1]! : undefined;
    if (!parent) {
      if (name !== 'Envelope') {
        throw new TransportError(`${this.method.name}: the HTTP ${this.status} answer is not SOAP (a <${name.slice(0, 64)}> document)`, { code: 'ENOTSOAP', status: this.status });
      }
      this.sawEnvelope = true;
      this.structural(name, (n) => (n === 'Body' || n === 'Header' ? field(n, '#struct') : undefined));
      return;
    }
    let decl: FieldInfo | undefined;
    if (parent.children) decl = parent.children(name);
    else if (parent.type) decl = parent.type.fieldMap.get(name);
    if (decl?.type === '#struct') {
      this.structural(name, this.structureOf(parent.name, name));
      return;
    }
    if (parent.type === undefined && parent.children === undefined && parent.value === undefined) parent.value = {};
    this.frame(name, decl, this.xsiType(attrs), attrs);
  }

  private structural(name: string, children: (name: string) => FieldInfo | undefined): void {
    const f = this.push(name, undefined);
    f.value = {};
    f.children = children;
  }

  /** Declarations below the structural elements of a SOAP 1.1 answer. */
  private structureOf(parent: string, name: string): (child: string) => FieldInfo | undefined {
    if (name === 'Body') {
      const responseName = `${this.method.name}Response`;
      return (n) => (n === responseName || n === 'Fault' ? field(n, '#struct') : undefined);
    }
    if (name === `${this.method.name}Response`) this.sawResponse = true;
    if (name === 'Fault' && parent === 'Body') return (n) => (n === 'detail' ? field(n, '#struct') : field(n, 'string'));
    if (name === 'detail') return (n) => field(n, typeInfo(n.replace(/Fault$/, '')) ? n.replace(/Fault$/, '') : 'anyType');
    if (name === 'Header') return () => undefined;
    const result = this.method.result;
    return (n) => (n === 'returnval' && result ? result : undefined);
  }

  text(text: string): void {
    if (this.depth > 0) this.frames[this.depth - 1]!.text += text;
  }

  close(): void {
    // The frame stays in `frames` for the next element at its depth: everything it holds is
    // read here, before any other element opens.
    const f = this.frames[--this.depth]!;
    const parent = this.depth > 0 ? this.frames[this.depth - 1]! : undefined;
    const value = this.finishFrame(f);
    if (!parent) return;
    if (f.children) {
      this.closeStructural(parent, f, value);
      return;
    }
    if (parent.children) {
      if (parent.name === `${this.method.name}Response`) this.addResult(value);
      else (parent.value as Obj)[f.name] = value;
      return;
    }
    const target = parent.value as Obj;
    if (f.field?.array) {
      ((target[f.name] ??= []) as unknown[]).push(value);
    } else if (f.field || !(f.name in target)) {
      target[f.name] = value;
    } else if (parent.repeated?.has(f.name)) {
      (target[f.name] as unknown[]).push(value);
    } else {
      target[f.name] = [target[f.name], value];
      (parent.repeated ??= new Set()).add(f.name);
    }
  }

  private closeStructural(parent: Frame, f: Frame, value: unknown): void {
    if (f.name === 'Fault') {
      const v = f.value as Obj;
      const detail = v.detail as Obj | undefined;
      const first = detail && Object.values(detail).find((d) => d && typeof d === 'object') as (Obj & { _typeName?: string }) | undefined;
      this.fault = {
        faultCode: typeof v.faultcode === 'string' ? v.faultcode : '',
        faultString: typeof v.faultstring === 'string' ? v.faultstring : '',
        detail: first && typeof first._typeName === 'string' ? (first as Obj & { _typeName: string }) : undefined,
      };
    } else if (parent.value) {
      (parent.value as Obj)[f.name] = value;
    }
  }

  private addResult(value: unknown): void {
    if (this.method.result?.array) ((this.result ??= []) as unknown[]).push(value);
    else this.result = value;
    this.resultSeen = true;
  }

  private finishFrame(f: Frame): unknown {
    if (f.children) return f.value;
    if (f.type) {
      const obj = f.value!;
      if (f.unwrap) return obj[f.type.fields[0]!.name] ?? [];
      return obj;
    }
    if (f.prim) return decodePrimitive(f.prim, f.text, this.str);
    if (f.value) return f.unknownType ? { _typeName: f.unknownType, ...f.value } : f.value;
    if (f.moType !== undefined) return { type: this.intern(f.moType), value: this.intern(f.text) };
    if (f.unknownType) return { _typeName: f.unknownType, _value: this.intern(f.text) };
    return this.intern(f.text);
  }

  finish(): DecodedResponse {
    if (!this.sawEnvelope || this.depth > 0) throw new TransportError(`${this.method.name}: truncated SOAP answer`, { code: 'ETRUNCATED', status: this.status });
    if (this.fault) return { kind: 'fault', fault: this.fault };
    if (!this.sawResponse) throw new TransportError(`${this.method.name}: the HTTP ${this.status} SOAP answer has neither ${this.method.name}Response nor a Fault`, { code: 'ENOTSOAP', status: this.status });
    if (!this.resultSeen && this.method.result?.array) return { kind: 'result', value: [] };
    return { kind: 'result', value: this.result };
  }
}

/** XML syntax and limit errors become TransportErrors; anything else (a bug of ours) stays what it is. */
function asTransportError(method: string, err: unknown, status?: number): unknown {
  if (err instanceof XmlLimitError) {
    return new TransportError(`${method}: the answer is beyond the decoding limits: ${err.message}`, { code: 'ERESPONSELIMIT', status, cause: err });
  }
  if (!(err instanceof XmlSyntaxError)) return err;
  const code = /DOCTYPE/.test(err.message) ? 'EDOCTYPE' : 'EBADXML';
  return new TransportError(`${method}: malformed SOAP answer: ${err.message}`, { code, status, cause: err });
}

/** What an answer may cost to decode: its (decompressed) bytes and its XML's shape. */
export interface DecodeLimits extends Partial<XmlLimits> {
  maxBytes?: number;
}

/** Decodes a complete SOAP answer held in memory (faults, small answers, tests). */
export function decodeResponseText(method: MethodInfo, xml: string, limits: DecodeLimits = {}, status = 200): DecodedResponse {
  const decoder = new ResponseDecoder(method, status);
  try {
    const reader = new XmlReader(decoder, limits);
    reader.write(xml);
    reader.end();
  } catch (err) {
    throw asTransportError(method.name, err, status);
  }
  return decoder.finish();
}

/** Decodes a SOAP answer as its chunks arrive, so a large answer never blocks the event loop at once. */
export function decodeResponseStream(method: MethodInfo, body: Readable, status: number, limits: DecodeLimits = {}): Promise<DecodedResponse> {
  const decoder = new ResponseDecoder(method, status);
  const reader = new XmlReader(decoder, limits);
  return decodeAnswerStream(method.name, body, status, limits.maxBytes ?? Infinity, {
    write: (chunk) => reader.writeBytes(chunk),
    end: () => {
      reader.endBytes();
      return decoder.finish();
    },
  }, (err) => asTransportError(method.name, err, status));
}
