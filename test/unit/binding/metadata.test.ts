// The generated tables read a row at a time: the first and last rows, names that begin other
// names, and strings that are no name at all.
import { describe, expect, it } from 'vitest';
import { enumValues, isEnum, methodInfo, typeInfo } from '../../../src/binding/metadata.ts';
import { ENUMS, METHODS, TYPES } from '../../../src/generated/metadata.ts';

const names = (table: string) => table.split('\n').map((row) => row.slice(0, row.indexOf('|')));

describe('metadata rows', () => {
  it('finds the first and the last row of each table', () => {
    for (const [table, find] of [[TYPES, typeInfo], [METHODS, methodInfo], [ENUMS, enumValues]] as const) {
      const all = names(table);
      for (const name of [all[0]!, all.at(-1)!]) expect(find(name), name).toBeDefined();
    }
  });

  it('finds a name, not a longer one it begins', () => {
    // "VirtualMachine" begins "VirtualMachineConfigSpec" …: each is found as itself.
    // Sorted, a name that begins others is followed by one of them.
    const sorted = names(TYPES).sort();
    const prefixed = sorted.filter((n, i) => sorted[i + 1]?.startsWith(n)).slice(0, 50);
    expect(prefixed.length).toBeGreaterThan(10);
    for (const name of prefixed) expect(typeInfo(name)?.name).toBe(name);
    expect(typeInfo('VirtualMachineConfigSpe')).toBeUndefined();
  });

  it('knows no name holding the separators, and no empty one', () => {
    const [type, base] = TYPES.split('\n')[1]!.split('|') as [string, string];
    expect(typeInfo(`${type}|${base}`)).toBeUndefined();
    expect(methodInfo('Login|LoginRequestType')).toBeUndefined();
    expect(typeInfo(`${type}\n${names(TYPES)[2]}`)).toBeUndefined();
    expect(typeInfo('')).toBeUndefined();
    expect(isEnum('')).toBe(false);
    expect(isEnum('VirtualMachinePowerState')).toBe(true);
    expect(enumValues('VirtualMachinePowerState')).toEqual(['poweredOff', 'poweredOn', 'suspended']);
    expect(Object.isFrozen(enumValues('VirtualMachinePowerState'))).toBe(true);
  });
});
