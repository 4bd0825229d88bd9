// The generator against the bundle: counts checked by an independent reading of the raw files,
// the committed output checked by regenerating it, and each transform on a small model.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleDir, ROOT } from '../../scripts/lib/paths.ts';
import { emitMetadata, emitMethods, emitTypes, F_ARRAY, F_OPTIONAL, F_SECRET } from '../../scripts/lib/emit.ts';
import type { SchemaModel } from '../../scripts/lib/schema.ts';
import { ENUMS, METHODS, TYPES } from '../../src/generated/metadata.ts';

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
    expect(types.match(/^export interface (?!DataTypes )/gm)?.length).toBe(complexTypes);
    expect(types.slice(types.indexOf("export interface DataTypes {")).match(/^ {2}(\w+): \1;$/gm)?.length).toBe(complexTypes); // one DataTypes entry each
    expect(TYPES.split('\n').length).toBe(complexTypes);
  });

  it('has a union and a runtime list for every enum', () => {
    expect(enums).toBeGreaterThan(100);
    expect(types.match(/^export type \w+ =\n {2}\| /gm)?.length).toBe(enums);
    expect(ENUMS.split('\n').length).toBe(enums);
  });

  it('has every operation of the portType', () => {
    expect(operations).toBeGreaterThan(500);
    expect(methods.match(/^ {2}\w+: \{ args: /gm)?.length).toBe(operations);
    expect(METHODS.split('\n').length).toBe(operations);
  });
});

describe('committed src/generated matches the generator', () => {
  const out = mkdtempSync(join(tmpdir(), 'vim25-gen-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('regenerates byte for byte', () => {
    execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/generate.ts'), '--out', out, '--wsdl', dir], { cwd: ROOT, stdio: 'pipe' });
    const names = readdirSync(generated).sort();
    expect(readdirSync(out).sort()).toEqual(names);
    for (const name of names) {
      expect(readFileSync(join(out, name), 'utf8'), name).toBe(readFileSync(join(generated, name), 'utf8'));
    }
  });
});

describe('emit transforms', () => {
  const model: SchemaModel = {
    types: new Map([
      ['DynamicData', { name: 'DynamicData', fields: [] }],
      ['Base', { name: 'Base', base: 'DynamicData', fields: [{ name: 'key', type: 'string', optional: false, array: false }] }],
      ['Leaf', {
        name: 'Leaf', base: 'Base', fields: [
          { name: 'count', type: 'long', optional: true, array: false },
          { name: 'tags', type: 'string', optional: true, array: true },
          { name: 'password', type: 'string', optional: false, array: false },
          { name: 'state', type: 'Power', optional: true, array: false },
        ],
      }],
      ['LeafRequestType', { name: 'LeafRequestType', fields: [{ name: '_this', type: 'ManagedObjectReference', optional: false, array: false }, { name: 'leaf', type: 'Leaf', optional: false, array: true }] }],
      ['ManagedObjectReference', { name: 'ManagedObjectReference', fields: [], textType: 'string', attributes: [] }],
    ]),
    enums: new Map([['Power', { name: 'Power', values: ['on', 'off'] }]]),
    operations: [
      { name: 'DoLeaf', requestType: 'LeafRequestType', result: { type: 'Leaf', optional: false, array: true }, faults: ['InvalidArgument'] },
      { name: 'Maybe', requestType: 'LeafRequestType', result: { type: 'dateTime', optional: true, array: false }, faults: [] },
      { name: 'Nothing', requestType: 'LeafRequestType', result: undefined, faults: [] },
    ],
    soapAction: 'urn:vim25/9.9.9.9',
    files: [],
  };

  it('emits interfaces with inheritance, optionality, arrays and enum unions', () => {
    const ts = emitTypes(model);
    expect(ts).toContain('export interface DynamicData {\n  _typeName?: string;\n}');
    expect(ts).toContain('export interface Leaf extends Base {\n  count?: Long;\n  tags?: string[];\n  password: string;\n  state?: Power;\n}');
    expect(ts).toContain('export type Power =\n  | "on"\n  | "off";');
    expect(ts).toContain('export interface DataTypes {\n  DynamicData: DynamicData;\n  Base: Base;\n  Leaf: Leaf;');
    expect(ts).toContain("export interface ManagedObjectReference {\n  _typeName?: 'ManagedObjectReference';\n  type: string;\n  value: string;\n}");
  });

  it('emits method signatures with result and faults', () => {
    const ts = emitMethods(model);
    expect(ts).toContain("DoLeaf: { args: Omit<T.LeafRequestType, '_this' | '_typeName'>; result: T.Leaf[]; faults: 'InvalidArgument' };");
    expect(ts).toContain('Maybe: { args: Omit<T.LeafRequestType, \'_this\' | \'_typeName\'>; result: Date | undefined; faults: never };');
    expect(ts).toContain('Nothing: { args: Omit<T.LeafRequestType, \'_this\' | \'_typeName\'>; result: void; faults: never };');
  });

  it('emits positional metadata with flags, secrets marked', () => {
    const ts = emitMetadata(model);
    expect(ts).toContain('export const WSDL_VERSION = "9.9.9.9";');
    const types = JSON.parse(/TYPES: string = (".*");/.exec(ts)![1]!) as string;
    expect(types.split('\n')).toContain(`Leaf|Base|count:long:${F_OPTIONAL};tags:string:${F_OPTIONAL | F_ARRAY};password:string:${F_SECRET};state:Power:${F_OPTIONAL}`);
    const methods = JSON.parse(/METHODS: string = (".*");/.exec(ts)![1]!) as string;
    expect(methods.split('\n')).toEqual([`DoLeaf|LeafRequestType|Leaf:${F_ARRAY}|InvalidArgument`, `Maybe|LeafRequestType|dateTime:${F_OPTIONAL}|`, 'Nothing|LeafRequestType||']);
  });

  it('refuses a type it does not know', () => {
    const bad: SchemaModel = { ...model, types: new Map([['X', { name: 'X', fields: [{ name: 'y', type: 'Nope', optional: false, array: false }] }]]) };
    expect(() => emitTypes(bad)).toThrow('unknown type Nope');
  });
});
