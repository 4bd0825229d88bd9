// Wire correctness of node-soap-style requests, measured with the xmllint oracle: the same
// typical arguments serialized by node-soap's own serializer (never sent: a stub HTTP client
// keeps the envelope) and by the adapter (sent to a harness, so the run's conformance check
// sees them too, and validated here as well).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import soap from 'soap';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VimClient } from '../../src/index.ts';
import { createSoapClient } from '../../src/node-soap/index.ts';
import { bundleDir } from '../../scripts/lib/paths.ts';
import { validateEnvelopes } from '../conformance/oracle.ts';
import { Harness } from '../harness/vcsim.ts';

const ref = (type: string, value: string) => ({ attributes: { type }, $value: value });
const dir = mkdtempSync(join(tmpdir(), 'vim25-node-soap-wire-'));
let h: Harness;
let vim: VimClient;
let vm: { attributes: { type: string }; $value: string };

beforeAll(async () => {
  h = await Harness.start({ wsdlDir: bundleDir() });
  vim = await VimClient.connect(h.info.url, { tls: { ca: h.ca } });
  await vim.login({ username: h.info.username, password: h.info.password });
  const found = await vim.call('FindByInventoryPath', vim.serviceContent.searchIndex!, { inventoryPath: 'DC0/vm/DC0_H0_VM0' });
  vm = ref('VirtualMachine', found!.value);
});
afterAll(async () => {
  await vim?.close();
  await h?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Requests written the way node-soap users write them (keys in the order a person types them). */
function typicalRequests(): { name: string; method: string; args: object }[] {
  const visitFolders = { attributes: { 'xsi:type': 'TraversalSpec' }, name: 'visitFolders', type: 'Folder', path: 'childEntity', skip: false, selectSet: [{ name: 'visitFolders' }, { name: 'dcToVmFolder' }] };
  const dcToVmFolder = { attributes: { 'xsi:type': 'TraversalSpec' }, name: 'dcToVmFolder', type: 'Datacenter', skip: false, path: 'vmFolder', selectSet: [{ name: 'visitFolders' }] };
  return [
    {
      name: 'PropertyFilterSpec with TraversalSpecs in selectSet',
      method: 'RetrievePropertiesEx',
      args: {
        _this: ref('PropertyCollector', 'propertyCollector'),
        specSet: [{ propSet: [{ type: 'VirtualMachine', pathSet: ['name', 'runtime.powerState'] }], objectSet: [{ obj: ref('Folder', 'group-d1'), skip: false, selectSet: [visitFolders, dcToVmFolder] }] }],
        options: { maxObjects: 100 },
      },
    },
    {
      name: 'VirtualMachineConfigSpec with a VirtualDisk device change',
      method: 'ReconfigVM_Task',
      args: {
        _this: vm,
        spec: {
          numCPUs: 2,
          memoryMB: 2048,
          deviceChange: [{
            operation: 'add',
            fileOperation: 'create',
            device: {
              attributes: { 'xsi:type': 'VirtualDisk' },
              key: -101,
              controllerKey: 1000,
              unitNumber: 1,
              capacityInKB: 1048576,
              backing: { attributes: { 'xsi:type': 'VirtualDiskFlatVer2BackingInfo' }, diskMode: 'persistent', thinProvisioned: true, fileName: '' },
            },
          }],
        },
      },
    },
    {
      name: 'an anyType value with its xsi:type (OptionValue.value)',
      method: 'UpdateOptions',
      args: { _this: ref('OptionManager', 'VpxSettings'), changedValue: [{ key: 'config.nodeSoap.typed', value: { attributes: { 'xsi:type': 'xsd:string' }, $value: 'typed' } }] },
    },
    {
      name: 'an anyType value without an xsi:type',
      method: 'UpdateOptions',
      args: { _this: ref('OptionManager', 'VpxSettings'), changedValue: [{ key: 'config.nodeSoap.plain', value: 42 }] },
    },
  ];
}

async function verdicts(envelopes: string[], tag: string): Promise<{ valid: boolean; messages: string[] }[]> {
  const files = envelopes.map((xml, i) => {
    const file = join(dir, `${tag}-${i}.xml`);
    writeFileSync(file, xml);
    return file;
  });
  return validateEnvelopes(files, join(dir, `${tag}-ops`));
}

describe('node-soap-style requests against the vim25 schema', () => {
  it('node-soap\'s own serializer: the TraversalSpec, the disk backing and the typed anyType value do not validate', async () => {
    const { sharedWsdl } = await import('../../src/node-soap/wsdl.ts');
    const wsdl = await sharedWsdl(join(bundleDir(), 'vimService.wsdl'), { request: () => Promise.reject(new Error('local files only')) as never });
    const sent: string[] = [];
    const stub = {
      request(_url: string, data: string, callback: (err: unknown) => void) {
        sent.push(data);
        callback(new Error('not sent'));
        return Promise.resolve() as never;
      },
    };
    // A plain node-soap client on the same parse, its own serializer untouched (its own options object, too).
    const plain = new soap.Client(Object.create(wsdl, { options: { value: { ...wsdl.options } } }), 'https://127.0.0.1/sdk', { httpClient: stub });
    for (const r of typicalRequests()) await plain[`${r.method}Async`](r.args).catch(() => undefined);
    const results = await verdicts(sent, 'node-soap');
    expect(results.map((v) => v.valid)).toEqual([false, false, false, true]);
    // A subtype's own fields in JS order (node-soap orders by the declared type, SelectionSpec).
    expect(results[0]!.messages.join('\n')).toContain("'{urn:vim25}skip': This element is not expected. Expected is ( {urn:vim25}path )");
    // An inherited field of an intermediate base (FileBackingInfo.fileName) in JS order.
    expect(results[1]!.messages.join('\n')).toContain("'{urn:vim25}diskMode': This element is not expected. Expected is ( {urn:vim25}fileName )");
    // node-soap's envelope declares no xsd prefix.
    expect(results[2]!.messages.join('\n')).toContain("The QName value 'xsd:string' has no corresponding namespace declaration in scope");
    // Valid for the schema (anyType takes anything) but untyped: the server cannot tell what 42 is.
    expect(sent[3]).toMatch(/<vim25:value>42<\/vim25:value>/);
  });

  it('the adapter: every one validates, and the server accepts it', async () => {
    const s = await createSoapClient(vim, { wsdl: bundleDir() });
    const sent: string[] = [];
    for (const r of typicalRequests()) {
      const [result] = await s[`${r.method}Async`](r.args);
      sent.push(s.lastRequest!);
      if (r.method === 'ReconfigVM_Task') expect(result.returnval.attributes.type).toBe('Task');
    }
    const results = await verdicts(sent, 'adapter');
    expect(results.filter((v) => !v.valid)).toEqual([]);
    expect(sent[0]).toContain('<selectSet xsi:type="vim25:TraversalSpec"><name>dcToVmFolder</name><type>Datacenter</type><path>vmFolder</path><skip>false</skip>');
    expect(sent[1]).toContain('<backing xsi:type="vim25:VirtualDiskFlatVer2BackingInfo"><fileName></fileName><diskMode>persistent</diskMode><thinProvisioned>true</thinProvisioned></backing>');
    expect(sent[2]).toContain('<value xsi:type="xsd:string">typed</value>');
    expect(sent[3]).toContain('<value xsi:type="xsd:long">42</value>');
    const [options] = await s.QueryOptionsAsync({ _this: ref('OptionManager', 'VpxSettings'), name: 'config.nodeSoap.' });
    const values = Object.fromEntries(options.returnval.map((o: { key: string; value: { $value: unknown } }) => [o.key, String(o.value.$value)]));
    expect(values).toEqual({ 'config.nodeSoap.typed': 'typed', 'config.nodeSoap.plain': '42' });
  });
});
