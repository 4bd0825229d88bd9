// The vAPI commands (tags, library, rest), on the client's vAPI REST access (src/vapi/).
import type { ManagedObjectReference, RestMethod } from '../index.ts';
import { UsageError } from './args.ts';
import { NotFoundError, resolve, type Context } from './commands.ts';
import { printTable, toJson } from './output.ts';

export async function tags(ctx: Context): Promise<void> {
  const [action, ...rest] = ctx.args.positionals;
  const t = ctx.client.tags;
  const o = { signal: ctx.signal };
  if (action === 'ls') {
    if (rest.length > 1) throw new UsageError('tags ls takes at most one category (id or name)');
    const [categories, list] = await Promise.all([t.categories(o), t.tags(rest[0], o)]);
    const names = new Map(categories.map((c) => [c.id, c.name]));
    const rows = list.map((tag) => [names.get(tag.category_id) ?? tag.category_id, tag.name, tag.id, tag.description] as const)
      .sort((x, y) => `${x[0]}/${x[1]}`.localeCompare(`${y[0]}/${y[1]}`));
    printTable(ctx.out, ['CATEGORY', 'TAG', 'ID', 'DESCRIPTION'], rows, () => list.map((tag) => ({ ...tag, category: names.get(tag.category_id) })));
    return;
  }
  if (action === 'attach' || action === 'detach') {
    const [tag, ...targets] = rest;
    if (tag === undefined || targets.length === 0) throw new UsageError(`tags ${action} needs a tag (id or category/name) and at least one object`);
    const refs: ManagedObjectReference[] = [];
    for (const target of targets) refs.push(await resolve(ctx, target, `tags ${action}`));
    const id = (await t.tag(tag, o)).id;
    await (action === 'attach' ? t.attach(id, refs, o) : t.detach(id, refs, o));
    printTable(ctx.out, ['TAG', 'OBJECT', 'STATE'], refs.map((r) => [tag, `${r.type}:${r.value}`, action === 'attach' ? 'attached' : 'detached']), () => ({ tag: id, objects: refs, [action === 'attach' ? 'attached' : 'detached']: true }));
    return;
  }
  throw new UsageError('tags takes ls [CATEGORY], attach TAG OBJECT... or detach TAG OBJECT...');
}

export async function library(ctx: Context): Promise<void> {
  const [action, name, ...extra] = ctx.args.positionals;
  if (action === 'deploy') return deploy(ctx, name, extra);
  if (action !== 'ls' || extra.length > 0) throw new UsageError('library takes ls [LIBRARY] or deploy ITEM NAME pool=POOL [folder=FOLDER] [host=HOST] [datastore=DATASTORE]');
  const l = ctx.client.library;
  const o = { signal: ctx.signal };
  if (name === undefined) {
    const list = await l.list(o);
    printTable(ctx.out, ['NAME', 'TYPE', 'ID'], list.map((x) => [x.name, x.type, x.id] as const).sort((x, y) => x[0].localeCompare(y[0])), () => list);
    return;
  }
  const items = await l.items(name, o);
  printTable(ctx.out, ['NAME', 'TYPE', 'SIZE', 'ID'], items.map((x) => [x.name, x.type, x.size, x.id] as const).sort((x, y) => x[0].localeCompare(y[0])), () => items);
}

const PLACEMENT = ['pool', 'folder', 'host', 'datastore'] as const;
type Placement = (typeof PLACEMENT)[number];

/** library deploy ITEM NAME pool=… [folder=…] [host=…] [datastore=…]: ITEM is an item id or LIBRARY/ITEM. */
async function deploy(ctx: Context, item: string | undefined, rest: string[]): Promise<void> {
  const usage = 'library deploy takes ITEM (an id or LIBRARY/ITEM), the new VM\'s NAME and pool=POOL [folder=FOLDER] [host=HOST] [datastore=DATASTORE] (Type:value, inventory paths or ids)';
  const [vmName, ...pairs] = rest;
  if (item === undefined || vmName === undefined || vmName.includes('=')) throw new UsageError(usage);
  const given = new Map<Placement, string>();
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const key = pair.slice(0, eq) as Placement;
    if (eq <= 0 || !PLACEMENT.includes(key) || given.has(key)) throw new UsageError(`${usage}; not: ${pair}`);
    given.set(key, pair.slice(eq + 1));
  }
  if (!given.has('pool')) throw new UsageError(usage);
  const placement: Partial<Record<Placement, ManagedObjectReference>> = {};
  for (const [key, target] of given) {
    placement[key] = await resolve(ctx, target, `library deploy ${key}=`);
  }
  const l = ctx.client.library;
  const o = { signal: ctx.signal };
  let itemId = item;
  const slash = item.lastIndexOf('/');
  if (slash > 0) {
    const name = item.slice(slash + 1);
    const found = (await l.items(item.slice(0, slash), o)).filter((i) => i.name === name);
    if (found.length === 0) throw new NotFoundError(`no item named ${JSON.stringify(name)} in library ${JSON.stringify(item.slice(0, slash))}`);
    if (found.length > 1) throw new UsageError(`${found.length} items are named ${JSON.stringify(name)}: give the item's id`);
    itemId = found[0]!.id;
  }
  let vm: ManagedObjectReference<'VirtualMachine'>;
  try {
    vm = await l.deploy(itemId, { name: vmName, ...(placement as { pool: ManagedObjectReference<'ResourcePool'> }), signal: ctx.signal });
  } catch (err) {
    // A placement of the wrong type (a host given as pool=): deploy refuses it before sending.
    if (err instanceof TypeError) throw new UsageError(err.message);
    throw err;
  }
  printTable(ctx.out, ['VM', 'NAME'], [[`${vm.type}:${vm.value}`, vmName]], () => ({ vm, name: vmName, item: itemId }));
}

const METHODS: readonly RestMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

export async function rest(ctx: Context): Promise<void> {
  const [verb, target, body, ...extra] = ctx.args.positionals;
  const method = verb?.toUpperCase() as RestMethod | undefined;
  if (!method || !METHODS.includes(method) || target === undefined || extra.length > 0) {
    throw new UsageError('rest takes METHOD PATH [JSON], e.g. rest GET /api/cis/tagging/category');
  }
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  const query: Record<string, string[]> = {};
  if (q !== -1) for (const [k, v] of new URLSearchParams(target.slice(q + 1))) (query[k] ??= []).push(v);
  let parsed: unknown;
  if (body !== undefined) {
    try {
      parsed = JSON.parse(body);
    } catch (err) {
      throw new UsageError(`the body is not JSON: ${(err as Error).message}`);
    }
  }
  let value: unknown;
  try {
    value = await ctx.client.rest.request(method, path, { query, ...(parsed !== undefined && { body: parsed }), signal: ctx.signal });
  } catch (err) {
    if (err instanceof TypeError) throw new UsageError(err.message);
    throw err;
  }
  if (value !== undefined) ctx.out.write(`${toJson(value, 2)}\n`);
}
