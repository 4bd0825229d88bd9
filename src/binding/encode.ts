// TS values -> the XML inside a vim25 request element, driven by the generated metadata:
// fields in xsd:sequence order (inherited first) whatever the JS key order, xsi:type where a
// subtype or an anyType value needs it, and every problem reported with its path before
// anything is sent. The walk and its checks are encode-walk.ts's (shared with json-encode.ts);
// this writes XML.
import { EncodeWalk, type MoRefValue, type Obj } from './encode-walk.ts';
import { MOREF, type FieldInfo, type MethodInfo, type TypeInfo } from './metadata.ts';
import { escapeText, XSD_PREFIX, VIM_PREFIX } from './xml.ts';

class Encoder extends EncodeWalk {
  protected quote(value: string, path: string): string {
    return escapeText(value, false, () => this.fail(path, 'contains a character XML cannot carry'));
  }

  protected nonFinite(value: number): string {
    if (Number.isNaN(value)) return 'NaN';
    return value > 0 ? 'INF' : '-INF';
  }

  protected quoteText(text: string): string {
    return text;
  }

  protected writePrimitive(name: string, text: string): void {
    this.out.push(`<${name}>${text}</${name}>`);
  }

  protected writeTypedPrimitive(name: string, type: string, text: string): void {
    this.out.push(`<${name} xsi:type="${XSD_PREFIX}${type}">${text}</${name}>`);
  }

  protected writeMoRef(name: string, ref: MoRefValue, path: string, anyType: boolean): void {
    const typeAttr = anyType ? ` xsi:type="${VIM_PREFIX}${MOREF}"` : '';
    this.out.push(`<${name}${typeAttr} type="${escapeText(ref.type, true, () => this.fail(`${path}.type`, 'contains a character XML cannot carry'))}">${this.text(ref.value, `${path}.value`)}</${name}>`);
  }

  protected writeObject(name: string, type: TypeInfo, obj: Obj, path: string, xsiType: boolean): void {
    this.out.push(`<${name}${xsiType ? ` xsi:type="${VIM_PREFIX}${type.name}"` : ''}>`);
    this.fields(type, obj, path);
    this.out.push(`</${name}>`);
  }

  protected writeArrayBox(name: string, type: TypeInfo, item: FieldInfo, items: unknown[], path: string): void {
    // As a data object of the ArrayOf type: its one field holds the items (paths `${path}.string[0]`...).
    this.object(name, type, { [item.name]: items }, path, true);
  }

  protected member(): void {}

  protected list(name: string, type: string, items: unknown[], path: string): void {
    items.forEach((item, i) => this.element(name, type, item, `${path}[${i}]`));
  }
}

/** The XML children of the `method` request element for `_this` and `args`. */
export function encodeRequest(method: MethodInfo, _this: unknown, args: object | undefined): string {
  const enc = new Encoder(method.name);
  const obj: Obj = { ...(args as Obj | undefined), _this };
  if ('_typeName' in obj) enc.fail('_typeName', 'method arguments have no _typeName');
  enc.fields(method.request, obj, '');
  return enc.out.join('');
}
