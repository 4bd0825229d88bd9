import { describe, expect, it } from 'vitest';
import { decodeResponseText } from '../../../src/binding/decode.ts';
import { faultError } from '../../../src/soap/faults.ts';
import { methodInfo } from '../../../src/binding/metadata.ts';
import { TransportError } from '../../../src/errors.ts';

const envelope = (body: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`;
const decode = (method: string, body: string): unknown => {
  const r = decodeResponseText(methodInfo(method)!, envelope(body));
  if (r.kind !== 'result') throw new Error('expected a result');
  return r.value;
};

describe('decodeResponseText', () => {
  it('decodes a data object with _typeName, MoRefs, an array of one element, and keeps whitespace in strings', () => {
    const v = decode('RetrievePropertiesEx', `<RetrievePropertiesExResponse xmlns="urn:vim25"><returnval><objects><obj type="VirtualMachine">vm-1</obj><propSet><name>name</name><val xsi:type="xsd:string">  my vm </val></propSet></objects></returnval></RetrievePropertiesExResponse>`);
    expect(v).toEqual({
      _typeName: 'RetrieveResult',
      objects: [{ _typeName: 'ObjectContent', obj: { type: 'VirtualMachine', value: 'vm-1' }, propSet: [{ _typeName: 'DynamicProperty', name: 'name', val: '  my vm ' }] }],
    });
  });

  it('decodes anyType by xsi:type: numbers, long precision, booleans, dates, base64, ArrayOf unwrapped', () => {
    const v = decode('RetrievePropertiesEx', `<RetrievePropertiesExResponse xmlns="urn:vim25"><returnval><objects><obj type="OptionManager">o</obj>
      <propSet><name>i</name><val xsi:type="xsd:int">42</val></propSet>
      <propSet><name>l</name><val xsi:type="xsd:long">9007199254740993</val></propSet>
      <propSet><name>b</name><val xsi:type="xsd:boolean">true</val></propSet>
      <propSet><name>t</name><val xsi:type="xsd:dateTime">2024-01-02T03:04:05.678Z</val></propSet>
      <propSet><name>bin</name><val xsi:type="xsd:base64Binary">AQID</val></propSet>
      <propSet><name>a</name><val xsi:type="ArrayOfString"><string>x</string></val></propSet>
      <propSet><name>refs</name><val xsi:type="ArrayOfManagedObjectReference"><ManagedObjectReference type="Datastore">ds-1</ManagedObjectReference></val></propSet>
    </objects></returnval></RetrievePropertiesExResponse>`) as { objects: [{ propSet: { name: string; val: unknown }[] }] };
    const vals = Object.fromEntries(v.objects[0].propSet.map((p) => [p.name, p.val]));
    expect(vals.i).toBe(42);
    expect(vals.l).toBe(9007199254740993n);
    expect(vals.b).toBe(true);
    expect(vals.t).toEqual(new Date('2024-01-02T03:04:05.678Z'));
    expect(vals.bin).toEqual(new Uint8Array([1, 2, 3]));
    expect(vals.a).toEqual(['x']);
    expect(vals.refs).toEqual([{ type: 'Datastore', value: 'ds-1' }]);
  });

  it('decodes a type the metadata does not know generically', () => {
    const v = decode('RetrievePropertiesEx', `<RetrievePropertiesExResponse xmlns="urn:vim25"><returnval><objects><obj type="X">x</obj><propSet><name>n</name><val xsi:type="FutureThing"><a>1</a><a>2</a><ref type="Folder">f</ref></val></propSet></objects><futureField>z</futureField></returnval></RetrievePropertiesExResponse>`) as { objects: [{ propSet: [{ val: unknown }] }]; futureField: unknown };
    expect(v.objects[0].propSet[0].val).toEqual({ _typeName: 'FutureThing', a: ['1', '2'], ref: { type: 'Folder', value: 'f' } });
    expect(v.futureField).toBe('z');
  });

  it('makes plain objects with only the fields the answer has, whatever came before at the same depth', () => {
    // Data objects come from a constructor per type and the decoder reuses its per-depth state
    // from one element to the next: neither may show in the values. Two objects of one type
    // with different fields (more than fit in the object), generic values with repeated names
    // next to ones without, and the same string values several times.
    const fields = Array.from({ length: 12 }, (_, i) => `<key>${i}</key>`).join('');
    const v = decode('RetrievePropertiesEx', `<RetrievePropertiesExResponse xmlns="urn:vim25"><returnval>
      <objects><obj type="VirtualMachine">vm-1</obj><propSet><name>config.hardware.device</name><val xsi:type="ArrayOfVirtualDevice">
        <VirtualDevice xsi:type="VirtualDisk"><key>2000</key><deviceInfo><label>Hard disk 1</label><summary>s</summary></deviceInfo><capacityInKB>10</capacityInKB></VirtualDevice>
        <VirtualDevice xsi:type="VirtualDisk"><key>2001</key><unitNumber>1</unitNumber></VirtualDevice>
      </val></propSet><propSet><name>g</name><val xsi:type="FutureThing">${fields}</val></propSet>
      <propSet><name>h</name><val xsi:type="FutureThing"><key>x</key></val></propSet></objects>
      <objects><obj type="VirtualMachine">vm-2</obj><propSet><name>name</name><val xsi:type="xsd:string">Hard disk 1</val></propSet></objects>
    </returnval></RetrievePropertiesExResponse>`) as { objects: { propSet: { val: unknown }[] }[] };
    expect(v).toStrictEqual({
      _typeName: 'RetrieveResult',
      objects: [
        {
          _typeName: 'ObjectContent',
          obj: { type: 'VirtualMachine', value: 'vm-1' },
          propSet: [
            { _typeName: 'DynamicProperty', name: 'config.hardware.device', val: [
              { _typeName: 'VirtualDisk', key: 2000, deviceInfo: { _typeName: 'Description', label: 'Hard disk 1', summary: 's' }, capacityInKB: 10 },
              { _typeName: 'VirtualDisk', key: 2001, unitNumber: 1 },
            ] },
            { _typeName: 'DynamicProperty', name: 'g', val: { _typeName: 'FutureThing', key: Array.from({ length: 12 }, (_, i) => String(i)) } },
            { _typeName: 'DynamicProperty', name: 'h', val: { _typeName: 'FutureThing', key: 'x' } },
          ],
        },
        { _typeName: 'ObjectContent', obj: { type: 'VirtualMachine', value: 'vm-2' }, propSet: [{ _typeName: 'DynamicProperty', name: 'name', val: 'Hard disk 1' }] },
      ],
    });
    const disk = (v.objects[0]!.propSet[0]!.val as object[])[0]!;
    expect(Object.getPrototypeOf(disk)).toBe(Object.prototype);
    expect(Object.keys(disk)).toEqual(['_typeName', 'key', 'deviceInfo', 'capacityInKB']);
  });

  it('returns [] for an absent array result and a Date for CurrentTime', () => {
    expect(decode('RetrieveProperties', '<RetrievePropertiesResponse xmlns="urn:vim25"></RetrievePropertiesResponse>')).toEqual([]);
    expect(decode('CurrentTime', '<CurrentTimeResponse xmlns="urn:vim25"><returnval>2024-05-06T07:08:09Z</returnval></CurrentTimeResponse>')).toEqual(new Date('2024-05-06T07:08:09Z'));
  });

  it('decodes a fault by the detail xsi:type, not the faultstring', () => {
    const r = decodeResponseText(methodInfo('Login')!, envelope('<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>Anmeldung fehlgeschlagen</faultstring><detail><InvalidLoginFault xmlns="urn:vim25" xsi:type="InvalidLogin"></InvalidLoginFault></detail></soapenv:Fault>'));
    expect(r.kind).toBe('fault');
    if (r.kind !== 'fault') return;
    const err = faultError('Login', r.fault);
    expect(err.faultName).toBe('InvalidLogin');
    expect(err.faultString).toBe('Anmeldung fehlgeschlagen');
    expect(err.is('VimFault')).toBe(true);
    expect(err.is('MethodFault')).toBe(true);
    expect(err.is('RuntimeFault')).toBe(false);
  });

  it('NotAuthenticated is a NoPermission, SecurityError, RuntimeFault and MethodFault', () => {
    const r = decodeResponseText(methodInfo('CurrentTime')!, envelope('<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring></faultstring><detail><NotAuthenticatedFault xmlns="urn:vim25" xsi:type="NotAuthenticated"><object type="ServiceInstance">ServiceInstance</object><privilegeId>System.View</privilegeId></NotAuthenticatedFault></detail></soapenv:Fault>'));
    if (r.kind !== 'fault') throw new Error('expected a fault');
    const err = faultError('CurrentTime', r.fault);
    for (const name of ['NotAuthenticated', 'NoPermission', 'SecurityError', 'RuntimeFault', 'MethodFault'] as const) expect(err.is(name), name).toBe(true);
    expect(err.fault).toEqual({ _typeName: 'NotAuthenticated', object: { type: 'ServiceInstance', value: 'ServiceInstance' }, privilegeId: 'System.View' });
  });

  it('turns non-SOAP, truncated and DOCTYPE answers into TransportErrors', () => {
    const m = methodInfo('CurrentTime')!;
    expect(() => decodeResponseText(m, '<html><body>503 Service Unavailable</body></html>')).toThrow(TransportError);
    expect(() => decodeResponseText(m, envelope('<CurrentTimeResponse xmlns="urn:vim25"><returnval>2024').slice(0, -40))).toThrow(TransportError);
    expect(() => decodeResponseText(m, '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')).toThrow(/DOCTYPE/);
    expect(() => decodeResponseText(m, '')).toThrow(TransportError);
  });
});

describe('encode -> decode round trips', () => {
  it('keeps anyType values and their types, long precision, dates and bytes', async () => {
    const { encodeRequest } = await import('../../../src/binding/encode.ts');
    const values: unknown[] = [
      'a < b & "c"', true, false, 0, -17, 2 ** 53 - 1, 2n ** 63n - 1n, -(2n ** 63n), 1.25, -0.5,
      new Date('1999-12-31T23:59:59.999Z'), new Uint8Array([0, 255, 128]), ['x', 'y'],
      [{ type: 'Datastore', value: 'ds-1' }], { type: 'HostSystem', value: 'host-9' },
      { _typeName: 'int', _value: 5 }, { _typeName: 'ArrayOfInt', _value: [1, 2] },
      { _typeName: 'Description', label: 'l', summary: 's' },
    ];
    const expected = values.map((v) => (v && typeof v === 'object' && '_value' in v ? (v as { _value: unknown })._value : v));
    const request = encodeRequest(methodInfo('UpdateOptions')!, { type: 'OptionManager', value: 'o' }, {
      changedValue: values.map((value, i) => ({ key: `k${i}`, value })),
    });
    // The request's <changedValue> elements are exactly what QueryOptions answers with as <returnval>s.
    const returnvals = request.replace(/^<_this[^>]*>[^<]*<\/_this>/, '').replaceAll('<changedValue>', '<returnval xsi:type="OptionValue">').replaceAll('</changedValue>', '</returnval>');
    const xml = envelope(`<QueryOptionsResponse xmlns="urn:vim25" xmlns:vim25="urn:vim25">${returnvals}</QueryOptionsResponse>`);
    const r = decodeResponseText(methodInfo('QueryOptions')!, xml);
    if (r.kind !== 'result') throw new Error('expected a result');
    const decodedValues = (r.value as { key: string; value: unknown }[]).map((o) => o.value);
    expect(decodedValues).toEqual(expected);
  });
});

describe('decodeResponseStream limits', () => {
  it('refuses an answer larger than the limit while it streams', async () => {
    const { Readable } = await import('node:stream');
    const { decodeResponseStream } = await import('../../../src/binding/decode.ts');
    const big = envelope(`<RetrievePropertiesResponse xmlns="urn:vim25">${'<returnval><obj type="VirtualMachine">vm-1</obj></returnval>'.repeat(2000)}</RetrievePropertiesResponse>`);
    const chunks = Array.from({ length: Math.ceil(big.length / 4096) }, (_, i) => Buffer.from(big.slice(i * 4096, (i + 1) * 4096)));
    await expect(decodeResponseStream(methodInfo('RetrieveProperties')!, Readable.from(chunks), 200, { maxBytes: 10_000 })).rejects.toMatchObject({ code: 'ERESPONSETOOLARGE' });
    const ok = await decodeResponseStream(methodInfo('RetrieveProperties')!, Readable.from(chunks), 200, { maxBytes: big.length });
    expect(ok.kind).toBe('result');
  });
});
