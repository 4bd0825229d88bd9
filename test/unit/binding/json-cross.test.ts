// The VI/JSON decoder against the SOAP decoder: for real answer shapes, written both ways by hand
// as vCenter sends them, and for values written by the library's own encoders, the two decoders
// must make deep-equal values.
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeResponseText } from '../../../src/binding/decode.ts';
import { decodeJsonResponseStream, decodeJsonResponseText } from '../../../src/binding/json-decode.ts';
import { methodInfo } from '../../../src/binding/metadata.ts';
import { TransportError } from '../../../src/errors.ts';
import { bigRetrieve, jsonAnswer, SOAP_ENVELOPE, soapAnswer } from './json-fixtures.ts';

const both = (method: string, xmlInner: string, json: string): unknown => {
  const info = methodInfo(method)!;
  const x = decodeResponseText(info, SOAP_ENVELOPE(`<${method}Response xmlns="urn:vim25">${xmlInner}</${method}Response>`));
  const j = decodeJsonResponseText(info, json);
  expect(j).toStrictEqual(x);
  expect(j.kind).toBe('result');
  return (j as { value: unknown }).value;
};
const ref = (type: string, value: string) => `{"_typeName":"ManagedObjectReference","type":"${type}","value":"${value}"}`;

describe('VI/JSON and SOAP answers decode to deep-equal values', () => {
  it('a ServiceContent (RetrieveServiceContent)', () => {
    const managers: [string, string, string][] = [
      ['viewManager', 'ViewManager', 'ViewManager'], ['setting', 'OptionManager', 'VpxSettings'], ['userDirectory', 'UserDirectory', 'UserDirectory'],
      ['sessionManager', 'SessionManager', 'SessionManager'], ['authorizationManager', 'AuthorizationManager', 'AuthorizationManager'],
      ['perfManager', 'PerformanceManager', 'PerfMgr'], ['eventManager', 'EventManager', 'EventManager'], ['taskManager', 'TaskManager', 'TaskManager'],
      ['searchIndex', 'SearchIndex', 'SearchIndex'], ['fileManager', 'FileManager', 'FileManager'], ['virtualDiskManager', 'VirtualDiskManager', 'virtualDiskManager'],
      ['ovfManager', 'OvfManager', 'OvfManager'], ['guestOperationsManager', 'GuestOperationsManager', 'guestOperationsManager'],
      ['vStorageObjectManager', 'VcenterVStorageObjectManager', 'VStorageObjectManager'], ['cryptoManager', 'CryptoManagerKmip', 'CryptoManager'],
    ];
    const about = {
      name: 'VMware vCenter Server', fullName: 'VMware vCenter Server 8.0.2 build-22385739', vendor: 'VMware, Inc.', version: '8.0.2', patchLevel: '',
      build: '22385739', localeVersion: 'INTL', localeBuild: '000', osType: 'linux-x64', productLineId: 'vpx', apiType: 'VirtualCenter', apiVersion: '8.0.2.0',
      instanceUuid: '2b0c3e74-3a6e-4d3a-9f7e-4e6f1f1a0c21', licenseProductName: 'VMware VirtualCenter Server', licenseProductVersion: '8.0',
    };
    const v = both(
      'RetrieveServiceContent',
      `<returnval><rootFolder type="Folder">group-d1</rootFolder><propertyCollector type="PropertyCollector">propertyCollector</propertyCollector>${managers.map(([f, t, id]) => (f === 'viewManager' ? `<${f} type="${t}">${id}</${f}>` : '')).join('')}<about>${Object.entries(about).map(([k, val]) => `<${k}>${val}</${k}>`).join('')}</about>${managers.filter(([f]) => f !== 'viewManager').map(([f, t, id]) => `<${f} type="${t}">${id}</${f}>`).join('')}</returnval>`,
      `{"_typeName":"ServiceContent","rootFolder":${ref('Folder', 'group-d1')},"propertyCollector":${ref('PropertyCollector', 'propertyCollector')},"about":{"_typeName":"AboutInfo",${Object.entries(about).map(([k, val]) => `"${k}":"${val}"`).join(',')}},${managers.map(([f, t, id]) => `"${f}":${ref(t, id)}`).join(',')}}`,
    );
    expect(v).toMatchObject({ _typeName: 'ServiceContent', about: { _typeName: 'AboutInfo', apiVersion: '8.0.2.0', patchLevel: '' }, sessionManager: { type: 'SessionManager', value: 'SessionManager' } });
  });

  it('a RetrieveResult with properties of several kinds and missingSet faults', () => {
    const v = both(
      'RetrievePropertiesEx',
      '<returnval><token>0_1</token>' +
        '<objects><obj type="VirtualMachine">vm-1</obj>' +
        '<propSet><name>config.uuid</name><val xsi:type="xsd:string">4206a8b8-0bd5-2c52-6c4b-7d6a1f3e4a01</val></propSet>' +
        '<propSet><name>summary.quickStats.overallCpuUsage</name><val xsi:type="xsd:int">123</val></propSet>' +
        '<propSet><name>summary.storage.committed</name><val xsi:type="xsd:long">12345678901234567</val></propSet>' +
        '<propSet><name>runtime.bootTime</name><val xsi:type="xsd:dateTime">2024-02-03T04:05:06.789123Z</val></propSet>' +
        '<propSet><name>runtime.host</name><val xsi:type="ManagedObjectReference" type="HostSystem">host-12</val></propSet>' +
        '<propSet><name>datastore</name><val xsi:type="ArrayOfManagedObjectReference"><ManagedObjectReference type="Datastore">datastore-15</ManagedObjectReference></val></propSet>' +
        '<propSet><name>guest.toolsRunningStatus</name><val xsi:type="xsd:string">guestToolsRunning</val></propSet>' +
        '<propSet><name>runtime.powerState</name><val xsi:type="VirtualMachinePowerState">poweredOn</val></propSet>' +
        '<propSet><name>customValue</name><val xsi:type="ArrayOfCustomFieldValue"><CustomFieldValue xsi:type="CustomFieldStringValue"><key>101</key><value>owner@example.com</value></CustomFieldValue></val></propSet>' +
        '<missingSet><path>guest.ipAddress</path><fault><fault xsi:type="NoPermission"><object type="VirtualMachine">vm-1</object><privilegeId>System.Read</privilegeId></fault><localizedMessage>Permission to perform this operation was denied.</localizedMessage></fault></missingSet>' +
        '</objects>' +
        '<objects><obj type="VirtualMachine">vm-2</obj>' +
        '<missingSet><path>config</path><fault><fault xsi:type="ManagedObjectNotFound"><obj type="VirtualMachine">vm-2</obj></fault><localizedMessage>The object \'vim.VirtualMachine:vm-2\' has already been deleted or has not been completely created</localizedMessage></fault></missingSet>' +
        '</objects></returnval>',
      `{"_typeName":"RetrieveResult","token":"0_1","objects":[` +
        `{"_typeName":"ObjectContent","obj":${ref('VirtualMachine', 'vm-1')},"propSet":[` +
        '{"_typeName":"DynamicProperty","name":"config.uuid","val":{"_typeName":"string","_value":"4206a8b8-0bd5-2c52-6c4b-7d6a1f3e4a01"}},' +
        '{"_typeName":"DynamicProperty","name":"summary.quickStats.overallCpuUsage","val":{"_typeName":"int","_value":123}},' +
        '{"_typeName":"DynamicProperty","name":"summary.storage.committed","val":{"_typeName":"long","_value":12345678901234567}},' +
        '{"_typeName":"DynamicProperty","name":"runtime.bootTime","val":{"_typeName":"dateTime","_value":"2024-02-03T04:05:06.789123Z"}},' +
        `{"_typeName":"DynamicProperty","name":"runtime.host","val":${ref('HostSystem', 'host-12')}},` +
        `{"_typeName":"DynamicProperty","name":"datastore","val":{"_typeName":"ArrayOfManagedObjectReference","_value":[${ref('Datastore', 'datastore-15')}]}},` +
        '{"_typeName":"DynamicProperty","name":"guest.toolsRunningStatus","val":{"_typeName":"string","_value":"guestToolsRunning"}},' +
        '{"_typeName":"DynamicProperty","name":"runtime.powerState","val":{"_typeName":"VirtualMachinePowerState","_value":"poweredOn"}},' +
        '{"_typeName":"DynamicProperty","name":"customValue","val":{"_typeName":"ArrayOfCustomFieldValue","_value":[{"_typeName":"CustomFieldStringValue","key":101,"value":"owner@example.com"}]}}],' +
        `"missingSet":[{"_typeName":"MissingProperty","path":"guest.ipAddress","fault":{"_typeName":"LocalizedMethodFault","fault":{"_typeName":"NoPermission","object":${ref('VirtualMachine', 'vm-1')},"privilegeId":"System.Read"},"localizedMessage":"Permission to perform this operation was denied."}}]},` +
        `{"_typeName":"ObjectContent","obj":${ref('VirtualMachine', 'vm-2')},"propSet":[],` +
        `"missingSet":[{"_typeName":"MissingProperty","path":"config","fault":{"_typeName":"LocalizedMethodFault","fault":{"_typeName":"ManagedObjectNotFound","obj":${ref('VirtualMachine', 'vm-2')}},"localizedMessage":"The object 'vim.VirtualMachine:vm-2' has already been deleted or has not been completely created"}}]}]}`,
    );
    const [vm1, vm2] = (v as { objects: [{ propSet: { val: unknown }[] }, { missingSet: unknown[] }] }).objects;
    expect(vm1.propSet.map((p) => p.val)).toEqual([
      '4206a8b8-0bd5-2c52-6c4b-7d6a1f3e4a01', 123, 12345678901234567n, new Date('2024-02-03T04:05:06.789Z'), { type: 'HostSystem', value: 'host-12' },
      [{ type: 'Datastore', value: 'datastore-15' }], 'guestToolsRunning', 'poweredOn', [{ _typeName: 'CustomFieldStringValue', key: 101, value: 'owner@example.com' }],
    ]);
    expect(vm2.missingSet).toEqual([{ _typeName: 'MissingProperty', path: 'config', fault: { _typeName: 'LocalizedMethodFault', fault: { _typeName: 'ManagedObjectNotFound', obj: { type: 'VirtualMachine', value: 'vm-2' } }, localizedMessage: "The object 'vim.VirtualMachine:vm-2' has already been deleted or has not been completely created" } }]);
  });

  it('a TaskInfo (an error, a user reason, a MoRef result, dates) as a property value', () => {
    const taskInfo = (error: boolean) => ({
      xml: '<val xsi:type="TaskInfo"><key>task-101</key><task type="Task">task-101</task>' +
        '<description><key>com.vmware.vim.vpxd.vm.powerOn</key><arg><key>vm</key><value xsi:type="xsd:string">web-01</value></arg><message>Powering on web-01</message></description>' +
        '<name>PowerOnVM_Task</name><descriptionId>VirtualMachine.powerOn</descriptionId><entity type="VirtualMachine">vm-1</entity><entityName>web-01</entityName><locked type="VirtualMachine">vm-1</locked>' +
        `<state>${error ? 'error' : 'success'}</state><cancelled>false</cancelled><cancelable>false</cancelable>` +
        (error
          ? '<error><fault xsi:type="InvalidPowerState"><faultMessage><key>msg.hostd.powerOn</key><arg><key>1</key><value xsi:type="xsd:int">3</value></arg></faultMessage><requestedState>poweredOn</requestedState><existingState>poweredOn</existingState></fault><localizedMessage>The attempted operation cannot be performed in the current state (Powered on).</localizedMessage></error>'
          : '<result xsi:type="ManagedObjectReference" type="VirtualMachine">vm-9</result>') +
        '<progress>100</progress><reason xsi:type="TaskReasonUser"><userName>VSPHERE.LOCAL\\Administrator</userName></reason>' +
        '<queueTime>2024-03-01T10:00:00.123456Z</queueTime><startTime>2024-03-01T10:00:00.2Z</startTime><completeTime>2024-03-01T10:00:01+02:00</completeTime><eventChainId>4242</eventChainId></val>',
      json: `{"_typeName":"TaskInfo","key":"task-101","task":${ref('Task', 'task-101')},` +
        '"description":{"_typeName":"LocalizableMessage","key":"com.vmware.vim.vpxd.vm.powerOn","arg":[{"_typeName":"KeyAnyValue","key":"vm","value":{"_typeName":"string","_value":"web-01"}}],"message":"Powering on web-01"},' +
        `"name":"PowerOnVM_Task","descriptionId":"VirtualMachine.powerOn","entity":${ref('VirtualMachine', 'vm-1')},"entityName":"web-01","locked":[${ref('VirtualMachine', 'vm-1')}],` +
        `"state":"${error ? 'error' : 'success'}","cancelled":false,"cancelable":false,` +
        (error
          ? '"error":{"_typeName":"LocalizedMethodFault","fault":{"_typeName":"InvalidPowerState","faultMessage":[{"_typeName":"LocalizableMessage","key":"msg.hostd.powerOn","arg":[{"_typeName":"KeyAnyValue","key":"1","value":{"_typeName":"int","_value":3}}]}],"requestedState":"poweredOn","existingState":"poweredOn"},"localizedMessage":"The attempted operation cannot be performed in the current state (Powered on)."},'
          : `"result":${ref('VirtualMachine', 'vm-9')},`) +
        '"progress":100,"reason":{"_typeName":"TaskReasonUser","userName":"VSPHERE.LOCAL\\\\Administrator"},' +
        '"queueTime":"2024-03-01T10:00:00.123456Z","startTime":"2024-03-01T10:00:00.2Z","completeTime":"2024-03-01T10:00:01+02:00","eventChainId":4242}',
    });
    for (const error of [true, false]) {
      const t = taskInfo(error);
      const v = both(
        'RetrievePropertiesEx',
        `<returnval><objects><obj type="Task">task-101</obj><propSet><name>info</name>${t.xml}</propSet></objects></returnval>`,
        `{"_typeName":"RetrieveResult","objects":[{"_typeName":"ObjectContent","obj":${ref('Task', 'task-101')},"propSet":[{"_typeName":"DynamicProperty","name":"info","val":${t.json}}]}]}`,
      ) as { objects: [{ propSet: [{ val: Record<string, unknown> }] }] };
      const info = v.objects[0].propSet[0].val;
      expect(info.reason).toEqual({ _typeName: 'TaskReasonUser', userName: 'VSPHERE.LOCAL\\Administrator' });
      expect(info.completeTime).toEqual(new Date('2024-03-01T08:00:01Z'));
      if (error) expect(info.error).toMatchObject({ fault: { _typeName: 'InvalidPowerState', faultMessage: [{ arg: [{ value: 3 }] }] } });
      else expect(info.result).toEqual({ type: 'VirtualMachine', value: 'vm-9' });
    }
  });

  it('an UpdateSet (WaitForUpdatesEx): modify, enter and leave, removed properties, an ArrayOf data objects, missing objects', () => {
    const v = both(
      'WaitForUpdatesEx',
      '<returnval><version>1_2</version><filterSet><filter type="PropertyFilter">session[52b1]5208</filter>' +
        '<objectSet><kind>modify</kind><obj type="VirtualMachine">vm-1</obj>' +
        '<changeSet><name>runtime.powerState</name><op>assign</op><val xsi:type="VirtualMachinePowerState">poweredOff</val></changeSet>' +
        '<changeSet><name>summary.quickStats.uptimeSeconds</name><op>assign</op><val xsi:type="xsd:int">0</val></changeSet>' +
        '<changeSet><name>config.annotation</name><op>assign</op><val xsi:type="xsd:string"></val></changeSet>' +
        '<changeSet><name>snapshot</name><op>remove</op></changeSet></objectSet>' +
        '<objectSet><kind>enter</kind><obj type="VirtualMachine">vm-2</obj>' +
        '<changeSet><name>name</name><op>assign</op><val xsi:type="xsd:string">db-01</val></changeSet>' +
        '<changeSet><name>guest.net</name><op>assign</op><val xsi:type="ArrayOfGuestNicInfo"><GuestNicInfo><network>VM Network</network><ipAddress>10.0.0.5</ipAddress><ipAddress>fe80::250:56ff:feaa:bbcc</ipAddress><macAddress>00:50:56:aa:bb:cc</macAddress><connected>true</connected><deviceConfigId>4000</deviceConfigId></GuestNicInfo></val></changeSet></objectSet>' +
        '<objectSet><kind>leave</kind><obj type="VirtualMachine">vm-3</obj></objectSet>' +
        '<missingSet><obj type="VirtualMachine">vm-4</obj><fault><fault xsi:type="ManagedObjectNotFound"><obj type="VirtualMachine">vm-4</obj></fault><localizedMessage>gone</localizedMessage></fault></missingSet>' +
        '</filterSet><truncated>false</truncated></returnval>',
      `{"_typeName":"UpdateSet","version":"1_2","filterSet":[{"_typeName":"PropertyFilterUpdate","filter":${ref('PropertyFilter', 'session[52b1]5208')},"objectSet":[` +
        `{"_typeName":"ObjectUpdate","kind":"modify","obj":${ref('VirtualMachine', 'vm-1')},"changeSet":[` +
        '{"_typeName":"PropertyChange","name":"runtime.powerState","op":"assign","val":{"_typeName":"VirtualMachinePowerState","_value":"poweredOff"}},' +
        '{"_typeName":"PropertyChange","name":"summary.quickStats.uptimeSeconds","op":"assign","val":{"_typeName":"int","_value":0}},' +
        '{"_typeName":"PropertyChange","name":"config.annotation","op":"assign","val":{"_typeName":"string","_value":""}},' +
        '{"_typeName":"PropertyChange","name":"snapshot","op":"remove"}]},' +
        `{"_typeName":"ObjectUpdate","kind":"enter","obj":${ref('VirtualMachine', 'vm-2')},"changeSet":[` +
        '{"_typeName":"PropertyChange","name":"name","op":"assign","val":{"_typeName":"string","_value":"db-01"}},' +
        '{"_typeName":"PropertyChange","name":"guest.net","op":"assign","val":{"_typeName":"ArrayOfGuestNicInfo","_value":[{"_typeName":"GuestNicInfo","network":"VM Network","ipAddress":["10.0.0.5","fe80::250:56ff:feaa:bbcc"],"macAddress":"00:50:56:aa:bb:cc","connected":true,"deviceConfigId":4000}]}}]},' +
        `{"_typeName":"ObjectUpdate","kind":"leave","obj":${ref('VirtualMachine', 'vm-3')}}],` +
        `"missingSet":[{"_typeName":"MissingObject","obj":${ref('VirtualMachine', 'vm-4')},"fault":{"_typeName":"LocalizedMethodFault","fault":{"_typeName":"ManagedObjectNotFound","obj":${ref('VirtualMachine', 'vm-4')}},"localizedMessage":"gone"}}]}],"truncated":false}`,
    );
    expect(v).toMatchObject({ filterSet: [{ objectSet: [{ changeSet: [{ val: 'poweredOff' }, { val: 0 }, { val: '' }, { op: 'remove' }] }, { changeSet: [{}, { val: [{ ipAddress: ['10.0.0.5', 'fe80::250:56ff:feaa:bbcc'] }] }] }, { kind: 'leave' }] }] });
  });

  it('a 256-VM RetrievePropertiesEx page of every device, written by the encoders, streamed in odd chunks', async () => {
    const { xml, json } = bigRetrieve(256);
    const info = methodInfo('RetrievePropertiesEx')!;
    const x = decodeResponseText(info, xml);
    expect(decodeJsonResponseText(info, json)).toStrictEqual(x);
    const bytes = Buffer.from(json);
    const chunks = Array.from({ length: Math.ceil(bytes.length / 4093) }, (_, i) => bytes.subarray(i * 4093, (i + 1) * 4093));
    expect(await decodeJsonResponseStream(info, Readable.from(chunks), 200)).toStrictEqual(x);
    const first = (x as { value: { objects: { propSet: { val: unknown }[] }[] } }).value.objects[0]!;
    expect(first.propSet[0]!.val).toContainEqual(expect.objectContaining({ _typeName: 'VirtualMachineVMCIDevice', id: 2n ** 62n }));
    expect(first.propSet.slice(1).map((p) => p.val)).toEqual(['DC0_C0_RP0_VM0', 'poweredOff']);
  });
});

describe('encode then decode, both wires, random values', () => {
  // Values of a few types, within what both encoders accept; every one must decode to the same value on both wires.
  const text = fc.string({ maxLength: 12 }).map((s) => s.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF\r]/g, '').replace(/[\uD800-\uDFFF]/g, ''));
  const date = fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true });
  const long = fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.maxSafeInteger());
  const anyValue = fc.oneof(
    text, fc.boolean(), long, fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d)), date,
    fc.uint8Array({ maxLength: 8 }),
    fc.array(text, { minLength: 1, maxLength: 3 }),
    fc.record({ type: fc.constantFrom('VirtualMachine', 'Datastore'), value: text }),
    fc.integer({ min: -2147483648, max: 2147483647 }).map((n) => ({ _typeName: 'int', _value: n })),
    fc.array(fc.integer({ min: -32768, max: 32767 }), { maxLength: 3 }).map((a) => ({ _typeName: 'ArrayOfShort', _value: a })),
  );
  const optionValue = fc.record({ _typeName: fc.constant('OptionValue'), key: text, value: anyValue });
  const description = fc.record({ _typeName: fc.constant('Description'), label: text, summary: text });
  const disk = fc.record({
    _typeName: fc.constant('VirtualDisk'), key: fc.integer({ min: -2147483648, max: 2147483647 }), deviceInfo: description,
    capacityInKB: long, capacityInBytes: fc.option(long, { nil: undefined }),
    backing: fc.record({ _typeName: fc.constant('VirtualDiskFlatVer2BackingInfo'), fileName: text, diskMode: text, thinProvisioned: fc.option(fc.boolean(), { nil: undefined }) }),
    iofilter: fc.array(text, { maxLength: 2 }),
  }, { requiredKeys: ['_typeName', 'key', 'capacityInKB'] });

  it('OptionValue lists (anyType of every kind), VirtualDisks and dates decode the same from SOAP and from VI/JSON', () => {
    fc.assert(
      fc.property(fc.array(optionValue, { maxLength: 4 }), fc.array(disk, { maxLength: 3 }), date, (options, disks, time) => {
        const cases: [string, string, string, unknown, boolean][] = [
          ['QueryOptions', 'OptionValue', 'QueryOptions', options, true],
          ['RetrievePropertiesEx', 'RetrieveResult', 'RetrievePropertiesEx', { _typeName: 'RetrieveResult', objects: [{ _typeName: 'ObjectContent', obj: { type: 'VirtualMachine', value: 'vm-1' }, propSet: [{ _typeName: 'DynamicProperty', name: 'config.hardware.device', val: { _typeName: 'ArrayOfVirtualDevice', _value: disks } }] }] }, false],
          ['CurrentTime', 'dateTime', 'CurrentTime', time, false],
        ];
        for (const [method, type, name, value, array] of cases) {
          const info = methodInfo(method)!;
          const x = decodeResponseText(info, soapAnswer(name, type, value, array));
          const j = decodeJsonResponseText(info, jsonAnswer(type, value, array));
          expect(j).toStrictEqual(x);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('the JSON decoder under random, truncated and mutated answers', () => {
  const SAMPLES: [string, string, number][] = [
    ['RetrievePropertiesEx', bigRetrieve(2).json, 200],
    ['Login', '{"_typeName":"InvalidLogin","faultstring":"Cannot complete login due to an incorrect user name or password."}', 500],
    ['CurrentTime', '"2024-01-01T00:00:00Z"', 200],
    ['RetrievePropertiesEx', '{"objects":[{"propSet":[{"val":{"_value":[{"key":1,"_typeName":"VirtualDisk"}],"_typeName":"ArrayOfVirtualDevice"},"name":"x"}],"obj":{"value":"v","type":"T"}}],"_typeName":"RetrieveResult"}', 200],
  ];
  const NASTY = ['{', '}', '[', ']', '"', '\\', '\\u', ',', ':', '"_typeName":', '"_value":', '"_typeName":"ArrayOfInt"', '9223372036854775808', '-', '1e999', 'null', '\u0000', '\uFEFF', 'é', '😀'];

  it('settles with a result or a TransportError, never anything else', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...SAMPLES),
        fc.array(fc.oneof(
          fc.record({ at: fc.nat(), cut: fc.constant(true) }),
          fc.record({ at: fc.nat(), text: fc.oneof(fc.constantFrom(...NASTY), fc.string({ maxLength: 8 })) }),
          fc.record({ at: fc.nat(), drop: fc.integer({ min: 1, max: 12 }) }),
        ), { maxLength: 4 }),
        fc.integer({ min: 1, max: 64 }),
        async ([method, doc, status], mutations, size) => {
          let s = doc;
          for (const m of mutations) {
            const at = m.at % (s.length + 1);
            if ('cut' in m) s = s.slice(0, at);
            else if ('text' in m) s = s.slice(0, at) + m.text + s.slice(at);
            else s = s.slice(0, at) + s.slice(at + m.drop);
          }
          const bytes = Buffer.from(s);
          const chunks = Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
          try {
            await decodeJsonResponseStream(methodInfo(method)!, Readable.from(chunks), status);
          } catch (err) {
            expect(err).toBeInstanceOf(TransportError);
          }
        },
      ),
      { numRuns: 1500 },
    );
  });
});
