// The managed-object model against the harness: for a sample of methods the model's _this type
// is what vcsim dispatches on (a wrong one is MethodNotFound there), Task references end with
// the result the model names, a failed task's fault keeps its hierarchy, and a method newer than
// the server's release is refused before it is sent. Side effects stay in a harness of its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isManagedObjectReference, isVimFault, ValidationError, VimClient, VimFault,
  type ManagedObjectReference, type MethodName, type TaskResultOf,
} from 'vim25-soap';
import { methodThisType } from '../../src/managed/checks.ts';
import { bundleIfPresent } from '../../scripts/lib/paths.ts';
import { Harness, harnessStats } from '../harness/vcsim.ts';

let h: Harness;
let c: VimClient;
const sc = () => c.serviceContent;

beforeAll(async () => {
  h = await Harness.start({ wsdlDir: bundleIfPresent() });
  c = await VimClient.connect(h.info.url, { tls: { ca: h.ca } });
  await c.login({ username: h.info.username, password: h.info.password });
});
afterAll(async () => {
  await c?.close();
  await h?.stop();
});

/** The library's waitForTask, whose result type the Task reference gives: the tests check it compiles to the model's. */
const waitForTask = <X extends ManagedObjectReference<'Task'>>(task: X): Promise<TaskResultOf<X>> => c.waitForTask(task);

async function find<T extends 'VirtualMachine' | 'HostSystem' | 'Datacenter' | 'Datastore' | 'ClusterComputeResource' | 'Folder'>(path: string, type: T): Promise<ManagedObjectReference<T>> {
  const ref = await c.call('FindByInventoryPath', sc().searchIndex!, { inventoryPath: path });
  if (!ref) throw new Error(`nothing at ${path}`);
  return c.ref(ref, type);
}

/**
 * Runs a call whose _this the model typed, and checks that vcsim found both the object and the
 * method on it: success, or any fault but MethodNotFound / ManagedObjectNotFound.
 */
async function dispatched<R>(method: MethodName, _this: ManagedObjectReference, run: () => Promise<R>): Promise<R | undefined> {
  const thisType = methodThisType(method);
  expect(thisType, method).toBeDefined();
  expect(isManagedObjectReference(_this, thisType), `${method}: ${_this.type} is a ${thisType}`).toBe(true);
  try {
    return await run();
  } catch (err) {
    expect(err, method).toBeInstanceOf(VimFault);
    expect((err as VimFault).faultName, method).not.toMatch(/^(MethodNotFound|ManagedObjectNotFound)$/);
    return undefined;
  }
}

describe('each sampled method\'s _this type from the model is what the harness dispatches on', () => {
  it('service singletons', async () => {
    const si = c.ref('ServiceInstance', 'ServiceInstance');
    await dispatched('CurrentTime', si, () => c.call('CurrentTime', si));
    await dispatched('RetrieveServiceContent', si, () => c.call('RetrieveServiceContent', si));
    await dispatched('QueryOptions', sc().setting!, () => c.call('QueryOptions', sc().setting!, { name: 'config.vpxd.sso.sts.uri' }));
    await dispatched('RetrieveAllPermissions', sc().authorizationManager!, () => c.call('RetrieveAllPermissions', sc().authorizationManager!));
    await dispatched('RetrieveEntityPermissions', sc().authorizationManager!, () => c.call('RetrieveEntityPermissions', sc().authorizationManager!, { entity: sc().rootFolder, inherited: false }));
    await dispatched('FindChild', sc().searchIndex!, () => c.call('FindChild', sc().searchIndex!, { entity: sc().rootFolder, name: 'DC0' }));
    const pc = sc().propertyCollector;
    const found = await dispatched('RetrievePropertiesEx', pc, () => c.call('RetrievePropertiesEx', pc, {
      specSet: [{ propSet: [{ type: 'Folder', pathSet: ['name'] }], objectSet: [{ obj: sc().rootFolder }] }], options: {},
    }));
    expect(found?.objects[0]?.obj).toEqual(sc().rootFolder);
  });

  it('views and collectors, destroyed through their base type', async () => {
    const view = await dispatched('CreateContainerView', sc().viewManager!, () => c.call('CreateContainerView', sc().viewManager!, { container: sc().rootFolder, type: ['VirtualMachine'], recursive: true }));
    expect(view?.type).toBe('ContainerView');
    await dispatched('DestroyView', view!, () => c.call('DestroyView', view!));   // DestroyView is View's; a ContainerView is one
    const collector = await dispatched('CreateCollectorForEvents', sc().eventManager!, () => c.call('CreateCollectorForEvents', sc().eventManager!, { filter: {} }));
    expect(collector?.type).toBe('EventHistoryCollector');
    await dispatched('ReadNextEvents', collector!, () => c.call('ReadNextEvents', collector!, { maxCount: 5 }));
    await dispatched('DestroyCollector', collector!, () => c.call('DestroyCollector', collector!));
  });

  it('inventory objects, with Task results typed by the model', async () => {
    const vm = await find('DC0/vm/DC0_H0_VM0', 'VirtualMachine');
    const dc = await find('DC0', 'Datacenter');
    const host = await find('DC0/host/DC0_H0/DC0_H0', 'HostSystem');
    const cluster = await find('DC0/host/DC0_C0', 'ClusterComputeResource');
    const vmFolder = await find('DC0/vm', 'Folder');

    const off = await dispatched('PowerOffVM_Task', vm, () => c.call('PowerOffVM_Task', vm));
    const nothing: void = await waitForTask(off!);
    expect(nothing).toBeUndefined();
    const snap = await dispatched('CreateSnapshot_Task', vm, () => c.call('CreateSnapshot_Task', vm, { name: 's1', memory: false, quiesce: false }));
    const snapshot: ManagedObjectReference<'VirtualMachineSnapshot'> = await waitForTask(snap!);
    expect(snapshot.type).toBe('VirtualMachineSnapshot');
    await dispatched('RemoveSnapshot_Task', snapshot, () => c.call('RemoveSnapshot_Task', snapshot, { removeChildren: true }));
    const clone = await dispatched('CloneVM_Task', vm, () => c.call('CloneVM_Task', vm, { folder: vmFolder, name: 'typed-clone', spec: { location: {}, template: false, powerOn: false } }));
    const newVm: ManagedObjectReference<'VirtualMachine'> = await waitForTask(clone!);
    expect(newVm.type).toBe('VirtualMachine');
    const destroy = await dispatched('Destroy_Task', newVm, () => c.call('Destroy_Task', newVm));   // ManagedEntity's method
    await waitForTask(destroy!);

    const multi = await dispatched('PowerOnMultiVM_Task', dc, () => c.call('PowerOnMultiVM_Task', dc, { vm: [vm] }));
    await waitForTask(multi!);   // vcsim leaves the ClusterPowerOnVmResult out
    await dispatched('EnterMaintenanceMode_Task', host, () => c.call('EnterMaintenanceMode_Task', host, { timeout: 0 }));
    await dispatched('ExitMaintenanceMode_Task', host, () => c.call('ExitMaintenanceMode_Task', host, { timeout: 0 }));
    await dispatched('ReconfigureComputeResource_Task', cluster, () => c.call('ReconfigureComputeResource_Task', cluster, { spec: {}, modify: true }));
    const folder = await dispatched('CreateFolder', vmFolder, () => c.call('CreateFolder', vmFolder, { name: 'typed-folder' }));
    await dispatched('Rename_Task', folder!, () => c.call('Rename_Task', folder!, { newName: 'typed-folder-2' }));
    await dispatched('ReconfigVM_Task', vm, () => c.call('ReconfigVM_Task', vm, { spec: { annotation: 'typed' } }));
    await dispatched('Rename_Task', dc, () => c.call('Rename_Task', dc, { newName: 'DC0' }));
  });

  it('a _this of another type is refused by the harness too (the check above can fail)', async () => {
    const host = await find('DC0/host/DC0_H0/DC0_H0', 'HostSystem');
    expect(isManagedObjectReference(host, methodThisType('PowerOffVM_Task'))).toBe(false);
    // @ts-expect-error PowerOffVM_Task is a VirtualMachine method
    const err = await c.call('PowerOffVM_Task', host).catch((e: unknown) => e);
    expect(isVimFault(err, 'MethodNotFound')).toBe(true);
  });
});

describe('faults of failed tasks', () => {
  it('keep the fault hierarchy: a second power-on fails with InvalidPowerState, an InvalidState and a VimFault', async () => {
    const vm = await find('DC0/vm/DC0_H0_VM1', 'VirtualMachine');
    await waitForTask(await c.call('PowerOnVM_Task', vm, {})).catch(() => undefined);
    const err = await waitForTask(await c.call('PowerOnVM_Task', vm, {})).catch((e: unknown) => e);
    expect(isVimFault(err, 'InvalidPowerState')).toBe(true);
    if (!isVimFault(err, 'InvalidPowerState')) return;
    expect(err.method).toMatch(/^PowerOn/); // the task's name as the server gives it (vcsim: PowerOn)
    expect(err.fault.existingState).toBe('poweredOn');
    expect(err.is('InvalidState')).toBe(true);
    expect(err.is('VimFault')).toBe(true);
    expect(err.is('RuntimeFault')).toBe(false);
  });
});

describe('version awareness', () => {
  it('refuses a method newer than the server\'s release before sending it, naming both releases', async () => {
    const old = await Harness.start({ wsdlDir: bundleIfPresent(), apiVersion: '7.0.2.0' });
    // protocol 'auto': a 7.0 server serves no VI/JSON, whichever wire the run prefers.
    const client = await VimClient.connect(old.info.url, { tls: { ca: old.ca }, protocol: 'auto' });
    try {
      await client.login({ username: old.info.username, password: old.info.password });
      expect(client.apiVersion).toBe('7.0.2.0');
      const err = await client.call('FetchAuditRecords', client.ref('DiagnosticManager', 'DiagMgr'), {}).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).message).toBe('FetchAuditRecords: introduced in vim25 7.0.3.0; the server speaks vim25 7.0.2.0');
      expect((await harnessStats(old.info)).methods.FetchAuditRecords).toBeUndefined();
      expect(await client.call('CurrentTime', client.ref('ServiceInstance', 'ServiceInstance'))).toBeInstanceOf(Date);
    } finally {
      await client.close();
      await old.stop();
    }
  });
});

describe('client.ref', () => {
  it('accepts managed type names and checked plain references, and refuses the rest', () => {
    expect(c.ref('VirtualMachine', 'vm-42')).toEqual({ type: 'VirtualMachine', value: 'vm-42' });
    const stored = JSON.parse('{"type":"VirtualMachine","value":"vm-42"}') as { type: string; value: string };
    expect(c.ref(stored, 'ManagedEntity')).toEqual({ type: 'VirtualMachine', value: 'vm-42' });
    expect(() => c.ref(stored, 'HostSystem')).toThrow('VirtualMachine vm-42 is not a HostSystem');
    expect(() => c.ref({ type: 'VirtualMachin', value: 'vm-42' })).toThrow('"VirtualMachin" is not a vim25 managed type');
    // @ts-expect-error not a managed type name
    expect(() => c.ref('VirtualMachin', 'vm-42')).toThrow(TypeError);
    expect(() => c.ref('VirtualMachine', '')).toThrow(TypeError);
  });
});
