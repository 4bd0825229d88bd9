// find(): govc-style inventory paths, names and moref ids, checked against the paths pyvmomi
// walks in the same folders.
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { ValidationError, type ManagedObjectReference, type ManagedTypeName, type VimClient } from 'vim25-soap';
import { inventoryStats, loggedIn, ownHarness, pyvmomiInventory, type PyvmomiInventory } from '../harness/inventory.ts';

let c: VimClient;
let py: PyvmomiInventory;

beforeAll(async () => {
  const info = inject('harness');
  c = await loggedIn(info);
  py = await pyvmomiInventory(info);
});

// The types find() is asked for, and what pyvmomi reports of them (the type or a subtype).
const SUBTYPES: Record<string, string[]> = {
  ComputeResource: ['ComputeResource', 'ClusterComputeResource'],
  ManagedEntity: ['Folder', 'Datacenter', 'ComputeResource', 'ClusterComputeResource', 'HostSystem', 'ResourcePool', 'VirtualMachine', 'Datastore', 'Network', 'DistributedVirtualPortgroup', 'DistributedVirtualSwitch', 'VmwareDistributedVirtualSwitch'],
};

/** The objects of `type` (or a subtype) whose pyvmomi path matches `re`. */
function pyvmomiFind(type: string, re: RegExp): string[] {
  const types = SUBTYPES[type] ?? [type];
  return [...new Set(Object.entries(py.paths).filter(([path, ref]) => types.includes(ref.type) && re.test(path)).map(([, ref]) => ref.value))].sort();
}

const values = (refs: ManagedObjectReference[]) => refs.map((r) => r.value).sort();

describe('find', () => {
  it.each<[ManagedTypeName, string, RegExp]>([
    ['VirtualMachine', '/DC0/vm/*', /^\/DC0\/vm\/[^/]+$/],
    ['HostSystem', '/DC0/host/*/*', /^\/DC0\/host\/[^/]+\/[^/]+$/],
    ['VirtualMachine', '/DC0/host/DC0_C0/Resources/*', /^\/DC0\/host\/DC0_C0\/Resources\/[^/]+$/],
    ['VirtualMachine', '/DC0/.../DC0_C0_RP0_VM?', /^\/DC0\/.*\/DC0_C0_RP0_VM.$/],
    ['VirtualMachine', '/.../*VM1', /^\/.*\/[^/]*VM1$/],
    ['ManagedEntity', '/*', /^\/[^/]+$/],
    ['Datacenter', '/*', /^\/[^/]+$/],
    ['Folder', '/DC0/*', /^\/DC0\/[^/]+$/],
    ['ComputeResource', '/DC0/host/*', /^\/DC0\/host\/[^/]+$/],
    ['Datastore', '/DC0/datastore/*', /^\/DC0\/datastore\/[^/]+$/],
    ['VirtualMachine', '/DC0/vm/nothing-*', /^$/],
    ['VirtualMachine', '/DC0/vm/*VM[12]', /^\/DC0\/vm\/[^/]*VM[12]$/],
    ['VirtualMachine', '/DC0/vm/*VM[!1]', /^\/DC0\/vm\/[^/]*VM[^1]$/],
    ['HostSystem', '/DC0/host/*/DC0_C0_H[0-1]', /^\/DC0\/host\/[^/]+\/DC0_C0_H[01]$/],
    ['ManagedEntity', '...', /^\/DC0(\/.*)?$/],
    ['VirtualMachine', '...', /^\/DC0\/.*$/],
  ])('%s %s is what pyvmomi sees there', async (type, pattern, re) => {
    expect(values(await c.find(type, pattern))).toEqual(pyvmomiFind(type, re));
  });

  it('ManagedEntity /* finds what the root folder holds, whatever its type', async () => {
    const found = await c.find('ManagedEntity', '/*');
    expect(found.length).toBeGreaterThan(0);
    expect(values(found)).toEqual(Object.entries(py.paths).filter(([p]) => /^\/[^/]+$/.test(p)).map(([, r]) => r.value).sort());
  });

  it('resolves a relative path under the datacenter as govc does', async () => {
    expect(values(await c.find('VirtualMachine', 'vm/*'))).toEqual(values(await c.find('VirtualMachine', '/DC0/vm/*')));
  });

  it('finds a bare name or glob anywhere, and a moref id', async () => {
    const vm = py.vms[0]!;
    expect(values(await c.find('VirtualMachine', vm.name))).toEqual([vm.moref]);
    expect(values(await c.find('VirtualMachine', vm.moref))).toEqual([vm.moref]);
    expect(values(await c.find('VirtualMachine', '*_VM1'))).toEqual(py.vms.filter((v) => v.name.endsWith('_VM1')).map((v) => v.moref).sort());
    expect(await c.find('VirtualMachine', 'no-such-vm')).toEqual([]);
  });

  it('reads classes in a bare glob, and a bare ... as everything below each datacenter', async () => {
    const vm1 = py.vms.filter((v) => /VM[12]$/.test(v.name)).map((v) => v.moref).sort();
    expect(vm1.length).toBeGreaterThan(0);
    expect(values(await c.find('VirtualMachine', '*VM[12]'))).toEqual(vm1);
    expect(values(await c.find('VirtualMachine', '...'))).toEqual(py.vms.map((v) => v.moref).sort());
    expect(values(await c.find('ManagedEntity', '...'))).toEqual(values(await c.find('ManagedEntity', '/DC0/...')));
  });

  it('refuses a malformed, too long or too deep pattern with an InvalidPatternError', async () => {
    await expect(c.find('VirtualMachine', '/DC0/vm/*VM[12')).rejects.toSatisfy((e) => e instanceof ValidationError);
    await expect(c.find('VirtualMachine', '/DC0/vm/*VM[12')).rejects.toMatchObject({ name: 'InvalidPatternError', reason: 'malformed', index: 11 });
    await expect(c.find('VirtualMachine', 'web-\\')).rejects.toMatchObject({ name: 'InvalidPatternError', reason: 'malformed', index: 4 });
    await expect(c.find('VirtualMachine', '*'.repeat(4097))).rejects.toMatchObject({ name: 'InvalidPatternError', reason: 'too-long' });
    await expect(c.find('VirtualMachine', '/*'.repeat(65))).rejects.toMatchObject({ name: 'InvalidPatternError', reason: 'too-deep' });
    await expect(c.find('VirtualMachine', '')).rejects.toMatchObject({ name: 'InvalidPatternError', reason: 'empty' });
  });

  it('costs one PropertyCollector round trip per level, not per object', async () => {
    const h = await ownHarness({ inventory: { datacenters: 2, clusters: 2, hostsPerCluster: 3, standaloneHosts: 1, vms: 4 } });
    const own = await loggedIn(h.info);
    const before = (await inventoryStats(h.info)).methods.RetrievePropertiesEx ?? 0;
    const hosts = await own.find('HostSystem', '/*/host/*/*');
    expect(hosts).toHaveLength(2 * (2 * 3 + 1));
    expect((await inventoryStats(h.info)).methods.RetrievePropertiesEx! - before).toBe(4);
  });
});
