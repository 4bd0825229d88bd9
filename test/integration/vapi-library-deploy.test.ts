// client.library.deploy: an OVF template item of a content library deployed as a new VM through
// vcenter/ovf/library-item's deploy operation (/api shapes), which the harness runs on vcsim for
// real (OvfManager.CreateImportSpec, ImportVApp, the HttpNfcLease): the VM exists, with its name,
// in the folder, pool and host asked for.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.ts';
import { harnessDrop, harnessRequest, harnessSetVapiUnified, harnessStall, harnessStats, type HarnessInfo } from '../harness/vcsim.ts';
import { loggedIn, startHarness, tempDir } from '../fixtures.ts';
import { AbortError, RestError, TransportError, type VimClient } from 'vim25-soap';

/** A one-VM OVF: what vcsim's OvfManager needs (a VirtualSystem with its hardware), no disks. */
const OVF = `<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"
  xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"
  xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData">
  <References/>
  <VirtualSystem ovf:id="tiny">
    <Info>A virtual machine</Info>
    <Name>tiny</Name>
    <OperatingSystemSection ovf:id="36" vmw:osType="otherLinux64Guest" xmlns:vmw="http://www.vmware.com/schema/ovf">
      <Info>The guest operating system</Info>
    </OperatingSystemSection>
    <VirtualHardwareSection>
      <Info>Virtual hardware requirements</Info>
      <System>
        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>
        <vssd:InstanceID>0</vssd:InstanceID>
        <vssd:VirtualSystemType>vmx-13</vssd:VirtualSystemType>
      </System>
      <Item>
        <rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits>
        <rasd:ElementName>2 virtual CPU(s)</rasd:ElementName>
        <rasd:InstanceID>1</rasd:InstanceID>
        <rasd:ResourceType>3</rasd:ResourceType>
        <rasd:VirtualQuantity>2</rasd:VirtualQuantity>
      </Item>
      <Item>
        <rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits>
        <rasd:ElementName>64MB of memory</rasd:ElementName>
        <rasd:InstanceID>2</rasd:InstanceID>
        <rasd:ResourceType>4</rasd:ResourceType>
        <rasd:VirtualQuantity>64</rasd:VirtualQuantity>
      </Item>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
`;

interface Placement {
  folder: Awaited<ReturnType<VimClient['find']>>[number] & { type: 'Folder' };
  pool: { type: 'ResourcePool'; value: string };
  host: { type: 'HostSystem'; value: string };
  datastore: { type: 'Datastore'; value: string };
}

/** A library with an OVF item holding OVF, and where to put a VM deployed from it. */
async function setUp(info: HarnessInfo, c: VimClient): Promise<{ itemId: string; libraryId: string; at: Placement }> {
  const [ds] = await c.find('Datastore', '...');
  const libraryId = await c.rest.post<string>('/api/content/local-library', {
    body: { name: 'templates', type: 'LOCAL', storage_backings: [{ type: 'DATASTORE', datastore_id: ds!.value }] },
  });
  const itemId = await harnessRequest<string>(info, 'POST', '/_harness/vapi-ovf-item', { library_id: libraryId, name: 'tiny', ovf: OVF });
  const [folder] = await c.find('Folder', '/DC0/vm');
  const [host] = await c.find('HostSystem', '/DC0/host/DC0_C0/DC0_C0_H0');
  const [pool] = await c.find('ResourcePool', '/DC0/host/DC0_C0/Resources');
  return { itemId, libraryId, at: { folder: folder!, pool: pool!, host: host!, datastore: ds! } as Placement };
}

describe('library.deploy', () => {
  it('deploys an OVF item as a VM with its name, in the folder, pool and host asked for', async () => {
    const h = await startHarness();
    const c = await loggedIn(h);
    const { itemId, libraryId, at } = await setUp(h.info, c);
    expect((await c.library.items(libraryId)).map((i) => [i.name, i.type])).toEqual([['tiny', 'ovf']]);
    const before = (await c.retrieve('VirtualMachine', ['name'])).length;

    const vm = await c.library.deploy(itemId, { name: 'from-library', ...at });

    expect(vm.type).toBe('VirtualMachine');
    const row = await c.retrieveOne(vm, ['name', 'parent', 'resourcePool', 'runtime.host', 'config.hardware.numCPU', 'config.hardware.memoryMB']);
    expect(row).toMatchObject({
      name: 'from-library',
      parent: { type: 'Folder', value: at.folder.value },
      resourcePool: { type: 'ResourcePool', value: at.pool.value },
      'runtime.host': { type: 'HostSystem', value: at.host.value },
      'config.hardware.numCPU': 2,
      'config.hardware.memoryMB': 64,
    });
    expect(await c.find('VirtualMachine', '/DC0/vm/from-library')).toEqual([vm]);
    expect((await c.retrieve('VirtualMachine', ['name'])).length).toBe(before + 1);
    const stats = await harnessStats(h.info);
    expect(stats.methods.ImportVApp).toBe(1);
  });

  it('on a server before 8.0 U3 it deploys on the vAPI session of the client\'s own', async () => {
    const h = await startHarness();
    await harnessSetVapiUnified(h.info, false);
    const c = await loggedIn(h);
    const { itemId, at } = await setUp(h.info, c);
    const vm = await c.library.deploy(itemId, { name: 'older', pool: at.pool });
    expect(await c.find('VirtualMachine', 'older')).toEqual([vm]);
    expect(c.rest.sessionMode).toBe('separate');
    expect((await harnessStats(h.info)).apiSessionRequests).toBe(1);
  });

  it('a missing item is a RestError NOT_FOUND; bad placement is refused before anything is sent', async () => {
    const h = await startHarness();
    const c = await loggedIn(h);
    const { itemId, at } = await setUp(h.info, c);
    const missing = await c.library.deploy('00000000-0000-0000-0000-000000000000', { name: 'x', pool: at.pool }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(RestError);
    expect(missing).toMatchObject({ status: 404, errorType: 'NOT_FOUND', method: 'POST', path: '/api/vcenter/ovf/library-item/00000000-0000-0000-0000-000000000000' });
    const requests = (await harnessStats(h.info)).vapi.requests;
    // A host where the pool goes, and no pool at all.
    await expect(c.library.deploy(itemId, { name: 'x', pool: at.host as never })).rejects.toThrow(/pool must be a ResourcePool reference/);
    await expect(c.library.deploy(itemId, { name: 'x' } as never)).rejects.toThrow(TypeError);
    await expect(c.library.deploy('', { name: 'x', pool: at.pool })).rejects.toThrow(TypeError);
    expect((await harnessStats(h.info)).vapi.requests).toBe(requests);
    expect((await harnessStats(h.info)).methods.ImportVApp ?? 0).toBe(0);
  });

  it('a deploy the server fails is a DeployError with the server\'s messages', async () => {
    const h = await startHarness();
    const c = await loggedIn(h);
    const { itemId, at } = await setUp(h.info, c);
    // A datastore that does not exist: vcsim's OvfManager fails the import.
    const err = await c.library.deploy(itemId, { name: 'x', ...at, datastore: { type: 'Datastore', value: 'datastore-nowhere' } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'DeployError', itemId, resource: undefined });
    expect((err as { categories: string[] }).categories).toEqual(['SERVER']);
    expect((err as { messages: string[] }).messages.length).toBeGreaterThan(0);
    expect(await c.find('VirtualMachine', 'x')).toEqual([]);
  });

  it('is not replayed when its connection closes after it was sent: EOUTCOMEUNKNOWN, one VM', async () => {
    const h = await startHarness();
    const c = await loggedIn(h);
    const { itemId, at } = await setUp(h.info, c);
    await harnessDrop(h.info, 1, 'answer', `VAPI POST /api/vcenter/ovf/library-item/${itemId}`);
    const err = await c.library.deploy(itemId, { name: 'once', ...at }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect(err).toMatchObject({ code: 'EOUTCOMEUNKNOWN', outcomeUnknown: true });
    // The deploy ran once on the server, and only once.
    expect((await harnessStats(h.info)).methods.ImportVApp).toBe(1);
    expect(await c.find('VirtualMachine', 'once')).toHaveLength(1);
  });

  it('stops at an abort and at its deadline', async () => {
    const h = await startHarness();
    const c = await loggedIn(h);
    const { itemId, at } = await setUp(h.info, c);
    await harnessStall(h.info, 30);
    const ac = new AbortController();
    const pending = c.library.deploy(itemId, { name: 'aborted', ...at, signal: ac.signal }).catch((e: unknown) => e);
    while ((await harnessStats(h.info)).pending.stallSeconds !== 0) await new Promise((r) => setTimeout(r, 10));
    ac.abort();
    expect(await pending).toBeInstanceOf(AbortError);
    // The server goes on with the deploy it had read (its own SOAP calls, which a stall armed
    // now would hold instead): the next stall is armed once that VM exists.
    while ((await c.find('VirtualMachine', 'aborted')).length === 0) await new Promise((r) => setTimeout(r, 10));
    await harnessStall(h.info, 30);
    const late = await c.library.deploy(itemId, { name: 'late', ...at, timeoutMs: 200 }).catch((e: unknown) => e);
    expect(late).toBeInstanceOf(TransportError);
    expect(late).toMatchObject({ code: 'ETIMEDOUT' });
  });
});

/** The vim25-soap command in this process, with the environment an installed bin gets. */
async function cli(info: HarnessInfo, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const sink = () => {
    const chunks: string[] = [];
    const stream = new Writable({ write: (chunk: Buffer, _enc, done) => done(void chunks.push(chunk.toString())) });
    return { stream: stream as unknown as NodeJS.WriteStream, text: () => chunks.join('') };
  };
  const [stdout, stderr] = [sink(), sink()];
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/', VC_URL: info.url, VC_USER: info.username, VC_PASSWORD: info.password, VC_CA: info.certFile, VC_SESSION_DIR: tempDir('vim25-cli-deploy-') };
  const code = await run(args, env, stdout.stream, stderr.stream);
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

describe('vim25-soap library deploy', () => {
  it('deploys LIBRARY/ITEM or an item id with placements given as paths or Type:value', async () => {
    const h = await startHarness();
    const c = await loggedIn(h);
    const { itemId, at } = await setUp(h.info, c);
    const byName = await cli(h.info, ['library', 'deploy', 'templates/tiny', 'cli-one', 'pool=/DC0/host/DC0_C0/Resources', 'folder=/DC0/vm', '--json']);
    expect(byName).toMatchObject({ code: 0, stderr: '' });
    const out = JSON.parse(byName.stdout) as { vm: { type: string; value: string }; name: string; item: string };
    expect(out).toMatchObject({ name: 'cli-one', item: itemId, vm: { type: 'VirtualMachine' } });
    expect(await c.find('VirtualMachine', '/DC0/vm/cli-one')).toEqual([{ type: 'VirtualMachine', value: out.vm.value }]);
    const byId = await cli(h.info, ['library', 'deploy', itemId, 'cli-two', `pool=ResourcePool:${at.pool.value}`, `host=HostSystem:${at.host.value}`]);
    expect(byId).toMatchObject({ code: 0, stderr: '' });
    const [two] = await c.find('VirtualMachine', 'cli-two');
    expect(byId.stdout).toBe(`VirtualMachine:${two!.value}\tcli-two\n`);
  });

  it('usage errors (2): no pool, an unknown key, a host where the pool goes; an unknown item: 4', async () => {
    const h = await startHarness();
    const c = await loggedIn(h);
    await setUp(h.info, c);
    expect((await cli(h.info, ['library', 'deploy', 'templates/tiny', 'x'])).code).toBe(2);
    expect((await cli(h.info, ['library', 'deploy', 'templates/tiny', 'x', 'pool=/DC0/host/DC0_C0/Resources', 'cpu=2'])).code).toBe(2);
    const wrongType = await cli(h.info, ['library', 'deploy', 'templates/tiny', 'x', 'pool=/DC0/host/DC0_C0/DC0_C0_H0']);
    expect(wrongType.code).toBe(2);
    expect(wrongType.stderr).toMatch(/ResourcePool/);
    const missing = await cli(h.info, ['library', 'deploy', 'templates/nothing', 'x', 'pool=/DC0/host/DC0_C0/Resources']);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toMatch(/no item named "nothing"/);
    expect((await harnessStats(h.info)).methods.ImportVApp ?? 0).toBe(0);
  });
});
