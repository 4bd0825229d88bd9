// The managed-object model at run time: release ordering, the method and property-path checks,
// reference guards, and faults of failed tasks.
import { describe, expect, it } from 'vitest';
import { checkPropertyPaths, faultFromLocalized, isManagedObjectReference, isVimFault, ValidationError, VimFault, type LocalizedMethodFault } from '../../../src/index.ts';
import { checkMethodVersion, compareVersions, isManagedSubtype, isManagedTypeName, methodThisType } from '../../../src/managed/checks.ts';

const refusal = (run: () => void): ValidationError => {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return err as ValidationError;
  }
  throw new Error('expected a ValidationError');
};

describe('compareVersions', () => {
  it('orders releases as the model writes them and as servers report them', () => {
    const ordered = ['1.0', '2.0', '2.5', '2.5u2', '4.0', '6.7', '6.7.3', '6.8.7', '6.9.1', '7.0', '7.0.0.2', '7.0.3.0', '8.0.0.1', '8.0.2.0', '8.0.3.0', '9.0'];
    for (let i = 1; i < ordered.length; i++) expect(compareVersions(ordered[i - 1]!, ordered[i]!), `${ordered[i - 1]} < ${ordered[i]}`).toBeLessThan(0);
    // pyvmomi's 2.5u2server is 2.5u2 for a server's purposes: nothing newer reports either.
    expect(compareVersions('2.5u2server', '2.5u2')).toBe(0);
    expect(compareVersions('8.0.3', '8.0.3.0')).toBe(0);
    expect(compareVersions('7.0.3.0', '7.0.3')).toBe(0);
  });
});

describe('method releases', () => {
  it('refuses a method newer than the server, naming both releases, and lets older ones through', () => {
    const err = refusal(() => checkMethodVersion('FetchAuditRecords', '7.0.2.0'));
    expect(err.method).toBe('FetchAuditRecords');
    expect(err.message).toBe('FetchAuditRecords: introduced in vim25 7.0.3.0; the server speaks vim25 7.0.2.0');
    expect(() => checkMethodVersion('FetchAuditRecords', '7.0.3.0')).not.toThrow();
    expect(() => checkMethodVersion('FetchAuditRecords', '8.0.3')).not.toThrow();
    // The PropertyCollector's core has no release in the model: always there.
    expect(() => checkMethodVersion('RetrievePropertiesEx', '2.0')).not.toThrow();
    expect(() => checkMethodVersion('EnableAlarm', '6.7')).toThrow('introduced in vim25 6.9.1; the server speaks vim25 6.7');
  });

  it('knows each method\'s _this type', () => {
    expect(methodThisType('PowerOffVM_Task')).toBe('VirtualMachine');
    expect(methodThisType('Destroy_Task')).toBe('ManagedEntity');
    expect(methodThisType('NoSuchMethod')).toBeUndefined();
  });
});

describe('checkPropertyPaths', () => {
  it('accepts paths through properties (inherited ones too) and data fields', () => {
    expect(() => checkPropertyPaths('VirtualMachine', ['name', 'parent', 'runtime.powerState', 'config.hardware.numCPU', 'summary.config.name', 'config.hardware.device'], '8.0.2.0')).not.toThrow();
    expect(() => checkPropertyPaths('HostSystem', ['hardware.systemInfo.uuid', 'runtime.inMaintenanceMode'], '7.0')).not.toThrow();
  });

  it('refuses unknown properties and fields, and paths into arrays, naming the path', () => {
    const misspelt = refusal(() => checkPropertyPaths('VirtualMachine', ['name', 'runtime.powerstate'], '8.0.2.0'));
    expect(misspelt.path).toBe('paths[1]');
    expect(misspelt.message).toBe('RetrievePropertiesEx: paths[1]: runtime.powerstate: runtime (VirtualMachineRuntimeInfo) has no field powerstate');
    expect(refusal(() => checkPropertyPaths('VirtualMachine', ['hardware'], '8.0.2.0')).message).toContain('VirtualMachine has no property hardware');
    expect(refusal(() => checkPropertyPaths('VirtualMachine', ['config.hardware.device.key'], '8.0.2.0')).message).toContain('config.hardware.device (VirtualDevice[]) has no field key');
    expect(refusal(() => checkPropertyPaths('VirtualMachine', ['runtime.host.name'], '8.0.2.0')).message).toContain('runtime.host (ManagedObjectReference) has no field name');
  });

  it('refuses a property or managed type newer than the server, naming both releases', () => {
    const err = refusal(() => checkPropertyPaths('HostProfile', ['name', 'complianceCheckTime'], '8.0.0.0', 'WaitForUpdatesEx'));
    expect(err.method).toBe('WaitForUpdatesEx');
    expect(err.message).toBe('WaitForUpdatesEx: paths[1]: complianceCheckTime: HostProfile.complianceCheckTime was introduced in vim25 8.0.1.0; the server speaks vim25 8.0.0.0');
    expect(() => checkPropertyPaths('HostProfile', ['complianceCheckTime'], '8.0.1.0')).not.toThrow();
    // An inherited property names the type that declares it.
    expect(refusal(() => checkPropertyPaths('ClusterComputeResource', ['configManagerEnabled'], '7.0.3.0')).message).toContain('ComputeResource.configManagerEnabled was introduced in vim25 8.0.0.0');
    expect(refusal(() => checkPropertyPaths('VcenterVStorageObjectManager', [], '6.0')).message).toContain('VcenterVStorageObjectManager was introduced in vim25 6.5');
  });
});

describe('references', () => {
  it('knows managed type names and the subtype relation', () => {
    expect(isManagedTypeName('VirtualMachine')).toBe(true);
    expect(isManagedTypeName('VirtualMachineRuntimeInfo')).toBe(false);
    expect(isManagedSubtype('VirtualMachine', 'ManagedEntity')).toBe(true);
    expect(isManagedSubtype('VirtualMachine', 'VirtualMachine')).toBe(true);
    expect(isManagedSubtype('ManagedEntity', 'VirtualMachine')).toBe(false);
    expect(isManagedSubtype('StoragePod', 'Folder')).toBe(true);
  });

  it('narrows a plain reference only when its type is the asked one or a subtype', () => {
    const stored: unknown = { type: 'VirtualMachine', value: 'vm-42' };
    expect(isManagedObjectReference(stored)).toBe(true);
    expect(isManagedObjectReference(stored, 'ManagedEntity')).toBe(true);
    expect(isManagedObjectReference(stored, 'HostSystem')).toBe(false);
    expect(isManagedObjectReference({ type: 'Nope', value: 'x' })).toBe(false);
    expect(isManagedObjectReference({ type: 'VirtualMachine' })).toBe(false);
    expect(isManagedObjectReference(null)).toBe(false);
  });
});

describe('faultFromLocalized', () => {
  it('makes the VimFault a SOAP fault would be, hierarchy included', () => {
    const error: LocalizedMethodFault = {
      _typeName: 'LocalizedMethodFault',
      fault: { _typeName: 'InvalidPowerState', requestedState: 'poweredOn', existingState: 'poweredOn' } as LocalizedMethodFault['fault'],
      localizedMessage: 'The attempted operation cannot be performed in the current state (Powered on).',
    };
    const err = faultFromLocalized('PowerOnVM_Task', error);
    expect(err).toBeInstanceOf(VimFault);
    expect(err.method).toBe('PowerOnVM_Task');
    expect(err.faultName).toBe('InvalidPowerState');
    expect(err.faultString).toBe(error.localizedMessage);
    expect(err.fault).toBe(error.fault);
    expect(err.ancestors).toEqual(['InvalidState', 'VimFault', 'MethodFault']);
    expect(err.is('InvalidState')).toBe(true);
    expect(isVimFault(err, 'VimFault')).toBe(true);
    expect(isVimFault(err, 'RuntimeFault')).toBe(false);
    expect(err.message).toBe(`PowerOnVM_Task: InvalidPowerState: ${error.localizedMessage}`);
  });

  it('treats a fault without a type name as a MethodFault', () => {
    const err = faultFromLocalized('Destroy_Task', { fault: {} });
    expect(err.faultName).toBe('MethodFault');
    expect(err.faultString).toBe('');
  });
});
