// Reads the vim25 WSDL bundle into a small model the generator emits from.
// The bundle uses a narrow subset of XML Schema (sequence, complexContent/extension, one
// simpleContent, string enumerations); anything outside it is an error, so a new bundle
// that needs more cannot slip through half-understood.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';

export interface Field {
  name: string;
  type: string;
  optional: boolean;
  array: boolean;
}

export interface ComplexType {
  name: string;
  base?: string;
  fields: Field[];
  /** simpleContent: the text value's type (only ManagedObjectReference uses it). */
  textType?: string;
  attributes?: Field[];
}

export interface EnumType {
  name: string;
  values: string[];
}

export interface Operation {
  name: string;
  requestType: string;
  result?: { type: string; optional: boolean; array: boolean } | undefined;
  faults: string[];
}

export interface SchemaModel {
  types: Map<string, ComplexType>;
  enums: Map<string, EnumType>;
  operations: Operation[];
  /** soapAction of the bundle's binding, e.g. urn:vim25/7.0.3.0 */
  soapAction: string;
  files: string[];
}

const ARRAY_TAGS = new Set([
  'complexType', 'simpleType', 'element', 'enumeration', 'include', 'import', 'schema',
  'message', 'part', 'operation', 'fault', 'attribute',
]);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  removeNSPrefix: true,
  isArray: (tag, _path, _leaf, isAttribute) => !isAttribute && ARRAY_TAGS.has(tag),
});

type Node = Record<string, any>;

function localName(qname: string): string {
  const i = qname.indexOf(':');
  return i < 0 ? qname : qname.slice(i + 1);
}

/** Maps `xsd:int` to `int`, `vim25:Foo` to `Foo`: vim25 type names never collide with XSD's. */
export function typeRef(qname: string): string {
  return localName(qname);
}

function loadDoc(path: string): Node {
  return parser.parse(readFileSync(path, 'utf8'));
}

/** Every file of the bundle, starting at vimService.wsdl and following import/include. */
export function bundleFiles(dir: string, entry = 'vimService.wsdl'): string[] {
  const seen: string[] = [];
  const visit = (name: string): void => {
    if (seen.includes(name)) return;
    seen.push(name);
    for (const ref of referencedFiles(readFileSync(join(dir, name), 'utf8'))) visit(join(dirname(name), ref).replace(/^\.\//, ''));
  };
  visit(entry);
  return seen;
}

/** The relative locations a WSDL or XSD document imports or includes. */
export function referencedFiles(text: string): string[] {
  const refs: string[] = [];
  const re = /<(?:[\w]+:)?(?:import|include)\b[^>]*?\b(?:location|schemaLocation)\s*=\s*"([^"]+)"/g;
  for (let m = re.exec(text); m; m = re.exec(text)) refs.push(m[1]!);
  return refs;
}

function parseSequence(owner: string, seq: Node | undefined): Field[] {
  if (!seq || typeof seq !== 'object') return [];
  const unknown = Object.keys(seq).filter((k) => k !== 'element');
  if (unknown.length) throw new Error(`${owner}: unsupported sequence content ${unknown.join(', ')}`);
  return (seq.element ?? []).map((e: Node): Field => {
    if (!e.name || !e.type) throw new Error(`${owner}: element without name or type`);
    if (e.minOccurs !== undefined && e.minOccurs !== '0') throw new Error(`${owner}.${e.name}: minOccurs=${e.minOccurs}`);
    if (e.maxOccurs !== undefined && e.maxOccurs !== 'unbounded') throw new Error(`${owner}.${e.name}: maxOccurs=${e.maxOccurs}`);
    return { name: e.name, type: typeRef(e.type), optional: e.minOccurs === '0', array: e.maxOccurs === 'unbounded' };
  });
}

function parseComplexType(ct: Node): ComplexType {
  const name: string = ct.name;
  if (ct.complexContent) {
    const ext = ct.complexContent.extension;
    if (!ext?.base) throw new Error(`${name}: complexContent without extension`);
    return { name, base: typeRef(ext.base), fields: parseSequence(name, ext.sequence) };
  }
  if (ct.simpleContent) {
    const ext = ct.simpleContent.extension;
    const attributes = (ext.attribute ?? []).map((a: Node) => ({ name: a.name, type: typeRef(a.type), optional: a.use !== 'required', array: false }));
    return { name, fields: [], textType: typeRef(ext.base), attributes };
  }
  return { name, fields: parseSequence(name, ct.sequence) };
}

function collectSchema(schema: Node, model: SchemaModel, elements: Map<string, Node>): void {
  for (const ct of schema.complexType ?? []) {
    if (model.types.has(ct.name)) throw new Error(`complexType ${ct.name} is defined twice`);
    model.types.set(ct.name, parseComplexType(ct));
  }
  for (const st of schema.simpleType ?? []) {
    const values = (st.restriction?.enumeration ?? []).map((e: Node) => String(e.value));
    if (!values.length) throw new Error(`simpleType ${st.name} is not an enumeration`);
    model.enums.set(st.name, { name: st.name, values });
  }
  for (const el of schema.element ?? []) elements.set(el.name, el);
}

export function readBundle(dir: string): SchemaModel {
  const model: SchemaModel = { types: new Map(), enums: new Map(), operations: [], soapAction: '', files: bundleFiles(dir) };
  const elements = new Map<string, Node>();
  let wsdl: Node | undefined;
  for (const file of model.files) {
    const doc = loadDoc(join(dir, file));
    if (doc.schema) for (const s of doc.schema) collectSchema(s, model, elements);
    const defs = doc.definitions;
    if (defs?.types) for (const s of defs.types.schema ?? []) collectSchema(s, model, elements);
    if (defs?.portType) wsdl = defs;
  }
  if (!wsdl) throw new Error('no portType found in the bundle');

  const messages = new Map<string, string>();
  for (const m of wsdl.message ?? []) messages.set(m.name, localName(m.part[0].element));
  const elementType = (elementName: string): string => {
    const el = elements.get(elementName);
    if (!el?.type) throw new Error(`element ${elementName} has no named type`);
    return typeRef(el.type);
  };

  const portType = Array.isArray(wsdl.portType) ? wsdl.portType[0] : wsdl.portType;
  for (const op of portType.operation) {
    const input = messages.get(localName(op.input.message))!;
    const output = messages.get(localName(op.output.message))!;
    const returnval = parseSequence(output, elements.get(output)?.complexType?.[0]?.sequence).find((f) => f.name === 'returnval');
    model.operations.push({
      name: op.name,
      requestType: elementType(input),
      result: returnval && { type: returnval.type, optional: returnval.optional, array: returnval.array },
      faults: (op.fault ?? []).map((f: Node) => elementType(messages.get(localName(f.message))!)),
    });
  }
  const binding = Array.isArray(wsdl.binding) ? wsdl.binding[0] : wsdl.binding;
  model.soapAction = binding.operation[0].operation[0].soapAction;
  return model;
}
