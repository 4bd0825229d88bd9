// OVF packages built in the tests: a small descriptor (a SCSI controller, disks, a NIC on a
// named network), manifests, and OVAs packed by tar-stream, so that every bad package a test
// needs (truncated, a disk left out, a wrong digest, a wrong size) is made from a good one.
import { createHash } from 'node:crypto';
import tar from 'tar-stream';

export interface DiskSpec {
  href: string;
  /** ovf:size written into the descriptor (default: the data's length). */
  size?: number | undefined;
  data: Buffer;
  capacityMB?: number;
}

export interface DescriptorSpec {
  name?: string;
  disks: DiskSpec[];
  network?: string;
  /** A resource type vcsim cannot create (CreateImportSpec then answers an error). */
  unsupportedItem?: boolean;
  /** OVF property keys (ProductSection). */
  properties?: string[];
}

export function ovfDescriptor(spec: DescriptorSpec): string {
  const network = spec.network ?? 'VM Network';
  const refs = spec.disks.map((d, i) => `    <File ovf:href="${d.href}" ovf:id="file${i + 1}" ovf:size="${d.size ?? d.data.length}"/>`).join('\n');
  const disks = spec.disks.map((d, i) => `    <Disk ovf:capacity="${d.capacityMB ?? 1}" ovf:capacityAllocationUnits="byte * 2^20" ovf:diskId="vmdisk${i + 1}" ovf:fileRef="file${i + 1}" ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>`).join('\n');
  const diskItems = spec.disks.map((_, i) => `      <Item>
        <rasd:AddressOnParent>${i}</rasd:AddressOnParent>
        <rasd:ElementName>Hard disk ${i + 1}</rasd:ElementName>
        <rasd:HostResource>ovf:/disk/vmdisk${i + 1}</rasd:HostResource>
        <rasd:InstanceID>${10 + i}</rasd:InstanceID>
        <rasd:Parent>3</rasd:Parent>
        <rasd:ResourceType>17</rasd:ResourceType>
      </Item>`).join('\n');
  const product = spec.properties?.length
    ? `    <ProductSection>
      <Info>Properties</Info>
${spec.properties.map((k) => `      <Property ovf:key="${k}" ovf:type="string" ovf:userConfigurable="true"/>`).join('\n')}
    </ProductSection>\n`
    : '';
  return `<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData" xmlns:vmw="http://www.vmware.com/schema/ovf">
  <References>
${refs}
  </References>
  <DiskSection>
    <Info>Virtual disks</Info>
${disks}
  </DiskSection>
  <NetworkSection>
    <Info>Networks</Info>
    <Network ovf:name="${network}"><Description>the network</Description></Network>
  </NetworkSection>
  <VirtualSystem ovf:id="${spec.name ?? 'tiny'}-id">
    <Info>A virtual machine</Info>
    <Name>${spec.name ?? 'tiny'}</Name>
    <OperatingSystemSection ovf:id="101" vmw:osType="otherLinux64Guest"><Info>OS</Info></OperatingSystemSection>
${product}    <VirtualHardwareSection>
      <Info>Virtual hardware</Info>
      <System>
        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>
        <vssd:InstanceID>0</vssd:InstanceID>
        <vssd:VirtualSystemType>vmx-13</vssd:VirtualSystemType>
      </System>
      <Item><rasd:ElementName>1 CPU</rasd:ElementName><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>1</rasd:VirtualQuantity></Item>
      <Item><rasd:ElementName>64 MB</rasd:ElementName><rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>64</rasd:VirtualQuantity></Item>
      <Item><rasd:ElementName>SCSI 0</rasd:ElementName><rasd:InstanceID>3</rasd:InstanceID><rasd:ResourceSubType>lsilogic</rasd:ResourceSubType><rasd:ResourceType>6</rasd:ResourceType></Item>
${diskItems}
      <Item><rasd:AutomaticAllocation>true</rasd:AutomaticAllocation><rasd:Connection>${network}</rasd:Connection><rasd:ElementName>NIC 1</rasd:ElementName><rasd:InstanceID>20</rasd:InstanceID><rasd:ResourceSubType>E1000</rasd:ResourceSubType><rasd:ResourceType>10</rasd:ResourceType></Item>
${spec.unsupportedItem ? '      <Item><rasd:ElementName>Odd device</rasd:ElementName><rasd:InstanceID>30</rasd:InstanceID><rasd:ResourceType>99</rasd:ResourceType></Item>\n' : ''}    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
`;
}

export const sha = (algorithm: 'sha1' | 'sha256', data: Buffer | string): string => createHash(algorithm).update(data).digest('hex');

export function manifestOf(files: Array<{ name: string; data: Buffer | string }>, algorithm: 'SHA1' | 'SHA256' = 'SHA256'): string {
  return files.map((f) => `${algorithm}(${f.name})= ${sha(algorithm === 'SHA1' ? 'sha1' : 'sha256', f.data)}\n`).join('');
}

export interface TarFile {
  name: string;
  data: Buffer | string;
  type?: 'file' | 'symlink';
}

export async function buildTar(files: TarFile[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const f of files) {
    if (f.type === 'symlink') pack.entry({ name: f.name, type: 'symlink', linkname: 'elsewhere' });
    else pack.entry({ name: f.name }, typeof f.data === 'string' ? Buffer.from(f.data) : f.data);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

/** A good package: descriptor, manifest, disk(s); `disks` default one 3000-byte disk. */
export function tinyPackage(options: { name?: string; disks?: DiskSpec[]; network?: string; properties?: string[] } = {}): { descriptor: string; files: TarFile[]; disks: DiskSpec[] } {
  const disks = options.disks ?? [{ href: 'tiny-disk1.vmdk', data: Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) % 251)) }];
  const descriptor = ovfDescriptor({ name: options.name ?? 'tiny', disks, ...(options.network ? { network: options.network } : {}), ...(options.properties ? { properties: options.properties } : {}) });
  const manifest = manifestOf([{ name: 'tiny.ovf', data: descriptor }, ...disks.map((d) => ({ name: d.href, data: d.data }))]);
  return { descriptor, disks, files: [{ name: 'tiny.ovf', data: descriptor }, { name: 'tiny.mf', data: manifest }, ...disks.map((d) => ({ name: d.href, data: d.data }))] };
}
