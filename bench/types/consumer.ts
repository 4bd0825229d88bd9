// A consumer of the published types (dist/): an inventory-style retrieve typed by property paths (a dozen
// VirtualMachine paths, four HostSystem ones), typed calls, task results and fault narrowing.
import { VimClient, isVimFault, type ManagedObjectReference, type ManagedTypeName, type PathValue, type PropertyPath, type TaskResultOf } from 'vim25-soap';

declare function retrieve<T extends ManagedTypeName, const P extends PropertyPath<T>>(type: T, paths: readonly P[]): Promise<Array<{ ref: ManagedObjectReference<T> } & { [K in P]: PathValue<T, K> }>>;
declare function waitForTask<X extends ManagedObjectReference<'Task'>>(task: X): Promise<TaskResultOf<X>>;

export async function main(): Promise<void> {
  const client = await VimClient.connect('https://vc.example.com/sdk');
  const vms = await retrieve('VirtualMachine', ['name', 'runtime.powerState', 'runtime.host', 'config.hardware.numCPU', 'config.hardware.memoryMB',
    'summary.config.name', 'summary.quickStats.overallCpuUsage', 'guest.ipAddress', 'config.guestFullName', 'datastore', 'network', 'summary.runtime.bootTime']);
  for (const vm of vms) {
    const state: 'poweredOn' | 'poweredOff' | 'suspended' = vm['runtime.powerState'];
    const cpus: number | undefined = vm['config.hardware.numCPU'];
    const host: ManagedObjectReference<'HostSystem'> | undefined = vm['runtime.host'];
    console.log(vm.name, state, cpus, host?.value, vm['summary.config.name'], vm['guest.ipAddress']);
    if (state === 'poweredOn') {
      try {
        await waitForTask(await client.call('PowerOffVM_Task', vm.ref, {}));
      } catch (err) {
        if (isVimFault(err, 'InvalidPowerState')) console.log(err.fault.existingState);
      }
    }
  }
  const hosts = await retrieve('HostSystem', ['name', 'runtime.inMaintenanceMode', 'hardware.systemInfo.uuid', 'summary.hardware.cpuModel']);
  console.log(hosts[0]?.['hardware.systemInfo.uuid']);
  const folder = client.ref('Folder', 'group-v3');
  const clone = await waitForTask(await client.call('CloneVM_Task', vms[0]!.ref, { folder, name: 'copy', spec: { location: {}, template: false, powerOn: false } }));
  console.log(clone.value);
}
