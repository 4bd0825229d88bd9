// events() and tasks() on a harness of this file's own (it powers VMs off).
import { beforeAll, describe, expect, it } from 'vitest';
import { isEvent, type ManagedObjectReference, type VimClient, type VmPoweredOffEvent } from '../../src/index.ts';
import type { HarnessInfo } from '../harness/vcsim.ts';
import { inventoryStats, loggedIn, ownHarness } from '../harness/inventory.ts';

let info: HarnessInfo;
let c: VimClient;
let vms: ManagedObjectReference<'VirtualMachine'>[];

beforeAll(async () => {
  info = (await ownHarness({ inventory: { datacenters: 1, clusters: 0, standaloneHosts: 1, vms: 3 } })).info;
  c = await loggedIn(info);
  vms = await c.find('VirtualMachine', '/DC0/vm/*');
});

async function collected<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('events', () => {
  it('finds the power-off of a VM, typed as VmPoweredOffEvent with its vm, and destroys its collector', async () => {
    const since = await c.call('CurrentTime', { type: 'ServiceInstance', value: 'ServiceInstance' });
    await c.waitForTask(await c.call('PowerOffVM_Task', vms[0]!, {}));
    const before = (await inventoryStats(info)).methods.DestroyCollector ?? 0;

    const found = await collected(c.events({ since, types: ['VmPoweredOffEvent'] }));
    expect(found).toHaveLength(1);
    const e = found[0]!;
    expect(e._typeName).toBe('VmPoweredOffEvent');
    expect(isEvent<VmPoweredOffEvent>(e, 'VmPoweredOffEvent') && e.vm?.vm).toEqual(vms[0]);
    expect(e.createdTime).toBeInstanceOf(Date);
    expect(e.createdTime.getTime()).toBeGreaterThanOrEqual(since.getTime());

    // By entity: the VM's own events, every one about it.
    const about = await collected(c.events({ entity: vms[0]!, since }));
    expect(about.map((x) => x._typeName)).toContain('VmPoweredOffEvent');
    expect(about.every((x) => x.vm?.vm.value === vms[0]!.value)).toBe(true);
    // Nothing before it happened, nothing after `until`.
    expect(await collected(c.events({ types: ['VmPoweredOffEvent'], until: new Date(since.getTime() - 60_000) }))).toEqual([]);
    expect((await inventoryStats(info)).methods.DestroyCollector).toBe(before + 3);
  });

  it('destroys its collector when the loop is left early', async () => {
    await c.waitForTask(await c.call('PowerOffVM_Task', vms[1]!, {}));
    await c.waitForTask(await c.call('PowerOffVM_Task', vms[2]!, {}));
    const before = (await inventoryStats(info)).methods.DestroyCollector ?? 0;
    for await (const e of c.events({ pageSize: 1 })) {
      expect(e._typeName).toMatch(/Event$/);
      break;
    }
    expect((await inventoryStats(info)).methods.DestroyCollector).toBe(before + 1);
  });
});

describe('tasks', () => {
  it('lists the recent tasks on an entity, with their TaskInfo', async () => {
    const since = await c.call('CurrentTime', { type: 'ServiceInstance', value: 'ServiceInstance' });
    // A reconfiguration succeeds whatever the VM's power state (the events tests power VMs off).
    const task = await c.call('ReconfigVM_Task', vms[1]!, { spec: { annotation: 'listed' } });
    await c.waitForTask(task);
    const before = (await inventoryStats(info)).methods.DestroyCollector ?? 0;
    const recent = await collected(c.tasks({ entity: vms[1]!, since, pageSize: 1 }));
    expect(recent.map((t) => t.task)).toEqual([task]);
    expect(recent[0]).toMatchObject({ state: 'success', entity: vms[1] });
    expect(await collected(c.tasks({ entity: vms[2]!, since }))).toEqual([]);
    expect((await inventoryStats(info)).methods.DestroyCollector).toBe(before + 2);
  });
});
