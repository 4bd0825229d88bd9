// The harness's ExportVm, CreateDescriptor and lease records (test/vcsim/export_vm.go), over raw
// SOAP and HTTP: a lease whose device URL streams the VM's disk file, progress, Complete and
// Abort recorded, the URL gone once the lease ended, the older-server switch.
import { beforeAll, describe, expect, it } from 'vitest';
import { harnessRequest, harnessReset } from '../harness/vcsim.ts';
import { ownHarness, rawRequest, ref, sessionOf, soap, text, xmlEscape } from './raw.ts';

const harness = ownHarness({ inventory: { datacenters: 1, clusters: 0, standaloneHosts: 1, vms: 1 } });
const h = () => harness().info;
let session: string;
let vm: string;
// Printable ASCII: rawRequest sends and reads bodies as text.
const content = Buffer.from(Array.from({ length: 70_000 }, (_, i) => 32 + ((i * 31) % 95)));

interface Lease {
  lease: string;
  kind: string;
  entity: string;
  state: string;
  progressCalls: number;
  lastProgress: number;
  abortFault?: string;
  abortMessage?: string;
  files: Array<{ name: string; key: string; bytes: number; sha256?: string; requests: number }>;
}
const leases = async (): Promise<{ exportVm: boolean; leases: Lease[] }> => harnessRequest(h(), 'GET', '/_harness/leases');
const lease = async (id: string): Promise<Lease | undefined> => (await leases()).leases.find((l) => l.lease === id);

const call = (operation: string, inner: string) => soap(h(), operation, inner, { session });
const exportVm = () => call('ExportVm', ref('VirtualMachine', vm));
/** The url of the first deviceUrl of the lease's info, on the harness's host, and its key. */
async function deviceUrl(leaseId: string): Promise<{ path: string; key: string; targetId: string }> {
  const res = await call('RetrievePropertiesEx', `${ref('PropertyCollector', 'propertyCollector')}<specSet><propSet><type>HttpNfcLease</type><pathSet>info</pathSet></propSet>` +
    `<objectSet>${ref('HttpNfcLease', leaseId, 'obj')}</objectSet></specSet><options/>`);
  const url = text(res.body, 'url')!;
  expect(url).toMatch(/^https:\/\/\*\/nfc\//);
  return { path: new URL(url.replace('*', 'host.invalid')).pathname, key: text(res.body, 'key')!, targetId: text(res.body, 'targetId')! };
}

beforeAll(async () => {
  session = await sessionOf(h());
  const found = await call('FindByInventoryPath', `${ref('SearchIndex', 'SearchIndex')}<inventoryPath>DC0/vm/DC0_H0_VM0</inventoryPath>`);
  vm = text(found.body, 'returnval')!;
  const put = await rawRequest(h(), '/folder/DC0_H0_VM0/disk1.vmdk?dcPath=DC0&dsName=LocalDS_0', {
    method: 'PUT', headers: { cookie: `vmware_soap_session=${session}` }, body: content.toString('ascii'),
  });
  expect(put.status).toBeLessThan(300);
});

describe('ExportVm', () => {
  it('refuses a powered-on VM with InvalidPowerState, as vCenter does', async () => {
    const res = await exportVm();
    expect(res.fault).toBe('InvalidPowerState');
  });

  it('hands out a ready lease whose device URL streams the VM\'s disk file; progress, Complete recorded; the URL gone after', async () => {
    expect((await call('PowerOffVM_Task', ref('VirtualMachine', vm))).status).toBe(200);
    const res = await exportVm();
    expect(res.status).toBe(200);
    const id = text(res.body, 'returnval')!;
    expect(res.body).toContain('type="HttpNfcLease"');
    const state = await call('RetrievePropertiesEx', `${ref('PropertyCollector', 'propertyCollector')}<specSet><propSet><type>HttpNfcLease</type><pathSet>state</pathSet></propSet>` +
      `<objectSet>${ref('HttpNfcLease', id, 'obj')}</objectSet></specSet><options/>`);
    expect(text(state.body, 'val')).toBe('ready');

    const device = await deviceUrl(id);
    expect(device.key).toBe(`/${vm}/disk:0`);
    expect(device.targetId).toBe('disk-0.vmdk');
    const get = await rawRequest(h(), device.path);
    expect(get.status).toBe(200);
    expect(get.headers['content-length']).toBe(String(content.length));
    expect(get.body === content.toString('ascii')).toBe(true);
    expect((await rawRequest(h(), device.path, { method: 'PUT', body: 'x' })).status).toBe(405);

    expect((await call('HttpNfcLeaseProgress', `${ref('HttpNfcLease', id)}<percent>50</percent>`)).status).toBe(200);
    expect(await lease(id)).toMatchObject({ kind: 'export', entity: vm, state: 'open', progressCalls: 1, lastProgress: 50, files: [{ name: 'disk-0.vmdk', bytes: content.length, requests: 1 }] });

    expect((await call('HttpNfcLeaseComplete', ref('HttpNfcLease', id))).status).toBe(200);
    expect(await lease(id)).toMatchObject({ state: 'completed' });
    expect((await rawRequest(h(), device.path)).status).toBe(404);
  });

  it('records HttpNfcLeaseAbort with the fault it carried', async () => {
    const id = text((await exportVm()).body, 'returnval')!;
    const fault = '<fault><fault xsi:type="SystemError"><reason>client gave up</reason></fault><localizedMessage>client gave up</localizedMessage></fault>';
    expect((await call('HttpNfcLeaseAbort', ref('HttpNfcLease', id) + fault)).status).toBe(200);
    expect(await lease(id)).toMatchObject({ state: 'aborted', abortFault: 'SystemError', abortMessage: 'client gave up' });
  });

  it('fails the next NFC transfer with a 500 when armed', async () => {
    const id = text((await exportVm()).body, 'returnval')!;
    const device = await deviceUrl(id);
    await harnessRequest(h(), 'POST', '/_harness/nfc-fail', { count: 1 });
    expect((await rawRequest(h(), device.path)).status).toBe(500);
    expect((await rawRequest(h(), device.path)).status).toBe(200);
    await call('HttpNfcLeaseAbort', ref('HttpNfcLease', id));
  });

  it('behaves as an older server (MethodNotFound) when switched off, until reset', async () => {
    await harnessRequest(h(), 'POST', '/_harness/export-vm', { enabled: false });
    expect((await exportVm()).fault).toBe('MethodNotFound');
    expect((await leases()).exportVm).toBe(false);
    await harnessReset(h());
    expect((await leases()).exportVm).toBe(true);
    const res = await exportVm();
    expect(res.status).toBe(200);
    await call('HttpNfcLeaseAbort', ref('HttpNfcLease', text(res.body, 'returnval')!));
  });
});

describe('CreateDescriptor', () => {
  it('describes the VM with the files given for its disks, in a form vcsim\'s CreateImportSpec reads back', async () => {
    const res = await call('CreateDescriptor', `${ref('OvfManager', 'OvfManager')}${ref('VirtualMachine', vm, 'obj')}<cdp><ovfFiles><deviceId>/${vm}/disk:0</deviceId><path>out-disk-0.vmdk</path><size>${content.length}</size></ovfFiles><name>out</name></cdp>`);
    expect(res.status).toBe(200);
    const descriptor = res.body.match(/<ovfDescriptor>([\s\S]*)<\/ovfDescriptor>/)![1]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#34;/g, '"').replace(/&amp;/g, '&');
    expect(descriptor).toContain('<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1"');
    expect(descriptor).toContain(`<File ovf:href="out-disk-0.vmdk" ovf:id="file1" ovf:size="${content.length}"/>`);
    expect(descriptor).toContain('<Name>out</Name>');
    expect(res.body).not.toContain('<error>');

    const spec = await call('CreateImportSpec', `${ref('OvfManager', 'OvfManager')}<ovfDescriptor>${xmlEscape(descriptor)}</ovfDescriptor>` +
      `${ref('ResourcePool', text((await call('FindByInventoryPath', `${ref('SearchIndex', 'SearchIndex')}<inventoryPath>DC0/host/DC0_H0/Resources</inventoryPath>`)).body, 'returnval')!, 'resourcePool')}` +
      `${ref('Datastore', text((await call('FindByInventoryPath', `${ref('SearchIndex', 'SearchIndex')}<inventoryPath>DC0/datastore/LocalDS_0</inventoryPath>`)).body, 'returnval')!, 'datastore')}` +
      '<cisp><locale></locale><deploymentOption></deploymentOption><entityName>again</entityName></cisp>');
    expect(spec.status).toBe(200);
    expect(spec.body).not.toContain('<error>');
    expect(text(spec.body, 'path')).toBe('out-disk-0.vmdk');
  });

  it('reports a disk without a file as an error of the result', async () => {
    const res = await call('CreateDescriptor', `${ref('OvfManager', 'OvfManager')}${ref('VirtualMachine', vm, 'obj')}<cdp></cdp>`);
    expect(res.status).toBe(200);
    expect(res.body).toContain('<error>');
    expect(res.body).toContain('InvalidArgument');
  });
});
