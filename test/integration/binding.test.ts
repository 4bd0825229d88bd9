// The data binding end to end against vcsim: polymorphic requests, property collector paging,
// updates, tasks, anyType round trips, faults, and a walk over every decoded value. These tests
// power, rename and reconfigure VMs and set options, so they run on a harness of their own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VimClient, dataObject, isVimFault, type ManagedObjectReference, type TaskInfo } from 'vim25-soap';
import { ownHarness } from '../fixtures.ts';

const harness = ownHarness();
let client: VimClient;
const decoded: unknown[] = [];

/** Every call's result is kept for the shape walk at the end. */
async function call<T>(p: Promise<T>): Promise<T> {
  const v = await p;
  decoded.push(v);
  return v;
}

const sc = () => client.serviceContent;

async function findVm(name: string): Promise<ManagedObjectReference<'VirtualMachine'>> {
  const ref = await call(client.call('FindByInventoryPath', sc().searchIndex!, { inventoryPath: `DC0/vm/${name}` }));
  if (!ref) throw new Error(`no VM ${name}`);
  return client.ref(ref, 'VirtualMachine');
}

/** The task's TaskInfo once it has ended (the library's waitForTask waits; the info is read back for the tests to check). */
async function waitTask(task: ManagedObjectReference<'Task'>): Promise<TaskInfo> {
  await client.waitForTask(task).catch(() => undefined); // a failed task is looked at through its info
  const [content] = await call(client.call('RetrieveProperties', sc().propertyCollector, {
    specSet: [{ propSet: [{ type: 'Task', pathSet: ['info'] }], objectSet: [{ obj: task }] }],
  }));
  return content!.propSet![0]!.val as TaskInfo;
}

async function props(obj: ManagedObjectReference, ...paths: string[]): Promise<Record<string, unknown>> {
  const [content] = await call(client.call('RetrieveProperties', sc().propertyCollector, {
    specSet: [{ propSet: [{ type: obj.type, pathSet: paths }], objectSet: [{ obj }] }],
  }));
  return Object.fromEntries((content?.propSet ?? []).map((p) => [p.name, p.val]));
}

beforeAll(async () => {
  const h = harness();
  client = await VimClient.connect(h.info.url, { tls: { ca: h.ca } });
  await client.login({ username: h.info.username, password: h.info.password });
});
afterAll(() => client?.close());

describe('property collector', () => {
  it('pages RetrievePropertiesEx + ContinueRetrievePropertiesEx through a ContainerView and a TraversalSpec', async () => {
    const view = await call(client.call('CreateContainerView', sc().viewManager!, { container: sc().rootFolder, type: ['VirtualMachine'], recursive: true }));
    expect(view.type).toBe('ContainerView');
    // Shuffled keys everywhere: the wire order must come from the schema (the conformance oracle checks it).
    const spec = {
      options: { maxObjects: 1 },
      specSet: [{
        objectSet: [{ skip: true, selectSet: [{ type: 'ContainerView', path: 'view', _typeName: 'TraversalSpec', skip: false, name: 'toView' }], obj: view }],
        propSet: [{ pathSet: ['name', 'runtime.powerState'], type: 'VirtualMachine' }],
      }],
    };
    const names: string[] = [];
    let page = await call(client.call('RetrievePropertiesEx', sc().propertyCollector, spec));
    expect(page?._typeName).toBe('RetrieveResult');
    for (;;) {
      for (const o of page!.objects) {
        expect(o._typeName).toBe('ObjectContent');
        expect(o.obj.type).toBe('VirtualMachine');
        const name = o.propSet!.find((p) => p.name === 'name')!.val;
        expect(typeof name).toBe('string');
        names.push(name as string);
        expect(['poweredOn', 'poweredOff', 'suspended']).toContain(o.propSet!.find((p) => p.name === 'runtime.powerState')!.val);
      }
      if (!page!.token) break;
      page = await call(client.call('ContinueRetrievePropertiesEx', sc().propertyCollector, { token: page!.token }));
    }
    expect(names.length).toBeGreaterThanOrEqual(4);
    expect(new Set(names).size).toBe(names.length);
    await client.call('DestroyView', view);
  });

  it('CreateFilter + WaitForUpdatesEx report a rename', async () => {
    const vm = await findVm('DC0_H0_VM1');
    const pc = await call(client.call('CreatePropertyCollector', sc().propertyCollector));
    const filter = await call(client.call('CreateFilter', pc, { spec: { propSet: [{ type: 'VirtualMachine', pathSet: ['name'] }], objectSet: [{ obj: vm }] }, partialUpdates: false }));
    expect(filter.type).toBe('PropertyFilter');
    const first = await call(client.call('WaitForUpdatesEx', pc, { version: '', options: { maxWaitSeconds: 5 } }));
    expect(first?._typeName).toBe('UpdateSet');
    expect(first!.filterSet![0]!.objectSet![0]!.kind).toBe('enter');
    const task = await call(client.call('Rename_Task', vm, { newName: 'renamed-vm' }));
    expect((await waitTask(task)).state).toBe('success');
    const next = await call(client.call('WaitForUpdatesEx', pc, { version: first!.version, options: { maxWaitSeconds: 5 } }));
    const change = next!.filterSet![0]!.objectSet![0]!.changeSet![0]!;
    expect(change).toMatchObject({ _typeName: 'PropertyChange', name: 'name', op: 'assign', val: 'renamed-vm' });
    await client.call('DestroyPropertyFilter', filter);
    await client.call('DestroyPropertyCollector', pc);
    await waitTask(await client.call('Rename_Task', vm, { newName: 'DC0_H0_VM1' }));
  });

  it('decodes a property holding exactly one array element as an array', async () => {
    const dcs = await call(client.call('RetrieveProperties', sc().propertyCollector, {
      specSet: [{ propSet: [{ type: 'Folder', pathSet: ['childEntity'] }], objectSet: [{ obj: sc().rootFolder }] }],
    }));
    const child = dcs[0]!.propSet![0]!.val;
    expect(Array.isArray(child)).toBe(true);
    expect(child).toEqual([{ type: 'Datacenter', value: expect.any(String) }]);
  });
});

describe('tasks and polymorphic specs', () => {
  it('powers a VM off and on, reading TaskInfo back', async () => {
    const vm = await findVm('DC0_H0_VM0');
    const off = await waitTask(await call(client.call('PowerOffVM_Task', vm)));
    expect(off).toMatchObject({ _typeName: 'TaskInfo', state: 'success', descriptionId: 'VirtualMachine.powerOff', entity: vm });
    expect(off.queueTime).toBeInstanceOf(Date);
    expect((await props(vm, 'runtime.powerState'))['runtime.powerState']).toBe('poweredOff');
    const on = await waitTask(await call(client.call('PowerOnVM_Task', vm, {})));
    expect(on.state).toBe('success');
    expect((await props(vm, 'runtime.powerState'))['runtime.powerState']).toBe('poweredOn');
  });

  it('adds a disk with ReconfigVM_Task (subtypes in deviceChange, device and backing)', async () => {
    const vm = await findVm('DC0_C0_RP0_VM0');
    const before = (await props(vm, 'config.hardware.device'))['config.hardware.device'] as { _typeName: string; key: number; controllerKey?: number }[];
    const controller = before.find((d) => ['VirtualLsiLogicController', 'ParaVirtualSCSIController', 'VirtualLsiLogicSASController'].includes(d._typeName))!;
    const task = await call(client.call('ReconfigVM_Task', vm, {
      spec: {
        deviceChange: [{
          device: dataObject('VirtualDisk', {
            capacityInKB: 1024 * 1024,
            unitNumber: 9,
            controllerKey: controller.key,
            key: -42,
            backing: dataObject('VirtualDiskFlatVer2BackingInfo', { thinProvisioned: true, diskMode: 'persistent', fileName: '' }),
          }),
          fileOperation: 'create',
          operation: 'add',
        }],
      },
    }));
    const info = await waitTask(task);
    expect(info.state, JSON.stringify(info.error)).toBe('success');
    const after = (await props(vm, 'config.hardware.device'))['config.hardware.device'] as { _typeName: string; backing?: { _typeName: string } }[];
    expect(after.length).toBe(before.length + 1);
    const disks = after.filter((d) => d._typeName === 'VirtualDisk');
    expect(disks.at(-1)!.backing!._typeName).toBe('VirtualDiskFlatVer2BackingInfo');
  });

  it('creates a folder, renames it, and reports DuplicateName', async () => {
    const dc = await call(client.call('FindByInventoryPath', sc().searchIndex!, { inventoryPath: 'DC0' }));
    const { vmFolder } = (await props(dc!, 'vmFolder')) as { vmFolder: ManagedObjectReference<'Folder'> };
    const folder = await call(client.call('CreateFolder', vmFolder, { name: 'binding-test' }));
    expect(folder.type).toBe('Folder');
    const err = await client.call('CreateFolder', vmFolder, { name: 'binding-test' }).catch((e: unknown) => e);
    expect(isVimFault(err, 'DuplicateName')).toBe(true);
    expect(isVimFault(err, 'VimFault')).toBe(true);
    const renamed = await waitTask(await call(client.call('Rename_Task', folder, { newName: 'binding-test-2' })));
    expect(renamed.state).toBe('success');
    expect((await props(folder, 'name')).name).toBe('binding-test-2');
    await waitTask(await call(client.call('Destroy_Task', folder)));
  });
});

describe('anyType values and faults', () => {
  it('round-trips OptionValue values of several types with UpdateOptions', async () => {
    const om = sc().setting!;
    const date = new Date('2024-02-03T04:05:06.789Z');
    await client.call('UpdateOptions', om, {
      changedValue: [
        { key: 'vim25soap.string', value: 'a < b & c' },
        { key: 'vim25soap.bool', value: true },
        { key: 'vim25soap.long', value: 2n ** 60n + 3n },
        { key: 'vim25soap.int', value: { _typeName: 'int', _value: 7 } },
        { key: 'vim25soap.double', value: 2.5 },
        { key: 'vim25soap.date', value: date },
      ],
    });
    const values = await call(client.call('QueryOptions', om, { name: 'vim25soap.' }));
    const byKey = Object.fromEntries(values.map((o) => [o.key, o.value]));
    expect(byKey['vim25soap.string']).toBe('a < b & c');
    expect(byKey['vim25soap.bool']).toBe(true);
    expect(byKey['vim25soap.long']).toBe(2n ** 60n + 3n);
    expect(byKey['vim25soap.int']).toBe(7);
    expect(byKey['vim25soap.double']).toBe(2.5);
    expect(byKey['vim25soap.date']).toEqual(date);
  });

  it('reports InvalidArgument and ManagedObjectNotFound as typed faults', async () => {
    const missing = await client.call('PowerOnVM_Task', client.ref('VirtualMachine', 'vm-does-not-exist'), {}).catch((e: unknown) => e);
    expect(isVimFault(missing, 'ManagedObjectNotFound')).toBe(true);
    expect(isVimFault(missing, 'RuntimeFault')).toBe(true);
    const invalid = await client.call('CreateContainerView', sc().viewManager!, { container: sc().rootFolder, type: ['NoSuchType'], recursive: true }).catch((e: unknown) => e);
    expect(isVimFault(invalid, 'InvalidArgument')).toBe(true);
  });

  it('never exposes node-soap shapes in any decoded value', async () => {
    // What this file's other tests decoded, if they ran first, and a wide sample of its own.
    const vm = await findVm('DC0_H0_VM0');
    await call(client.call('RetrievePropertiesEx', sc().propertyCollector, { specSet: [{ propSet: [{ type: 'VirtualMachine', all: true }], objectSet: [{ obj: vm }] }], options: {} }));
    await call(client.call('RetrievePropertiesEx', sc().propertyCollector, { specSet: [{ propSet: [{ type: 'Folder', all: true }], objectSet: [{ obj: sc().rootFolder }] }], options: {} }));
    await call(client.call('QueryOptions', sc().setting!, {}));
    const bad = ['attributes', '$value', '$xml', 'XMLSchema-instance:type', 'xsi:type'];
    const seen = new Set<unknown>();
    const walk = (v: unknown, path: string): void => {
      if (v === null || typeof v !== 'object' || seen.has(v) || v instanceof Date || v instanceof Uint8Array) return;
      seen.add(v);
      if (!Array.isArray(v)) for (const k of bad) expect(Object.keys(v), `${path} has ${k}`).not.toContain(k);
      for (const [k, child] of Object.entries(v)) walk(child, `${path}.${k}`);
    };
    decoded.forEach((v, i) => walk(v, `result${i}`));
    expect(seen.size).toBeGreaterThan(100);
  });
});
