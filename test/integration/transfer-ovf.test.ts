// OVA/OVF deploy and export against the harness (vcsim's OvfManager, ImportVApp and NFC, with
// test/vcsim/export_vm.go's ExportVm, CreateDescriptor, uploads that land and lease records): an
// OVA built here is deployed and the VM is there with its name and network; the lease is
// completed, or aborted on an injected failure, on abort() and on every bad package; a VM is
// exported and what was exported imported again, byte for byte.
import { createHash, randomBytes } from 'node:crypto';
import diagnostics from 'node:diagnostics_channel';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VimClient } from '../../src/client.ts';
import { AbortError, TransportError, VimFault } from '../../src/errors.ts';
import type { ManagedObjectReference, VirtualDisk, VirtualEthernetCard, VirtualDeviceFileBackingInfo } from '../../src/generated/types.ts';
import { exportOvf } from '../../src/transfer/ovf-export.ts';
import { importOva, importOvf } from '../../src/transfer/ovf-import.ts';
import { OvfPackageError, OvfSpecError } from '../../src/transfer/ovf-errors.ts';
import { transferRequest } from '../../src/transfer/request.ts';
import { FileChunks, POOL_CHUNKS } from '../../src/transfer/source.ts';
import { tempDir } from '../fixtures.ts';
import { pythonOk } from '../peers/python.ts';
import { parse } from '../../src/cli/args.ts';
import type { Context } from '../../src/cli/commands.ts';
import { exportOvfCommand, importOvaCommand } from '../../src/cli/ovf-commands.ts';
import type { VimClient as PublicClient } from '../../src/index.ts';
import { bundleIfPresent } from '../../scripts/lib/paths.ts';
import { Harness, type HarnessInfo } from '../harness/vcsim.ts';
import { buildTar, manifestOf, ovfDescriptor, sha, tinyPackage } from '../unit/transfer/ovf-fixtures.ts';
import { harnessLeases, harnessNfcFail, harnessSetExportVm, newLeases, type LeaseList } from './transfer-ovf-harness.ts';

let harness: Harness;
let info: HarnessInfo;
let c: VimClient;
let dir: string;
const warnings: string[] = [];
const logger = { debug: () => undefined, info: () => undefined, warn: (m: string) => void warnings.push(m), error: () => undefined };

beforeAll(async () => {
  harness = await Harness.start({ wsdlDir: bundleIfPresent(), inventory: { datacenters: 1, clusters: 0, standaloneHosts: 1, vms: 2 } });
  info = harness.info;
  c = await VimClient.connect(info.url, { tls: { ca: harness.ca }, logger });
  await c.login({ username: info.username, password: info.password });
  dir = tempDir('ovf-');
});

afterAll(async () => {
  await c?.close();
  await harness?.stop();
});

async function ova(files: Array<{ name: string; data: Buffer | string }>, name = 'app.ova'): Promise<string> {
  const path = join(dir, `${Date.now()}-${Math.random().toString(36).slice(2)}-${name}`);
  writeFileSync(path, await buildTar(files));
  return path;
}

const vmNames = async (): Promise<string[]> => (await c.retrieve('VirtualMachine', ['name'])).map((r) => String(r.name));

/** The refusal, with the lease it made (aborted) or none at all. */
async function refused(run: () => Promise<unknown>): Promise<{ err: unknown; leases: Awaited<ReturnType<typeof newLeases>> }> {
  const before: LeaseList = await harnessLeases(info);
  const err = await run().then(() => undefined, (e: unknown) => e);
  return { err, leases: await newLeases(info, before) };
}

describe('importOva', () => {
  it('deploys an OVA built from a small OVF and a disk: the VM has the name and the network, the disk arrived whole, the lease completed', async () => {
    const pkg = tinyPackage();
    const before = await harnessLeases(info);
    const progress: number[] = [];
    const vm = await importOva(c, await ova(pkg.files), { name: 'ova-app', onProgress: (p) => progress.push(p.percent) });
    expect(vm.type).toBe('VirtualMachine');
    const row = await c.retrieveOne(vm as ManagedObjectReference<'VirtualMachine'>, ['name', 'network', 'config.hardware.device']);
    expect(row.name).toBe('ova-app');
    const networks = await Promise.all(((row.network ?? []) as ManagedObjectReference<'Network'>[]).map(async (n) => (await c.retrieveOne(n, ['name'])).name));
    expect(networks).toEqual(['VM Network']);
    const devices = (row['config.hardware.device'] ?? []) as Array<{ _typeName: string }>;
    const nic = devices.find((d) => /E1000/i.test(d._typeName)) as VirtualEthernetCard | undefined;
    expect((nic?.backing as { deviceName?: string } | undefined)?.deviceName).toBe('VM Network');
    expect(devices.filter((d) => d._typeName === 'VirtualDisk')).toHaveLength(1);

    const [lease, ...more] = await newLeases(info, before);
    expect(more).toEqual([]);
    expect(lease).toMatchObject({ kind: 'import', entity: vm.value, state: 'completed', lastProgress: 100 });
    expect(lease!.files).toEqual([expect.objectContaining({ method: 'POST', bytes: 3000, sha256: sha('sha256', pkg.disks[0]!.data), requests: 1 })]);
    expect(progress.at(-1)).toBe(100);
  });

  it('an OVA read from its file path goes up in a few buffers used again and again (issue 29): its disk arrives whole, and no buffer per chunk is left to the collector', async () => {
    const MiB = 1024 * 1024;
    const disk = randomBytes(48 * MiB);
    const pkg = tinyPackage({ disks: [{ href: 'big-disk1.vmdk', data: disk, capacityMB: 64 }] });
    const path = await ova(pkg.files);
    const before = await harnessLeases(info);
    const allocated = FileChunks.allocatedBuffers;
    const vm = await importOva(c, path, { name: 'big-ova' });
    // 192 chunks read through tar-stream, the hash and the socket: a reader that allocates per
    // read, or a chunk the path never gives back, counts about as many here.
    const buffers = FileChunks.allocatedBuffers - allocated;
    expect(buffers).toBeGreaterThan(0);
    expect(buffers).toBeLessThanOrEqual(POOL_CHUNKS + 1);
    const [lease] = await newLeases(info, before);
    expect(lease).toMatchObject({ entity: vm.value, state: 'completed' });
    // Buffers read into again only once the socket was done with them: the bytes are the disk's.
    expect(lease!.files).toEqual([expect.objectContaining({ bytes: disk.length, sha256: sha('sha256', disk) })]);
  });

  it('a fresh client\'s import stays on Node\'s HTTP stack: the lease\'s progress calls beside the upload do not make it switch to undici (whose WebAssembly parser V8 would optimize, ~30 MiB of peak RSS)', async () => {
    const fresh = await VimClient.connect(info.url, { tls: { ca: harness.ca } });
    try {
      await fresh.login({ username: info.username, password: info.password });
      const disk = randomBytes(8 * 1024 * 1024);
      const path = await ova(tinyPackage({ disks: [{ href: 'steady-disk1.vmdk', data: disk, capacityMB: 16 }] }).files);
      let undiciRequests = 0;
      const onUndici = (): void => void undiciRequests++;
      diagnostics.subscribe('undici:request:create', onUndici);
      const before = await harnessLeases(info);
      try {
        // Progress every 5 ms: calls are sure to run while the disk goes up.
        await importOva(fresh, path, { name: 'steady-ova', progressIntervalMs: 5 });
      } finally {
        diagnostics.unsubscribe('undici:request:create', onUndici);
      }
      const [lease] = await newLeases(info, before);
      expect(lease!.progressCalls).toBeGreaterThan(0);
      expect(undiciRequests).toBe(0);
    } finally {
      await fresh.close();
    }
  });

  it('pyvmomi sees the deployed VM with its name and network', async () => {
    const vm = await importOva(c, await ova(tinyPackage().files), { name: 'seen-by-pyvmomi' });
    const code = [
      'import json, ssl, sys',
      'from urllib.parse import urlsplit',
      'from pyVim.connect import SmartConnect, Disconnect',
      'from pyVmomi import vim',
      'url, ca, user, pw, moref = sys.argv[1:6]',
      'u = urlsplit(url)',
      'si = SmartConnect(host=u.hostname, port=u.port, path=u.path, user=user, pwd=pw, sslContext=ssl.create_default_context(cafile=ca))',
      'vm = vim.VirtualMachine(moref, si._stub)',
      'print(json.dumps({"name": vm.name, "networks": [n.name for n in vm.network]}))',
      'Disconnect(si)',
    ].join('\n');
    const seen = JSON.parse(await pythonOk(['-c', code, info.url, info.certFile, info.username, info.password, vm.value], { timeoutMs: 60_000 })) as { name: string; networks: string[] };
    expect(seen).toEqual({ name: 'seen-by-pyvmomi', networks: ['VM Network'] });
  });

  it('takes the OVA as a stream too, and passes OVF properties and power-on', async () => {
    const pkg = tinyPackage({ name: 'streamed', properties: ['app.port'] });
    const vm = await importOva(c, Readable.from([await buildTar(pkg.files)]), { properties: { 'app.port': '8080' }, powerOn: true });
    const row = await c.retrieveOne(vm as ManagedObjectReference<'VirtualMachine'>, ['name', 'runtime.powerState', 'config.extraConfig']);
    expect(row.name).toBe('streamed'); // the descriptor's name
    expect(row['runtime.powerState']).toBe('poweredOn');
    expect((row['config.extraConfig'] ?? []) as Array<{ key: string; value: unknown }>).toContainEqual(expect.objectContaining({ key: 'app.port', value: '8080' }));
  });

  it('aborts the lease on an injected failure: an NFC upload answered 500', async () => {
    await harnessNfcFail(info, 1);
    const { err, leases } = await refused(async () => importOva(c, await ova(tinyPackage().files), { name: 'nfc-500' }));
    expect(err).toBeInstanceOf(TransportError);
    expect(err).toMatchObject({ status: 500 });
    expect(leases).toEqual([expect.objectContaining({ kind: 'import', state: 'aborted', abortFault: 'SystemError', abortMessage: expect.stringContaining('HTTP 500') })]);
  });

  it('aborts the lease when the source fails mid-file', async () => {
    const tarBytes = await buildTar(tinyPackage().files);
    const half = tarBytes.subarray(0, tarBytes.length - 1024 - 512 - 1500); // into the disk
    const source = new Readable({
      read() {
        if (this.readableLength === 0 && !(this as { sent?: boolean }).sent) {
          (this as { sent?: boolean }).sent = true;
          this.push(half);
          setImmediate(() => this.destroy(new Error('disk read error')));
        }
      },
    });
    const { err, leases } = await refused(() => importOva(c, source, { name: 'source-fails' }));
    expect(err).toMatchObject({ message: expect.stringContaining('disk read error') });
    expect(leases).toEqual([expect.objectContaining({ kind: 'import', state: 'aborted', abortMessage: expect.stringContaining('disk read error') })]);
  });

  it('aborts the lease on abort(), mid-upload, and rejects with an AbortError', async () => {
    const disk = { href: 'big.vmdk', data: randomBytes(4 * 1024 * 1024) };
    const pkg = tinyPackage({ disks: [disk] });
    const tarBytes = await buildTar(pkg.files);
    // Everything but the last MiB, then nothing more: the upload waits until aborted.
    const source = new Readable({ read() {} });
    source.push(tarBytes.subarray(0, tarBytes.length - 1024 * 1024));
    const ctrl = new AbortController();
    const { err, leases } = await refused(() => importOva(c, source, {
      name: 'aborted', signal: ctrl.signal,
      onProgress: (p) => {
        if (p.bytes > 1024 * 1024) ctrl.abort();
      },
    }));
    expect(err).toBeInstanceOf(AbortError);
    expect(leases).toEqual([expect.objectContaining({ kind: 'import', state: 'aborted', abortMessage: expect.stringContaining('AbortError') })]);
    expect(source.destroyed).toBe(true);
  });
});

describe('bad OVAs are refused, with the lease aborted', () => {
  it('truncated tar', async () => {
    const tarBytes = await buildTar(tinyPackage().files);
    const path = join(dir, 'truncated.ova');
    writeFileSync(path, tarBytes.subarray(0, tarBytes.length - 1024 - 512 - 1500));
    const { err, leases } = await refused(() => importOva(c, path, { name: 'truncated' }));
    expect(err).toMatchObject({ name: 'OvfPackageError', reason: 'truncated' });
    expect(leases).toEqual([expect.objectContaining({ state: 'aborted', abortMessage: expect.stringContaining('truncated') })]);
    expect(await vmNames()).toContain('truncated'); // vcsim keeps the VM of an aborted lease; vCenter removes it
  });

  it('a disk missing from the OVA', async () => {
    const pkg = tinyPackage();
    const { err, leases } = await refused(async () => importOva(c, await ova(pkg.files.slice(0, 2)), { name: 'missing-disk' }));
    expect(err).toBeInstanceOf(OvfPackageError);
    expect(err).toMatchObject({ reason: 'missing-file', file: 'tiny-disk1.vmdk' });
    expect(leases).toEqual([expect.objectContaining({ state: 'aborted' })]);
    expect(leases[0]!.files![0]!.requests).toBe(0);
  });

  it('a disk whose SHA256 is not the manifest\'s', async () => {
    const pkg = tinyPackage();
    const wrong = manifestOf([{ name: 'tiny-disk1.vmdk', data: 'not the disk' }]);
    const { err, leases } = await refused(async () => importOva(c, await ova([pkg.files[0]!, { name: 'tiny.mf', data: wrong }, pkg.files[2]!]), { name: 'bad-hash' }));
    expect(err).toMatchObject({ name: 'OvfPackageError', reason: 'checksum-mismatch', file: 'tiny-disk1.vmdk' });
    expect(leases).toEqual([expect.objectContaining({ state: 'aborted', abortMessage: expect.stringContaining('checksum') })]);
  });

  it('a disk whose size is not the descriptor\'s', async () => {
    const data = Buffer.alloc(3000, 9);
    const descriptor = ovfDescriptor({ disks: [{ href: 'd.vmdk', size: 2000, data }] });
    const { err, leases } = await refused(async () => importOva(c, await ova([{ name: 'd.ovf', data: descriptor }, { name: 'd.vmdk', data }]), { name: 'bad-size' }));
    expect(err).toMatchObject({ name: 'OvfPackageError', reason: 'size-mismatch', expected: '2000', actual: '3000' });
    expect(leases).toEqual([expect.objectContaining({ state: 'aborted' })]);
  });

  it('a descriptor that is not OVF is refused before any lease exists', async () => {
    const { err, leases } = await refused(async () => importOva(c, await ova([{ name: 'x.ovf', data: '<html/>' }]), { name: 'not-ovf' }));
    expect(err).toMatchObject({ name: 'OvfPackageError', reason: 'not-ovf' });
    expect(leases).toEqual([]);
    expect(await vmNames()).not.toContain('not-ovf');
  });

  it('a descriptor whose files are not beside it (.., an absolute path, a URL) is refused before any lease exists', async () => {
    for (const href of ['../outside.vmdk', '/etc/passwd', 'https://elsewhere.example/x.vmdk']) {
      const path = join(dir, `escape-${Math.random().toString(36).slice(2)}.ovf`);
      writeFileSync(path, ovfDescriptor({ disks: [{ href, data: Buffer.alloc(4) }] }).replace(/ovf:href="[^"]*"/, `ovf:href="${href}"`));
      const { err, leases } = await refused(() => importOvf(c, path, { name: 'escape' }));
      expect(err).toMatchObject({ name: 'OvfPackageError', reason: 'unsupported', file: href });
      expect(leases).toEqual([]);
    }
  });

  it('CreateImportSpec errors are an OvfSpecError naming each fault; no lease is made', async () => {
    const disk = { href: 'odd.vmdk', data: Buffer.alloc(10) };
    const descriptor = ovfDescriptor({ disks: [disk], unsupportedItem: true });
    const { err, leases } = await refused(async () => importOva(c, await ova([{ name: 'odd.ovf', data: descriptor }, { name: 'odd.vmdk', data: disk.data }]), { name: 'odd' }));
    expect(err).toBeInstanceOf(OvfSpecError);
    expect((err as OvfSpecError).faults.map((f) => f.faultName)).toEqual(['OvfUnsupportedType']);
    expect(leases).toEqual([]);
  });
});

describe('importOvf from a URL', () => {
  let server: Server;
  let base: string;
  const served: string[] = [];

  beforeAll(async () => {
    const pkg = tinyPackage({ name: 'from-url' });
    const files = new Map(pkg.files.map((f) => [`/app/${f.name}`, Buffer.from(f.data)]));
    server = createServer((req, res) => {
      served.push(req.url!);
      const body = files.get(req.url!);
      res.writeHead(body ? 200 : 404, body ? { 'content-length': body.length } : {});
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}/app/`;
  });

  afterAll(() => new Promise<void>((resolve) => server?.close(() => resolve())));

  it('fetches the descriptor, its manifest and its disk from beside it and deploys it', async () => {
    const before = await harnessLeases(info);
    const vm = await importOvf(c, `${base}tiny.ovf`);
    expect((await c.retrieveOne(vm, ['name'])).name).toBe('from-url');
    expect(served).toEqual(['/app/tiny.ovf', '/app/tiny.mf', '/app/tiny-disk1.vmdk']);
    expect(await newLeases(info, before)).toEqual([expect.objectContaining({ state: 'completed', files: [expect.objectContaining({ bytes: 3000 })] })]);
  });
});

describe('the command line: import.ova and export.ovf', () => {
  function context(argv: string[]): { ctx: Context; output: () => string } {
    let text = '';
    const ctx = {
      client: c as unknown as PublicClient,
      args: parse(argv, {}),
      out: { json: true, isTTY: false, write: (t: string) => void (text += t) },
      stderr: process.stderr,
      signal: new AbortController().signal,
    } satisfies Context;
    return { ctx, output: () => text };
  }

  it('import.ova FILE --name NAME net:… prop:… deploys it; export.ovf VM DIR writes the package', async () => {
    const pkg = tinyPackage({ properties: ['k'] });
    const imp = context(['import.ova', await ova(pkg.files), '--name', 'from-cli', 'net:VM Network=/DC0/network/VM Network', 'prop:k=v', '--json']);
    await importOvaCommand(imp.ctx);
    const made = JSON.parse(imp.output()) as { name: string; vm: { type: string; value: string } };
    expect(made.name).toBe('from-cli');
    const out = join(dir, 'cli-export');
    const exp = context(['export.ovf', `VirtualMachine:${made.vm.value}`, out, '--json']);
    await exportOvfCommand(exp.ctx);
    const result = JSON.parse(exp.output()) as { descriptor: string; files: Array<{ name: string; sha256: string }> };
    expect(result.descriptor).toBe('from-cli.ovf');
    expect(result.files.find((f) => f.name.endsWith('.vmdk'))?.sha256).toBe(sha('sha256', pkg.disks[0]!.data));
    expect(readdirSync(out).sort()).toEqual(['from-cli-disk-0.vmdk', 'from-cli.mf', 'from-cli.ovf']);
  });

  it('refuses a bad pair as a usage error and a package that is not OVF likewise', async () => {
    await expect(importOvaCommand(context(['import.ova', 'x.ova', 'colour=blue']).ctx)).rejects.toMatchObject({ name: 'UsageError' });
    await expect(importOvaCommand(context(['import.ova', await ova([{ name: 'x.ovf', data: '<html/>' }])]).ctx)).rejects.toMatchObject({ name: 'UsageError' });
  });
});

describe('exportOvf and re-import', () => {
  let vm: ManagedObjectReference<'VirtualMachine'>;
  const first = async (): Promise<ManagedObjectReference<'VirtualMachine'>> => (await c.find('VirtualMachine', '/DC0/vm/*'))[0]!;
  const content = randomBytes(200_000);

  beforeAll(async () => {
    vm = await first();
    const row = await c.retrieveOne(vm!, ['config.hardware.device', 'runtime.powerState']);
    if (row['runtime.powerState'] !== 'poweredOff') await c.waitForTask(await c.call('PowerOffVM_Task', vm!, {}));
    const disk = ((row['config.hardware.device'] ?? []) as VirtualDisk[]).find((d) => d._typeName === 'VirtualDisk')!;
    const m = /^\[([^\]]+)\] (.+)$/.exec((disk.backing as VirtualDeviceFileBackingInfo).fileName)!;
    const res = await transferRequest(c, { method: 'PUT', url: `/folder/${m[2]}?dcPath=DC0&dsName=${encodeURIComponent(m[1]!)}`, body: content });
    res.body.resume();
  });

  it('writes the descriptor, the disk and a SHA256 manifest; the lease completed', async () => {
    const out = join(dir, 'export-1');
    const before = await harnessLeases(info);
    const result = await exportOvf(c, vm, { dir: out, name: 'exported' });
    expect(readdirSync(out).sort()).toEqual(['exported-disk-0.vmdk', 'exported.mf', 'exported.ovf']);
    expect(createHash('sha256').update(readFileSync(join(out, 'exported-disk-0.vmdk'))).digest('hex')).toBe(sha('sha256', content));
    const manifest = readFileSync(join(out, 'exported.mf'), 'utf8');
    expect(manifest).toBe(result.files.map((f) => `SHA256(${f.name})= ${sha('sha256', readFileSync(join(out, f.name)))}\n`).join(''));
    expect(readFileSync(join(out, 'exported.ovf'), 'utf8')).toContain('ovf:href="exported-disk-0.vmdk"');
    expect(await newLeases(info, before)).toEqual([expect.objectContaining({ kind: 'export', entity: vm.value, state: 'completed', files: [expect.objectContaining({ bytes: content.length, sha256: sha('sha256', content) })] })]);
  });

  it('re-imports what was exported: the new VM\'s disk is the same bytes', async () => {
    const out = join(dir, 'export-2');
    await exportOvf(c, vm, { dir: out, name: 'roundtrip' });
    const before = await harnessLeases(info);
    const copy = await importOvf(c, join(out, 'roundtrip.ovf'), { name: 'roundtrip-copy' });
    const [imported] = await newLeases(info, before);
    expect(imported).toMatchObject({ kind: 'import', entity: copy.value, state: 'completed', files: [expect.objectContaining({ bytes: content.length, sha256: sha('sha256', content) })] });
    // And back out again: the copy's disk holds what was uploaded.
    const again = await exportOvf(c, copy, { dir: join(dir, 'export-3') });
    expect(again.files.find((f) => f.name.endsWith('.vmdk'))!.sha256).toBe(sha('sha256', content));
  });

  it('hands each file to a sink instead of a directory', async () => {
    const got = new Map<string, Buffer[]>();
    const result = await exportOvf(c, vm, {
      name: 'sunk',
      sink: (name) => {
        const chunks: Buffer[] = [];
        got.set(name, chunks);
        return new Writable({ write(chunk: Buffer, _e, cb) { chunks.push(chunk); cb(); } });
      },
    });
    expect([...got.keys()]).toEqual(['sunk-disk-0.vmdk', 'sunk.ovf', 'sunk.mf']);
    expect(sha('sha256', Buffer.concat(got.get('sunk-disk-0.vmdk')!))).toBe(sha('sha256', content));
    expect(Buffer.concat(got.get('sunk.mf')!).toString()).toBe(result.files.map((f) => `SHA256(${f.name})= ${sha('sha256', Buffer.concat(got.get(f.name)!))}\n`).join(''));
  });

  it('a powered-on VM is refused (InvalidPowerState) and no lease is left', async () => {
    const [, on] = (await c.find('VirtualMachine', '/DC0/vm/*')) as ManagedObjectReference<'VirtualMachine'>[];
    const { err, leases } = await refused(() => exportOvf(c, on!, { dir: join(dir, 'export-on') }));
    expect(err).toBeInstanceOf(VimFault);
    expect((err as VimFault).faultName).toBe('InvalidPowerState');
    expect(leases).toEqual([]);
  });

  it('an NFC download failure aborts the lease and leaves no file behind', async () => {
    const out = join(dir, 'export-fail');
    await harnessNfcFail(info, 1);
    const { err, leases } = await refused(() => exportOvf(c, vm, { dir: out }));
    expect(err).toMatchObject({ status: 500 });
    expect(leases).toEqual([expect.objectContaining({ kind: 'export', state: 'aborted' })]);
    expect(readdirSync(out)).toEqual([]);
  });

  it('a server without ExportVm answers MethodNotFound', async () => {
    await harnessSetExportVm(info, false);
    try {
      const err = await exportOvf(c, vm, { dir: join(dir, 'export-old') }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VimFault);
      expect((err as VimFault).faultName).toBe('MethodNotFound');
    } finally {
      await harnessSetExportVm(info, true);
    }
  });
});
