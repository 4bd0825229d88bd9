// The VI/JSON decoder: every value it makes is compared with what the SOAP decoder makes of the
// same data (`same`), so the two wires give callers the same values.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { decodeResponseText, type DecodedResponse } from '../../../src/binding/decode.ts';
import { decodeJsonResponseStream, decodeJsonResponseText, MAX_UNKNOWN_TYPE_NAMES, type JsonDecodeLimits } from '../../../src/binding/json-decode.ts';
import { methodInfo } from '../../../src/binding/metadata.ts';
import { TransportError } from '../../../src/errors.ts';
import { faultError } from '../../../src/soap/faults.ts';
import { cpuMs } from '../../harness/cpu-clock.ts';
import { SOAP_ENVELOPE } from './json-fixtures.ts';

const xmlResult = (method: string, inner: string): unknown => {
  const r = decodeResponseText(methodInfo(method)!, SOAP_ENVELOPE(`<${method}Response xmlns="urn:vim25">${inner}</${method}Response>`));
  if (r.kind !== 'result') throw new Error('expected a result');
  return r.value;
};
const jsonResult = (method: string, json: string, limits?: JsonDecodeLimits, status = 200): unknown => {
  const r = decodeJsonResponseText(methodInfo(method)!, json, limits, status);
  if (r.kind !== 'result') throw new Error('expected a result');
  return r.value;
};
/** The JSON answer's value, after checking it is the SOAP answer's (XML `inner` of the response element). */
const same = (method: string, inner: string, json: string): unknown => {
  const j = jsonResult(method, json);
  expect(j).toStrictEqual(xmlResult(method, inner));
  return j;
};
/** One RetrievePropertiesEx property value, anyType: as SOAP (`<val ...>`) and as VI/JSON. */
const prop = (xmlVal: string, jsonVal: string): unknown => {
  const v = same(
    'RetrievePropertiesEx',
    `<returnval><objects><obj type="VirtualMachine">vm-1</obj><propSet><name>p</name>${xmlVal}</propSet></objects></returnval>`,
    `{"_typeName":"RetrieveResult","objects":[{"_typeName":"ObjectContent","obj":{"_typeName":"ManagedObjectReference","type":"VirtualMachine","value":"vm-1"},"propSet":[{"_typeName":"DynamicProperty","name":"p","val":${jsonVal}}]}]}`,
  ) as { objects: [{ propSet: [{ val: unknown }] }] };
  return v.objects[0].propSet[0].val;
};
const transportError = (fn: () => unknown): TransportError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof TransportError) return err;
    throw err;
  }
  throw new Error('expected a TransportError');
};

describe('decodeJsonResponseText: results by declared type', () => {
  it('decodes primitive results as the SOAP decoder does: dates, exact longs, ints, booleans, strings, arrays', () => {
    expect(same('CurrentTime', '<returnval>2024-05-06T07:08:09.123Z</returnval>', '"2024-05-06T07:08:09.123Z"')).toEqual(new Date('2024-05-06T07:08:09.123Z'));
    expect(same('QueryMemoryOverhead', '<returnval>9223372036854775807</returnval>', '9223372036854775807')).toBe(2n ** 63n - 1n);
    expect(same('QueryMemoryOverhead', '<returnval>-9223372036854775808</returnval>', '-9223372036854775808')).toBe(-(2n ** 63n));
    expect(same('QueryMemoryOverhead', '<returnval>9007199254740993</returnval>', '9007199254740993')).toBe(9007199254740993n);
    expect(same('QueryMemoryOverhead', '<returnval>9007199254740991</returnval>', '9007199254740991')).toBe(9007199254740991);
    expect(same('QueryMemoryOverhead', '<returnval>-42</returnval>', '-42')).toBe(-42);
    expect(same('AddAuthorizationRole', '<returnval>7</returnval>', '7')).toBe(7);
    expect(same('DoesCustomizationSpecExist', '<returnval>true</returnval>', 'true')).toBe(true);
    expect(same('HasPrivilegeOnEntity', '<returnval>true</returnval><returnval>false</returnval>', '[true,false]')).toEqual([true, false]);
    expect(same('GetPublicKey', '<returnval>  a\tb &lt;c&gt; é😀 </returnval>', '"  a\\tb <c> \\u00e9\\ud83d\\ude00 "')).toBe('  a\tb <c> é😀 ');
    expect(same('FetchDVPortKeys', '<returnval>1</returnval><returnval>2</returnval>', '["1","2"]')).toEqual(['1', '2']);
    expect(same('FetchDVPortKeys', '', '[]')).toEqual([]);
    expect(same('QueryUsedVlanIdInDvs', '<returnval>10</returnval>', '[10]')).toEqual([10]);
  });

  it('decodes byte, short, long, float, double, base64Binary, dateTime and enum fields of data objects', () => {
    expect(prop(
      '<val xsi:type="HostCpuInfo"><numCpuPackages>2</numCpuPackages><numCpuCores>32</numCpuCores><numCpuThreads>64</numCpuThreads><hz>2394999000</hz></val>',
      '{"_typeName":"HostCpuInfo","numCpuPackages":2,"numCpuCores":32,"numCpuThreads":64,"hz":2394999000}',
    )).toEqual({ _typeName: 'HostCpuInfo', numCpuPackages: 2, numCpuCores: 32, numCpuThreads: 64, hz: 2394999000 });
    expect(prop(
      '<val xsi:type="HostDiskPartitionAttributes"><partition>1</partition><startSector>2048</startSector><endSector>18446744073709551</endSector><type>vmfs</type><logical>false</logical><attributes>-128</attributes></val>',
      '{"_typeName":"HostDiskPartitionAttributes","partition":1,"startSector":2048,"endSector":18446744073709551,"type":"vmfs","logical":false,"attributes":-128}',
    )).toMatchObject({ endSector: 18446744073709551n, attributes: -128, logical: false });
    expect(prop(
      '<val xsi:type="LicenseDiagnostics"><sourceLastChanged>2024-01-01T00:00:00Z</sourceLastChanged><sourceLost>x</sourceLost><sourceLatency>1.5</sourceLatency><licenseRequests>1</licenseRequests><licenseRequestFailures>0</licenseRequestFailures><licenseFeatureUnknowns>0</licenseFeatureUnknowns><opState>normal</opState><lastStatusUpdate>2024-01-02T00:00:00.5+01:00</lastStatusUpdate><opFailureMessage></opFailureMessage></val>',
      '{"_typeName":"LicenseDiagnostics","sourceLastChanged":"2024-01-01T00:00:00Z","sourceLost":"x","sourceLatency":1.5,"licenseRequests":"1","licenseRequestFailures":"0","licenseFeatureUnknowns":"0","opState":"normal","lastStatusUpdate":"2024-01-02T00:00:00.5+01:00","opFailureMessage":""}',
    )).toMatchObject({ sourceLatency: 1.5, opState: 'normal', lastStatusUpdate: new Date('2024-01-01T23:00:00.500Z'), opFailureMessage: '' });
    expect(prop(
      '<val xsi:type="PlacementRankResult"><key>k</key><candidate type="ClusterComputeResource">domain-c7</candidate><reservedSpaceMB>1</reservedSpaceMB><usedSpaceMB>2</usedSpaceMB><totalSpaceMB>3</totalSpaceMB><utilization>0.1</utilization></val>',
      '{"_typeName":"PlacementRankResult","key":"k","candidate":{"_typeName":"ManagedObjectReference","type":"ClusterComputeResource","value":"domain-c7"},"reservedSpaceMB":1,"usedSpaceMB":2,"totalSpaceMB":3,"utilization":0.1}',
    )).toMatchObject({ utilization: 0.1, candidate: { type: 'ClusterComputeResource', value: 'domain-c7' } });
    expect(prop(
      '<val xsi:type="EntityBackupConfig"><entityType>VmwareDistributedVirtualSwitch</entityType><configBlob>AAECAwT/</configBlob></val>',
      '{"_typeName":"EntityBackupConfig","entityType":"VmwareDistributedVirtualSwitch","configBlob":"AAECAwT/"}',
    )).toEqual({ _typeName: 'EntityBackupConfig', entityType: 'VmwareDistributedVirtualSwitch', configBlob: new Uint8Array([0, 1, 2, 3, 4, 255]) });
  });

  it('makes no field of an empty array (XML cannot send one), and makes [] for an absent array result', () => {
    expect(prop(
      '<val xsi:type="GuestNicInfo"><connected>true</connected><deviceConfigId>4000</deviceConfigId></val>',
      '{"_typeName":"GuestNicInfo","ipAddress":[],"connected":true,"deviceConfigId":4000}',
    )).toStrictEqual({ _typeName: 'GuestNicInfo', connected: true, deviceConfigId: 4000 });
    expect(jsonResult('FetchDVPortKeys', 'null')).toEqual([]);
    expect(jsonResult('FetchDVPortKeys', '', undefined, 204)).toEqual([]);
  });

  it('makes a void or absent result undefined, and refuses an empty body for a method that returns something', () => {
    expect(jsonResult('Logout', '', undefined, 204)).toBeUndefined();
    expect(jsonResult('Logout', '')).toBeUndefined();
    expect(jsonResult('FindByUuid', '')).toBeUndefined(); // an optional result
    expect(jsonResult('FindByUuid', 'null')).toBeUndefined();
    expect(transportError(() => jsonResult('CurrentTime', '  ')).code).toBe('EBADJSON');
  });
});

describe('decodeJsonResponseText: anyType boxes, MoRefs, subtypes', () => {
  it('unboxes every primitive box as the SOAP decoder reads xsi:type', () => {
    expect(prop('<val xsi:type="xsd:boolean">true</val>', '{"_typeName":"boolean","_value":true}')).toBe(true);
    expect(prop('<val xsi:type="xsd:byte">-7</val>', '{"_typeName":"byte","_value":-7}')).toBe(-7);
    expect(prop('<val xsi:type="xsd:short">300</val>', '{"_typeName":"short","_value":300}')).toBe(300);
    expect(prop('<val xsi:type="xsd:int">5</val>', '{"_typeName":"int","_value":5}')).toBe(5);
    expect(prop('<val xsi:type="xsd:long">9223372036854775807</val>', '{"_typeName":"long","_value":9223372036854775807}')).toBe(2n ** 63n - 1n);
    expect(prop('<val xsi:type="xsd:long">-9223372036854775808</val>', '{"_typeName":"long","_value":-9223372036854775808}')).toBe(-(2n ** 63n));
    expect(prop('<val xsi:type="xsd:long">12</val>', '{"_typeName":"long","_value":12}')).toBe(12);
    expect(prop('<val xsi:type="xsd:float">0.25</val>', '{"_typeName":"float","_value":0.25}')).toBe(0.25);
    expect(prop('<val xsi:type="xsd:double">-1.5E-7</val>', '{"_typeName":"double","_value":-1.5E-7}')).toBe(-1.5e-7);
    expect(prop('<val xsi:type="xsd:string">x</val>', '{"_typeName":"string","_value":"x"}')).toBe('x');
    expect(prop('<val xsi:type="xsd:string"></val>', '{"_typeName":"string","_value":""}')).toBe('');
    expect(prop('<val xsi:type="xsd:dateTime">2024-01-02T03:04:05.678Z</val>', '{"_typeName":"dateTime","_value":"2024-01-02T03:04:05.678Z"}')).toEqual(new Date('2024-01-02T03:04:05.678Z'));
    // VI/JSON names base64Binary "binary" (and anyURI "URI"); both spellings are read.
    expect(prop('<val xsi:type="xsd:base64Binary">AQID</val>', '{"_typeName":"binary","_value":"AQID"}')).toEqual(new Uint8Array([1, 2, 3]));
    expect(prop('<val xsi:type="xsd:base64Binary">AQID</val>', '{"_typeName":"base64Binary","_value":"AQID"}')).toEqual(new Uint8Array([1, 2, 3]));
    expect(prop('<val xsi:type="xsd:anyURI">https://x/</val>', '{"_typeName":"URI","_value":"https://x/"}')).toBe('https://x/');
    expect(prop('<val xsi:type="xsd:anyURI">https://x/</val>', '{"_typeName":"anyURI","_value":"https://x/"}')).toBe('https://x/');
  });

  it('unboxes enums, ArrayOf boxes (empty ones too), MoRefs and data objects', () => {
    expect(prop('<val xsi:type="VirtualMachinePowerState">poweredOn</val>', '{"_typeName":"VirtualMachinePowerState","_value":"poweredOn"}')).toBe('poweredOn');
    expect(prop('<val xsi:type="ArrayOfString"><string>a</string><string>b</string></val>', '{"_typeName":"ArrayOfString","_value":["a","b"]}')).toEqual(['a', 'b']);
    expect(prop('<val xsi:type="ArrayOfString"></val>', '{"_typeName":"ArrayOfString","_value":[]}')).toEqual([]);
    expect(prop('<val xsi:type="ArrayOfInt"><int>-1</int></val>', '{"_typeName":"ArrayOfInt","_value":[-1]}')).toEqual([-1]);
    expect(prop('<val xsi:type="ArrayOfLong"><long>9223372036854775807</long><long>1</long></val>', '{"_typeName":"ArrayOfLong","_value":[9223372036854775807,1]}')).toEqual([2n ** 63n - 1n, 1]);
    expect(prop('<val xsi:type="ArrayOfBoolean"><boolean>false</boolean></val>', '{"_typeName":"ArrayOfBoolean","_value":[false]}')).toEqual([false]);
    expect(prop('<val xsi:type="ArrayOfBase64Binary"><base64Binary>AQ==</base64Binary></val>', '{"_typeName":"ArrayOfBinary","_value":["AQ=="]}')).toEqual([new Uint8Array([1])]);
    expect(prop(
      '<val xsi:type="ArrayOfManagedObjectReference"><ManagedObjectReference type="Datastore">ds-1</ManagedObjectReference><ManagedObjectReference type="Datastore">ds-2</ManagedObjectReference></val>',
      '{"_typeName":"ArrayOfManagedObjectReference","_value":[{"_typeName":"ManagedObjectReference","type":"Datastore","value":"ds-1"},{"_typeName":"ManagedObjectReference","type":"Datastore","value":"ds-2"}]}',
    )).toEqual([{ type: 'Datastore', value: 'ds-1' }, { type: 'Datastore', value: 'ds-2' }]);
    expect(prop('<val xsi:type="ManagedObjectReference" type="HostSystem">host-9</val>', '{"_typeName":"ManagedObjectReference","type":"HostSystem","value":"host-9"}')).toStrictEqual({ type: 'HostSystem', value: 'host-9' });
    expect(prop(
      '<val xsi:type="ArrayOfAnyType"><anyType xsi:type="xsd:int">1</anyType><anyType xsi:type="xsd:string">s</anyType><anyType xsi:type="ManagedObjectReference" type="Folder">f</anyType></val>',
      '{"_typeName":"ArrayOfAnyType","_value":[{"_typeName":"int","_value":1},{"_typeName":"string","_value":"s"},{"_typeName":"ManagedObjectReference","type":"Folder","value":"f"}]}',
    )).toEqual([1, 's', { type: 'Folder', value: 'f' }]);
    expect(prop('<val xsi:type="Description"><label>l</label><summary>s</summary></val>', '{"_typeName":"Description","label":"l","summary":"s"}')).toStrictEqual({ _typeName: 'Description', label: 'l', summary: 's' });
  });

  it('reads the boxes of VI/JSON that the WSDL has not: ArrayOfDateTime, ArrayOfURI', () => {
    expect(jsonResult('RetrievePropertiesEx', '{"_typeName":"RetrieveResult","objects":[{"_typeName":"ObjectContent","obj":{"_typeName":"ManagedObjectReference","type":"X","value":"x"},"propSet":[{"_typeName":"DynamicProperty","name":"p","val":{"_typeName":"ArrayOfDateTime","_value":["1970-01-01T00:00:00Z"]}},{"_typeName":"DynamicProperty","name":"q","val":{"_typeName":"ArrayOfURI","_value":["u"]}}]}]}'))
      .toMatchObject({ objects: [{ propSet: [{ val: [new Date(0)] }, { val: ['u'] }] }] });
  });

  it('decodes nested subtypes by their _typeName, with inherited and own fields', () => {
    const devices = prop(
      '<val xsi:type="ArrayOfVirtualDevice"><VirtualDevice xsi:type="VirtualDisk"><key>2000</key><deviceInfo><label>Hard disk 1</label><summary>1 KB</summary></deviceInfo><backing xsi:type="VirtualDiskFlatVer2BackingInfo"><fileName>[ds] a.vmdk</fileName><datastore type="Datastore">ds-1</datastore><diskMode>persistent</diskMode><thinProvisioned>true</thinProvisioned></backing><controllerKey>1000</controllerKey><unitNumber>0</unitNumber><capacityInKB>1</capacityInKB><storageIOAllocation><limit>-1</limit><shares><shares>1000</shares><level>normal</level></shares></storageIOAllocation></VirtualDevice><VirtualDevice xsi:type="VirtualLsiLogicController"><key>1000</key><busNumber>0</busNumber><device>2000</device><device>2001</device><sharedBus>noSharing</sharedBus></VirtualDevice></val>',
      '{"_typeName":"ArrayOfVirtualDevice","_value":[{"_typeName":"VirtualDisk","key":2000,"deviceInfo":{"_typeName":"Description","label":"Hard disk 1","summary":"1 KB"},"backing":{"_typeName":"VirtualDiskFlatVer2BackingInfo","fileName":"[ds] a.vmdk","datastore":{"_typeName":"ManagedObjectReference","type":"Datastore","value":"ds-1"},"diskMode":"persistent","thinProvisioned":true},"controllerKey":1000,"unitNumber":0,"capacityInKB":1,"storageIOAllocation":{"_typeName":"StorageIOAllocationInfo","limit":-1,"shares":{"_typeName":"SharesInfo","shares":1000,"level":"normal"}}},{"_typeName":"VirtualLsiLogicController","key":1000,"busNumber":0,"device":[2000,2001],"sharedBus":"noSharing"}]}',
    ) as object[];
    expect(devices[1]).toStrictEqual({ _typeName: 'VirtualLsiLogicController', key: 1000, busNumber: 0, device: [2000, 2001], sharedBus: 'noSharing' });
  });

  it('decodes an object whose _typeName comes last as one whose _typeName comes first', () => {
    const first = '{"_typeName":"ArrayOfVirtualDevice","_value":[{"_typeName":"VirtualDisk","key":2000,"backing":{"_typeName":"VirtualDiskFlatVer2BackingInfo","fileName":"f","diskMode":"persistent","datastore":{"_typeName":"ManagedObjectReference","type":"Datastore","value":"ds-1"}},"capacityInKB":9007199254740993,"shares":{"_typeName":"SharesInfo","shares":1,"level":"low"},"futureField":"x"}]}';
    // Every object's _typeName moved to its end; the subtype's own fields (capacityInKB, shares) come before it.
    const last = '{"_value":[{"key":2000,"backing":{"fileName":"f","diskMode":"persistent","datastore":{"type":"Datastore","value":"ds-1","_typeName":"ManagedObjectReference"},"_typeName":"VirtualDiskFlatVer2BackingInfo"},"capacityInKB":9007199254740993,"shares":{"shares":1,"level":"low","_typeName":"SharesInfo"},"futureField":"x","_typeName":"VirtualDisk"}],"_typeName":"ArrayOfVirtualDevice"}';
    const page = (val: string) => `{"objects":[{"obj":{"value":"vm-1","type":"VirtualMachine"},"propSet":[{"val":${val},"name":"p","_typeName":"DynamicProperty"},{"name":"q","val":{"_value":5,"_typeName":"int"}},{"name":"r","val":{"value":"h","type":"HostSystem","_typeName":"ManagedObjectReference"}}],"_typeName":"ObjectContent"}],"_typeName":"RetrieveResult"}`;
    const a = jsonResult('RetrievePropertiesEx', page(first));
    const b = jsonResult('RetrievePropertiesEx', page(last));
    expect(b).toStrictEqual(a);
    expect(a).toMatchObject({ objects: [{ propSet: [{ val: [{ _typeName: 'VirtualDisk', capacityInKB: 9007199254740993n, shares: { _typeName: 'SharesInfo', shares: 1 }, futureField: 'x' }] }, { val: 5 }, { val: { type: 'HostSystem', value: 'h' } }] }] });
    // And with no _typeName at all, an object is its declared type.
    expect(jsonResult('RetrievePropertiesEx', '{"objects":[{"obj":{"type":"X","value":"x"}}]}')).toStrictEqual({ _typeName: 'RetrieveResult', objects: [{ _typeName: 'ObjectContent', obj: { type: 'X', value: 'x' } }] });
  });
});

describe('decodeJsonResponseText: what the metadata does not know', () => {
  it('keeps an unknown _typeName in an anyType position, decoding its content generically', () => {
    expect(prop('<val xsi:type="FutureEnum">x</val>', '{"_typeName":"FutureEnum","_value":"x"}')).toStrictEqual({ _typeName: 'FutureEnum', _value: 'x' });
    expect(jsonResult('RetrievePropertiesEx', '{"_typeName":"RetrieveResult","objects":[{"_typeName":"ObjectContent","obj":{"_typeName":"ManagedObjectReference","type":"X","value":"x"},"propSet":[{"_typeName":"DynamicProperty","name":"p","val":{"_typeName":"FutureThing","n":9223372036854775807,"f":0.5,"b":true,"s":"t","list":[1,"a"],"ref":{"_typeName":"ManagedObjectReference","type":"Folder","value":"f"},"known":{"_typeName":"Description","label":"l","summary":"s"},"box":{"_typeName":"dateTime","_value":"1970-01-01T00:00:00Z"},"nil":null}}]}]}'))
      .toMatchObject({ objects: [{ propSet: [{ val: { _typeName: 'FutureThing', n: 2n ** 63n - 1n, f: 0.5, b: true, s: 't', list: [1, 'a'], ref: { type: 'Folder', value: 'f' }, known: { _typeName: 'Description', label: 'l', summary: 's' }, box: new Date(0) } }] }] });
  });

  it('types the inherited fields of an unknown subtype by its declared type, and keeps its name', () => {
    const v = jsonResult('RetrievePropertiesEx', '{"_typeName":"RetrieveResult","objects":[{"_typeName":"ObjectContent","obj":{"_typeName":"ManagedObjectReference","type":"X","value":"x"},"missingSet":[{"_typeName":"MissingProperty","path":"p","fault":{"_typeName":"LocalizedMethodFault","fault":{"_typeName":"FutureFault","faultMessage":[{"_typeName":"LocalizableMessage","key":"k","message":"m"}],"extra":7},"localizedMessage":"lm"}}]}]}');
    expect(v).toMatchObject({ objects: [{ missingSet: [{ fault: { fault: { _typeName: 'FutureFault', faultMessage: [{ _typeName: 'LocalizableMessage', key: 'k', message: 'm' }], extra: 7 }, localizedMessage: 'lm' } }] }] });
  });

  it('decodes unknown fields of known types generically, as the SOAP decoder does for text and MoRefs', () => {
    expect(same(
      'RetrieveServiceContent',
      '<returnval><rootFolder type="Folder">group-d1</rootFolder><propertyCollector type="PropertyCollector">propertyCollector</propertyCollector><about><name>n</name><fullName>f</fullName><vendor>v</vendor><version>8.0.3</version><build>1</build><osType>linux-x64</osType><productLineId>vpx</productLineId><apiType>VirtualCenter</apiType><apiVersion>8.0.3.0</apiVersion><futureText>t</futureText></about><futureManager type="FutureManager">fm</futureManager></returnval>',
      '{"_typeName":"ServiceContent","rootFolder":{"_typeName":"ManagedObjectReference","type":"Folder","value":"group-d1"},"propertyCollector":{"_typeName":"ManagedObjectReference","type":"PropertyCollector","value":"propertyCollector"},"about":{"_typeName":"AboutInfo","name":"n","fullName":"f","vendor":"v","version":"8.0.3","build":"1","osType":"linux-x64","productLineId":"vpx","apiType":"VirtualCenter","apiVersion":"8.0.3.0","futureText":"t"},"futureManager":{"_typeName":"ManagedObjectReference","type":"FutureManager","value":"fm"}}',
    )).toMatchObject({ futureManager: { type: 'FutureManager', value: 'fm' }, about: { futureText: 't' } });
  });

  it('makes a "__proto__" key a member, as JSON.parse does, never the object\'s prototype', () => {
    const v = jsonResult('RetrievePropertiesEx', '{"_typeName":"RetrieveResult","objects":[{"_typeName":"ObjectContent","obj":{"_typeName":"ManagedObjectReference","type":"X","value":"x"},"__proto__":{"polluted":1},"propSet":[{"_typeName":"DynamicProperty","name":"p","val":{"_typeName":"FutureThing","__proto__":{"polluted":2}}}]}]}') as { objects: [Record<string, unknown> & { propSet: [{ val: object }] }] };
    const content = v.objects[0];
    const thing = content.propSet[0].val;
    for (const [o, n] of [[content, 1], [thing, 2]] as const) {
      expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
      expect(Object.getOwnPropertyDescriptor(o, '__proto__')?.value).toEqual({ polluted: n });
      expect((o as { polluted?: unknown }).polluted).toBeUndefined();
    }
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it(`bounds the type names an answer may give that the metadata does not know (${MAX_UNKNOWN_TYPE_NAMES}; each costs a search)`, () => {
    const vals = (n: number) => Array.from({ length: n }, (_, i) => `{"_typeName":"Future${i}","_value":1}`).join(',');
    const doc = (n: number) => `{"_typeName":"RetrieveResult","objects":[{"_typeName":"ObjectContent","obj":{"_typeName":"ManagedObjectReference","type":"X","value":"x"},"propSet":[{"_typeName":"DynamicProperty","name":"p","val":{"_typeName":"ArrayOfAnyType","_value":[${vals(n)}]}}]}]}`;
    expect(() => jsonResult('RetrievePropertiesEx', doc(MAX_UNKNOWN_TYPE_NAMES))).not.toThrow();
    const err = transportError(() => jsonResult('RetrievePropertiesEx', doc(MAX_UNKNOWN_TYPE_NAMES + 1)));
    expect(err.code).toBe('ERESPONSELIMIT');
    expect(err.message).toMatch(/type names the metadata does not know/);
  });
});

describe('decodeJsonResponseText: faults', () => {
  const soapFault = (method: string, detail: string, faultString: string): DecodedResponse =>
    decodeResponseText(methodInfo(method)!, SOAP_ENVELOPE(`<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>${faultString}</faultstring><detail>${detail}</detail></soapenv:Fault>`), {}, 500);

  it('decodes a fault object on HTTP 500 as the SOAP fault of the same data, for the same VimFault', () => {
    const j = decodeJsonResponseText(methodInfo('Login')!, '{"_typeName":"InvalidLogin","faultstring":"Cannot complete login due to an incorrect user name or password."}', {}, 500);
    const x = soapFault('Login', '<InvalidLoginFault xmlns="urn:vim25" xsi:type="InvalidLogin"></InvalidLoginFault>', 'Cannot complete login due to an incorrect user name or password.');
    expect(j).toStrictEqual(x);
    if (j.kind !== 'fault') throw new Error('expected a fault');
    const err = faultError('Login', j.fault);
    expect(err.faultName).toBe('InvalidLogin');
    expect(err.is('VimFault')).toBe(true);
    expect(err.message).toBe('Login: InvalidLogin: Cannot complete login due to an incorrect user name or password.');
  });

  it('decodes the fault fields by the fault type, and takes the message from faultMessage when there is no faultstring', () => {
    const j = decodeJsonResponseText(methodInfo('CurrentTime')!, '{"_typeName":"NotAuthenticated","faultCause":null,"faultMessage":[{"_typeName":"LocalizableMessage","key":"vim.fault.NotAuthenticated","message":"The session is not authenticated."}],"object":{"_typeName":"ManagedObjectReference","type":"ServiceInstance","value":"ServiceInstance"},"privilegeId":"System.View"}', {}, 500);
    const x = soapFault('CurrentTime', '<NotAuthenticatedFault xmlns="urn:vim25" xsi:type="NotAuthenticated"><faultMessage><key>vim.fault.NotAuthenticated</key><message>The session is not authenticated.</message></faultMessage><object type="ServiceInstance">ServiceInstance</object><privilegeId>System.View</privilegeId></NotAuthenticatedFault>', 'The session is not authenticated.');
    expect(j).toStrictEqual(x);
    const err = faultError('CurrentTime', (j as { fault: Parameters<typeof faultError>[1] }).fault);
    for (const name of ['NotAuthenticated', 'NoPermission', 'SecurityError', 'RuntimeFault', 'MethodFault'] as const) expect(err.is(name), name).toBe(true);
  });

  it('keeps a fault field named like a message key (OvfConsumerFault.message), and an unknown fault type with MethodFault fields typed', () => {
    const j = decodeJsonResponseText(methodInfo('CurrentTime')!, '{"_typeName":"OvfConsumerFault","extensionKey":"k","extensionName":"n","errorKey":"e","message":"consumer says no","localizedMessage":"Localized."}', {}, 500);
    expect(j).toStrictEqual({ kind: 'fault', fault: { faultCode: 'ServerFaultCode', faultString: 'Localized.', detail: { _typeName: 'OvfConsumerFault', extensionKey: 'k', extensionName: 'n', errorKey: 'e', message: 'consumer says no' } } });
    const u = decodeJsonResponseText(methodInfo('CurrentTime')!, '{"_typeName":"FutureFault","faultMessage":[{"_typeName":"LocalizableMessage","key":"k"}],"faultstring":"new"}', {}, 500);
    expect(u).toStrictEqual({ kind: 'fault', fault: { faultCode: 'ServerFaultCode', faultString: 'new', detail: { _typeName: 'FutureFault', faultMessage: [{ _typeName: 'LocalizableMessage', key: 'k' }] } } });
  });

  it.each([
    ['a JSON error that is no vim25 fault', '{"error_type":"SERVICE_UNAVAILABLE","messages":[]}'],
    ['an object without _typeName', '{"faultstring":"x"}'],
    ['an array', '[1]'],
    ['an empty body', ''],
  ])('refuses %s on HTTP 500 with ENOTSOAP', (_what, body) => {
    const err = transportError(() => decodeJsonResponseText(methodInfo('CurrentTime')!, body, {}, 500));
    expect(err.code).toBe('ENOTSOAP');
    expect(err.status).toBe(500);
    expect(err.message).toBe('CurrentTime: the HTTP 500 answer is not a VI/JSON fault');
  });
});

describe('decodeJsonResponseText: malformed answers and limits', () => {
  it.each([
    ['an HTML page', '<html><body>503 Service Unavailable</body></html>'],
    ['a truncated answer', '{"_typeName":"RetrieveResult","objects":[{"_typeName":"ObjectContent"'],
    ['trailing garbage', '"2024-01-01T00:00:00Z" x'],
    ['a bad escape', '"\\q"'],
  ])('turns %s into EBADJSON', (_what, body) => {
    const err = transportError(() => jsonResult('CurrentTime', body));
    expect(err.code).toBe('EBADJSON');
    expect(err.message).toMatch(/^CurrentTime: malformed VI\/JSON answer: /);
  });

  it('stops at maxElements (JSON values), maxDepth, maxString, maxMarkup (a key) and maxBytes with the SOAP decoder\'s codes', () => {
    const rp = (body: string, limits: JsonDecodeLimits) => transportError(() => jsonResult('RetrievePropertiesEx', body, limits));
    const page = `{"_typeName":"RetrieveResult","objects":[${Array.from({ length: 100 }, (_, i) => `{"_typeName":"ObjectContent","obj":{"_typeName":"ManagedObjectReference","type":"VirtualMachine","value":"vm-${i}"}}`).join(',')}]}`;
    // 3 values, and 6 per ObjectContent: the object, its _typeName, and its MoRef (an object of 3).
    expect(() => jsonResult('RetrievePropertiesEx', page, { maxElements: 603 })).not.toThrow();
    expect(rp(page, { maxElements: 602 })).toMatchObject({ code: 'ERESPONSELIMIT', message: expect.stringMatching(/more than 602 values/) });
    expect(rp('['.repeat(100_000), {})).toMatchObject({ code: 'ERESPONSELIMIT', message: expect.stringMatching(/deeper than 256/) });
    expect(rp(`{"_typeName":"RetrieveResult","token":"${'t'.repeat(1000)}"}`, { maxString: 999 })).toMatchObject({ code: 'ERESPONSELIMIT', message: expect.stringMatching(/string longer than 999/) });
    expect(rp(`{"${'k'.repeat(1000)}":1}`, { maxMarkup: 999 })).toMatchObject({ code: 'ERESPONSELIMIT', message: expect.stringMatching(/key longer than 999/) });
    expect(rp(page, { maxBytes: 1000 })).toMatchObject({ code: 'ERESPONSETOOLARGE' });
  });
});

describe('decodeJsonResponseText: time linear in the answer', () => {
  it('decodes the shapes that are kept as read before they are decoded in linear time (CPU time, 8 x 64 KB against 512 KB)', () => {
    const page = (val: string) => `{"_typeName":"RetrieveResult","objects":[{"_typeName":"ObjectContent","obj":{"_typeName":"ManagedObjectReference","type":"X","value":"x"},"propSet":[{"_typeName":"DynamicProperty","name":"p","val":${val}}]}]}`;
    const shapes: [string, (n: number) => string][] = [
      // An anyType object with its _typeName last and many fields (kept whole, then decoded).
      ['a wide object, _typeName last', (n) => page(`{${Array.from({ length: n / 12 }, (_, i) => `"k${i}":[1,"a"]`).join(',')},"_typeName":"FutureThing"}`)],
      // Objects nested 200 deep, each with its _typeName last.
      ['deep objects, _typeName last', (n) => page(`{"_typeName":"ArrayOfAnyType","_value":[${Array.from({ length: n / 6000 }, () => `${'{"a":'.repeat(200)}1${',"_typeName":"F"}'.repeat(200)}`).join(',')}]}`)],
      // Declared objects with fields of their subtypes held until a late _typeName.
      ['declared objects, fields held', (n) => `{"objects":[${Array.from({ length: n / 90 }, (_, i) => `{"obj":{"type":"X","value":"${i}"},"u1":[{"a":1}],"u2":"s","_typeName":"ObjectContent"}`).join(',')}],"_typeName":"RetrieveResult"}`],
      // The common shape: _typeName first, boxes.
      ['boxes, _typeName first', (n) => page(`{"_typeName":"ArrayOfAnyType","_value":[${Array.from({ length: n / 40 }, (_, i) => `{"_typeName":"long","_value":${i}}`).join(',')}]}`)],
    ];
    const limits = { maxElements: 1e9 };
    const method = methodInfo('RetrievePropertiesEx')!;
    // The cheapest of five reads: a busy machine's GC and JIT threads count in the process's CPU
    // time on Node 20. The small input is read eight times in one measurement, the same bytes as
    // the large one: Node 22's thread CPU clock ticks in milliseconds, which alone made one read
    // of 64 KB (~4 ms) off by a quarter.
    const cost = (text: string, times: number): number => {
      let best = Infinity;
      for (let i = 0; i < 5; i++) {
        const t = cpuMs();
        for (let k = 0; k < times; k++) decodeJsonResponseText(method, text, limits);
        best = Math.min(best, cpuMs() - t);
      }
      return best;
    };
    for (const [what, shape] of shapes) {
      const small = shape(1 << 16);
      const large = shape(1 << 19);
      cost(small, 1); // warm-up
      const a = Math.max(cost(small, 8), 1);
      const b = cost(large, 1);
      // Linear: one read of 8x the input costs about what eight small reads cost (measured 1-2x:
      // a large object's own growth); quadratic would be 8x.
      expect(b, `${what}: ${a.toFixed(1)} ms for 8 x 64 KB, ${b.toFixed(1)} ms for 512 KB`).toBeLessThan(a * 4);
      expect(b).toBeLessThan(3000);
    }
  });
});

describe('decodeJsonResponseStream', () => {
  const chunked = (text: string, size: number): Buffer[] => {
    const b = Buffer.from(text);
    return Array.from({ length: Math.ceil(b.length / size) }, (_, i) => b.subarray(i * size, (i + 1) * size));
  };
  const rp = methodInfo('RetrievePropertiesEx')!;
  const page = `{"_typeName":"RetrieveResult","objects":[${Array.from({ length: 50 }, (_, i) => `{"_typeName":"ObjectContent","obj":{"_typeName":"ManagedObjectReference","type":"VirtualMachine","value":"vm-${i}"},"propSet":[{"_typeName":"DynamicProperty","name":"name","val":{"_typeName":"string","_value":"é-${i}-😀"}},{"_typeName":"DynamicProperty","name":"n","val":{"_typeName":"long","_value":-9223372036854775808}}]}`).join(',')}]}`;

  it('decodes the same value whatever the chunks (cut inside characters, strings, numbers, literals)', async () => {
    const whole = decodeJsonResponseText(rp, page);
    for (const size of [1, 3, 7, 64, 4096]) expect(await decodeJsonResponseStream(rp, Readable.from(chunked(page, size)), 200), `chunks of ${size}`).toStrictEqual(whole);
  });

  it('gives the event loop a turn every 256 KiB', async () => {
    const big = `{"_typeName":"RetrieveResult","token":"${'x'.repeat(4 << 20)}"}`;
    let turns = 0;
    let running = true;
    const tick = (): void => {
      turns++;
      if (running) setImmediate(tick);
    };
    setImmediate(tick);
    const r = await decodeJsonResponseStream(rp, Readable.from(chunked(big, 16384)), 200);
    running = false;
    expect((r as { value: { token: string } }).value.token).toHaveLength(4 << 20);
    expect(turns).toBeGreaterThanOrEqual(16); // 4 MiB / 256 KiB
  });

  it('stops a body that claims 2 GB at maxBytes, reading no further', async () => {
    let pulled = 0;
    const endless = new Readable({
      read() {
        this.push(pulled === 0 ? Buffer.from('[') : Buffer.alloc(65536, '1,'));
        pulled += 65536;
      },
    });
    await expect(decodeJsonResponseStream(rp, endless, 200, { maxBytes: 1 << 20 })).rejects.toMatchObject({ code: 'ERESPONSETOOLARGE' });
    expect(pulled).toBeLessThan(2 << 20);
  });

  it('stops an endless string at maxString and endless nesting at maxDepth, long before maxBytes', async () => {
    const endless = (first: string, fill: string) => {
      let pulled = 0;
      const body = new Readable({
        read() {
          this.push(pulled++ === 0 ? first : fill.repeat(65536 / fill.length));
        },
      });
      return { body, pulled: () => pulled * 65536 };
    };
    const s = endless('{"token":"', 'a');
    await expect(decodeJsonResponseStream(rp, s.body, 200, { maxBytes: 2 ** 31, maxString: 1 << 20 })).rejects.toMatchObject({ code: 'ERESPONSELIMIT' });
    expect(s.pulled()).toBeLessThan(4 << 20);
    const d = endless('[', '[');
    await expect(decodeJsonResponseStream(rp, d.body, 200, { maxBytes: 2 ** 31 })).rejects.toMatchObject({ code: 'ERESPONSELIMIT' });
    expect(d.pulled()).toBeLessThan(1 << 20);
  });

  it('reports a body cut off mid-answer as EOUTCOMEUNKNOWN, and a truncated one as EBADJSON', async () => {
    const cut = new Readable({
      read() {
        this.push(Buffer.from(page.slice(0, 100)));
        this.destroy(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
      },
    });
    await expect(decodeJsonResponseStream(rp, cut, 200)).rejects.toMatchObject({ code: 'EOUTCOMEUNKNOWN', outcomeUnknown: true });
    await expect(decodeJsonResponseStream(rp, Readable.from(chunked(page.slice(0, -3), 100)), 200)).rejects.toMatchObject({ code: 'EBADJSON' });
  });

  it('decodes a fault on HTTP 500', async () => {
    const r = await decodeJsonResponseStream(methodInfo('Login')!, Readable.from([Buffer.from('{"_typeName":"InvalidLogin","faultstring":"no"}')]), 500);
    expect(r).toStrictEqual({ kind: 'fault', fault: { faultCode: 'ServerFaultCode', faultString: 'no', detail: { _typeName: 'InvalidLogin' } } });
  });
});
