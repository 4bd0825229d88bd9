// Content libraries (vAPI content/library, the /api shapes of vSphere 7.0 U2+), typed, on the
// client's RestClient. A library is named by its id or its name. An OVF template item is
// deployed by vcenter/ovf/library-item's deploy operation, which answers once the VM exists.
import { VimError } from '../errors.ts';
import type { ManagedObjectReference } from '../generated/types.ts';
import type { ManagedTypeName } from '../generated/managed.ts';
import { isManagedSubtype } from '../managed/checks.ts';
import { restOf, RestError, type RestClient } from './rest.ts';
import { fanOut } from './tags.ts';

export interface ContentLibrary {
  id: string;
  name: string;
  description?: string;
  /** LOCAL or SUBSCRIBED. */
  type: string;
  creation_time?: string;
  last_modified_time?: string;
  storage_backings?: { type: string; datastore_id?: string; storage_uri?: string }[];
  [field: string]: unknown;
}

export interface LibraryItem {
  id: string;
  library_id: string;
  name: string;
  description?: string;
  /** ovf, vm-template, iso, file, … */
  type: string;
  size?: number;
  creation_time?: string;
  [field: string]: unknown;
}

export interface LibraryCallOptions {
  signal?: AbortSignal | undefined;
  timeoutMs?: number | undefined;
}

export interface FindLibraryOptions extends LibraryCallOptions {
  name?: string;
  /** LOCAL or SUBSCRIBED. */
  type?: string;
}

/** Where and how an OVF library item is deployed: the new VM's name and placement. */
export interface DeployOptions extends LibraryCallOptions {
  /** The new VM's name (default: the OVF's own). */
  name?: string | undefined;
  /** The resource pool it runs in (a cluster's or host's root pool, or a pool of its own). */
  pool: Pick<ManagedObjectReference<'ResourcePool'>, 'type' | 'value'>;
  /** The VM folder it is placed in (default: the datacenter's VM folder). */
  folder?: Pick<ManagedObjectReference<'Folder'>, 'type' | 'value'> | undefined;
  /** The host it runs on, where the pool does not decide it. */
  host?: Pick<ManagedObjectReference<'HostSystem'>, 'type' | 'value'> | undefined;
  /** The datastore of its disks and configuration (default: the server's choice). */
  datastore?: Pick<ManagedObjectReference<'Datastore'>, 'type' | 'value'> | undefined;
  annotation?: string | undefined;
  /** Accepts the OVF's end-user license agreements (a package with one is refused without). */
  acceptAllEula?: boolean | undefined;
  /** OVF network name -> the network the VM's adapters of that network join. */
  networks?: Record<string, Pick<ManagedObjectReference<'Network'>, 'type' | 'value'>> | undefined;
}

/** The server refused or failed a deploy: its answer's `succeeded` was false. */
export class DeployError extends VimError {
  override name = 'DeployError';
  readonly itemId: string;
  /** The errors' text, in order (their message or their error's messages). */
  readonly messages: readonly string[];
  /** The error categories the server named (SERVER, INPUT, VALIDATION, ...), in order. */
  readonly categories: readonly string[];
  /** What was deployed, if anything (a VirtualApp where a VirtualMachine was expected). */
  readonly resource: { type: string; value: string } | undefined;

  constructor(itemId: string, messages: readonly string[], categories: readonly string[], resource?: { type: string; value: string }, detail?: string) {
    super(`deploy of library item ${itemId} failed${messages.length ? `: ${messages.join('; ')}` : ''}${detail ? ` (${detail})` : ''}`);
    this.itemId = itemId;
    this.messages = messages;
    this.categories = categories;
    this.resource = resource;
  }
}

interface DeploymentResult {
  succeeded?: boolean;
  resource_id?: { type?: unknown; id?: unknown };
  error?: { errors?: Array<{ category?: unknown; message?: { default_message?: unknown }; error?: { messages?: Array<{ default_message?: unknown }> } }> };
}

const BASE = '/api/content/library';
const OVF = '/api/vcenter/ovf/library-item';
const DEPLOY_TIMEOUT_MS = 60 * 60_000;
const isManagedType = (actual: string, wanted: ManagedTypeName): boolean => actual === wanted || isManagedSubtype(actual, wanted);
const clients = new WeakMap<object, LibraryClient>();

/** The client's content-library API (one per client). */
export function libraryOf(client: object): LibraryClient {
  let library = clients.get(client);
  if (!library) clients.set(client, (library = new LibraryClient(restOf(client))));
  return library;
}

const seg = encodeURIComponent;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class LibraryClient {
  /** @internal libraryOf(client) makes it. */
  constructor(private readonly rest: RestClient) {}

  /** Every content library. */
  async list(options: LibraryCallOptions = {}): Promise<ContentLibrary[]> {
    const ids = (await this.rest.get<string[]>(BASE, options)) ?? [];
    return fanOut(ids, (id) => this.rest.get<ContentLibrary>(`${BASE}/${seg(id)}`, options));
  }

  /** A library by id or name. */
  async get(idOrName: string, options: LibraryCallOptions = {}): Promise<ContentLibrary> {
    if (UUID.test(idOrName)) return this.rest.get<ContentLibrary>(`${BASE}/${seg(idOrName)}`, options);
    const [found] = await this.find({ ...options, name: idOrName });
    if (!found) throw new RestError('POST', BASE, 404, 'NOT_FOUND', [`no content library named ${JSON.stringify(idOrName)}`]);
    return found;
  }

  /** Libraries by name (case-insensitive, as vCenter) and/or type, in one request and a GET each. */
  async find(spec: FindLibraryOptions, options: LibraryCallOptions = {}): Promise<ContentLibrary[]> {
    const { signal, timeoutMs, ...criteria } = spec;
    const o = { signal: options.signal ?? signal, timeoutMs: options.timeoutMs ?? timeoutMs };
    const ids = (await this.rest.post<string[]>(BASE, { ...o, query: { action: 'find' }, body: criteria })) ?? [];
    return fanOut(ids, (id) => this.rest.get<ContentLibrary>(`${BASE}/${seg(id)}`, o));
  }

  /** The items of a library (by id or name). */
  async items(library: string, options: LibraryCallOptions = {}): Promise<LibraryItem[]> {
    const id = UUID.test(library) ? library : (await this.get(library, options)).id;
    const ids = (await this.rest.get<string[]>(`${BASE}/item`, { ...options, query: { library_id: id } })) ?? [];
    return fanOut(ids, (itemId) => this.rest.get<LibraryItem>(`${BASE}/item/${seg(itemId)}`, options));
  }

  /**
   * Deploys an OVF template item as a new VM and answers its reference once it exists. One
   * POST, never replayed once sent (a second deploy would make a second VM): a connection lost
   * after it was written fails with TransportError EOUTCOMEUNKNOWN. `timeoutMs` bounds the whole
   * deploy, which the server answers only at its end: an hour unless given, since copying a
   * template's disks takes minutes where the client's per-request default is meant for calls.
   */
  async deploy(itemId: string, spec: DeployOptions): Promise<ManagedObjectReference<'VirtualMachine'>> {
    if (typeof itemId !== 'string' || itemId === '') throw new TypeError('deploy needs the library item\'s id');
    const ref = (what: string, wanted: 'ResourcePool' | 'Folder' | 'HostSystem' | 'Datastore' | 'Network', r: { type: string; value: string } | undefined): string | undefined => {
      if (r === undefined) return undefined;
      if (typeof r?.type !== 'string' || typeof r.value !== 'string' || r.value === '' || !isManagedType(r.type, wanted)) {
        throw new TypeError(`deploy: ${what} must be a ${wanted} reference { type: '${wanted}', value }`);
      }
      return r.value;
    };
    if (spec?.pool === undefined) throw new TypeError('deploy needs a resource pool (pool)');
    if (spec.name !== undefined && (typeof spec.name !== 'string' || spec.name === '')) throw new TypeError('deploy: name must be a non-empty string');
    const target = { resource_pool_id: ref('pool', 'ResourcePool', spec.pool), host_id: ref('host', 'HostSystem', spec.host), folder_id: ref('folder', 'Folder', spec.folder) };
    const networks = spec.networks === undefined ? undefined : Object.fromEntries(Object.entries(spec.networks).map(([k, n]) => [k, ref(`networks[${JSON.stringify(k)}]`, 'Network', n)]));
    const deploymentSpec = {
      name: spec.name,
      annotation: spec.annotation,
      accept_all_EULA: spec.acceptAllEula ?? false,
      default_datastore_id: ref('datastore', 'Datastore', spec.datastore),
      network_mappings: networks,
    };
    const result = await this.rest.post<DeploymentResult>(`${OVF}/${seg(itemId)}`, {
      signal: spec.signal,
      timeoutMs: spec.timeoutMs ?? DEPLOY_TIMEOUT_MS,
      query: { action: 'deploy' },
      body: { target, deployment_spec: deploymentSpec },
    });
    const r = result?.resource_id;
    const resource = typeof r?.type === 'string' && typeof r.id === 'string' ? { type: r.type, value: r.id } : undefined;
    if (result?.succeeded !== true) {
      const errors = Array.isArray(result?.error?.errors) ? result.error.errors : [];
      const messages = errors.flatMap((e) => {
        const own = typeof e?.message?.default_message === 'string' ? [e.message.default_message] : [];
        const inner = Array.isArray(e?.error?.messages) ? e.error.messages.map((m) => m?.default_message).filter((m): m is string => typeof m === 'string') : [];
        return [...own, ...inner];
      });
      const categories = errors.map((e) => e?.category).filter((c): c is string => typeof c === 'string');
      throw new DeployError(itemId, messages, categories, resource);
    }
    if (!resource || !isManagedType(resource.type, 'VirtualMachine')) {
      throw new DeployError(itemId, [], [], resource, resource ? `the server deployed a ${resource.type}, not a VirtualMachine` : 'the server answered success without the new VM');
    }
    return resource as ManagedObjectReference<'VirtualMachine'>;
  }
}
