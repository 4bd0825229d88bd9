import { describe, expect, it } from 'vitest';
import { encodeRequest } from '../../../src/binding/encode.ts';
import { methodInfo } from '../../../src/binding/metadata.ts';
import { ValidationError } from '../../../src/errors.ts';

const pc = { type: 'PropertyCollector', value: 'propertyCollector' };
const encode = (method: string, args: object, _this: unknown = pc): string => encodeRequest(methodInfo(method)!, _this, args);
const failure = (fn: () => unknown): ValidationError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return err;
    throw err;
  }
  throw new Error('expected a ValidationError');
};

describe('encodeRequest', () => {
  it('writes _this first and fields in schema order whatever the key order', () => {
    const xml = encode('Login', { password: 'p<&>', locale: 'en', userName: 'u' }, { type: 'SessionManager', value: 'SessionManager' });
    expect(xml).toBe('<_this type="SessionManager">SessionManager</_this><userName>u</userName><password>p&lt;&amp;&gt;</password><locale>en</locale>');
  });

  it('orders a three-level extension chain base-first and marks the subtype with xsi:type', () => {
    const xml = encode('ReconfigVM_Task', {
      spec: {
        deviceChange: [{
          _typeName: 'VirtualDeviceConfigSpec',
          device: {
            _typeName: 'VirtualDisk',
            capacityInKB: 1024,
            key: -1,
            backing: { thinProvisioned: true, diskMode: 'persistent', fileName: '', _typeName: 'VirtualDiskFlatVer2BackingInfo' },
          },
          operation: 'add',
        }],
      },
    }, { type: 'VirtualMachine', value: 'vm-1' });
    expect(xml).toContain('<backing xsi:type="vim25:VirtualDiskFlatVer2BackingInfo"><fileName></fileName><diskMode>persistent</diskMode><thinProvisioned>true</thinProvisioned></backing>');
    expect(xml).toContain('<device xsi:type="vim25:VirtualDisk"><key>-1</key><backing');
    expect(xml.indexOf('<capacityInKB>')).toBeGreaterThan(xml.indexOf('</backing>'));
    expect(xml).toContain('<deviceChange><operation>add</operation><device');
  });

  it('names the path of a _typeName that is not a subtype', () => {
    const err = failure(() => encode('RetrievePropertiesEx', {
      specSet: [{ propSet: [{ type: 'Folder' }], objectSet: [{ obj: { type: 'Folder', value: 'group-d1' }, selectSet: [{ name: 'a' }, { _typeName: 'ObjectSpec', obj: { type: 'x', value: 'y' } }] }] }],
      options: {},
    }));
    expect(err.path).toBe('specSet[0].objectSet[0].selectSet[1]._typeName');
    expect(err.method).toBe('RetrievePropertiesEx');
  });

  it('rejects unknown fields and missing required fields, naming the path', () => {
    expect(failure(() => encode('RetrievePropertiesEx', { specSet: [{ propSet: [{ type: 'Folder', pathz: ['x'] }], objectSet: [] }], options: {} })).path).toBe('specSet[0].propSet[0].pathz');
    expect(failure(() => encode('RetrievePropertiesEx', { specSet: [{ propSet: [{}], objectSet: [] }], options: {} })).path).toBe('specSet[0].propSet[0].type');
  });

  it('keeps long precision with bigint and refuses unsafe numbers', () => {
    const big = 2n ** 60n + 1n;
    const vdm = { type: 'VirtualDiskManager', value: 'virtualDiskManager' };
    expect(encode('ExtendVirtualDisk_Task', { name: '[ds] a.vmdk', newCapacityKb: big }, vdm)).toContain(`<newCapacityKb>${big}</newCapacityKb>`);
    expect(encode('ExtendVirtualDisk_Task', { name: '[ds] a.vmdk', newCapacityKb: 4096 }, vdm)).toContain('<newCapacityKb>4096</newCapacityKb>');
    expect(failure(() => encode('ExtendVirtualDisk_Task', { name: 'x', newCapacityKb: 2 ** 60 }, vdm)).path).toBe('newCapacityKb');
  });

  it('infers and boxes anyType values', () => {
    const xml = encode('UpdateOptions', {
      changedValue: [
        { key: 's', value: 'text' },
        { key: 'b', value: true },
        { key: 'l', value: 42 },
        { key: 'd', value: 1.5 },
        { key: 'big', value: 2n ** 62n },
        { key: 'i', value: { _typeName: 'int', _value: 7 } },
        { key: 'a', value: ['x', 'y'] },
      ],
    }, { type: 'OptionManager', value: 'VpxSettings' });
    expect(xml).toContain('<key>s</key><value xsi:type="xsd:string">text</value>');
    expect(xml).toContain('<value xsi:type="xsd:boolean">true</value>');
    expect(xml).toContain('<value xsi:type="xsd:long">42</value>');
    expect(xml).toContain('<value xsi:type="xsd:double">1.5</value>');
    expect(xml).toContain(`<value xsi:type="xsd:long">${2n ** 62n}</value>`);
    expect(xml).toContain('<value xsi:type="xsd:int">7</value>');
    expect(xml).toContain('<value xsi:type="vim25:ArrayOfString"><string>x</string><string>y</string></value>');
  });

  it('refuses characters XML cannot carry', () => {
    expect(failure(() => encode('Login', { userName: 'a\u0001', password: 'p' }, { type: 'SessionManager', value: 'SessionManager' })).path).toBe('userName');
  });
});
