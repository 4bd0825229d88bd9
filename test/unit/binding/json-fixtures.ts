// The same answers as SOAP and as VI/JSON, for the JSON codec's tests and bench/json-codec.ts:
// values are written by the library's own encoders (encode.ts for the SOAP side, json-encode.ts
// for the JSON side), so both documents hold the same data.
import { encodeRequest } from '../../../src/binding/encode.ts';
import { encodeJsonValue } from '../../../src/binding/json-encode.ts';
import type { FieldInfo, MethodInfo } from '../../../src/binding/metadata.ts';

export const SOAP_ENVELOPE = (body: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:vim25="urn:vim25"><soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`;

/** A method whose only argument is `returnval` of `type`: encodeRequest then writes the <returnval> a response holds. */
function carrier(type: string, array: boolean): MethodInfo {
  const fields: FieldInfo[] = [
    { name: '_this', type: 'ManagedObjectReference', optional: true, array: false, secret: false },
    { name: 'returnval', type, optional: true, array, secret: false },
  ];
  return { name: 'Carrier', request: { name: 'CarrierRequestType', base: undefined, fields, fieldMap: new Map(fields.map((f) => [f.name, f])) }, result: undefined, faults: [] };
}

/** The SOAP answer of `method` (its name) returning `value` of `type`. */
export function soapAnswer(method: string, type: string, value: unknown, array = false): string {
  const returnvals = value === undefined ? '' : encodeRequest(carrier(type, array), undefined, { returnval: value });
  return SOAP_ENVELOPE(`<${method}Response xmlns="urn:vim25">${returnvals}</${method}Response>`);
}

/** The VI/JSON answer returning `value` of `type`. */
export function jsonAnswer(type: string, value: unknown, array = false): string {
  return encodeJsonValue(type, value, array);
}

const mo = (type: string, value: string) => ({ type, value });

/** A VM's config.hardware.device as vcsim gives it (the bench's `retrieve` workload reads this path). */
export function devices(vm: number): object[] {
  const desc = (label: string, summary: string) => ({ _typeName: 'Description', label, summary });
  const connect = { _typeName: 'VirtualDeviceConnectInfo', migrateConnect: 'unset', startConnected: true, allowGuestControl: true, connected: false, status: 'untried' };
  return [
    { _typeName: 'VirtualIDEController', key: 200, deviceInfo: desc('IDE 0', 'IDE 0'), busNumber: 0, device: [3000] },
    { _typeName: 'VirtualIDEController', key: 201, deviceInfo: desc('IDE 1', 'IDE 1'), busNumber: 1 },
    { _typeName: 'VirtualPS2Controller', key: 300, deviceInfo: desc('PS2 controller 0', 'PS2 controller 0'), busNumber: 0, device: [600, 700] },
    { _typeName: 'VirtualPCIController', key: 100, deviceInfo: desc('PCI controller 0', 'PCI controller 0'), busNumber: 0, device: [500, 12000, 1000, 4000] },
    { _typeName: 'VirtualSIOController', key: 400, deviceInfo: desc('SIO controller 0', 'SIO controller 0'), busNumber: 0 },
    { _typeName: 'VirtualKeyboard', key: 600, deviceInfo: desc('Keyboard ', 'Keyboard'), controllerKey: 300, unitNumber: 0 },
    {
      _typeName: 'VirtualPointingDevice', key: 700, deviceInfo: desc('Pointing device', 'Pointing device; Device'),
      backing: { _typeName: 'VirtualPointingDeviceDeviceBackingInfo', deviceName: '', useAutoDetect: false, hostPointingDevice: 'autodetect' }, controllerKey: 300, unitNumber: 1,
    },
    { _typeName: 'VirtualMachineVideoCard', key: 500, deviceInfo: desc('Video card ', 'Video card'), controllerKey: 100, unitNumber: 0, videoRamSizeInKB: 4096, numDisplays: 1, useAutoDetect: false, enable3DSupport: false, use3dRenderer: 'automatic', graphicsMemorySizeInKB: 262144 },
    {
      _typeName: 'VirtualMachineVMCIDevice', key: 12000, deviceInfo: desc('VMCI device', 'Device on the virtual machine PCI bus that provides support for the virtual machine communication interface'),
      controllerKey: 100, unitNumber: 17, id: 2n ** 62n + BigInt(vm), allowUnrestrictedCommunication: false, filterEnable: true,
    },
    { _typeName: 'VirtualLsiLogicController', key: 1000, deviceInfo: desc('SCSI controller 0', 'LSI Logic'), controllerKey: 100, unitNumber: 3, busNumber: 0, device: [2000], hotAddRemove: true, sharedBus: 'noSharing', scsiCtlrUnitNumber: 7 },
    {
      _typeName: 'VirtualCdrom', key: 3000, deviceInfo: desc('CD/DVD drive 1', 'Remote device'),
      backing: { _typeName: 'VirtualCdromRemotePassthroughBackingInfo', deviceName: '', useAutoDetect: false, exclusive: false },
      connectable: { ...connect, startConnected: false, allowGuestControl: true }, controllerKey: 200, unitNumber: 0,
    },
    {
      _typeName: 'VirtualDisk', key: 2000, deviceInfo: desc('Hard disk 1', '10,485,760 KB'),
      backing: {
        _typeName: 'VirtualDiskFlatVer2BackingInfo', fileName: `[LocalDS_0] DC0_C${vm % 4}_RP0_VM${vm}/disk1.vmdk`, datastore: mo('Datastore', 'datastore-61'),
        diskMode: 'persistent', split: false, writeThrough: false, thinProvisioned: true, eagerlyScrub: false,
        uuid: `6000C29${vm.toString(16).padStart(4, '0')}-b1a6-4f1e-9a0c-0d5e8f3c2b1a`, contentId: `${vm.toString(16).padStart(32, '0')}`, digestEnabled: false, sharing: 'sharingNone',
      },
      controllerKey: 1000, unitNumber: 0, capacityInKB: 10485760, capacityInBytes: 10737418240,
      storageIOAllocation: { _typeName: 'StorageIOAllocationInfo', limit: -1, shares: { _typeName: 'SharesInfo', shares: 1000, level: 'normal' }, reservation: 0 },
      diskObjectId: `${vm}-2000`, nativeUnmanagedLinkedClone: false,
    },
    {
      _typeName: 'VirtualE1000', key: 4000, deviceInfo: desc('Network adapter 1', 'DVSwitch: fea97929-4b2d-5972-b146-930c6d0b4014'),
      backing: { _typeName: 'VirtualEthernetCardNetworkBackingInfo', deviceName: 'VM Network', useAutoDetect: false, network: mo('Network', 'network-7') },
      connectable: connect, slotInfo: { _typeName: 'VirtualDevicePciBusSlotInfo', pciSlotNumber: 32 }, controllerKey: 100, unitNumber: 7,
      addressType: 'generated', macAddress: `00:0c:29:${((vm >> 16) & 255).toString(16).padStart(2, '0')}:${((vm >> 8) & 255).toString(16).padStart(2, '0')}:${(vm & 255).toString(16).padStart(2, '0')}`, wakeOnLanEnabled: true,
    },
  ];
}

/** A RetrievePropertiesEx page of `vms` VMs: name, runtime.powerState and config.hardware.device, as the bench reads. */
export function retrieveResult(vms: number): object {
  return {
    _typeName: 'RetrieveResult',
    token: '1',
    objects: Array.from({ length: vms }, (_, i) => ({
      _typeName: 'ObjectContent',
      obj: mo('VirtualMachine', `vm-${1000 + i}`),
      propSet: [
        { _typeName: 'DynamicProperty', name: 'config.hardware.device', val: { _typeName: 'ArrayOfVirtualDevice', _value: devices(i) } },
        { _typeName: 'DynamicProperty', name: 'name', val: `DC0_C${i % 4}_RP0_VM${i}` },
        { _typeName: 'DynamicProperty', name: 'runtime.powerState', val: i % 3 ? 'poweredOn' : 'poweredOff' },
      ],
    })),
  };
}

/**
 * The encoders box an enum in an anyType position as a string (neither can box an enum); vCenter
 * names the enum type. Both documents are made to say what vCenter says.
 */
export function powerStateAsEnum(doc: string, json: boolean): string {
  return json
    ? doc.replace(/\{"_typeName":"string","_value":"(powered(?:On|Off)|suspended)"\}/g, '{"_typeName":"VirtualMachinePowerState","_value":"$1"}')
    : doc.replace(/xsi:type="xsd:string">(powered(?:On|Off)|suspended)</g, 'xsi:type="vim25:VirtualMachinePowerState">$1<');
}

/** The 2048-VM page as SOAP and as VI/JSON. */
export function bigRetrieve(vms = 2048): { xml: string; json: string } {
  const value = retrieveResult(vms);
  return {
    xml: powerStateAsEnum(soapAnswer('RetrievePropertiesEx', 'RetrieveResult', value), false),
    json: powerStateAsEnum(jsonAnswer('RetrieveResult', value), true),
  };
}
