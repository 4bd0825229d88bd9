// Files inside a VM's guest, through VMware Tools: GuestFileManager hands out a URL for one
// transfer (InitiateFileTransferToGuest/FromGuest) and the bytes go there, streamed
// (request.ts). The URL carries its own ticket: no session cookie goes with it, and a 401 there
// is not the session's end. Its `*` host is the host the client reached.
import type { Readable } from 'node:stream';
import type { VimClient } from '../client.ts';
import { isVimFault } from '../errors.ts';
import type { GuestAuthentication, GuestFileAttributes, ManagedObjectReference } from '../generated/types.ts';
import { TransferError } from './errors.ts';
import { transferRequest } from './request.ts';
import { openSource, type TransferProgress, type TransferSource } from './source.ts';

/** Guest credentials: a user name and password, or any vim25 GuestAuthentication (a SAML token, a ticket). */
export type GuestAuth = { username: string; password: string } | (GuestAuthentication & { _typeName: string });

export interface GuestCallOptions {
  signal?: AbortSignal | undefined;
  /** Idle timeout of the transfer: it fails when no byte moved for this long (default: the client's timeoutMs). */
  timeoutMs?: number | undefined;
  onProgress?: ((p: TransferProgress) => void) | undefined;
}

export interface GuestUploadOptions extends GuestCallOptions {
  /** Replace a file already there (default false: FileAlreadyExists). */
  overwrite?: boolean | undefined;
  /** The length of a stream source: the guest needs it before the transfer. A file or a buffer knows its own. */
  length?: number | undefined;
  /** The file's attributes in the guest (GuestPosixFileAttributes, GuestWindowsFileAttributes); default none. */
  attributes?: GuestFileAttributes | undefined;
}

const clients = new WeakMap<object, GuestFiles>();

/** The client's guest file transfers (one per client). */
export function guestOf(client: VimClient): GuestFiles {
  let files = clients.get(client);
  if (!files) clients.set(client, (files = new GuestFiles(client)));
  return files;
}

function authOf(auth: GuestAuth): GuestAuthentication {
  if (typeof auth !== 'object' || auth === null) throw new TypeError('guest credentials are { username, password } or a GuestAuthentication');
  if ('_typeName' in auth && typeof auth._typeName === 'string') return auth;
  const { username, password } = auth as { username?: unknown; password?: unknown };
  if (typeof username !== 'string' || typeof password !== 'string') throw new TypeError('guest credentials are { username, password } or a GuestAuthentication');
  return { _typeName: 'NamePasswordAuthentication', interactiveSession: false, username, password } as GuestAuthentication;
}

function checkGuestPath(path: string): string {
  if (typeof path !== 'string' || path === '' || /[\u0000]/.test(path)) throw new TransferError('bad-path', `a guest path is a non-empty string without NUL: ${JSON.stringify(String(path).slice(0, 200))}`);
  return path;
}

function checkVm(vm: ManagedObjectReference<'VirtualMachine'>): void {
  if (typeof vm !== 'object' || vm === null || vm.type !== 'VirtualMachine' || typeof vm.value !== 'string') throw new TypeError("a guest transfer's VM is a ManagedObjectReference<'VirtualMachine'>");
}

export class GuestFiles {
  readonly #client: VimClient;

  /** @internal guestOf(client) makes it. */
  constructor(client: VimClient) {
    this.#client = client;
  }

  #fileManager: Promise<ManagedObjectReference<'GuestFileManager'>> | undefined;

  /** GuestOperationsManager.fileManager, read once. */
  #manager(signal: AbortSignal | undefined): Promise<ManagedObjectReference<'GuestFileManager'>> {
    const gom = this.#client.serviceContent.guestOperationsManager;
    if (!gom) return Promise.reject(new TypeError('this server has no GuestOperationsManager'));
    this.#fileManager ??= this.#client.retrieveOne(gom, ['fileManager'], { signal }).then((row) => {
      if (!row.fileManager) throw new TypeError('this server has no GuestFileManager');
      return row.fileManager;
    });
    this.#fileManager.catch(() => (this.#fileManager = undefined));
    return this.#fileManager;
  }

  /** Writes `source` to `guestPath` in the guest. */
  async upload(vm: ManagedObjectReference<'VirtualMachine'>, auth: GuestAuth, guestPath: string, source: TransferSource, options: GuestUploadOptions = {}): Promise<void> {
    checkVm(vm);
    checkGuestPath(guestPath);
    const credentials = authOf(auth);
    const { length } = await openSource(source, options.length);
    if (length === undefined) throw new TransferError('bad-source', 'a guest upload needs its length before it starts: give a file path, a buffer, or options.length for a stream');
    let url: string;
    try {
      url = await this.#client.call('InitiateFileTransferToGuest', await this.#manager(options.signal), {
        vm,
        auth: credentials,
        guestFilePath: guestPath,
        fileAttributes: options.attributes ?? ({ _typeName: 'GuestFileAttributes' } as GuestFileAttributes),
        fileSize: length,
        overwrite: options.overwrite === true,
      }, { signal: options.signal });
    } catch (err) {
      if (isVimFault(err, 'FileNotFound')) throw new TransferError('not-found', `${guestPath}: no such directory in the guest`, { cause: err });
      throw err;
    }
    const res = await transferRequest(this.#client, { method: 'PUT', url, body: source, length, cookies: false, signal: options.signal, timeoutMs: options.timeoutMs, onProgress: options.onProgress });
    res.body.resume();
  }

  /** The bytes of `guestPath` in the guest: read the stream to its end or destroy it. */
  async download(vm: ManagedObjectReference<'VirtualMachine'>, auth: GuestAuth, guestPath: string, options: GuestCallOptions = {}): Promise<Readable> {
    checkVm(vm);
    checkGuestPath(guestPath);
    const credentials = authOf(auth);
    let url: string;
    try {
      const info = await this.#client.call('InitiateFileTransferFromGuest', await this.#manager(options.signal), { vm, auth: credentials, guestFilePath: guestPath }, { signal: options.signal });
      url = info.url;
    } catch (err) {
      if (isVimFault(err, 'FileNotFound')) throw new TransferError('not-found', `${guestPath}: no such file in the guest`, { cause: err });
      throw err;
    }
    const res = await transferRequest(this.#client, { method: 'GET', url, cookies: false, signal: options.signal, timeoutMs: options.timeoutMs, onProgress: options.onProgress });
    return res.body;
  }
}
