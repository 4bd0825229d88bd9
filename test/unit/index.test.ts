// The public entry point: a vim25 data type whose name a named export also has would be hidden
// by the star export without a word, so each such type is exported under <Name>Data as well.
import { readFileSync } from 'node:fs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { CertificateSource, RetrieveOptionsData, RetrieveOptions, VimFaultData, VirtualMachineProperties, VirtualMachinePaths } from '../../src/index.ts';

const source = (path: string) => readFileSync(new URL(`../../src/${path}`, import.meta.url), 'utf8');
const declared = (path: string) => new Set([...source(path).matchAll(/^export (?:interface|type) (\w+)/gm)].map((m) => m[1]!));

describe('src/index.ts', () => {
  it('exports every generated type a named export shadows, a vim25 data type under <Name>Data', () => {
    const generated = new Set(['generated/types.ts', 'generated/managed.ts', 'generated/paths.ts'].flatMap((p) => [...declared(p)]));
    const index = source('index.ts');
    const named = [...index.matchAll(/export (?:type )?\{([^}]*)\}/g)]
      .flatMap((m) => m[1]!.split(','))
      .map((part) => part.trim().replace(/^type /, '').split(/\s+as\s+/).at(-1)!)
      .filter((name) => name !== '');
    const shadowed = named.filter((name) => generated.has(name)).sort();
    expect(shadowed).toEqual(['RetrieveOptions', 'Tag', 'VimFault']);
    for (const name of shadowed) expect(index).toMatch(new RegExp(`\\b${name} as ${name}Data\\b[^;]*from './generated/types\\.ts'`));
  });

  it('star-exports generated modules that share no name: a name two of them had would be exported by neither', () => {
    const [types, managed, paths] = ['generated/types.ts', 'generated/managed.ts', 'generated/paths.ts'].map(declared) as [Set<string>, Set<string>, Set<string>];
    expect(managed.size).toBeGreaterThan(100);
    expect(paths.size).toBeGreaterThan(100);
    expect([...managed].filter((n) => types.has(n) || paths.has(n))).toEqual([]);
    expect([...paths].filter((n) => types.has(n))).toEqual([]);
  });

  it('the renamed data types are vim25\'s, the names themselves the library\'s', () => {
    expectTypeOf<RetrieveOptionsData>().toHaveProperty('maxObjects');
    expectTypeOf<RetrieveOptionsData>().not.toHaveProperty('root');
    expectTypeOf<RetrieveOptions>().toHaveProperty('root');
    expectTypeOf<VimFaultData>().toHaveProperty('faultCause');
    expectTypeOf<CertificateSource>().toHaveProperty('pfx');
    expectTypeOf<VirtualMachineProperties>().toHaveProperty('runtime');
    expectTypeOf<VirtualMachinePaths>().toHaveProperty('runtime.powerState');
  });
});
