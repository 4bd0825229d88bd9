import { describe, expect, it } from 'vitest';
import { ValidationError, VimFault } from '../../../src/errors.ts';
import { checkPropertyPaths, faultFromLocalized, isManagedType } from '../../../src/inventory/typed-model.ts';
import { checkMaxWait } from '../../../src/inventory/updates.ts';

describe('faultFromLocalized', () => {
  it('builds a VimFault with the hierarchy of a TaskInfo.error', () => {
    const f = faultFromLocalized('CloneVM_Task', { fault: { _typeName: 'FileAlreadyExists', file: '[ds] x/x.vmx' } as never, localizedMessage: 'exists' });
    expect(f).toBeInstanceOf(VimFault);
    expect(f.faultName).toBe('FileAlreadyExists');
    expect(f.method).toBe('CloneVM_Task');
    expect(f.faultString).toBe('exists');
    expect(f.is('FileFault')).toBe(true);
    expect(f.is('VimFault')).toBe(true);
    expect(f.is('RuntimeFault')).toBe(false);
    expect(f.fault.file).toBe('[ds] x/x.vmx');
  });
});

describe('checkPropertyPaths', () => {
  it('accepts property paths and refuses what no server does', () => {
    expect(() => checkPropertyPaths('VirtualMachine', ['name', 'runtime.powerState', 'config.extraConfig["guestinfo.x"]'], '8.0.2.0')).not.toThrow();
    expect(() => checkPropertyPaths('VirtualMachine', ['name', ''], '8.0.2.0')).toThrow(ValidationError);
    expect(() => checkPropertyPaths('VirtualMachine', ['runtime..powerState'], '8.0.2.0')).toThrow(/paths\[0\]/);
    // A key into an array may hold dots, and leads into the element's fields.
    expect(() => checkPropertyPaths('VirtualMachine', ['config.extraConfig["a.b"].value'], '8.0.2.0')).not.toThrow();
    expect(() => checkPropertyPaths('VirtualMachine', ['config.extraConfig["a.b"].nothing'], '8.0.2.0')).toThrow(/has no field nothing/);
    expect(() => checkPropertyPaths('VirtualMachine', ['name["x"]'], '8.0.2.0')).toThrow(/not an array/);
    expect(() => checkPropertyPaths('VirtualMachine', ['config.extraConfig["unclosed'], '8.0.2.0')).toThrow(/not a property path/);
    expect(() => checkPropertyPaths('Virtual Machine' as never, ['name'], '8.0.2.0')).toThrow(ValidationError);
  });
});

describe('isManagedType', () => {
  it('knows the subtypes an inventory search meets', () => {
    expect(isManagedType('ClusterComputeResource', 'ComputeResource')).toBe(true);
    expect(isManagedType('VirtualMachine', 'ManagedEntity')).toBe(true);
    expect(isManagedType('HostSystem', 'VirtualMachine')).toBe(false);
    expect(isManagedType('ComputeResource', 'ClusterComputeResource')).toBe(false);
  });
});

describe('checkMaxWait', () => {
  it('takes 1 to 60 seconds: 0 would make WaitForUpdatesEx a poll', () => {
    expect(checkMaxWait(1)).toBe(1);
    expect(checkMaxWait(60)).toBe(60);
    for (const bad of [0, 61, 1.5, Number.NaN]) expect(() => checkMaxWait(bad)).toThrow(RangeError);
  });
});
