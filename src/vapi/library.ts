// Content libraries (vAPI content/library, the /api shapes of vSphere 7.0 U2+), typed, on the
// client's RestClient. A library is named by its id or its name.
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

const BASE = '/api/content/library';
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
}
