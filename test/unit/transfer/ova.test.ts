// The OVA reader: a tar built in the test, read as a stream; every bad package refused with its
// reason; memory bounded by what the consumer reads, not by the archive.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { OvaReader } from '../../../src/transfer/ova.ts';
import { readDescriptor, readManifest } from '../../../src/transfer/ovf-descriptor.ts';
import { OvfPackageError } from '../../../src/transfer/ovf-errors.ts';
import { buildTar, manifestOf, ovfDescriptor, sha, tinyPackage } from './ovf-fixtures.ts';

const open = (bytes: Buffer, options = {}) => OvaReader.open(Readable.from([bytes]), options);

async function readAll(reader: OvaReader): Promise<Array<{ name: string; data: Buffer }>> {
  const out: Array<{ name: string; data: Buffer }> = [];
  for await (const f of reader.files()) {
    const chunks: Buffer[] = [];
    for await (const c of f.body) chunks.push(c as Buffer);
    out.push({ name: f.name, data: Buffer.concat(chunks) });
  }
  return out;
}

async function refusal(promise: Promise<unknown>): Promise<OvfPackageError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(OvfPackageError);
  return err as OvfPackageError;
}

describe('a good OVA', () => {
  it('gives the descriptor first, applies the manifest and hands each file over byte for byte', async () => {
    const pkg = tinyPackage();
    const reader = await open(await buildTar(pkg.files));
    expect(reader.descriptorName).toBe('tiny.ovf');
    expect(reader.descriptor).toBe(pkg.descriptor);
    expect(reader.info).toEqual({ name: 'tiny', networks: ['VM Network'], files: [{ id: 'file1', href: 'tiny-disk1.vmdk', size: 3000, compression: undefined, chunkSize: undefined }] });
    const files = await readAll(reader);
    expect(files.map((f) => f.name)).toEqual(['tiny-disk1.vmdk']);
    expect(files[0]!.data.equals(pkg.disks[0]!.data)).toBe(true);
    expect(reader.manifest?.get('tiny-disk1.vmdk')).toEqual({ algorithm: 'sha256', digest: sha('sha256', pkg.disks[0]!.data) });
  });

  it('accepts a SHA1 manifest, ./ prefixed names and no manifest at all', async () => {
    const pkg = tinyPackage();
    const disk = pkg.disks[0]!;
    const sha1 = await open(await buildTar([{ name: './tiny.ovf', data: pkg.descriptor }, { name: './tiny.mf', data: manifestOf([{ name: disk.href, data: disk.data }], 'SHA1') }, { name: `./${disk.href}`, data: disk.data }]));
    expect((await readAll(sha1)).map((f) => f.name)).toEqual([disk.href]);
    const none = await open(await buildTar([pkg.files[0]!, pkg.files[2]!]));
    expect((await readAll(none))[0]!.data.equals(disk.data)).toBe(true);
    expect(none.manifest).toBeUndefined();
  });

  it('reads past a file the consumer leaves unread', async () => {
    const a = { href: 'a.vmdk', data: Buffer.alloc(5000, 1) };
    const b = { href: 'b.vmdk', data: Buffer.alloc(700, 2) };
    const pkg = tinyPackage({ disks: [a, b] });
    const reader = await open(await buildTar(pkg.files));
    const seen: string[] = [];
    for await (const f of reader.files()) {
      seen.push(f.name);
      if (f.name === 'b.vmdk') {
        const chunks: Buffer[] = [];
        for await (const c of f.body) chunks.push(c as Buffer);
        expect(Buffer.concat(chunks).equals(b.data)).toBe(true);
      }
    }
    expect(seen).toEqual(['a.vmdk', 'b.vmdk']);
  });

  it('holds a chunk or two of a file, not the file: the source is read as the consumer reads', async () => {
    const size = 32 * 1024 * 1024;
    const descriptor = ovfDescriptor({ disks: [{ href: 'big.vmdk', size, data: Buffer.alloc(0) }] });
    const head = await buildTar([{ name: 'big.ovf', data: descriptor }]);
    // The tar made by hand around a lazily generated disk: header, data, padding, end blocks.
    const header = (await buildTar([{ name: 'big.vmdk', data: Buffer.alloc(0) }])).subarray(0, 512);
    header.write(size.toString(8).padStart(11, '0') + '\0', 124, 'ascii');
    header.fill(' ', 148, 156);
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
    let pulled = 0;
    const chunk = Buffer.alloc(64 * 1024, 0x5a);
    const source = Readable.from((function* () {
      yield head.subarray(0, head.length - 1024); // without the end-of-archive blocks
      yield header;
      for (let at = 0; at < size; at += chunk.length) {
        pulled += chunk.length;
        yield chunk;
      }
      yield Buffer.alloc(1024);
    })());
    const reader = await OvaReader.open(source);
    let consumed = 0;
    let worst = 0;
    for await (const f of reader.files()) {
      for await (const c of f.body) {
        consumed += (c as Buffer).length;
        worst = Math.max(worst, pulled - consumed);
      }
    }
    expect(consumed).toBe(size);
    // Node's and tar-stream's buffers between the source and the consumer, nothing more.
    expect(worst).toBeLessThan(2 * 1024 * 1024);
  });
});

describe('a bad OVA is refused with its reason', () => {
  it('not-ovf: the first file is no .ovf, or no OVF envelope, or has a DOCTYPE', async () => {
    const disk = tinyPackage().files[2]!;
    expect((await refusal(open(await buildTar([disk])))).reason).toBe('not-ovf');
    expect((await refusal(open(await buildTar([{ name: 'x.ovf', data: '<html><body>no</body></html>' }, disk])))).reason).toBe('not-ovf');
    expect((await refusal(open(await buildTar([{ name: 'x.ovf', data: '<Envelope xmlns="urn:other"/>' }])))).reason).toBe('not-ovf');
    const doctype = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1"/>';
    expect((await refusal(open(await buildTar([{ name: 'x.ovf', data: doctype }])))).reason).toBe('not-ovf');
    expect((await refusal(open(await buildTar([])))).reason).toBe('not-ovf');
  });

  it('descriptor-too-large: past the limit, refused before it is read', async () => {
    const pkg = tinyPackage();
    const err = await refusal(open(await buildTar(pkg.files), { maxDescriptorBytes: 100 }));
    expect(err.reason).toBe('descriptor-too-large');
    expect(err.file).toBe('tiny.ovf');
  });

  it('truncated: a tar cut inside a file or inside the descriptor', async () => {
    const pkg = tinyPackage();
    const tarBytes = await buildTar(pkg.files);
    const reader = await open(tarBytes.subarray(0, tarBytes.length - 1024 - 512 - 1000));
    expect((await refusal(readAll(reader))).reason).toBe('truncated');
    expect((await refusal(open(tarBytes.subarray(0, 700)))).reason).toBe('truncated');
  });

  it('bad-archive: bytes that are no tar, and an entry that is a link', async () => {
    expect((await refusal(open(Buffer.alloc(2048, 0x41)))).reason).toBe('bad-archive');
    const pkg = tinyPackage();
    const reader = await open(await buildTar([pkg.files[0]!, { name: 'link.vmdk', data: '', type: 'symlink' }]));
    expect((await refusal(readAll(reader))).reason).toBe('bad-archive');
  });

  it('checksum-mismatch: a disk whose SHA256 is not the manifest\'s, with both digests', async () => {
    const pkg = tinyPackage();
    const disk = pkg.disks[0]!;
    const wrong = manifestOf([{ name: disk.href, data: Buffer.from('something else') }]);
    const reader = await open(await buildTar([pkg.files[0]!, { name: 'tiny.mf', data: wrong }, pkg.files[2]!]));
    const err = await refusal(readAll(reader));
    expect(err.reason).toBe('checksum-mismatch');
    expect(err).toMatchObject({ file: disk.href, expected: sha('sha256', 'something else'), actual: sha('sha256', disk.data) });
  });

  it('checksum-mismatch: also when the manifest comes after the file', async () => {
    const pkg = tinyPackage();
    const disk = pkg.disks[0]!;
    const wrong = manifestOf([{ name: disk.href, data: Buffer.from('x') }], 'SHA1');
    const reader = await open(await buildTar([pkg.files[0]!, pkg.files[2]!, { name: 'tiny.mf', data: wrong }]));
    expect((await refusal(readAll(reader))).reason).toBe('checksum-mismatch');
  });

  it('checksum-mismatch: a descriptor changed after its manifest was written', async () => {
    const pkg = tinyPackage();
    const changed = pkg.descriptor.replace('<Name>tiny</Name>', '<Name>evil</Name>');
    const reader = await open(await buildTar([{ name: 'tiny.ovf', data: changed }, ...pkg.files.slice(1)]));
    const err = await refusal(readAll(reader));
    expect(err).toMatchObject({ reason: 'checksum-mismatch', file: 'tiny.ovf', expected: sha('sha256', pkg.descriptor), actual: sha('sha256', changed) });
  });

  it('size-mismatch: a file whose size is not the descriptor\'s, before any of it is handed over', async () => {
    const data = Buffer.alloc(3000, 3);
    const descriptor = ovfDescriptor({ disks: [{ href: 'd.vmdk', size: 100, data }] });
    const reader = await open(await buildTar([{ name: 'd.ovf', data: descriptor }, { name: 'd.vmdk', data }]));
    const handed: string[] = [];
    const err = await refusal((async () => {
      for await (const f of reader.files()) handed.push(f.name);
    })());
    expect(err).toMatchObject({ reason: 'size-mismatch', file: 'd.vmdk', expected: '100', actual: '3000' });
    expect(handed).toEqual([]);
  });

  it('bad-manifest: a line that is no digest line', async () => {
    const pkg = tinyPackage();
    const reader = await open(await buildTar([pkg.files[0]!, { name: 'tiny.mf', data: 'MD5(tiny-disk1.vmdk)= 00\n' }, pkg.files[2]!]));
    expect((await refusal(readAll(reader))).reason).toBe('bad-manifest');
  });
});

describe('descriptor and manifest parsing', () => {
  it('reads references, networks and the name; refuses a size that is not a number', () => {
    const info = readDescriptor(ovfDescriptor({ name: 'web', network: 'Front', disks: [{ href: 'w.vmdk', data: Buffer.alloc(9) }] }));
    expect(info).toMatchObject({ name: 'web', networks: ['Front'], files: [{ href: 'w.vmdk', size: 9, id: 'file1' }] });
    const bad = ovfDescriptor({ disks: [{ href: 'w.vmdk', data: Buffer.alloc(9) }] }).replace('ovf:size="9"', 'ovf:size="nine"');
    expect(() => readDescriptor(bad)).toThrow(OvfPackageError);
  });

  it('reads manifest lines of each algorithm, case and spacing as tools write them', () => {
    const m = readManifest(`SHA1(a)= ${'a'.repeat(40)}\nsha256(b c.vmdk)=${'B'.repeat(64)}\n\nSHA512(d)= ${'0'.repeat(128)}\n`);
    expect([...m.entries()]).toEqual([
      ['a', { algorithm: 'sha1', digest: 'a'.repeat(40) }],
      ['b c.vmdk', { algorithm: 'sha256', digest: 'b'.repeat(64) }],
      ['d', { algorithm: 'sha512', digest: '0'.repeat(128) }],
    ]);
    expect(() => readManifest(`SHA256(a)= ${'a'.repeat(63)}`)).toThrow(/not a SHA1, SHA256 or SHA512 line/);
  });
});
