// Reads the managed-object model (../shared/vmodl/vim25-managed.json) and joins it with the
// WSDL's schema model. The WSDL knows data types and operations but not managed objects; the
// model knows managed types, their properties, each method's _this, task results and the
// release of each. Generated code covers only what both know: a method newer than the bundle
// has no request type to send, and a property whose data type the bundle lacks has no codec.
import { readFileSync } from 'node:fs';
import type { SchemaModel } from './schema.ts';

export type MemberKind = 'managed' | 'data' | 'enum' | 'primitive';

export interface ManagedTypeRef {
  type: string;
  array: boolean;
  kind: MemberKind;
}

export interface ManagedProperty extends ManagedTypeRef {
  name: string;
  optional: boolean;
  /** The release that introduced it; '' where the model has none (the PropertyCollector's own core). */
  since: string;
  privilege?: string | undefined;
}

export interface ManagedMethod {
  /** The WSDL operation. */
  name: string;
  vmodlName: string;
  since: string;
  params: Array<ManagedProperty & { secret: boolean }>;
  returns: ManagedTypeRef | null;
  optionalResult: boolean;
  faults: string[];
  taskResult?: ManagedTypeRef | undefined;
  privilege?: string | undefined;
}

export interface ManagedType {
  name: string;
  vmodlName: string;
  base: string | null;
  since: string;
  properties: ManagedProperty[];
  methods: ManagedMethod[];
}

export interface ManagedModel {
  versions: string[];
  managedTypes: ManagedType[];
  /** Data type -> field -> managed type it references (`HostSystem[]` for arrays). */
  dataTypeReferenceFields: Record<string, Record<string, string>>;
}

/** The model's name for "any managed object": a reference of any type. */
export const ANY_MANAGED = 'ManagedObject';

export function readManagedModel(path: string): ManagedModel {
  const json = JSON.parse(readFileSync(path, 'utf8')) as Partial<ManagedModel>;
  if (!Array.isArray(json.managedTypes) || !Array.isArray(json.versions) || typeof json.dataTypeReferenceFields !== 'object') {
    throw new Error(`${path}: not a managed-object model (managedTypes, versions, dataTypeReferenceFields expected)`);
  }
  return json as ManagedModel;
}

/** A managed method the WSDL also has, with the type whose _this it takes. */
export interface JoinedMethod {
  owner: string;
  method: ManagedMethod;
}

export interface JoinedModel {
  /** Every managed type, in model order. */
  types: Map<string, ManagedType>;
  /** Each type's properties the bundle can decode (own only). */
  properties: Map<string, ManagedProperty[]>;
  /** By operation name, only operations the bundle has. */
  methods: Map<string, JoinedMethod>;
  /** Data type -> field -> managed type, for fields the WSDL types as a plain ManagedObjectReference. */
  referenceFields: Map<string, Map<string, string>>;
  /** What the model knows and the bundle does not, named in the generated files. */
  skipped: { methods: string[]; properties: string[]; referenceTypes: string[] };
}

/** The managed type named by a model member: `ManagedObject` (any) is undefined. */
function referenced(m: ManagedTypeRef): string | undefined {
  return m.kind === 'managed' ? m.type : undefined;
}

export function joinModels(schema: SchemaModel, model: ManagedModel): JoinedModel {
  const types = new Map(model.managedTypes.map((t) => [t.name, t]));
  for (const t of types.values()) {
    if (t.base !== null && !types.has(t.base)) throw new Error(`managed type ${t.name}: unknown base ${t.base}`);
    if (schema.types.has(t.name) || schema.enums.has(t.name)) throw new Error(`managed type ${t.name} is also a data type of the bundle`);
  }
  const knownData = (m: ManagedTypeRef): boolean =>
    m.kind === 'managed' ? types.has(m.type) : m.kind === 'primitive' || schema.types.has(m.type) || schema.enums.has(m.type);

  const skipped = { methods: [] as string[], properties: [] as string[], referenceTypes: [] as string[] };
  const properties = new Map<string, ManagedProperty[]>();
  for (const t of types.values()) {
    properties.set(t.name, t.properties.filter((p) => {
      if (knownData(p)) return true;
      skipped.properties.push(`${t.name}.${p.name}`);
      return false;
    }));
  }

  const operations = new Map(schema.operations.map((op) => [op.name, op]));
  const methods = new Map<string, JoinedMethod>();
  const referenceFields = new Map<string, Map<string, string>>();
  const setRef = (dataType: string, field: string, managed: string): void => {
    const t = schema.types.get(dataType);
    const f = t?.fields.find((x) => x.name === field);
    if (!f) throw new Error(`${dataType}.${field}: not a field of the bundle`);
    if (f.type !== 'ManagedObjectReference') throw new Error(`${dataType}.${field}: a ${f.type}, not a ManagedObjectReference`);
    if (!types.has(managed)) throw new Error(`${dataType}.${field}: unknown managed type ${managed}`);
    let fields = referenceFields.get(dataType);
    if (!fields) referenceFields.set(dataType, (fields = new Map()));
    fields.set(field, managed);
  };

  for (const t of types.values()) {
    for (const m of t.methods) {
      const op = operations.get(m.name);
      if (!op) {
        skipped.methods.push(m.name);
        continue;
      }
      if (methods.has(m.name)) throw new Error(`method ${m.name} is declared twice in the model`);
      methods.set(m.name, { owner: t.name, method: m });
      setRef(op.requestType, '_this', t.name);
      for (const p of m.params) {
        const managed = referenced(p);
        if (managed) setRef(op.requestType, p.name, managed);
      }
    }
  }
  for (const op of schema.operations) if (!methods.has(op.name)) throw new Error(`operation ${op.name} is not in the managed-object model`);

  for (const [dataType, fields] of Object.entries(model.dataTypeReferenceFields)) {
    if (!schema.types.has(dataType)) {
      skipped.referenceTypes.push(dataType);
      continue;
    }
    for (const [field, target] of Object.entries(fields)) setRef(dataType, field, target.replace(/\[\]$/, ''));
  }
  return { types, properties, methods, referenceFields, skipped };
}

/** Ancestors of a managed type, nearest first. */
export function managedAncestors(joined: JoinedModel, name: string): string[] {
  const out: string[] = [];
  for (let t = joined.types.get(name)?.base; t; t = joined.types.get(t)?.base ?? null) out.push(t);
  return out;
}

/** Each managed type with the types derived from it (itself first, then model order). */
export function managedSubtypes(joined: JoinedModel): Map<string, string[]> {
  const out = new Map<string, string[]>([...joined.types.keys()].map((n) => [n, [n]]));
  for (const name of joined.types.keys()) for (const a of managedAncestors(joined, name)) out.get(a)!.push(name);
  return out;
}

