// find and retrieve with the tag filter: the objects carrying a tag (named by id or as
// 'category/tag'), intersected with what the type, the path and the root select; an unknown tag
// is the tagging API's RestError NOT_FOUND.
import { describe, expect, it } from 'vitest';
import { harnessStats } from '../harness/vcsim.ts';
import { loggedIn, startHarness } from '../fixtures.ts';
import { AbortError, RestError, type VimClient } from 'vim25-soap';
// The inventory layer on its own, for a client without a tagging API.
import { retrieveTagged } from '../../src/inventory/finder.ts';

const names = async (c: VimClient, refs: ReadonlyArray<{ type: string; value: string }>): Promise<string[]> =>
  (await Promise.all(refs.map(async (r) => String((await c.retrieveOne(r as never, ['name' as never]) as { name?: unknown }).name)))).sort();

async function tagged(c: VimClient) {
  const tags = c.tags;
  await tags.createCategory({ name: 'zone', cardinality: 'MULTIPLE' });
  const east = await tags.createTag({ name: 'us-east-1a', category: 'zone' });
  const empty = await tags.createTag({ name: 'empty', category: 'zone' });
  const [vm0] = await c.find('VirtualMachine', '/DC0/vm/DC0_H0_VM0');
  const [rp0] = await c.find('VirtualMachine', '/DC0/vm/DC0_C0_RP0_VM0');
  const [host] = await c.find('HostSystem', 'DC0_H0');
  // A VM, a VM in the cluster, a host, and a VM that no longer exists (associations can outlive objects).
  await tags.attach(east.id, [vm0!, rp0!, host!, c.ref('VirtualMachine', 'vm-gone')]);
  return { east, empty, vm0: vm0!, rp0: rp0!, host: host! };
}

describe('find and retrieve with { tag }', () => {
  it('find keeps the objects of the type and path that carry the tag', async () => {
    const h = await startHarness();
    const c = await loggedIn(h);
    const { east, empty, vm0, rp0, host } = await tagged(c);
    expect(await c.find('VirtualMachine', '...')).toHaveLength(4);

    const byName = await c.find('VirtualMachine', '...', { tag: 'zone/us-east-1a' });
    expect(byName.map((r) => r.value).sort()).toEqual([vm0.value, rp0.value].sort());
    expect(await c.find('VirtualMachine', '*', { tag: east.id })).toEqual(expect.arrayContaining([vm0, rp0]));
    expect(await c.find('VirtualMachine', '*', { tag: east.id })).toHaveLength(2);
    expect(await c.find('VirtualMachine', '/DC0/vm/DC0_H0_*', { tag: 'zone/us-east-1a' })).toEqual([vm0]);
    expect(await c.find('VirtualMachine', 'DC0_H0_VM1', { tag: 'zone/us-east-1a' })).toEqual([]);
    expect(await c.find('HostSystem', '...', { tag: 'zone/us-east-1a' })).toEqual([host]);
    expect(await c.find('VirtualMachine', '...', { tag: empty.id })).toEqual([]);
    // A bare tag name works where only one category has it.
    expect(await names(c, await c.find('VirtualMachine', '...', { tag: 'us-east-1a' }))).toEqual(['DC0_C0_RP0_VM0', 'DC0_H0_VM0']);
  });

  it('retrieve keeps the rows of the tagged objects, under the root asked for', async () => {
    const h = await startHarness();
    const c = await loggedIn(h);
    const { east, rp0 } = await tagged(c);
    const rows = await c.retrieve('VirtualMachine', ['name', 'runtime.powerState'], { tag: 'zone/us-east-1a' });
    expect(rows.map((r) => r.name).sort()).toEqual(['DC0_C0_RP0_VM0', 'DC0_H0_VM0']);
    expect(rows.every((r) => r.ref.type === 'VirtualMachine' && typeof r['runtime.powerState'] === 'string')).toBe(true);
    const [cluster] = await c.find('ClusterComputeResource', 'DC0_C0');
    const inCluster = await c.retrieve('VirtualMachine', ['name'], { tag: east.id, root: cluster! });
    expect(inCluster.map((r) => r.ref)).toEqual([rp0]);
    expect((await c.retrieve('Datastore', ['name'], { tag: east.id }))).toEqual([]);
    // Without a tag it is retrieve itself.
    expect(await c.retrieve('VirtualMachine', ['name'])).toHaveLength(4);
  });

  it('an unknown tag, by name, by category or by id, is a RestError NOT_FOUND', async () => {
    const h = await startHarness();
    const c = await loggedIn(h);
    await tagged(c);
    const before = await harnessStats(h.info);
    for (const tag of ['zone/nowhere', 'nocategory/us-east-1a', 'nowhere', 'urn:vmomi:InventoryServiceTag:00000000-0000-0000-0000-000000000000:GLOBAL']) {
      const fromFind = await c.find('VirtualMachine', '...', { tag }).catch((e: unknown) => e);
      expect(fromFind, tag).toBeInstanceOf(RestError);
      expect(fromFind, tag).toMatchObject({ status: 404, errorType: 'NOT_FOUND' });
      const fromRetrieve = await c.retrieve('VirtualMachine', ['name'], { tag }).catch((e: unknown) => e);
      expect(fromRetrieve, tag).toMatchObject({ name: 'RestError', status: 404, errorType: 'NOT_FOUND' });
    }
    // The tag is looked up before the inventory is read: no view was made, none left behind.
    const after = await harnessStats(h.info);
    expect(after.methods.CreateContainerView ?? 0).toBe(before.methods.CreateContainerView ?? 0);
    expect(after.methods.RetrievePropertiesEx ?? 0).toBe(before.methods.RetrievePropertiesEx ?? 0);
  });

  it('a malformed tag is refused before any request; an abort stops both reads', async () => {
    const h = await startHarness();
    const c = await loggedIn(h);
    await tagged(c);
    const before = await harnessStats(h.info);
    await expect(c.find('VirtualMachine', '...', { tag: '' })).rejects.toThrow(TypeError);
    await expect(c.retrieve('VirtualMachine', ['name'], { tag: 42 as never })).rejects.toThrow(TypeError);
    const after = await harnessStats(h.info);
    expect(after.vapi.requests).toBe(before.vapi.requests);
    expect(after.methods.RetrievePropertiesEx ?? 0).toBe(before.methods.RetrievePropertiesEx ?? 0);
    const ac = new AbortController();
    ac.abort();
    expect(await c.find('VirtualMachine', '...', { tag: 'zone/us-east-1a', signal: ac.signal }).catch((e: unknown) => e)).toBeInstanceOf(AbortError);
    expect(await c.retrieve('VirtualMachine', ['name'], { tag: 'zone/us-east-1a', signal: ac.signal }).catch((e: unknown) => e)).toBeInstanceOf(AbortError);
  });

  it('an inventory client without a tagging API refuses the filter', async () => {
    const h = await startHarness();
    const c = await loggedIn(h);
    // The inventory layer's own view of a client: calls and service content, no `tags`.
    const bare = { serviceContent: c.serviceContent, apiVersion: c.apiVersion, call: c.call.bind(c), on: c.on.bind(c), off: c.off.bind(c) };
    await expect(retrieveTagged(bare as never, 'VirtualMachine', ['name'], { tag: 'zone/x' })).rejects.toThrow(/tagging API/);
  });
});
