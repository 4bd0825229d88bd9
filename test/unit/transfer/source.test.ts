// Transfer sources made one kind of stream (src/transfer/source.ts), the length guard, and
// transfer URLs (a `*` host, relative paths) and datastore paths checked before anything is sent.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { TransferError } from '../../../src/transfer/errors.ts';
import { checkDatastorePath, parseTarget } from '../../../src/transfer/datastore.ts';
import { transferUrl } from '../../../src/transfer/request.ts';
import { CHUNK_BYTES, lengthGuard, openSource } from '../../../src/transfer/source.ts';

const dir = mkdtempSync(join(tmpdir(), 'vim25-source-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const read = async (s: Readable): Promise<Buffer> => Buffer.concat(await s.toArray());
const reason = async (p: Promise<unknown> | (() => unknown)): Promise<string | undefined> => {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    expect(err).toBeInstanceOf(TransferError);
    return (err as TransferError).reason;
  }
  return undefined;
};

describe('openSource', () => {
  it('a file path: its size, read again from the start as often as asked', async () => {
    const file = join(dir, 'f.bin');
    writeFileSync(file, Buffer.alloc(CHUNK_BYTES * 2 + 5, 9));
    const s = await openSource(file);
    expect(s).toMatchObject({ length: CHUNK_BYTES * 2 + 5, rereadable: true, opened: false });
    expect((await read(s.open())).length).toBe(CHUNK_BYTES * 2 + 5);
    expect((await read(s.open())).length).toBe(CHUNK_BYTES * 2 + 5);
    expect(await reason(openSource(file, 3))).toBe('length-mismatch');
  });

  it('a missing file, a directory, an empty path or a NUL is refused before anything is read', async () => {
    expect(await reason(openSource(join(dir, 'none')))).toBe('bad-source');
    expect(await reason(openSource(dir))).toBe('bad-source');
    expect(await reason(openSource(''))).toBe('bad-source');
    expect(await reason(openSource('a\0b'))).toBe('bad-source');
    expect(await reason(openSource(42 as never))).toBe('bad-source');
    await expect(openSource(Buffer.alloc(1), -1)).rejects.toThrow(TypeError);
  });

  it('a buffer: handed on as views of itself, chunk by chunk, not copied', async () => {
    const bytes = new Uint8Array(CHUNK_BYTES * 3 + 1).fill(3);
    const s = await openSource(bytes);
    expect(s).toMatchObject({ length: bytes.length, rereadable: true });
    const chunks = (await s.open().toArray()) as Buffer[];
    expect(chunks.map((c) => c.length)).toEqual([CHUNK_BYTES, CHUNK_BYTES, CHUNK_BYTES, 1]);
    expect(chunks.every((c) => c.buffer === bytes.buffer)).toBe(true);
    expect((await read(s.open())).length).toBe(bytes.length);
  });

  it('a Readable and a web stream are one-shot: open() once, then not-rereadable; discard() releases an unopened one', async () => {
    const node = await openSource(Readable.from([Buffer.from('ab')]), 2);
    expect(node).toMatchObject({ length: 2, rereadable: false });
    expect((await read(node.open())).toString()).toBe('ab');
    expect(node.opened).toBe(true);
    expect(await reason(() => node.open())).toBe('not-rereadable');

    const web = new ReadableStream<Uint8Array>({ start: (c) => { c.enqueue(new Uint8Array([1, 2])); c.close(); } });
    const w = await openSource(web);
    expect(w.length).toBeUndefined();
    expect([...(await read(w.open()))]).toEqual([1, 2]);

    const unused = Readable.from([Buffer.from('x')]);
    const u = await openSource(unused);
    u.discard();
    expect(unused.destroyed).toBe(true);
  });
});

describe('lengthGuard', () => {
  it('passes exactly `length` bytes and reports them; more or fewer is length-mismatch', async () => {
    const seen: number[] = [];
    const ok = Readable.from([Buffer.alloc(3), Buffer.alloc(2)]).pipe(lengthGuard(5, (p) => seen.push(p.bytes)));
    expect((await read(ok)).length).toBe(5);
    expect(seen).toEqual([3, 5]);
    expect(await reason(read(Readable.from([Buffer.alloc(6)]).pipe(lengthGuard(5))))).toBe('length-mismatch');
    expect(await reason(read(Readable.from([Buffer.alloc(4)]).pipe(lengthGuard(5))))).toBe('length-mismatch');
    expect((await read(Readable.from([Buffer.alloc(4)]).pipe(lengthGuard(undefined)))).length).toBe(4);
  });
});

describe('transferUrl', () => {
  const server = 'https://vc.example.com:8443/sdk';
  it('a * host is the host (and port) the client reached; a port of its own is kept', () => {
    expect(transferUrl('https://*/nfc/52a/disk-0.vmdk', server).href).toBe('https://vc.example.com:8443/nfc/52a/disk-0.vmdk');
    expect(transferUrl('https://*:902/guestFile?id=1&token=t', server).href).toBe('https://vc.example.com:902/guestFile?id=1&token=t');
    expect(transferUrl('https://*', 'https://[::1]:9/sdk').host).toBe('[::1]:9');
    expect(transferUrl('https://esx-1.example.com/nfc/x', server).host).toBe('esx-1.example.com');
  });
  it('relative to the server; http(s) only, no credentials', () => {
    expect(transferUrl('/folder/a%20b?dcPath=DC0&dsName=ds', server).href).toBe('https://vc.example.com:8443/folder/a%20b?dcPath=DC0&dsName=ds');
    expect(() => transferUrl('file:///etc/passwd', server)).toThrow(TypeError);
    expect(() => transferUrl('https://u:p@*/x', server)).toThrow(TypeError);
    expect(() => transferUrl('https://[bad', server)).toThrow(TypeError);
  });
});

describe('datastore paths', () => {
  it('reads [datastore] path and { datacenter, datastore, path }', () => {
    expect(parseTarget('[datastore1] iso/x.iso', true)).toEqual({ datastore: 'datastore1', path: 'iso/x.iso', datacenter: undefined });
    expect(parseTarget('[my ds]iso', true, 'DC0')).toEqual({ datastore: 'my ds', path: 'iso', datacenter: 'DC0' });
    expect(parseTarget({ datacenter: 'F/DC1', datastore: 'ds', path: 'a/b' }, true)).toEqual({ datastore: 'ds', path: 'a/b', datacenter: 'F/DC1' });
    expect(parseTarget('[ds] ', false).path).toBe('');
    expect(parseTarget('[ds] dir/', false).path).toBe('dir');
  });
  it.each(['..', 'a/..', '../a', 'a/./b', 'a\0b', 'a\u001fb', '/a', 'a\\b', 'a//b'])('refuses %j', (p) => {
    expect(() => checkDatastorePath(p, false)).toThrow(TransferError);
  });
  it('a file names a file; a datastore or datacenter name is checked too', () => {
    expect(() => checkDatastorePath('', true)).toThrow(/names a file/);
    expect(() => checkDatastorePath('d/', true)).toThrow(/names a file/);
    expect(() => parseTarget('[] x', true)).toThrow(TransferError);
    expect(() => parseTarget('[a\nb] x', true)).toThrow(TransferError);
    expect(() => parseTarget({ datacenter: '../x', datastore: 'ds', path: 'x' }, true)).toThrow(TransferError);
    expect(() => parseTarget(42 as never, true)).toThrow(TransferError);
  });
});
