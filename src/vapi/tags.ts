// vSphere tags (vAPI cis/tagging, the /api shapes of vSphere 7.0 U2+), typed, on the client's
// RestClient. A category or tag is named by its id ('urn:vmomi:InventoryServiceTag:…') or by
// name: a category by its name, a tag by 'category/tag' (or by its bare name when only one
// category has a tag of that name).
import type { ManagedObjectReference } from '../generated/types.ts';
import { restOf, RestError, type RestClient } from './rest.ts';

export type TagCardinality = 'SINGLE' | 'MULTIPLE';

export interface TagCategory {
  id: string;
  name: string;
  description: string;
  cardinality: TagCardinality;
  /** Object types its tags can be attached to (empty: any). */
  associable_types: string[];
  used_by: string[];
}

export interface Tag {
  id: string;
  name: string;
  description: string;
  /** The category's id (as the server names it). */
  category_id: string;
  /** The same, by this library's naming. */
  categoryId: string;
  used_by: string[];
}

export interface CreateCategoryOptions {
  name: string;
  description?: string;
  /** Default MULTIPLE. */
  cardinality?: TagCardinality;
  /** vim25 type names, e.g. ['VirtualMachine', 'HostSystem']; default: any type. */
  associableTypes?: readonly string[];
}

export interface CreateTagOptions {
  name: string;
  /** The category's id or name (or give categoryId). */
  category?: string;
  /** The category's id (or name): the same as category. */
  categoryId?: string;
  description?: string;
}

export interface TagCallOptions {
  signal?: AbortSignal | undefined;
  timeoutMs?: number | undefined;
}

/** An object as vAPI names it: a vim25 reference's type and value. */
export type ObjectRef = Pick<ManagedObjectReference, 'type' | 'value'>;

export interface ObjectTags {
  ref: ObjectRef;
  /** The same as ref. */
  object: ObjectRef;
  tagIds: string[];
  /** The tags themselves, in tagIds' order (one that was deleted meanwhile is left out). */
  tags: Tag[];
}

export interface TagObjects {
  tagId: string;
  objects: ObjectRef[];
}

const BASE = '/api/cis/tagging';
const ID = /^urn:vmomi:/;
/** GETs of single objects in flight at once when a list is expanded. */
const FAN_OUT = 8;

const clients = new WeakMap<object, TagsClient>();

/** The client's tagging API (one per client). */
export function tagsOf(client: object): TagsClient {
  let tags = clients.get(client);
  if (!tags) clients.set(client, (tags = new TagsClient(restOf(client))));
  return tags;
}

const dynamicId = (ref: ObjectRef): { type: string; id: string } => {
  if (typeof ref?.type !== 'string' || typeof ref.value !== 'string') throw new TypeError('a tagged object is a managed object reference { type, value }');
  return { type: ref.type, id: ref.value };
};
const fromDynamicId = (d: { type: string; id: string }): ObjectRef => ({ type: d.type as ObjectRef['type'], value: d.id });
const seg = (id: string): string => encodeURIComponent(id);

/** A tag as the server answers it, with categoryId beside category_id. */
const asTag = (t: Omit<Tag, 'categoryId'>): Tag => ({ ...t, categoryId: t.category_id });

function notFound(what: string, path: string): RestError {
  return new RestError('GET', path, 404, 'NOT_FOUND', [`no ${what}`]);
}

/** f over every item, FAN_OUT at a time; the results in the items' order (also library.ts's). */
export async function fanOut<T, R>(items: readonly T[], f: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(FAN_OUT, items.length) }, worker));
  return out;
}

export class TagsClient {
  /** @internal tagsOf(client) makes it. */
  constructor(private readonly rest: RestClient) {}

  async categories(options: TagCallOptions = {}): Promise<TagCategory[]> {
    const ids = await this.rest.get<string[]>(`${BASE}/category`, options);
    return fanOut(ids ?? [], (id) => this.rest.get<TagCategory>(`${BASE}/category/${seg(id)}`, options));
  }

  /** A category by id or name. */
  async category(idOrName: string, options: TagCallOptions = {}): Promise<TagCategory> {
    if (ID.test(idOrName)) return this.rest.get<TagCategory>(`${BASE}/category/${seg(idOrName)}`, options);
    const found = (await this.categories(options)).filter((c) => c.name === idOrName);
    if (found.length === 0) throw notFound(`category named ${JSON.stringify(idOrName)}`, `${BASE}/category`);
    return found[0]!;
  }

  async createCategory(spec: CreateCategoryOptions, options: TagCallOptions = {}): Promise<TagCategory> {
    if (typeof spec?.name !== 'string' || spec.name === '') throw new TypeError('createCategory needs a name');
    const id = await this.rest.post<string>(`${BASE}/category`, {
      ...options,
      body: { name: spec.name, description: spec.description ?? '', cardinality: spec.cardinality ?? 'MULTIPLE', associable_types: [...(spec.associableTypes ?? [])] },
    });
    return this.rest.get<TagCategory>(`${BASE}/category/${seg(id)}`, options);
  }

  async deleteCategory(idOrName: string, options: TagCallOptions = {}): Promise<void> {
    const { id } = await this.category(idOrName, options);
    await this.rest.delete(`${BASE}/category/${seg(id)}`, options);
  }

  /** Every tag, or the tags of one category (by id or name). */
  async tags(category?: string, options: TagCallOptions = {}): Promise<Tag[]> {
    let ids: string[];
    if (category === undefined) ids = (await this.rest.get<string[]>(`${BASE}/tag`, options)) ?? [];
    else {
      const categoryId = ID.test(category) ? category : (await this.category(category, options)).id;
      ids = (await this.rest.post<string[]>(`${BASE}/tag/category/${seg(categoryId)}`, { ...options, query: { action: 'list-tags-for-category' } })) ?? [];
    }
    return fanOut(ids, async (id) => asTag(await this.rest.get<Tag>(`${BASE}/tag/${seg(id)}`, options)));
  }

  /** A tag by id, 'category/tag', or a name only one category has. */
  async tag(ref: string, options: TagCallOptions = {}): Promise<Tag> {
    if (typeof ref !== 'string' || ref === '') throw new TypeError('a tag is named by its id or by name');
    if (ID.test(ref)) return asTag(await this.rest.get<Tag>(`${BASE}/tag/${seg(ref)}`, options));
    const slash = ref.indexOf('/');
    if (slash >= 0) {
      const name = ref.slice(slash + 1);
      const found = (await this.tags(ref.slice(0, slash), options)).filter((t) => t.name === name);
      if (found.length === 0) throw notFound(`tag named ${JSON.stringify(ref)}`, `${BASE}/tag`);
      return found[0]!;
    }
    const found = (await this.tags(undefined, options)).filter((t) => t.name === ref);
    if (found.length === 0) throw notFound(`tag named ${JSON.stringify(ref)}`, `${BASE}/tag`);
    if (found.length > 1) throw new RestError('GET', `${BASE}/tag`, 400, 'INVALID_ARGUMENT', [`${found.length} categories have a tag named ${JSON.stringify(ref)}: name it as category/tag`]);
    return found[0]!;
  }

  async createTag(spec: CreateTagOptions, options: TagCallOptions = {}): Promise<Tag> {
    if (typeof spec?.name !== 'string' || spec.name === '') throw new TypeError('createTag needs a name');
    const category = spec.categoryId ?? spec.category;
    if (typeof category !== 'string' || category === '') throw new TypeError('createTag needs a category (category or categoryId: its id or name)');
    if (spec.category !== undefined && spec.categoryId !== undefined && spec.category !== spec.categoryId) throw new TypeError('createTag takes category or categoryId, not two different ones');
    const categoryId = ID.test(category) ? category : (await this.category(category, options)).id;
    const id = await this.rest.post<string>(`${BASE}/tag`, { ...options, body: { name: spec.name, description: spec.description ?? '', category_id: categoryId } });
    return asTag(await this.rest.get<Tag>(`${BASE}/tag/${seg(id)}`, options));
  }

  async deleteTag(ref: string, options: TagCallOptions = {}): Promise<void> {
    const id = await this.#tagId(ref, options);
    await this.rest.delete(`${BASE}/tag/${seg(id)}`, options);
  }

  /** Attaches the tag to each object, in one request. */
  async attach(tag: string, refs: readonly ObjectRef[], options: TagCallOptions = {}): Promise<void> {
    const id = await this.#tagId(tag, options);
    await this.rest.post(`${BASE}/tag-association/${seg(id)}`, { ...options, query: { action: 'attach-tag-to-multiple-objects' }, body: { object_ids: refs.map(dynamicId) } });
  }

  /** Detaches the tag from each object, in one request. */
  async detach(tag: string, refs: readonly ObjectRef[], options: TagCallOptions = {}): Promise<void> {
    const id = await this.#tagId(tag, options);
    await this.rest.post(`${BASE}/tag-association/${seg(id)}`, { ...options, query: { action: 'detach-tag-from-multiple-objects' }, body: { object_ids: refs.map(dynamicId) } });
  }

  /**
   * The tags attached to each object: one request for all the objects
   * (list-attached-tags-on-objects), then one GET per distinct tag among them.
   */
  async of(refs: readonly ObjectRef[], options: TagCallOptions = {}): Promise<ObjectTags[]> {
    const answer = await this.rest.post<{ object_id: { type: string; id: string }; tag_ids?: string[] }[]>(`${BASE}/tag-association`, {
      ...options,
      query: { action: 'list-attached-tags-on-objects' },
      body: { object_ids: refs.map(dynamicId) },
    });
    const entries = (answer ?? []).map((a) => ({ ref: fromDynamicId(a.object_id), tagIds: a.tag_ids ?? [] }));
    const distinct = [...new Set(entries.flatMap((e) => e.tagIds))];
    const found = await fanOut(distinct, (id) =>
      this.tag(id, options).catch((err: unknown) => {
        // Deleted between the two requests: the association list still names it.
        if (err instanceof RestError && err.errorType === 'NOT_FOUND') return undefined;
        throw err;
      }),
    );
    const byId = new Map(found.flatMap((t) => (t ? [[t.id, t] as const] : [])));
    return entries.map((e) => ({ ref: e.ref, object: e.ref, tagIds: e.tagIds, tags: e.tagIds.flatMap((id) => byId.get(id) ?? []) }));
  }

  /** The objects each tag (id or name) is attached to, in one request (list-attached-objects-on-tags). */
  async objects(tags: readonly string[], options: TagCallOptions = {}): Promise<TagObjects[]> {
    const ids = await Promise.all(tags.map((t) => this.#tagId(t, options)));
    const answer = await this.rest.post<{ tag_id: string; object_ids?: { type: string; id: string }[] }[]>(`${BASE}/tag-association`, {
      ...options,
      query: { action: 'list-attached-objects-on-tags' },
      body: { tag_ids: ids },
    });
    return (answer ?? []).map((a) => ({ tagId: a.tag_id, objects: (a.object_ids ?? []).map(fromDynamicId) }));
  }

  async #tagId(ref: string, options: TagCallOptions): Promise<string> {
    return ID.test(ref) ? ref : (await this.tag(ref, options)).id;
  }
}
