// OVF export, as govc's export.ovf does it: VirtualMachine.ExportVm hands out an HttpNfcLease
// whose device URLs serve the VM's disks; each is streamed (GET) to a file of its own, hashed as
// it goes; OvfManager.CreateDescriptor then writes the descriptor naming those files, and a
// manifest (SHA256 lines, the descriptor's and each disk's) closes the package. The lease is
// completed once the disks are down and the descriptor made, and aborted, with the cause, on
// any failure; files already written to a directory are removed then, so a failed export leaves
// no package that looks whole.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { throwIfAborted } from '../abort.ts';
import type { ManagedObjectReference as MoRef, OvfFile } from '../generated/types.ts';
import type { InventoryClient } from '../inventory/inventory-client.ts';
import { retrieveOne } from '../inventory/retrieve.ts';
import { silentLogger } from '../logger.ts';
import { faultFromLocalized } from '../soap/faults.ts';
import { withLease, type LeaseOptions } from './lease.ts';
import { OvfSpecError } from './ovf-errors.ts';
import type { OvfProgress } from './ovf-import.ts';
import { transferRequest } from './request.ts';

export interface ExportedFile {
  /** The file's name in the package. */
  name: string;
  size: number;
  sha256: string;
}

export interface ExportOvfOptions extends LeaseOptions {
  /** A directory to write the package into (created if missing; existing files are not overwritten). */
  dir?: string | undefined;
  /** Or: where each file of the package goes, by name (the descriptor, the disks, the manifest). */
  sink?: ((name: string) => Writable | Promise<Writable>) | undefined;
  /** Base name of the package's files (default: the VM's name, made safe for a file name). */
  name?: string | undefined;
  onProgress?: ((p: OvfProgress) => void) | undefined;
  signal?: AbortSignal | undefined;
  /** Idle timeout of each disk's download (default: the client's timeoutMs). */
  timeoutMs?: number | undefined;
}

export interface ExportOvfResult {
  /** The descriptor's file name (`<name>.ovf`). */
  descriptor: string;
  /** The manifest's file name (`<name>.mf`). */
  manifest: string;
  /** The descriptor and each disk, as the manifest lists them. */
  files: ExportedFile[];
}

/** A name safe as one file name on any system. */
export function safeFileName(name: string): string {
  const s = name.replace(/[^A-Za-z0-9._ -]/g, '_').replace(/^[. ]+|[. ]+$/g, '').slice(0, 200);
  return s === '' ? 'vm' : s;
}

function hashing(): Transform & { sha256(): string; readonly bytes: number } {
  const hash = createHash('sha256');
  let bytes = 0;
  let hex = '';
  const t = new Transform({
    transform(chunk: Buffer, _e, cb) {
      bytes += chunk.length;
      hash.update(chunk);
      cb(null, chunk);
    },
    flush(cb) {
      hex = hash.digest('hex');
      cb();
    },
  });
  Object.defineProperty(t, 'bytes', { get: () => bytes });
  return Object.assign(t, { sha256: () => hex }) as Transform & { sha256(): string; readonly bytes: number };
}

/**
 * Exports `vm` (powered off: vCenter refuses a running one with InvalidPowerState) as an OVF
 * package: to `options.dir`, or file by file to `options.sink`.
 */
export async function exportOvf(client: InventoryClient, vm: MoRef<'VirtualMachine'>, options: ExportOvfOptions): Promise<ExportOvfResult> {
  const { dir, sink, signal } = options;
  if ((dir === undefined) === (sink === undefined)) throw new TypeError('exportOvf needs exactly one of options.dir and options.sink');
  throwIfAborted(signal);
  const logger = options.logger ?? client.logger ?? silentLogger;
  const ovfManager = client.serviceContent.ovfManager;
  if (!ovfManager) throw new TypeError('the server has no OvfManager');
  const base = safeFileName(options.name ?? String((await retrieveOne(client, vm, ['name'], { signal })).name ?? vm.value));
  const written: string[] = [];
  const open = async (name: string): Promise<Writable> => {
    if (sink) return sink(name);
    const path = join(dir!, name);
    written.push(path);
    return createWriteStream(path, { flags: 'wx' });
  };
  if (dir !== undefined) await mkdir(dir, { recursive: true });

  try {
    // Not stopped by the signal once sent (a lease never heard of could not be aborted): an
    // abort meanwhile is seen by withLease, which aborts the lease.
    throwIfAborted(signal);
    const lease = await client.call('ExportVm', vm, {});
    const { files, descriptor } = await withLease(client, lease, options, async (info, keeper, leaseSignal) => {
      const urls = (info.deviceUrl ?? []).filter((u) => u.url);
      const known = urls.every((u) => u.fileSize !== undefined);
      const total = known ? urls.reduce((s, u) => s + Number(u.fileSize ?? 0), 0) : Number(info.totalDiskCapacityInKB) * 1024 || undefined;
      const files: ExportedFile[] = [];
      const ovfFiles: OvfFile[] = [];
      let done = 0;
      for (const [i, u] of urls.entries()) {
        const name = `${base}-${safeFileName(u.targetId ?? `disk-${i}.vmdk`)}`;
        const at = done;
        const report = (bytes: number): void => {
          const percent = total ? Math.min(100, Math.floor(((at + bytes) * 100) / total)) : 0;
          keeper.progress(percent);
          options.onProgress?.({ bytes: at + bytes, total, percent, file: name });
        };
        const res = await transferRequest(client, { method: 'GET', url: u.url, signal: leaseSignal, timeoutMs: options.timeoutMs, onProgress: (p) => report(p.bytes) });
        const hash = hashing();
        await pipeline(res.body, hash, await open(name), { signal: leaseSignal });
        report(hash.bytes);
        done += hash.bytes;
        files.push({ name, size: hash.bytes, sha256: hash.sha256() });
        ovfFiles.push({ deviceId: u.key, path: name, size: hash.bytes });
      }
      const result = await client.call('CreateDescriptor', ovfManager, { obj: vm, cdp: { ovfFiles, name: base } }, { signal: leaseSignal });
      for (const w of result.warning ?? []) {
        const f = faultFromLocalized('CreateDescriptor', w);
        logger.warn('CreateDescriptor warning', { fault: f.faultName, message: f.faultString });
      }
      if (result.error?.length) throw new OvfSpecError('CreateDescriptor', result.error.map((e) => faultFromLocalized('CreateDescriptor', e)));
      return { files, descriptor: result.ovfDescriptor };
    });

    const descriptorName = `${base}.ovf`;
    const descriptorBytes = Buffer.from(descriptor, 'utf8');
    await writeAll(await open(descriptorName), descriptorBytes);
    const listed: ExportedFile[] = [{ name: descriptorName, size: descriptorBytes.length, sha256: createHash('sha256').update(descriptorBytes).digest('hex') }, ...files];
    const manifestName = `${base}.mf`;
    await writeAll(await open(manifestName), Buffer.from(listed.map((f) => `SHA256(${f.name})= ${f.sha256}\n`).join(''), 'utf8'));
    return { descriptor: descriptorName, manifest: manifestName, files: listed };
  } catch (err) {
    await Promise.all(written.map((p) => rm(p, { force: true }).catch(() => undefined)));
    throw err;
  }
}

async function writeAll(out: Writable, bytes: Buffer): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    out.once('error', reject);
    out.end(bytes, () => resolve());
  });
}
