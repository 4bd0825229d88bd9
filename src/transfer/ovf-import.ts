// OVA/OVF deploy, the flow govc's import.ova and govmomi's ovf/importer use: the descriptor read
// first (an OVA's first entry, never extracting the OVA to disk), OvfManager.CreateImportSpec
// (its errors a typed error, its warnings logged), ResourcePool.ImportVApp, the HttpNfcLease kept
// (lease.ts), each file streamed to the device URL whose importKey is the file item's deviceId
// (PUT when the item is to be created, else POST), Complete on success and Abort with the cause
// on any failure, then optionally power on.
//
// Where it goes when the options do not say (documented in the README):
//   - datacenter: the one the given pool, host, datastore or folder is in; else the first
//     datacenter by name;
//   - pool: the host's compute resource's root pool when a host is given; else that of the
//     datacenter's first compute resource (standalone host or cluster) by name;
//   - datastore: the first of the pool's compute resource's datastores (in the server's order);
//   - folder: the datacenter's vmFolder;
//   - name: the descriptor's VirtualSystem Name (else its ovf:id).
import { open, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, normalize } from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { throwIfAborted } from '../abort.ts';
import type { ManagedObjectReference as MoRef, HttpNfcLeaseDeviceUrl, OvfCreateImportSpecResult, OvfFileItem, OvfNetworkMapping } from '../generated/types.ts';
import type { InventoryClient } from '../inventory/inventory-client.ts';
import { retrieve, retrieveOne } from '../inventory/retrieve.ts';
import { waitForTask } from '../inventory/task.ts';
import { silentLogger, type Logger } from '../logger.ts';
import { faultFromLocalized } from '../soap/faults.ts';
import { withLease, type LeaseOptions } from './lease.ts';
import { OvaReader, type OvaFile } from './ova.ts';
import { checkDigest, MAX_DESCRIPTOR_BYTES, MAX_MANIFEST_BYTES, readDescriptor, readManifest, textOf, verifying, type ManifestEntry, type OvfDescriptorInfo } from './ovf-descriptor.ts';
import { OvfPackageError, OvfSpecError } from './ovf-errors.ts';
import { transferRequest } from './request.ts';
import { FileChunks, openSource, type TransferSource } from './source.ts';

export type DiskProvisioning = 'thin' | 'thick' | 'eagerZeroedThick' | 'flat' | 'monolithicSparse' | 'monolithicFlat' | 'twoGbMaxExtentSparse' | 'twoGbMaxExtentFlat' | 'seSparse' | 'sparse';

/** How far an import or export is: bytes of all its files, and the file moving. */
export interface OvfProgress {
  bytes: number;
  /** Bytes of all files, when known. */
  total: number | undefined;
  /** 0–100, what the lease is told. */
  percent: number;
  file: string;
}

export interface ImportOvfOptions extends LeaseOptions {
  /** The VM's name (default: the descriptor's). */
  name?: string | undefined;
  folder?: MoRef<'Folder'> | undefined;
  pool?: MoRef<'ResourcePool'> | undefined;
  host?: MoRef<'HostSystem'> | undefined;
  datastore?: MoRef<'Datastore'> | undefined;
  /** The descriptor's network names to the server's networks. */
  networkMapping?: Record<string, MoRef<'Network'>> | OvfNetworkMapping[] | undefined;
  diskProvisioning?: DiskProvisioning | (string & {}) | undefined;
  /** OVF properties (ProductSection) by key. */
  properties?: Record<string, string> | undefined;
  /** The deployment option (DeploymentOptionSection) to use; default: the descriptor's default. */
  deploymentOption?: string | undefined;
  powerOn?: boolean | undefined;
  onProgress?: ((p: OvfProgress) => void) | undefined;
  signal?: AbortSignal | undefined;
  /** Idle timeout of each file's upload (default: the client's timeoutMs). */
  timeoutMs?: number | undefined;
}

export type VmRef = MoRef<'VirtualMachine'>;

/** A file the import sends: its name (the descriptor's href), size and bytes. */
interface PackageFile {
  name: string;
  size: number | undefined;
  body: Readable;
}

// ---- where it goes ----

interface Targets {
  pool: MoRef<'ResourcePool'>;
  datastore: MoRef<'Datastore'>;
  folder: MoRef<'Folder'>;
  host: MoRef<'HostSystem'> | undefined;
}

const byName = <R extends { name?: unknown }>(rows: R[]): R[] => [...rows].sort((a, b) => String(a.name).localeCompare(String(b.name)));

/** The datacenter `ref` is in (walking up `parent`), bounded by the inventory's depth. */
async function datacenterOf(client: InventoryClient, ref: MoRef, signal: AbortSignal | undefined): Promise<MoRef<'Datacenter'> | undefined> {
  let at: MoRef | undefined = ref;
  for (let depth = 0; at && depth < 64; depth++) {
    if (at.type === 'Datacenter') return at as MoRef<'Datacenter'>;
    const row = await retrieveOne(client, at as MoRef<'ManagedEntity'>, ['parent'], { signal });
    at = row.parent as MoRef | undefined;
  }
  return undefined;
}

/** Fills in what the options leave out, as the header says. */
export async function resolveTargets(client: InventoryClient, options: Pick<ImportOvfOptions, 'folder' | 'pool' | 'host' | 'datastore' | 'signal'>): Promise<Targets> {
  const { signal } = options;
  let { pool, datastore, folder } = options;
  const { host } = options;
  if (pool && datastore && folder) return { pool, datastore, folder, host };
  const anchor = pool ?? host ?? datastore ?? folder;
  let dc = anchor ? await datacenterOf(client, anchor, signal) : undefined;
  if (!dc) {
    const dcs = byName(await retrieve(client, 'Datacenter', ['name'], { signal }));
    if (dcs.length === 0) throw new OvfPackageError('unsupported', 'the server has no datacenter to import into');
    dc = dcs[0]!.ref as MoRef<'Datacenter'>;
  }
  const dcRow = await retrieveOne(client, dc, ['vmFolder', 'hostFolder'], { signal });
  folder ??= dcRow.vmFolder as MoRef<'Folder'>;
  let owner: MoRef | undefined;
  if (!pool) {
    if (host) {
      const h = await retrieveOne(client, host, ['parent'], { signal });
      owner = h.parent as MoRef | undefined;
    } else {
      const crs = byName(await retrieve(client, 'ComputeResource', ['name'], { root: dcRow.hostFolder as MoRef<'Folder'>, signal }));
      owner = crs[0]?.ref;
    }
    if (!owner) throw new OvfPackageError('unsupported', `datacenter ${dc.value} has no host or cluster to import into`);
    const cr = await retrieveOne(client, owner as MoRef<'ComputeResource'>, ['resourcePool'], { signal });
    pool = cr.resourcePool as MoRef<'ResourcePool'> | undefined;
    if (!pool) throw new OvfPackageError('unsupported', `${owner.type} ${owner.value} has no resource pool`);
  }
  if (!datastore) {
    if (!owner) {
      const p = await retrieveOne(client, pool, ['owner'], { signal });
      owner = p.owner as MoRef | undefined;
    }
    const stores = owner ? ((await retrieveOne(client, owner as MoRef<'ComputeResource'>, ['datastore'], { signal })).datastore as MoRef<'Datastore'>[] | undefined) ?? [] : [];
    if (stores.length === 0) throw new OvfPackageError('unsupported', 'no datastore to import into: give options.datastore');
    datastore = stores[0]!;
  }
  return { pool, datastore, folder, host };
}

// ---- the import ----

function networkMapping(mapping: ImportOvfOptions['networkMapping']): OvfNetworkMapping[] | undefined {
  if (mapping === undefined) return undefined;
  if (Array.isArray(mapping)) return mapping;
  return Object.entries(mapping).map(([name, network]) => ({ name, network }));
}

function checkSpec(result: OvfCreateImportSpecResult, logger: Logger): void {
  for (const w of result.warning ?? []) {
    const f = faultFromLocalized('CreateImportSpec', w);
    logger.warn('CreateImportSpec warning', { fault: f.faultName, message: f.faultString });
  }
  if (result.error?.length) throw new OvfSpecError('CreateImportSpec', result.error.map((e) => faultFromLocalized('CreateImportSpec', e)));
  if (!result.importSpec) throw new OvfSpecError('CreateImportSpec', []);
}

/** What to send to each device URL: the file item and its URL, by the file's name. */
function uploadsOf(items: readonly OvfFileItem[], urls: readonly HttpNfcLeaseDeviceUrl[]): Map<string, { item: OvfFileItem; url: HttpNfcLeaseDeviceUrl }> {
  const out = new Map<string, { item: OvfFileItem; url: HttpNfcLeaseDeviceUrl }>();
  for (const item of items) {
    const url = urls.find((u) => u.importKey === item.deviceId);
    if (!url) throw new OvfPackageError('unsupported', `the lease has no device URL for ${item.deviceId} (${item.path})`, { file: item.path });
    if (item.chunkSize !== undefined && Number(item.chunkSize) > 0) throw new OvfPackageError('unsupported', `${item.path} is chunked (ovf:chunkSize), which the importer does not send`, { file: item.path });
    out.set(item.path, { item, url });
  }
  return out;
}

async function deploy(
  client: InventoryClient,
  descriptor: string,
  info: OvfDescriptorInfo,
  files: (signal: AbortSignal) => AsyncIterable<PackageFile>,
  options: ImportOvfOptions,
): Promise<VmRef> {
  const logger = options.logger ?? client.logger ?? silentLogger;
  const { signal } = options;
  for (const f of info.files) {
    if (f.compression !== undefined && f.compression !== '' && f.compression !== 'identity') {
      throw new OvfPackageError('unsupported', `${f.href} is compressed (${f.compression}), which the importer does not send`, { file: f.href });
    }
  }
  const name = options.name ?? info.name;
  if (!name) throw new TypeError('options.name is required: the descriptor names no VirtualSystem');
  const targets = await resolveTargets(client, options);
  throwIfAborted(signal);
  const ovfManager = client.serviceContent.ovfManager;
  if (!ovfManager) throw new OvfPackageError('unsupported', 'the server has no OvfManager');
  const spec = await client.call('CreateImportSpec', ovfManager, {
    ovfDescriptor: descriptor,
    resourcePool: targets.pool,
    datastore: targets.datastore,
    cisp: {
      locale: '',
      deploymentOption: options.deploymentOption ?? '',
      entityName: name,
      ...(targets.host ? { hostSystem: targets.host } : {}),
      ...(options.networkMapping ? { networkMapping: networkMapping(options.networkMapping)! } : {}),
      ...(options.properties ? { propertyMapping: Object.entries(options.properties).map(([key, value]) => ({ key, value })) } : {}),
      ...(options.diskProvisioning ? { diskProvisioning: options.diskProvisioning } : {}),
    },
  }, { signal });
  checkSpec(spec, logger);
  // Not stopped by the signal once sent: a lease the server made and this side never heard of
  // could not be aborted. An abort meanwhile is seen by withLease, which aborts the lease.
  throwIfAborted(signal);
  const lease = await client.call('ImportVApp', targets.pool, {
    spec: spec.importSpec!,
    folder: targets.folder,
    ...(targets.host ? { host: targets.host } : {}),
  });

  const items = spec.fileItem ?? [];
  const sizes = new Map(info.files.map((f) => [f.href, f.size]));
  const total = items.reduce<number | undefined>((sum, i) => {
    const size = i.size !== undefined ? Number(i.size) : sizes.get(i.path);
    return sum === undefined || size === undefined ? undefined : sum + size;
  }, 0);

  const entity = await withLease(client, lease, options, async (leaseInfo, keeper, leaseSignal) => {
    const uploads = uploadsOf(items, leaseInfo.deviceUrl ?? []);
    const sent = new Set<string>();
    let done = 0;
    for await (const file of files(leaseSignal)) {
      throwIfAborted(leaseSignal);
      const target = uploads.get(file.name);
      if (!target || sent.has(file.name)) continue; // not needed: the reader skips it
      sent.add(file.name);
      const { item, url } = target;
      const base = done;
      const report = (bytes: number): void => {
        const percent = total ? Math.min(100, Math.floor(((base + bytes) * 100) / total)) : 0;
        keeper.progress(percent);
        options.onProgress?.({ bytes: base + bytes, total, percent, file: file.name });
      };
      const res = await transferRequest(client, {
        method: item.create ? 'PUT' : 'POST',
        url: url.url,
        headers: { 'Content-Type': 'application/x-vnd.vmware-streamVmdk', ...(item.create ? { Overwrite: 't' } : {}) },
        body: file.body,
        length: file.size,
        signal: leaseSignal,
        timeoutMs: options.timeoutMs,
        onProgress: (p) => report(p.bytes),
      });
      res.body.resume();
      await finished(res.body);
      report(file.size ?? 0);
      done += file.size ?? 0;
    }
    const missing = [...uploads.keys()].filter((n) => !sent.has(n));
    if (missing.length) throw new OvfPackageError('missing-file', `the package lacks ${missing.join(', ')}, which the descriptor references`, { file: missing[0] });
    return leaseInfo.entity;
  });
  const vm = entity as VmRef;
  if (options.powerOn) {
    const task = await client.call('PowerOnVM_Task', vm, {}, { signal });
    await waitForTask(client, task, { signal });
  }
  return vm;
}

/**
 * Deploys an OVA: `source` is a file path, a Readable, a Uint8Array or a web ReadableStream of
 * the .ova (a tar), read once, front to back. Resolves with the VM created.
 */
export async function importOva(client: InventoryClient, source: TransferSource, options: ImportOvfOptions = {}): Promise<VmRef> {
  throwIfAborted(options.signal);
  const stream = (await openSource(source)).open();
  let reader: OvaReader | undefined;
  const stop = (): void => {
    if (reader) reader.close();
    else stream.destroy();
  };
  options.signal?.addEventListener('abort', stop, { once: true });
  try {
    reader = await OvaReader.open(stream);
    const r = reader;
    return await deploy(client, r.descriptor, r.info, (leaseSignal) => {
      leaseSignal.addEventListener('abort', () => r.close(), { once: true });
      return r.files() as AsyncIterable<OvaFile>;
    }, options);
  } finally {
    options.signal?.removeEventListener('abort', stop);
    stop();
  }
}

/** An href of a descriptor, safe to resolve beside it: relative, no `..`, no NUL. */
function safeHref(href: string): string {
  const n = normalize(href);
  if (href.includes('\0') || isAbsolute(href) || /^[a-z][a-z0-9+.-]*:/i.test(href) || n.startsWith('..') || n.split(/[\\/]/).includes('..')) {
    throw new OvfPackageError('unsupported', `the descriptor references ${JSON.stringify(href.slice(0, 200))}, which is not a file beside it`, { file: href });
  }
  return n;
}

async function readLimited(path: string, limit: number, what: string): Promise<Buffer | undefined> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const info = await handle.stat();
    if (info.size > limit) throw new OvfPackageError('descriptor-too-large', `${what} ${basename(path)} has ${info.size} bytes, more than the ${limit} accepted`, { file: basename(path) });
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

async function fetchLimited(url: URL, limit: number, what: string, signal: AbortSignal | undefined): Promise<Buffer | undefined> {
  const res = await fetch(url, { signal: signal ?? null });
  if (res.status === 404) {
    await res.body?.cancel();
    return undefined;
  }
  if (!res.ok || !res.body) throw new OvfPackageError('missing-file', `${what} ${url.pathname}: HTTP ${res.status}`, { file: basename(url.pathname) });
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of res.body) {
    length += chunk.byteLength;
    if (length > limit) {
      await res.body.cancel().catch(() => undefined);
      throw new OvfPackageError('descriptor-too-large', `${what} is larger than the ${limit} bytes accepted`, { file: basename(url.pathname) });
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * Deploys an OVF descriptor with its files beside it: `descriptor` is a file path, or an http(s)
 * URL (the files are then fetched from beside it). A manifest beside it (same name, .mf) is
 * checked as the files stream.
 */
export async function importOvf(client: InventoryClient, descriptor: string | URL, options: ImportOvfOptions = {}): Promise<VmRef> {
  throwIfAborted(options.signal);
  const remote = descriptor instanceof URL || /^https?:\/\//i.test(descriptor) ? new URL(String(descriptor)) : undefined;
  const manifestName = (p: string): string => p.replace(/\.ovf$/i, '') + '.mf';
  let bytes: Buffer | undefined;
  let manifestBytes: Buffer | undefined;
  if (remote) {
    bytes = await fetchLimited(remote, MAX_DESCRIPTOR_BYTES, 'the descriptor', options.signal);
    if (bytes === undefined) throw new OvfPackageError('missing-file', `the descriptor ${remote.pathname} is not there (HTTP 404)`, { file: basename(remote.pathname) });
    manifestBytes = await fetchLimited(new URL(manifestName(basename(remote.pathname)), remote), MAX_MANIFEST_BYTES, 'the manifest', options.signal);
  } else {
    const path = String(descriptor);
    bytes = await readLimited(path, MAX_DESCRIPTOR_BYTES, 'the descriptor');
    if (bytes === undefined) throw new OvfPackageError('missing-file', `the descriptor ${path} is not there`, { file: basename(path) });
    manifestBytes = await readLimited(manifestName(path), MAX_MANIFEST_BYTES, 'the manifest');
  }
  const text = textOf(bytes);
  const info = readDescriptor(text);
  // Refused before anything is made on the server: the descriptor is not trusted to name files.
  for (const ref of info.files) safeHref(ref.href);
  const manifest: Map<string, ManifestEntry> | undefined = manifestBytes === undefined ? undefined : readManifest(textOf(manifestBytes));
  checkDigest(remote ? basename(remote.pathname) : basename(String(descriptor)), bytes, manifest);
  const dir = remote ? undefined : dirname(String(descriptor));

  async function* files(signal: AbortSignal): AsyncGenerator<PackageFile> {
    for (const ref of info.files) {
      const href = safeHref(ref.href);
      let body: Readable;
      let size = ref.size;
      if (remote) {
        const res = await fetch(new URL(href.split('\\').join('/'), remote), { signal });
        if (res.status === 404) {
          await res.body?.cancel();
          continue; // missing: reported once every file was tried
        }
        if (!res.ok || !res.body) throw new OvfPackageError('missing-file', `${ref.href}: HTTP ${res.status}`, { file: ref.href });
        const length = Number(res.headers.get('content-length'));
        if (size === undefined && Number.isSafeInteger(length) && length >= 0) size = length;
        body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
      } else {
        const path = join(dir!, href);
        const st = await stat(path).catch(() => undefined);
        if (!st?.isFile()) continue;
        size ??= st.size;
        body = new FileChunks(path);
      }
      const check = verifying({ name: ref.href, size, digest: manifest?.get(ref.href) });
      body.once('error', (err) => check.destroy(err));
      yield { name: ref.href, size, body: body.pipe(check) };
    }
  }
  return deploy(client, text, info, files, options);
}
