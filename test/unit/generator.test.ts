// The generator against the bundle: counts checked by an independent reading of the raw files,
// the committed output checked by regenerating it, and each transform on a small model.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundleDir, managedModelPath, ROOT } from '../../scripts/lib/paths.ts';
import { argsTs, emitMetadata, emitMethods, emitTypes, F_ARRAY, F_OPTIONAL, F_SECRET } from '../../scripts/lib/emit.ts';
import { emitManaged, emitModelMetadata, emitPaths } from '../../scripts/lib/emit-managed.ts';
import { generateAll } from '../../scripts/lib/generated.ts';
import { joinModels, readManagedModel, type ManagedMethod, type ManagedModel } from '../../scripts/lib/managed.ts';
import type { SchemaModel } from '../../scripts/lib/schema.ts';
import { ENUMS, METHODS, TYPES } from '../../src/generated/metadata.ts';
import { MANAGED_METHODS, MANAGED_TYPES } from '../../src/generated/model.ts';

const dir = bundleDir();
const generated = join(ROOT, 'src/generated');
const read = (f: string): string => readFileSync(join(dir, f), 'utf8');

describe('generated code covers the whole bundle (counted independently in the raw XSD/WSDL text)', () => {
  const files = readdirSync(dir).filter((f) => /\.(xsd|wsdl)$/.test(f));
  const all = files.map(read);
  const complexTypes = all.reduce((n, t) => n + (t.match(/<complexType\s+name="/g)?.length ?? 0), 0);
  const enums = all.reduce((n, t) => n + [...t.matchAll(/<simpleType\s+name="[^"]+">([\s\S]*?)<\/simpleType>/g)].filter((m) => m[1]!.includes('<enumeration')).length, 0);
  const wsdl = read('vim.wsdl');
  const portType = wsdl.slice(wsdl.indexOf('<portType'), wsdl.indexOf('</portType>'));
  const operations = portType.match(/<operation\s+name="/g)?.length ?? 0;
  const types = readFileSync(join(generated, 'types.ts'), 'utf8');
  const methods = readFileSync(join(generated, 'methods.ts'), 'utf8');

  it('has an interface and a metadata row for every complex type', () => {
    expect(complexTypes).toBeGreaterThan(1000);
    expect(types.match(/^export interface (?!DataTypes |FaultTypes )/gm)?.length).toBe(complexTypes);
    expect(types.slice(types.indexOf('export interface DataTypes {'), types.indexOf('export interface FaultTypes {')).match(/^ {2}(\w+): \1;$/gm)?.length).toBe(complexTypes); // one DataTypes entry each
    expect(TYPES.split('\n').length).toBe(complexTypes);
  });

  it('has a union and a runtime list for every enum', () => {
    expect(enums).toBeGreaterThan(100);
    expect(types.match(/^export type \w+ =\n {2}\| /gm)?.length).toBe(enums);
    expect(ENUMS.split('\n').length).toBe(enums);
  });

  it('has every operation of the portType', () => {
    expect(operations).toBeGreaterThan(500);
    expect(methods.match(/^ {2}\w+: \{ this: '\w+'; args: /gm)?.length).toBe(operations);
    expect(METHODS.split('\n').length).toBe(operations);
  });
});

describe('generated code covers the managed-object model where the bundle has it', () => {
  const model = readManagedModel(managedModelPath());
  const operations = new Set(METHODS.split('\n').map((row) => row.slice(0, row.indexOf('|'))));
  const modelMethods = model.managedTypes.flatMap((t) => t.methods.map((m) => [t.name, m] as const));
  const methods = readFileSync(join(generated, 'methods.ts'), 'utf8');

  it('types every operation\'s _this by the model, and names the model\'s methods the bundle lacks', () => {
    const rows = new Map(MANAGED_METHODS.split('\n').map((row) => [row.split('|')[0], row.split('|')[1]]));
    const inBundle = modelMethods.filter(([, m]) => operations.has(m.name));
    expect(inBundle.length).toBe(operations.size);
    for (const [owner, m] of inBundle) {
      expect(rows.get(m.name), m.name).toBe(owner);
      expect(methods, m.name).toContain(`  ${m.name}: { this: '${owner}'; `);
    }
    const newer = modelMethods.filter(([, m]) => !operations.has(m.name)).map(([, m]) => m.name);
    expect(newer.length).toBe(modelMethods.length - operations.size);
    expect(newer.length).toBeGreaterThan(0);
    expect(methods).toContain(`not here (the bundle has no request type for them): ${newer.join(', ')}.`);
  });

  it('has a runtime row for every managed type', () => {
    expect(MANAGED_TYPES.split('\n').map((row) => row.split('|')[0])).toEqual(model.managedTypes.map((t) => t.name));
  });
});

describe('committed src/generated matches the generator', () => {
  // What scripts/generate.ts writes (it only writes these out; CI runs the script itself too).
  it('regenerates byte for byte', () => {
    const { files } = generateAll(dir, managedModelPath());
    const names = readdirSync(generated).sort();
    expect(Object.keys(files).sort()).toEqual(names);
    for (const name of names) {
      expect(files[name], name).toBe(readFileSync(join(generated, name), 'utf8'));
    }
  });
});

describe('emit transforms', () => {
  const field = (name: string, type: string, optional = false, array = false) => ({ name, type, optional, array });
  const model: SchemaModel = {
    types: new Map([
      ['DynamicData', { name: 'DynamicData', fields: [] }],
      ['Base', { name: 'Base', base: 'DynamicData', fields: [field('key', 'string')] }],
      ['Leaf', {
        name: 'Leaf', base: 'Base', fields: [
          field('count', 'long', true),
          field('tags', 'string', true, true),
          field('password', 'string'),
          field('state', 'Power', true),
          field('owner', 'ManagedObjectReference', true),
          field('next', 'Leaf', true),
        ],
      }],
      ['LeafRequestType', { name: 'LeafRequestType', fields: [field('_this', 'ManagedObjectReference'), field('leaf', 'Leaf', false, true), field('target', 'ManagedObjectReference', true)] }],
      ['ManagedObjectReference', { name: 'ManagedObjectReference', fields: [], textType: 'string', attributes: [] }],
      ['MethodFault', { name: 'MethodFault', fields: [field('faultMessage', 'string', true, true)] }],
      ['InvalidArgument', { name: 'InvalidArgument', base: 'MethodFault', fields: [] }],
    ]),
    enums: new Map([['Power', { name: 'Power', values: ['on', 'off'] }]]),
    operations: [
      { name: 'DoLeaf', requestType: 'LeafRequestType', result: { type: 'Leaf', optional: false, array: true }, faults: ['InvalidArgument'] },
      { name: 'Maybe', requestType: 'LeafRequestType', result: { type: 'dateTime', optional: true, array: false }, faults: [] },
      { name: 'Nothing', requestType: 'LeafRequestType', result: undefined, faults: [] },
      { name: 'Grow_Task', requestType: 'LeafRequestType', result: { type: 'ManagedObjectReference', optional: false, array: false }, faults: [] },
      { name: 'Spawn', requestType: 'LeafRequestType', result: { type: 'ManagedObjectReference', optional: true, array: false }, faults: [] },
    ],
    soapAction: 'urn:vim25/9.9.9.9',
    files: [],
  };
  const method = (name: string, over: Partial<ManagedMethod> = {}): ManagedMethod =>
    ({ name, vmodlName: name.toLowerCase(), since: '2.0', params: [], returns: null, optionalResult: false, faults: [], ...over });
  const prop = (name: string, type: string, kind: 'managed' | 'data' | 'enum' | 'primitive', optional: boolean, extra: { array?: boolean; privilege?: string; since?: string } = {}) =>
    ({ name, type, kind, optional, array: extra.array ?? false, since: extra.since ?? '2.0', ...(extra.privilege && { privilege: extra.privilege }) });
  const managed: ManagedModel = {
    versions: ['1.0', '2.0', '9.9.9.9'],
    managedTypes: [
      { name: 'Entity', vmodlName: 'vim.Entity', base: null, since: '1.0', properties: [prop('name', 'string', 'primitive', false, { since: '1.0' }), prop('parent', 'Folder', 'managed', true, { since: '1.0' })], methods: [] },
      {
        name: 'Machine', vmodlName: 'vim.Machine', base: 'Entity', since: '2.0',
        properties: [
          prop('leaf', 'Leaf', 'data', true, { privilege: 'System.View' }),
          prop('peers', 'Machine', 'managed', true, { array: true }),
          prop('future', 'FutureInfo', 'data', true, { since: '9.9.9.9' }),
        ],
        methods: [
          method('DoLeaf', { params: [{ ...prop('leaf', 'Leaf', 'data', false, { array: true }), secret: false }, { ...prop('target', 'Folder', 'managed', true), secret: false }], returns: { type: 'Leaf', array: true, kind: 'data' }, faults: ['InvalidArgument'], privilege: 'Machine.Do' }),
          method('Maybe', { since: '9.9.9.9' }),
          method('Nothing'),
          method('Grow_Task', { returns: { type: 'Task', array: false, kind: 'managed' }, taskResult: { type: 'Machine', array: false, kind: 'managed' } }),
          method('Spawn', { returns: { type: 'Machine', array: false, kind: 'managed' } }),
          method('NewerThanTheBundle', { since: '9.9.9.9' }),
        ],
      },
      { name: 'Folder', vmodlName: 'vim.Folder', base: 'Entity', since: '1.0', properties: [], methods: [] },
      { name: 'Task', vmodlName: 'vim.Task', base: null, since: '1.0', properties: [], methods: [] },
    ],
    dataTypeReferenceFields: { Leaf: { owner: 'Machine' }, NotInTheBundle: { x: 'Machine' } },
  };
  const joined = joinModels(model, managed);

  it('emits interfaces with inheritance, optionality, arrays, enum unions and references typed by the model', () => {
    const ts = emitTypes(model, joined.referenceFields);
    expect(ts).toContain("import type { ManagedSubtypes, ManagedTypeName } from './managed.js';");
    expect(ts).toContain('export interface DynamicData {\n  _typeName?: string;\n}');
    expect(ts).toContain("export interface Leaf extends Base {\n  count?: Long;\n  tags?: string[];\n  password: string;\n  state?: Power;\n  owner?: ManagedObjectReference<'Machine'>;\n  next?: Leaf;\n}");
    expect(ts).toContain("export interface LeafRequestType {\n  _typeName?: string;\n  _this: ManagedObjectReference<'Machine'>;\n  leaf: Leaf[];\n  target?: ManagedObjectReference<'Folder'>;\n}");
    expect(ts).toContain('export type Power =\n  | "on"\n  | "off";');
    expect(ts).toContain('export interface DataTypes {\n  DynamicData: DynamicData;\n  Base: Base;\n  Leaf: Leaf;');
    expect(ts).toContain('export type ManagedObjectReference<T extends ManagedTypeName = ManagedTypeName> = ManagedObjectReferenceTo<ManagedSubtypes[T]>;');
    expect(ts).toContain("export interface ManagedObjectReferenceTo<N extends string> {\n  _typeName?: 'ManagedObjectReference';\n  type: N;\n  value: string;\n}");
    expect(ts).toContain('export interface FaultTypes {\n  MethodFault: MethodFault;\n  InvalidArgument: InvalidArgument;\n}');
  });

  it('without the model, references stay references to any managed object', () => {
    expect(emitTypes(model)).toContain('  owner?: ManagedObjectReference;\n');
  });

  it('joins the models on what both know, naming what the bundle lacks', () => {
    expect(joined.skipped).toEqual({ methods: ['NewerThanTheBundle'], properties: ['Machine.future'], referenceTypes: ['NotInTheBundle'] });
    expect([...joined.methods.keys()]).toEqual(['DoLeaf', 'Maybe', 'Nothing', 'Grow_Task', 'Spawn']);
  });

  it('refuses a model that disagrees with the bundle', () => {
    const noOp: ManagedModel = { ...managed, managedTypes: managed.managedTypes.map((t) => ({ ...t, methods: t.methods.filter((m) => m.name !== 'Spawn') })) };
    expect(() => joinModels(model, noOp)).toThrow('operation Spawn is not in the managed-object model');
    expect(() => joinModels(model, { ...managed, dataTypeReferenceFields: { Leaf: { count: 'Machine' } } })).toThrow('Leaf.count: a long, not a ManagedObjectReference');
    expect(() => joinModels(model, { ...managed, dataTypeReferenceFields: { Leaf: { owner: 'Robot' } } })).toThrow('Leaf.owner: unknown managed type Robot');
  });

  it('emits method signatures with _this type, typed arguments and results, task results, faults and TSDoc', () => {
    const ts = emitMethods(model, joined);
    const sig = (name: string, result: string, faults = 'never') =>
      `  ${name}: { this: 'Machine'; args: { leaf: T.Leaf[]; target?: T.ManagedObjectReference<'Folder'> }; result: ${result}; faults: ${faults} };`;
    expect(ts).toContain('// The model\'s methods newer than the bundle are not here (the bundle has no request type for them): NewerThanTheBundle.');
    expect(ts).toContain(`  /** \`Machine.doleaf\`. Privilege: Machine.Do. Faults: InvalidArgument. @since 2.0 */\n${sig('DoLeaf', 'T.Leaf[]', "'InvalidArgument'")}`);
    for (const [name, result] of [['Maybe', 'Date | undefined'], ['Nothing', 'void'], ['Grow_Task', "TaskRef<T.ManagedObjectReference<'Machine'>>"], ['Spawn', "T.ManagedObjectReference<'Machine'> | undefined"]]) {
      expect(ts).toContain(sig(name!, result!));
    }
  });

  it('writes a method\'s arguments out without _this, and none as {}', () => {
    const bare: SchemaModel = { ...model, types: new Map([...model.types, ['BareRequestType', { name: 'BareRequestType', fields: [field('_this', 'ManagedObjectReference')] }]]) };
    expect(argsTs(bare, joined.referenceFields, 'BareRequestType')).toBe('{}');
    expect(argsTs(bare, new Map(), 'LeafRequestType')).toBe('{ leaf: T.Leaf[]; target?: T.ManagedObjectReference }');
    expect(() => argsTs(bare, new Map(), 'Leaf')).toThrow('Leaf: not a request type');
  });

  it('emits managed type names, the subtype relation and property interfaces with privileges and releases', () => {
    const ts = emitManaged(model, joined);
    expect(ts).toContain("export type ManagedTypeName =\n  | 'Entity'\n  | 'Machine'\n  | 'Folder'\n  | 'Task';");
    expect(ts).toContain("export interface ManagedSubtypes {\n  Entity: 'Entity' | 'Machine' | 'Folder';\n  Machine: 'Machine';\n  Folder: 'Folder';\n  Task: 'Task';\n}");
    expect(ts).toContain("export interface MachineProperties extends EntityProperties {\n  /** Privilege: System.View. @since 2.0 */\n  leaf?: T.Leaf;\n  /** @since 2.0 */\n  peers?: T.ManagedObjectReference<'Machine'>[];\n}");
    expect(ts).toContain("export interface EntityProperties {\n  /** @since 1.0 */\n  name: string;\n  /** @since 1.0 */\n  parent?: T.ManagedObjectReference<'Folder'>;\n}");
    expect(ts).toContain('export interface ManagedObjectTypes {\n  Entity: EntityProperties;\n  Machine: MachineProperties;');
    expect(ts).toContain('// Properties whose type the bundle lacks are not here: Machine.future.');
  });

  it('emits property paths: inherited fields, optional on the way, ending at arrays, references and repeats', () => {
    const ts = emitPaths(model, joined);
    const machine = ts.slice(ts.indexOf('export interface MachinePaths extends EntityPaths {'), ts.indexOf('export interface FolderPaths'));
    expect(machine.split('\n').slice(1, -3)).toEqual([
      '  leaf: T.Leaf | undefined;',
      '  "leaf.key": string | undefined;',
      '  "leaf.count": T.Long | undefined;',
      '  "leaf.tags": string[] | undefined;',
      '  "leaf.password": string | undefined;',
      '  "leaf.state": T.Power | undefined;',
      "  \"leaf.owner\": T.ManagedObjectReference<'Machine'> | undefined;",
      '  "leaf.next": T.Leaf | undefined;',
      "  peers: T.ManagedObjectReference<'Machine'>[] | undefined;",
    ]);
    expect(ts).toContain("export interface EntityPaths {\n  name: string;\n  parent: T.ManagedObjectReference<'Folder'> | undefined;\n}");
    expect(ts).toContain('export type PropertyPath<Type extends ManagedTypeName> = keyof ManagedObjectPaths[Type] & string;');
  });

  it('emits the runtime tables of releases', () => {
    const ts = emitModelMetadata(joined);
    const types = JSON.parse(/MANAGED_TYPES: string = (".*");/.exec(ts)![1]!) as string;
    expect(types.split('\n')).toEqual(['Entity||1.0|name:string:1.0:0;parent:Folder:1.0:1', `Machine|Entity|2.0|leaf:Leaf:2.0:${F_OPTIONAL};peers:Machine:2.0:${F_OPTIONAL | F_ARRAY}`, 'Folder|Entity|1.0|', 'Task||1.0|']);
    const methods = JSON.parse(/MANAGED_METHODS: string = (".*");/.exec(ts)![1]!) as string;
    expect(methods.split('\n')).toEqual(['DoLeaf|Machine|2.0', 'Maybe|Machine|9.9.9.9', 'Nothing|Machine|2.0', 'Grow_Task|Machine|2.0', 'Spawn|Machine|2.0']);
  });

  it('emits positional metadata with flags, secrets marked', () => {
    const ts = emitMetadata(model);
    expect(ts).toContain('export const WSDL_VERSION = "9.9.9.9";');
    const types = JSON.parse(/TYPES: string = (".*");/.exec(ts)![1]!) as string;
    expect(types.split('\n')).toContain(`Leaf|Base|count:long:${F_OPTIONAL};tags:string:${F_OPTIONAL | F_ARRAY};password:string:${F_SECRET};state:Power:${F_OPTIONAL};owner:ManagedObjectReference:${F_OPTIONAL};next:Leaf:${F_OPTIONAL}`);
    const methods = JSON.parse(/METHODS: string = (".*");/.exec(ts)![1]!) as string;
    expect(methods.split('\n').slice(0, 3)).toEqual([`DoLeaf|LeafRequestType|Leaf:${F_ARRAY}|InvalidArgument`, `Maybe|LeafRequestType|dateTime:${F_OPTIONAL}|`, 'Nothing|LeafRequestType||']);
  });

  it('refuses a type it does not know', () => {
    const bad: SchemaModel = { ...model, types: new Map([['X', { name: 'X', fields: [{ name: 'y', type: 'Nope', optional: false, array: false }] }]]) };
    expect(() => emitTypes(bad)).toThrow('unknown type Nope');
  });
});
