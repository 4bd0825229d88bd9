// events() and tasks() on a harness of this file's own (it powers VMs off and on).
import { beforeAll, describe, expect, it } from 'vitest';
import { isEvent, type InventoryClient, type ManagedObjectReference, type TypedEvent, type VimClient, type VmPoweredOffEvent } from 'vim25-soap';
import { events } from '../../src/inventory/history.ts';
import { SI } from '../fixtures.ts';
import type { HarnessInfo } from '../harness/vcsim.ts';
import { inventoryStats, loggedIn, ownHarness } from '../harness/inventory.ts';

let info: HarnessInfo;
let c: VimClient;
let vms: ManagedObjectReference<'VirtualMachine'>[];

beforeAll(async () => {
  // vms[0..2] are powered off by the tests below, vms[3..4] powered off and on by the paging test alone.
  info = (await ownHarness({ inventory: { datacenters: 1, clusters: 0, standaloneHosts: 1, vms: 5 } })).info;
  c = await loggedIn(info);
  vms = await c.find('VirtualMachine', '/DC0/vm/*');
});

async function collected<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/**
 * `c`, with the history collector's latest page kept wide, and the calls sent recorded
 * (`${method} ${_this.value}`). vcsim reads ReadNextEvents from the latest page alone, so after
 * events()' SetCollectorPageSize(pageSize) it would read the newest `pageSize` events and no
 * more; vCenter reads the whole collector, oldest first, whatever that page's size. The reads
 * still ask for `pageSize` events at a time. `sent` runs once a call has been started.
 */
function wideLatestPage(c: VimClient, sent: (method: string) => void = () => undefined): InventoryClient & { calls: string[]; collectors: string[]; readSizes: number[] } {
  const calls: string[] = [];
  const collectors: string[] = [];
  const readSizes: number[] = [];
  return {
    serviceContent: c.serviceContent,
    apiVersion: c.apiVersion,
    on: (event, listener) => c.on(event, listener),
    off: (event, listener) => c.off(event, listener),
    calls,
    collectors,
    readSizes,
    call: (async (method: string, _this: ManagedObjectReference, args: { maxCount?: number } | undefined, ...rest: unknown[]) => {
      calls.push(`${method} ${_this.value}`);
      if (method === 'ReadNextEvents') readSizes.push(args!.maxCount!);
      const call = (c.call as (...a: unknown[]) => Promise<unknown>)(method, _this, method === 'SetCollectorPageSize' ? { maxCount: 1000 } : args, ...rest);
      sent(method);
      const res = await call;
      if (method === 'CreateCollectorForEvents') collectors.push((res as ManagedObjectReference).value);
      return res;
    }) as InventoryClient['call'],
  };
}

class StopReading extends Error {
  override name = 'StopReading';
}

describe('events', () => {
  it('finds the power-off of a VM, typed as VmPoweredOffEvent with its vm, and destroys its collector', async () => {
    const since = await c.call('CurrentTime', SI);
    await c.waitForTask(await c.call('PowerOffVM_Task', vms[0]!, {}));
    const before = (await inventoryStats(info)).methods.DestroyCollector ?? 0;

    const found = await collected(c.events({ since, types: ['VmPoweredOffEvent'] }));
    expect(found).toHaveLength(1);
    const e = found[0]!;
    expect(e._typeName).toBe('VmPoweredOffEvent');
    expect(isEvent(e, 'VmPoweredOffEvent') && e.vm?.vm).toEqual(vms[0]);
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
  it('reads several pages of one event each, every event once, the same events as one page of 1000', async () => {
    // Three power-offs of VMs only this test touches.
    const [a, b] = [vms[3]!, vms[4]!];
    await c.waitForTask(await c.call('PowerOffVM_Task', a, {}));
    await c.waitForTask(await c.call('PowerOffVM_Task', b, {}));
    await c.waitForTask(await c.call('PowerOnVM_Task', a, {}));
    await c.waitForTask(await c.call('PowerOffVM_Task', a, {}));
    const before = (await inventoryStats(info)).methods.DestroyCollector ?? 0;

    const client = wideLatestPage(c);
    const paged = await collected(events(client, { pageSize: 1, types: ['VmPoweredOffEvent'] }));
    const keys = paged.map((e) => e.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(paged.every((e) => e._typeName === 'VmPoweredOffEvent')).toBe(true);
    expect(paged.filter((e) => e.vm?.vm.value === a.value)).toHaveLength(2);
    expect(paged.filter((e) => e.vm?.vm.value === b.value)).toHaveLength(1);
    // A page per event, one event asked for each time, and the empty read that ends it.
    expect(client.readSizes).toEqual(Array<number>(paged.length + 1).fill(1));

    const whole = await collected(c.events({ pageSize: 1000, types: ['VmPoweredOffEvent'] }));
    const byKey = (x: TypedEvent, y: TypedEvent): number => x.key - y.key;
    expect([...paged].sort(byKey)).toEqual([...whole].sort(byKey));
    expect((await inventoryStats(info)).methods.DestroyCollector).toBe(before + 2);
  });

  it('destroys its collector when aborted between two pages, rejecting with an AbortError', async () => {
    const before = (await inventoryStats(info)).methods.DestroyCollector ?? 0;
    const client = wideLatestPage(c);
    const ctrl = new AbortController();
    const seen: TypedEvent[] = [];
    const reading = (async () => {
      for await (const e of events(client, { pageSize: 1, signal: ctrl.signal })) {
        seen.push(e);
        ctrl.abort();
      }
    })();
    await expect(reading).rejects.toMatchObject({ name: 'AbortError', code: 'EABORTED' });
    // The harness holds dozens of events; one was read, and nothing after the abort but the clean-up.
    expect(seen).toHaveLength(1);
    expect(client.calls.filter((x) => x.startsWith('ReadNextEvents'))).toHaveLength(1);
    expect(client.calls.at(-1)).toBe(`DestroyCollector ${client.collectors[0]}`);
    expect((await inventoryStats(info)).methods.DestroyCollector).toBe(before + 1);
  });

  it("destroys its collector when aborted during its second ReadNextEvents call, rejecting with the abort's own reason", async () => {
    const before = (await inventoryStats(info)).methods.DestroyCollector ?? 0;
    const ctrl = new AbortController();
    const reason = new StopReading('enough');
    let reads = 0;
    const client = wideLatestPage(c, (method) => {
      if (method === 'ReadNextEvents' && ++reads === 2) ctrl.abort(reason);
    });
    const seen: TypedEvent[] = [];
    const reading = (async () => {
      for await (const e of events(client, { pageSize: 1, signal: ctrl.signal })) seen.push(e);
    })();
    await expect(reading).rejects.toBe(reason);
    expect(seen).toHaveLength(1);
    expect(client.calls.at(-1)).toBe(`DestroyCollector ${client.collectors[0]}`);
    expect((await inventoryStats(info)).methods.DestroyCollector).toBe(before + 1);
  });
});

describe('tasks', () => {
  it('lists the recent tasks on an entity, with their TaskInfo', async () => {
    const since = await c.call('CurrentTime', SI);
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
