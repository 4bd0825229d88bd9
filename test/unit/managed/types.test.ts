// Type-level tests of the typed managed objects, checked by `npm run typecheck` (tsconfig
// includes test/): each `@ts-expect-error` fails the type check if its line starts to compile,
// and each expectTypeOf fails it if the type changes. The function is never called; the one
// runtime test only keeps vitest from reporting an empty file.
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  isVimFault, type ManagedObjectReference, type ManagedObjectTypes, type ManagedTypeName, type PathValue, type PropertyPath,
  type TaskRef, type TaskResultOf, type VimClient, type VimMethods, type VirtualMachinePowerState, type VirtualMachineRuntimeInfo,
  type ClusterPowerOnVmResult, type VirtualMachineConfigInfo,
} from '../../../src/index.ts';

declare function waitForTask<X extends ManagedObjectReference<'Task'>>(task: X): Promise<TaskResultOf<X>>;
declare function retrieve<T extends ManagedTypeName, P extends PropertyPath<T>>(type: T, paths: readonly P[]): Promise<Array<{ [K in P]: PathValue<T, K> }>>;

export async function typeLevel(client: VimClient, err: unknown): Promise<void> {
  // References: the literal name, only managed type names, subtypes assignable to bases.
  const vm = client.ref('VirtualMachine', 'vm-42');
  expectTypeOf(vm).toEqualTypeOf<ManagedObjectReference<'VirtualMachine'>>();
  expectTypeOf(vm.type).toEqualTypeOf<'VirtualMachine'>();
  // @ts-expect-error unknown managed type name
  client.ref('VirtualMachin', 'vm-42');
  const host = client.ref('HostSystem', 'host-1');
  const entity: ManagedObjectReference<'ManagedEntity'> = vm;
  // @ts-expect-error a ManagedEntity reference is not a VirtualMachine reference
  const notVm: ManagedObjectReference<'VirtualMachine'> = entity;
  // @ts-expect-error a HostSystem is not a VirtualMachine
  const notVm2: ManagedObjectReference<'VirtualMachine'> = host;
  // A plain reference from elsewhere: checked by ref(plain, type), or any managed object without a type.
  expectTypeOf(client.ref({ type: 'VirtualMachine', value: 'vm-1' }, 'VirtualMachine')).toEqualTypeOf<ManagedObjectReference<'VirtualMachine'>>();
  expectTypeOf(client.ref({ type: 'x', value: 'y' })).toEqualTypeOf<ManagedObjectReference>();

  // _this: the method's managed type or a subtype.
  await client.call('PowerOffVM_Task', vm, {});
  // @ts-expect-error PowerOffVM_Task is a VirtualMachine method
  await client.call('PowerOffVM_Task', host, {});
  await client.call('Destroy_Task', vm);
  await client.call('Destroy_Task', host);
  // @ts-expect-error a ViewManager is not a ManagedEntity
  await client.call('Destroy_Task', client.serviceContent.viewManager!);
  // @ts-expect-error a reference to any managed object must be narrowed first
  await client.call('PowerOffVM_Task', client.ref({ type: 'VirtualMachine', value: 'vm-1' }));
  expectTypeOf<VimMethods['Destroy_Task']['this']>().toEqualTypeOf<'ManagedEntity'>();

  // Managed parameters, results and data-type reference fields typed by the model.
  const view = await client.call('CreateContainerView', client.serviceContent.viewManager!, { container: client.serviceContent.rootFolder, type: ['VirtualMachine'], recursive: true });
  expectTypeOf(view).toEqualTypeOf<ManagedObjectReference<'ContainerView'>>();
  expectTypeOf(client.serviceContent.propertyCollector).toEqualTypeOf<ManagedObjectReference<'PropertyCollector'>>();
  expectTypeOf<VirtualMachineRuntimeInfo['host']>().toEqualTypeOf<ManagedObjectReference<'HostSystem'> | undefined>();
  // @ts-expect-error CloneVM_Task's folder is a Folder reference
  await client.call('CloneVM_Task', vm, { folder: host, name: 'x', spec: { location: {}, template: false, powerOn: false } });

  // Tasks remember their result.
  const folder = client.ref('Folder', 'group-v3');
  const clone = await client.call('CloneVM_Task', vm, { folder, name: 'copy', spec: { location: {}, template: false, powerOn: false } });
  expectTypeOf(clone).toEqualTypeOf<TaskRef<ManagedObjectReference<'VirtualMachine'>>>();
  expectTypeOf(await waitForTask(clone)).toEqualTypeOf<ManagedObjectReference<'VirtualMachine'>>();
  expectTypeOf(await waitForTask(await client.call('PowerOffVM_Task', vm))).toEqualTypeOf<void>();
  const dc = client.ref('Datacenter', 'datacenter-2');
  expectTypeOf(await waitForTask(await client.call('PowerOnMultiVM_Task', dc, { vm: [vm] }))).toEqualTypeOf<ClusterPowerOnVmResult>();
  expectTypeOf(await waitForTask(client.ref('Task', 'task-1'))).toEqualTypeOf<unknown>();
  // @ts-expect-error a VirtualMachine reference is not a Task
  await waitForTask(vm);

  // Properties, inherited ones included.
  type Vm = ManagedObjectTypes['VirtualMachine'];
  expectTypeOf<Vm['name']>().toEqualTypeOf<string>();
  expectTypeOf<Vm['parent']>().toEqualTypeOf<ManagedObjectReference<'ManagedEntity'> | undefined>();
  expectTypeOf<Vm['config']>().toEqualTypeOf<VirtualMachineConfigInfo | undefined>();
  expectTypeOf<Vm['datastore']>().toEqualTypeOf<Array<ManagedObjectReference<'Datastore'>> | undefined>();

  // Property paths and their values; optional on the way means possibly absent.
  expectTypeOf<PathValue<'VirtualMachine', 'runtime.powerState'>>().toEqualTypeOf<VirtualMachinePowerState>();
  expectTypeOf<PathValue<'VirtualMachine', 'config.hardware.numCPU'>>().toEqualTypeOf<number | undefined>();
  expectTypeOf<PathValue<'VirtualMachine', 'summary.config.name'>>().toEqualTypeOf<string>();
  expectTypeOf<PathValue<'VirtualMachine', 'runtime.host'>>().toEqualTypeOf<ManagedObjectReference<'HostSystem'> | undefined>();
  expectTypeOf<PathValue<'VirtualMachine', 'name'>>().toEqualTypeOf<string>();
  expectTypeOf<PathValue<'HostSystem', 'runtime.powerState'>>().not.toEqualTypeOf<VirtualMachinePowerState>();
  const rows = await retrieve('VirtualMachine', ['name', 'runtime.powerState', 'config.hardware.numCPU']);
  expectTypeOf(rows[0]!['runtime.powerState']).toEqualTypeOf<VirtualMachinePowerState>();
  // @ts-expect-error misspelt path
  await retrieve('VirtualMachine', ['runtime.powerstate']);
  // @ts-expect-error paths end at arrays: the collector does not index into them
  await retrieve('VirtualMachine', ['config.hardware.device.key']);
  // @ts-expect-error a HostSystem path is not a VirtualMachine path
  await retrieve('VirtualMachine', ['hardware.systemInfo.uuid']);
  // @ts-expect-error wrong value type at a path
  const wrong: PathValue<'VirtualMachine', 'runtime.powerState'> = 'on';
  // @ts-expect-error not a managed type
  type NoPaths = PropertyPath<'VirtualMachineRuntimeInfo'>;
  expectTypeOf<NoPaths>().toBeNever();

  // Faults narrow by name, and names are checked.
  if (isVimFault(err, 'InvalidPowerState')) {
    expectTypeOf(err.fault.existingState).toEqualTypeOf<VirtualMachinePowerState>();
    expectTypeOf(err.fault._typeName).toEqualTypeOf<string>();
  }
  if (isVimFault(err) && err.is('InvalidLogin')) expectTypeOf(err.fault).toHaveProperty('faultMessage');
  // @ts-expect-error not a fault name
  isVimFault(err, 'NotAFault');
  void notVm;
  void notVm2;
  void wrong;
}

describe('type-level tests', () => {
  it('are compiled by npm run typecheck', () => {
    expect(typeof typeLevel).toBe('function');
  });
});
