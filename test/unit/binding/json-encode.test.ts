import { describe, expect, it } from 'vitest';
import { encodeRequest } from '../../../src/binding/encode.ts';
import { encodeJsonRequest, encodeJsonValue } from '../../../src/binding/json-encode.ts';
import { methodInfo } from '../../../src/binding/metadata.ts';
import { ValidationError } from '../../../src/errors.ts';

const pc = { type: 'PropertyCollector', value: 'propertyCollector' };
const json = (method: string, args: object | undefined): unknown => JSON.parse(encodeJsonRequest(methodInfo(method)!, args));
const failure = (fn: () => unknown): ValidationError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return err;
    throw err;
  }
  throw new Error('expected a ValidationError');
};
/** The anyType `value` of UpdateOptions' first changedValue, as VI/JSON writes it. */
const anyValue = (value: unknown): unknown => (json('UpdateOptions', { changedValue: [{ key: 'k', value }] }) as { changedValue: [{ value: unknown }] }).changedValue[0].value;
/** The same, as text (to see integers beyond 2^53 exactly). */
const anyText = (value: unknown): string => {
  const text = encodeJsonRequest(methodInfo('UpdateOptions')!, { changedValue: [{ key: 'k', value }] });
  return text.slice(text.indexOf('"value":') + 8, -3);
};

describe('encodeJsonRequest', () => {
  it('writes the parameters only (never _this), fields in schema order, _typeName first on every data object', () => {
    const body = encodeJsonRequest(methodInfo('Login')!, { password: 'p"<&>', locale: 'en', userName: 'u' });
    expect(body).toBe('{"userName":"u","password":"p\\"<&>","locale":"en"}');
    expect(encodeJsonRequest(methodInfo('CurrentTime')!, undefined)).toBe('{}');
    // A caller's _this is not a parameter: encodeRequest writes the call's own in its place, VI/JSON puts it in the URL.
    expect(encodeJsonRequest(methodInfo('CurrentTime')!, { _this: { type: 'X', value: 'y' } })).toBe('{}');
    const body2 = encodeJsonRequest(methodInfo('RetrievePropertiesEx')!, {
      options: { maxObjects: 100 },
      specSet: [{ objectSet: [{ skip: true, obj: { type: 'ContainerView', value: 'session[1]' }, selectSet: [{ path: 'view', type: 'ContainerView', _typeName: 'TraversalSpec' }] }], propSet: [{ pathSet: ['name'], type: 'VirtualMachine' }] }],
    });
    expect(body2).toBe(
      '{"specSet":[{"_typeName":"PropertyFilterSpec","propSet":[{"_typeName":"PropertySpec","type":"VirtualMachine","pathSet":["name"]}],' +
        '"objectSet":[{"_typeName":"ObjectSpec","obj":{"_typeName":"ManagedObjectReference","type":"ContainerView","value":"session[1]"},"skip":true,' +
        '"selectSet":[{"_typeName":"TraversalSpec","type":"ContainerView","path":"view"}]}]}],"options":{"_typeName":"RetrieveOptions","maxObjects":100}}',
    );
  });

  it('writes a three-level subtype with its own and inherited fields, and enums as strings', () => {
    const body = json('ReconfigVM_Task', {
      spec: {
        deviceChange: [{
          operation: 'add',
          device: { _typeName: 'VirtualDisk', capacityInKB: 1024, key: -1, backing: { _typeName: 'VirtualDiskFlatVer2BackingInfo', fileName: '', diskMode: 'persistent', thinProvisioned: true } },
        }],
      },
    });
    expect(body).toEqual({
      spec: {
        _typeName: 'VirtualMachineConfigSpec',
        deviceChange: [{
          _typeName: 'VirtualDeviceConfigSpec',
          operation: 'add',
          device: { _typeName: 'VirtualDisk', key: -1, backing: { _typeName: 'VirtualDiskFlatVer2BackingInfo', fileName: '', diskMode: 'persistent', thinProvisioned: true }, capacityInKB: 1024 },
        }],
      },
    });
  });

  it('writes every primitive by its declared type: numbers, exact longs, booleans, ISO dates, base64', () => {
    expect(encodeJsonRequest(methodInfo('ExtendVirtualDisk_Task')!, { name: 'a', newCapacityKb: 2n ** 63n - 1n })).toBe('{"name":"a","newCapacityKb":9223372036854775807}');
    expect(encodeJsonRequest(methodInfo('ExtendVirtualDisk_Task')!, { name: 'a', newCapacityKb: -(2n ** 63n) })).toBe('{"name":"a","newCapacityKb":-9223372036854775808}');
    expect(encodeJsonRequest(methodInfo('ExtendVirtualDisk_Task')!, { name: 'a', newCapacityKb: 4096, eagerZero: false })).toBe('{"name":"a","newCapacityKb":4096,"eagerZero":false}');
    // byte/short/int, double, dateTime, base64Binary, boolean, string: through their anyType boxes.
    expect(anyValue({ _typeName: 'byte', _value: -128 })).toEqual({ _typeName: 'byte', _value: -128 });
    expect(anyValue({ _typeName: 'short', _value: 32767 })).toEqual({ _typeName: 'short', _value: 32767 });
    expect(anyValue({ _typeName: 'int', _value: -2147483648 })).toEqual({ _typeName: 'int', _value: -2147483648 });
    expect(anyValue({ _typeName: 'float', _value: 0.5 })).toEqual({ _typeName: 'float', _value: 0.5 });
    expect(anyValue(1.25)).toEqual({ _typeName: 'double', _value: 1.25 });
    expect(anyValue({ _typeName: 'double', _value: 1e300 })).toEqual({ _typeName: 'double', _value: 1e300 });
    expect(anyValue(new Date('2024-01-02T03:04:05.678Z'))).toEqual({ _typeName: 'dateTime', _value: '2024-01-02T03:04:05.678Z' });
    expect(anyValue(new Uint8Array([0, 255, 128]))).toEqual({ _typeName: 'binary', _value: 'AP+A' });
    expect(anyValue({ _typeName: 'base64Binary', _value: new Uint8Array([1, 2, 3]) })).toEqual({ _typeName: 'binary', _value: 'AQID' });
    expect(anyValue(true)).toEqual({ _typeName: 'boolean', _value: true });
    expect(anyValue('a\u0001\n"')).toEqual({ _typeName: 'string', _value: 'a\u0001\n"' });
    expect(anyValue({ _typeName: 'anyURI', _value: 'https://x/' })).toEqual({ _typeName: 'anyURI', _value: 'https://x/' });
    // Integers are xsd:long, written exactly (a JSON integer, not a string nor a rounded double).
    expect(anyText(42)).toBe('{"_typeName":"long","_value":42}');
    expect(anyText(2n ** 63n - 1n)).toBe('{"_typeName":"long","_value":9223372036854775807}');
    expect(anyText(-(2n ** 63n))).toBe('{"_typeName":"long","_value":-9223372036854775808}');
  });

  it('boxes arrays in anyType positions, inferred or given, and MoRefs and data objects by their _typeName', () => {
    expect(anyValue(['x', 'y'])).toEqual({ _typeName: 'ArrayOfString', _value: ['x', 'y'] });
    expect(anyValue([1, 2.5])).toEqual({ _typeName: 'ArrayOfDouble', _value: [1, 2.5] });
    expect(anyValue([1n, 2])).toEqual({ _typeName: 'ArrayOfLong', _value: [1, 2] });
    expect(anyValue([true])).toEqual({ _typeName: 'ArrayOfBoolean', _value: [true] });
    expect(anyValue({ _typeName: 'ArrayOfInt', _value: [1, 2] })).toEqual({ _typeName: 'ArrayOfInt', _value: [1, 2] });
    expect(anyValue({ _typeName: 'ArrayOfBase64Binary', _value: [new Uint8Array([1])] })).toEqual({ _typeName: 'ArrayOfBinary', _value: ['AQ=='] });
    expect(anyValue({ _typeName: 'ArrayOfString', _value: [] })).toEqual({ _typeName: 'ArrayOfString', _value: [] });
    const ds = { type: 'Datastore', value: 'ds-1' };
    expect(anyValue([ds])).toEqual({ _typeName: 'ArrayOfManagedObjectReference', _value: [{ _typeName: 'ManagedObjectReference', ...ds }] });
    expect(anyValue(ds)).toEqual({ _typeName: 'ManagedObjectReference', ...ds });
    expect(anyValue({ _typeName: 'Description', summary: 's', label: 'l' })).toEqual({ _typeName: 'Description', label: 'l', summary: 's' });
    expect(anyValue([{ _typeName: 'OptionValue', key: 'a', value: 1 }])).toEqual({ _typeName: 'ArrayOfOptionValue', _value: [{ _typeName: 'OptionValue', key: 'a', value: { _typeName: 'long', _value: 1 } }] });
    expect(anyValue({ _typeName: 'ArrayOfVirtualDevice', _value: [{ _typeName: 'VirtualKeyboard', key: 600 }] })).toEqual({ _typeName: 'ArrayOfVirtualDevice', _value: [{ _typeName: 'VirtualKeyboard', key: 600 }] });
  });

  it('leaves out absent fields and empty optional arrays (XML cannot send an empty array either)', () => {
    expect(json('RetrievePropertiesEx', { specSet: [{ propSet: [{ type: 'Folder', pathSet: [] }], objectSet: [{ obj: { type: 'Folder', value: 'f' }, selectSet: [] }] }], options: { maxObjects: undefined } })).toEqual({
      specSet: [{ _typeName: 'PropertyFilterSpec', propSet: [{ _typeName: 'PropertySpec', type: 'Folder' }], objectSet: [{ _typeName: 'ObjectSpec', obj: { _typeName: 'ManagedObjectReference', type: 'Folder', value: 'f' } }] }],
      options: { _typeName: 'RetrieveOptions' },
    });
  });

  it('refuses NaN and Infinity, which JSON cannot carry', () => {
    expect(failure(() => anyValue(NaN)).path).toBe('changedValue[0].value');
    expect(failure(() => anyValue({ _typeName: 'double', _value: Infinity })).message).toMatch(/JSON has no NaN or Infinity/);
  });

  // The same bad argument is refused the same way on both wires: same class, method, path and message.
  const BAD: [string, string, object][] = [
    ['an unknown field', 'RetrievePropertiesEx', { specSet: [{ propSet: [{ type: 'Folder', pathz: ['x'] }], objectSet: [] }], options: {} }],
    ['a missing required field', 'RetrievePropertiesEx', { specSet: [{ propSet: [{}], objectSet: [] }], options: {} }],
    ['a missing required parameter', 'RetrievePropertiesEx', { specSet: [] }],
    ['an empty required array', 'RetrievePropertiesEx', { specSet: [], options: {} }],
    ['a _typeName that is no subtype', 'RetrievePropertiesEx', { specSet: [{ propSet: [{ type: 'F' }], objectSet: [{ obj: { type: 'F', value: 'f' }, selectSet: [{ _typeName: 'ObjectSpec', obj: { type: 'x', value: 'y' } }] }] }], options: {} }],
    ['an unknown _typeName', 'RetrievePropertiesEx', { specSet: [{ _typeName: 'Nope', propSet: [{ type: 'F' }], objectSet: [] }], options: {} }],
    ['a wrong primitive (string for int)', 'RetrievePropertiesEx', { specSet: [{ propSet: [{ type: 'F' }], objectSet: [] }], options: { maxObjects: '5' } }],
    ['an int out of range', 'RetrievePropertiesEx', { specSet: [{ propSet: [{ type: 'F' }], objectSet: [] }], options: { maxObjects: 2 ** 31 } }],
    ['a fraction for int', 'RetrievePropertiesEx', { specSet: [{ propSet: [{ type: 'F' }], objectSet: [] }], options: { maxObjects: 1.5 } }],
    ['a number for boolean', 'RetrievePropertiesEx', { specSet: [{ propSet: [{ type: 'F', all: 1 }], objectSet: [] }], options: {} }],
    ['an unsafe number for long', 'ExtendVirtualDisk_Task', { name: 'x', newCapacityKb: 2 ** 60 }],
    ['a bigint beyond xsd:long', 'ExtendVirtualDisk_Task', { name: 'x', newCapacityKb: 2n ** 63n }],
    ['a string for a MoRef', 'MoveIntoFolder_Task', { list: ['vm-1'] }],
    ['a bad MoRef', 'MoveIntoFolder_Task', { list: [{ type: 'VirtualMachine' }] }],
    ['an object for a string', 'Login', { userName: { a: 1 }, password: 'p' }],
    ['a single value for an array', 'RetrievePropertiesEx', { specSet: { propSet: [], objectSet: [] }, options: {} }],
    ['an array for a single value', 'RetrievePropertiesEx', { specSet: [{ propSet: [{ type: ['F'] }], objectSet: [] }], options: {} }],
    ['a Date that is no date', 'UpdateOptions', { changedValue: [{ key: 'k', value: new Date(NaN) }] }],
    ['a string for a Date', 'QueryEvents', { filter: { time: { beginTime: '2024-01-01' } } }],
    ['a string for bytes', 'UpdateOptions', { changedValue: [{ key: 'k', value: { _typeName: 'base64Binary', _value: 'AQID' } }] }],
    ['an anyType value that cannot be typed', 'UpdateOptions', { changedValue: [{ key: 'k', value: () => 1 }] }],
    ['a data object without _typeName in anyType', 'UpdateOptions', { changedValue: [{ key: 'k', value: { label: 'l' } }] }],
    ['a mixed array in anyType', 'UpdateOptions', { changedValue: [{ key: 'k', value: ['a', 1] }] }],
    ['an array of dates in anyType (no ArrayOfDateTime in the WSDL)', 'UpdateOptions', { changedValue: [{ key: 'k', value: [new Date(0)] }] }],
    ['a box with extra keys', 'UpdateOptions', { changedValue: [{ key: 'k', value: { _typeName: 'int', _value: 1, x: 2 } }] }],
    ['a box of an enum', 'UpdateOptions', { changedValue: [{ key: 'k', value: { _typeName: 'VirtualMachinePowerState', _value: 'poweredOn' } }] }],
    ['an ArrayOf box of a non-array', 'UpdateOptions', { changedValue: [{ key: 'k', value: { _typeName: 'ArrayOfInt', _value: 1 } }] }],
    ['a bad item in an ArrayOf box', 'UpdateOptions', { changedValue: [{ key: 'k', value: { _typeName: 'ArrayOfInt', _value: [1, 'x'] } }] }],
    ['_typeName on the arguments', 'CurrentTime', { _typeName: 'CurrentTimeRequestType' }],
  ];

  it.each(BAD)('refuses %s as encodeRequest does (same path and message)', (_what, method, args) => {
    const info = methodInfo(method)!;
    const viaXml = failure(() => encodeRequest(info, pc, args));
    const viaJson = failure(() => encodeJsonRequest(info, args));
    expect({ method: viaJson.method, path: viaJson.path, message: viaJson.message }).toEqual({ method: viaXml.method, path: viaXml.path, message: viaXml.message });
  });

  it('accepts what encodeRequest accepts, but for the characters XML cannot carry', () => {
    expect(() => encodeRequest(methodInfo('Login')!, pc, { userName: 'a\u0001', password: 'p' })).toThrow(ValidationError);
    expect(json('Login', { userName: 'a\u0001', password: 'p' })).toEqual({ userName: 'a\u0001', password: 'p' });
  });
});

describe('encodeJsonValue', () => {
  it('writes one value or a list of a declared type, as a VI/JSON answer holds it', () => {
    expect(JSON.parse(encodeJsonValue('ManagedObjectReference', { type: 'Folder', value: 'group-d1' }))).toEqual({ _typeName: 'ManagedObjectReference', type: 'Folder', value: 'group-d1' });
    expect(encodeJsonValue('dateTime', new Date(0))).toBe('"1970-01-01T00:00:00.000Z"');
    expect(encodeJsonValue('int', [1, 2], true)).toBe('[1,2]');
    expect(failure(() => encodeJsonValue('int', [1, 'x'], true)).path).toBe('[1]');
  });
});
