// TS values -> the JSON body of a VI/JSON request (vCenter 8.0U1+), driven by the generated
// metadata as encode.ts is for SOAP: the same walk (encode-walk.ts, which both encoders extend),
// the same checks and the same ValidationError (method, path, problem) for the same bad argument,
// so a call refused on one wire is refused on the other before anything is sent. What differs is
// only how values are written:
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
import { EncodeWalk, type MoRefValue, type Obj } from './encode-walk.ts';
import { MOREF, type FieldInfo, type MethodInfo, type TypeInfo } from './metadata.ts';

/** VI/JSON's names for boxes that the WSDL spells otherwise. */
const JSON_BOX_NAME: Readonly<Record<string, string>> = { base64Binary: 'binary', ArrayOfBase64Binary: 'ArrayOfBinary' };

const MOREF_TYPE_NAME = `"_typeName":"${MOREF}"`;

/** encode-walk.ts's walk and checks, writing VI/JSON; `name` (an XML element's) is not used. */
class JsonEncoder extends EncodeWalk {
  protected quote(value: string): string {
    return JSON.stringify(value);
  }

  protected nonFinite(value: number, _type: string, path: string): string {
    return this.fail(path, `${String(value)} cannot be sent in VI/JSON (JSON has no NaN or Infinity)`);
  }

  protected quoteText(text: string): string {
    return `"${text}"`;
  }

  protected writePrimitive(_name: string, text: string): void {
    this.out.push(text);
  }

  protected writeTypedPrimitive(_name: string, type: string, text: string): void {
    this.out.push(`{"_typeName":"${JSON_BOX_NAME[type] ?? type}","_value":${text}}`);
  }

  protected writeMoRef(_name: string, ref: MoRefValue, path: string): void {
    this.out.push(`{${MOREF_TYPE_NAME},"type":${JSON.stringify(ref.type)},"value":${this.text(ref.value, `${path}.value`)}}`);
  }

  protected writeObject(_name: string, type: TypeInfo, obj: Obj, path: string): void {
    this.out.push(`{"_typeName":${JSON.stringify(type.name)}`);
    this.fields(type, obj, path, true);
    this.out.push('}');
  }

  protected writeArrayBox(name: string, type: TypeInfo, item: FieldInfo, items: unknown[], path: string): void {
    // As encode.ts: the items are the ArrayOf type's one field (paths `${path}.string[0]`...).
    this.out.push(`{"_typeName":"${JSON_BOX_NAME[type.name] ?? type.name}","_value":`);
    this.list(name, item.type, items, `${path}.${item.name}`);
    this.out.push('}');
  }

  protected member(name: string, more: boolean): void {
    this.out.push(`${more ? ',' : ''}${JSON.stringify(name)}:`);
  }

  /** `items` as a JSON array. */
  list(name: string, type: string, items: unknown[], path: string): void {
    this.out.push('[');
    items.forEach((v, i) => {
      if (i > 0) this.out.push(',');
      this.element(name, type, v, `${path}[${i}]`);
    });
    this.out.push(']');
  }
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
    enc.list(type, type, value, '');
  } else {
    enc.element(type, type, value, '');
  }
  return enc.out.join('');
}
