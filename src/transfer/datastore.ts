// Files on a datastore: their bytes through the server's /folder/<path>?dcPath=&dsName= URL
// (request.ts: streamed, on the client's session), everything else through the vim25 API
// (HostDatastoreBrowser to list and stat, FileManager to make directories, delete, move, copy).
// A file is named '[datastore1] iso/x.iso' or { datacenter, datastore, path }. Paths are checked
// before anything is sent, and the datastore (and its datacenter) must exist: a typo is a
// TransferError, not a file written somewhere else or an HTML error page.
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { VimClient } from '../client.ts';
import { isVimFault, TransportError } from '../errors.ts';
import type { FileInfo, HostDatastoreBrowserSearchResults, ManagedObjectReference } from '../generated/types.ts';
import { TransferError } from './errors.ts';
import { transferRequest } from './request.ts';
import type { TransferProgress, TransferSource } from './source.ts';

/** A datastore file or directory: '[datastore1] iso/x.iso', or its parts (datacenter: its name or inventory path, when datastores of several share the name). */
export type DatastoreTarget = string | { datacenter?: string | undefined; datastore: string; path: string };

export interface DatastoreCallOptions {
  signal?: AbortSignal | undefined;
  /** The datacenter, for a target given as a string (default: the one datacenter that has the datastore). */
  datacenter?: string | undefined;
}

export interface DatastoreTransferOptions extends DatastoreCallOptions {
  onProgress?: ((p: TransferProgress) => void) | undefined;
  /** Idle timeout: the transfer fails when no byte moved for this long (default: the client's timeoutMs). */
  timeoutMs?: number | undefined;
}

export interface DatastoreUploadOptions extends DatastoreTransferOptions {
  /** The length of a stream source, sent as Content-Length and enforced (a file or a buffer knows its own). */
  length?: number | undefined;
}

/** One row of a listing: the vim25 FileInfo, with what a caller most often wants read out of it. */
export interface DatastoreFile {
  /** The file's name in its directory. */
  name: string;
  /** '[datastore] dir/name'. */
  datastorePath: string;
  /** The FileInfo subtype: 'FolderFileInfo', 'VmDiskFileInfo', 'IsoImageFileInfo', ... or 'FileInfo'. */
  type: string;
  isDirectory: boolean;
  size?: number | undefined;
  modified?: Date | undefined;
  owner?: string | undefined;
  info: FileInfo;
}

export interface DatastoreListOptions extends DatastoreCallOptions {
  /** Names to match (the server's wildcards: * and ?); default every entry. */
  pattern?: string | undefined;
}

/** A target resolved against the inventory: what the URL and the FileManager calls name. */
interface Located {
  datastore: string;
  path: string;
  datacenter: ManagedObjectReference<'Datacenter'>;
  /** The datacenter's inventory path, without a leading slash (the /folder URL's dcPath). */
  dcPath: string;
  browser: ManagedObjectReference<'HostDatastoreBrowser'> | undefined;
}

const clients = new WeakMap<object, DatastoreFiles>();

/** The client's datastore file access (one per client). */
export function datastoreOf(client: VimClient): DatastoreFiles {
  let files = clients.get(client);
  if (!files) clients.set(client, (files = new DatastoreFiles(client)));
  return files;
}

/**
 * A datastore path checked: no NUL or other control character, no `.` or `..` segment, no
 * backslash, no leading slash. `file`: it names a file (not empty, no trailing slash).
 */
export function checkDatastorePath(path: string, file: boolean): string {
  if (typeof path !== 'string') throw new TransferError('bad-path', 'a datastore path is a string');
  if (/[\u0000-\u001f\u007f]/.test(path)) throw new TransferError('bad-path', `a datastore path has no NUL or control character: ${JSON.stringify(path.slice(0, 200))}`);
  if (path.includes('\\')) throw new TransferError('bad-path', `a datastore path has no backslash: ${JSON.stringify(path.slice(0, 200))}`);
  if (path.startsWith('/')) throw new TransferError('bad-path', `a datastore path is relative to the datastore's root (no leading slash): ${JSON.stringify(path.slice(0, 200))}`);
  const trimmed = path.replace(/\/+$/, '');
  if (trimmed.split('/').some((s) => s === '.' || s === '..')) throw new TransferError('bad-path', `a datastore path has no . or .. segment: ${JSON.stringify(path.slice(0, 200))}`);
  if (trimmed.split('/').some((s, i, all) => s === '' && i < all.length && trimmed !== '')) throw new TransferError('bad-path', `a datastore path has no empty segment: ${JSON.stringify(path.slice(0, 200))}`);
  if (file && (trimmed === '' || trimmed !== path)) throw new TransferError('bad-path', `a datastore file path names a file: ${JSON.stringify(path.slice(0, 200))}`);
  return trimmed;
}

/** '[datastore1] iso/x.iso' or { datastore, path } as its parts, checked. */
export function parseTarget(target: DatastoreTarget, file: boolean, datacenter?: string): { datastore: string; path: string; datacenter: string | undefined } {
  let datastore: string;
  let path: string;
  let dc = datacenter;
  if (typeof target === 'string') {
    const m = /^\[([^\]]+)\]\s*(.*)$/s.exec(target);
    if (!m) throw new TransferError('bad-path', `a datastore path reads '[datastore] path/to/file', not ${JSON.stringify(target.slice(0, 200))}`);
    [, datastore, path] = m as unknown as [string, string, string];
  } else if (typeof target === 'object' && target !== null && typeof target.datastore === 'string' && typeof target.path === 'string') {
    ({ datastore, path } = target);
    dc = target.datacenter ?? dc;
  } else {
    throw new TransferError('bad-path', "a datastore target is '[datastore] path' or { datacenter?, datastore, path }");
  }
  if (datastore.trim() === '' || /[\u0000-\u001f\u007f\]]/.test(datastore)) throw new TransferError('bad-path', `not a datastore name: ${JSON.stringify(datastore.slice(0, 200))}`);
  if (dc !== undefined && (dc === '' || /[\u0000-\u001f\u007f]/.test(dc) || dc.split('/').some((s) => s === '.' || s === '..'))) throw new TransferError('bad-path', `not a datacenter name or path: ${JSON.stringify(dc.slice(0, 200))}`);
  return { datastore, path: checkDatastorePath(path, file), datacenter: dc };
}

const datastorePath = (l: { datastore: string; path: string }): string => `[${l.datastore}]${l.path === '' ? '' : ` ${l.path}`}`;

function notFound(err: unknown, what: string): unknown {
  if (isVimFault(err, 'FileNotFound')) return new TransferError('not-found', `${what}: no such file or directory`, { cause: err });
  return err;
}

export class DatastoreFiles {
  readonly #client: VimClient;

  /** @internal datastoreOf(client) makes it. */
  constructor(client: VimClient) {
    this.#client = client;
  }

  /** The /folder URL of a file, as the server serves it. */
  async url(target: DatastoreTarget, options: DatastoreCallOptions = {}): Promise<URL> {
    return this.#url(await this.#locate(target, true, options));
  }

  /** Writes `source` to the file (replacing it), streamed: a file path or a buffer is sent again after a re-login, a stream is not. */
  async upload(target: DatastoreTarget, source: TransferSource, options: DatastoreUploadOptions = {}): Promise<void> {
    const where = await this.#locate(target, true, options);
    const res = await transferRequest(this.#client, {
      method: 'PUT',
      url: this.#url(where),
      body: source,
      length: options.length,
      signal: options.signal,
      timeoutMs: options.timeoutMs,
      onProgress: options.onProgress,
    });
    await drain(res.body);
  }

  /** The file's bytes, as the server sends them: read it to its end or destroy it. */
  async download(target: DatastoreTarget, options: DatastoreTransferOptions = {}): Promise<Readable> {
    const where = await this.#locate(target, true, options);
    try {
      const res = await transferRequest(this.#client, { method: 'GET', url: this.#url(where), signal: options.signal, timeoutMs: options.timeoutMs, onProgress: options.onProgress });
      return res.body;
    } catch (err) {
      if (err instanceof TransportError && err.status === 404) throw new TransferError('not-found', `${datastorePath(where)}: no such file`, { cause: err });
      throw err;
    }
  }

  /**
   * Downloads the file to `filePath`, through a temporary file beside it renamed at the end: a
   * failed or aborted download leaves nothing, and never half of a file under the final name.
   */
  async downloadTo(target: DatastoreTarget, filePath: string, options: DatastoreTransferOptions = {}): Promise<void> {
    const body = await this.download(target, options);
    const part = join(dirname(filePath), `.${basename(filePath)}.${randomBytes(6).toString('hex')}.part`);
    try {
      await pipeline(body, createWriteStream(part, { flags: 'wx' }), { signal: options.signal });
      await rename(part, filePath);
    } catch (err) {
      body.destroy();
      await rm(part, { force: true });
      throw err;
    }
  }

  /** The entries of a directory (not recursive), folders first. */
  async list(dir: DatastoreTarget, options: DatastoreListOptions = {}): Promise<DatastoreFile[]> {
    const where = await this.#locate(dir, false, options);
    return this.#search(where, options.pattern ?? '*', options.signal);
  }

  /** One file's or directory's entry; TransferError('not-found') when there is none. */
  async stat(target: DatastoreTarget, options: DatastoreCallOptions = {}): Promise<DatastoreFile> {
    const where = await this.#locate(target, true, options);
    const slash = where.path.lastIndexOf('/');
    const parent = { ...where, path: slash < 0 ? '' : where.path.slice(0, slash) };
    const name = where.path.slice(slash + 1);
    const rows = await this.#search(parent, name, options.signal);
    const row = rows.find((r) => r.name === name);
    if (!row) throw new TransferError('not-found', `${datastorePath(where)}: no such file or directory`);
    return row;
  }

  /** Makes a directory (and its parents with `parents`). */
  async mkdir(dir: DatastoreTarget, options: DatastoreCallOptions & { parents?: boolean } = {}): Promise<void> {
    const where = await this.#locate(dir, true, options);
    await this.#client.call('MakeDirectory', this.#fileManager(), { name: datastorePath(where), datacenter: where.datacenter, createParentDirectories: options.parents === true }, { signal: options.signal });
  }

  /** Deletes a file or a directory and what it holds. */
  async delete(target: DatastoreTarget, options: DatastoreCallOptions = {}): Promise<void> {
    const where = await this.#locate(target, true, options);
    try {
      const task = await this.#client.call('DeleteDatastoreFile_Task', this.#fileManager(), { name: datastorePath(where), datacenter: where.datacenter }, { signal: options.signal });
      await this.#client.waitForTask(task, { signal: options.signal });
    } catch (err) {
      throw notFound(err, datastorePath(where));
    }
  }

  /** Moves (renames) a file or directory, on one datastore or across; `overwrite` replaces what is at the destination. */
  async move(from: DatastoreTarget, to: DatastoreTarget, options: DatastoreCallOptions & { overwrite?: boolean } = {}): Promise<void> {
    await this.#twoFiles('MoveDatastoreFile_Task', from, to, options);
  }

  /** Copies a file or directory; `overwrite` replaces what is at the destination. */
  async copy(from: DatastoreTarget, to: DatastoreTarget, options: DatastoreCallOptions & { overwrite?: boolean } = {}): Promise<void> {
    await this.#twoFiles('CopyDatastoreFile_Task', from, to, options);
  }

  async #twoFiles(method: 'MoveDatastoreFile_Task' | 'CopyDatastoreFile_Task', from: DatastoreTarget, to: DatastoreTarget, options: DatastoreCallOptions & { overwrite?: boolean }): Promise<void> {
    // Both checked before either is looked up.
    parseTarget(from, true, options.datacenter);
    parseTarget(to, true, options.datacenter);
    const src = await this.#locate(from, true, options);
    const dst = await this.#locate(to, true, options);
    try {
      const task = await this.#client.call(method, this.#fileManager(), {
        sourceName: datastorePath(src),
        sourceDatacenter: src.datacenter,
        destinationName: datastorePath(dst),
        destinationDatacenter: dst.datacenter,
        force: options.overwrite === true,
      }, { signal: options.signal });
      await this.#client.waitForTask(task, { signal: options.signal });
    } catch (err) {
      throw notFound(err, datastorePath(src));
    }
  }

  #fileManager(): ManagedObjectReference<'FileManager'> {
    const fm = this.#client.serviceContent.fileManager;
    if (!fm) throw new TypeError('this server has no FileManager');
    return fm;
  }

  #url(where: Located): URL {
    const u = new URL(this.#client.url);
    u.pathname = `/folder/${where.path.split('/').map(encodeURIComponent).join('/')}`;
    u.search = new URLSearchParams({ dcPath: where.dcPath, dsName: where.datastore }).toString();
    return u;
  }

  async #search(where: Located, pattern: string, signal: AbortSignal | undefined): Promise<DatastoreFile[]> {
    if (!where.browser) throw new TransferError('no-such-datastore', `the datastore ${where.datastore} has no browser (not accessible)`);
    let result: HostDatastoreBrowserSearchResults | undefined;
    try {
      const task = await this.#client.call('SearchDatastore_Task', where.browser, {
        datastorePath: datastorePath(where),
        searchSpec: { details: { fileType: true, fileSize: true, modification: true, fileOwner: true }, matchPattern: [pattern], sortFoldersFirst: true },
      }, { signal });
      result = (await this.#client.waitForTask(task, { signal })) as HostDatastoreBrowserSearchResults | undefined;
    } catch (err) {
      throw notFound(err, datastorePath(where));
    }
    const dir = where.path === '' ? '' : `${where.path}/`;
    return (result?.file ?? []).map((info) => {
      const type = (info as { _typeName?: string })._typeName ?? 'FileInfo';
      // Asked for (details.fileSize): an answer without it is an empty file's (Go servers leave zeros out).
      const size = Number(info.fileSize ?? 0);
      return {
        name: info.path,
        datastorePath: datastorePath({ datastore: where.datastore, path: dir + info.path }),
        type,
        isDirectory: type === 'FolderFileInfo',
        size,
        modified: info.modification,
        owner: info.owner,
        info,
      };
    });
  }

  /**
   * The target's datastore, in its datacenter: a datacenter named (by name or inventory path)
   * must exist, and so must the datastore in it; without one, the datastore's name must be
   * found in exactly one datacenter.
   */
  async #locate(target: DatastoreTarget, file: boolean, options: DatastoreCallOptions): Promise<Located> {
    const parsed = parseTarget(target, file, options.datacenter);
    const signal = options.signal;
    const client = this.#client;
    // One after the other, not at once: two requests in flight make the transport switch to
    // undici's pools (src/transport/http.ts), and a short process that only moves a file would
    // then pay for V8 optimizing undici's WebAssembly parser (~30 MiB of peak RSS, measured by
    // bench/transfer.ts) to save one round trip.
    const dcs = await client.retrieve('Datacenter', ['name', 'parent', 'datastore'], { signal });
    const stores = await client.retrieve('Datastore', ['name', 'browser'], { signal });
    const byValue = new Map(stores.map((s) => [s.ref.value, s]));
    const wanted = parsed.datacenter;
    let candidates = dcs;
    if (wanted !== undefined) {
      const bare = wanted.replace(/^\/+|\/+$/g, '');
      candidates = [];
      for (const dc of dcs) {
        if (bare.includes('/') ? (await this.#dcPath(dc.name, dc.parent, signal)) === bare : dc.name === bare) candidates.push(dc);
      }
      if (candidates.length === 0) throw new TransferError('no-such-datacenter', `no datacenter ${JSON.stringify(wanted)}`);
    }
    const matches = candidates.flatMap((dc) => (dc.datastore ?? []).map((ref) => ({ dc, store: byValue.get(ref.value) })).filter((m) => m.store?.name === parsed.datastore));
    if (matches.length === 0) throw new TransferError('no-such-datastore', `no datastore ${JSON.stringify(parsed.datastore)}${wanted === undefined ? '' : ` in datacenter ${JSON.stringify(wanted)}`}`);
    const dcsFound = new Set(matches.map((m) => m.dc.ref.value));
    if (dcsFound.size > 1) throw new TransferError('no-such-datacenter', `datastores named ${JSON.stringify(parsed.datastore)} are in ${dcsFound.size} datacenters: name the datacenter`);
    const { dc, store } = matches[0]!;
    return {
      datastore: parsed.datastore,
      path: parsed.path,
      datacenter: dc.ref,
      dcPath: await this.#dcPath(dc.name, dc.parent, signal),
      browser: store!.browser,
    };
  }

  /** A datacenter's inventory path ('DC0', 'Folder/DC0'), walking up its folders to the root. */
  async #dcPath(name: string, parent: ManagedObjectReference | undefined, signal: AbortSignal | undefined): Promise<string> {
    const root = this.#client.serviceContent.rootFolder.value;
    const names = [name];
    let up = parent;
    // An inventory is not deep; a cycle would be a broken server.
    for (let depth = 0; up && up.value !== root && depth < 64; depth++) {
      const row = await this.#client.retrieveOne(this.#client.ref('Folder', up.value), ['name', 'parent'], { signal });
      names.unshift(row.name);
      up = row.parent;
    }
    return names.map((n) => n.replace(/%/g, '%25').replace(/\//g, '%2f')).join('/');
  }
}

/** Reads an answer to its end (a small one: an upload's), freeing its connection. */
async function drain(body: Readable): Promise<void> {
  body.resume();
  await new Promise<void>((resolve, reject) => {
    body.once('end', resolve);
    body.once('error', reject);
    body.once('close', resolve);
  });
}
