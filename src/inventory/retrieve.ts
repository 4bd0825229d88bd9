// Reading properties of many objects: every object of a type under a folder, through a
// ContainerView, every page followed (a RetrievePropertiesEx answer without its
// ContinueRetrievePropertiesEx pages is silently incomplete), the view destroyed afterwards.
import { abortedOr, throwIfAborted } from '../abort.ts';
import type { ManagedObjectReference as MoRef, PropertyFilterSpec, RetrieveResult } from '../generated/types.ts';
import { quietly } from './cleanup.ts';
import { traced, tracedPages } from './observe.ts';
import type { InventoryClient } from './inventory-client.ts';
import { SessionWatch } from './session-watch.ts';
import { SessionChangedError } from './errors.ts';
import { checkPropertyPaths, type ManagedObjectReference, type ManagedTypeName, type PropertyPath } from './typed-model.ts';
import { toRow, type Row } from './rows.ts';
import { createView, destroyView, viewObjectSpec } from './view.ts';

export interface RetrieveOptions {
  /** The folder (or other container) to search under. Default: the root folder. */
  root?: MoRef<'ManagedEntity'> | undefined;
  signal?: AbortSignal | undefined;
}

export interface RetrievePagesOptions extends RetrieveOptions {
  /** Objects per page (RetrieveOptions.maxObjects). Default 1000. */
  pageSize?: number | undefined;
}

const DEFAULT_PAGE_SIZE = 1000;

/**
 * Pages of rows, one RetrievePropertiesEx / ContinueRetrievePropertiesEx answer each, so memory
 * stays bounded by the page size. Leaving the loop early cancels the rest on the server
 * (CancelRetrievePropertiesEx) and destroys the view.
 */
export function retrievePages<T extends ManagedTypeName, P extends PropertyPath<T>>(
  client: InventoryClient,
  type: T,
  paths: readonly P[],
  options: RetrievePagesOptions = {},
): AsyncGenerator<Array<Row<T, P>>, void, undefined> {
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new RangeError(`pageSize must be a positive integer, not ${String(pageSize)}`);
  return tracedPages({ operation: 'retrievePages', type }, pages(client, type, paths, { ...options, maxObjects: pageSize }));
}

async function* pages<T extends ManagedTypeName, P extends PropertyPath<T>>(
  client: InventoryClient,
  type: T,
  paths: readonly P[],
  options: RetrieveOptions & { maxObjects: number | undefined },
): AsyncGenerator<Array<Row<T, P>>, void, undefined> {
  checkPropertyPaths(type, paths, client.apiVersion);
  const { signal, maxObjects } = options;
  const pc = client.serviceContent.propertyCollector;
  const session = new SessionWatch(client);
  // A re-login between two pages loses the view and the token; the rows handed out stay valid.
  const sameSession = async <R>(call: () => Promise<R>): Promise<R> => {
    const generation = session.generation;
    try {
      return await call();
    } catch (err) {
      if (session.generation !== generation) throw new SessionChangedError('the session was re-established while pages were read: start over', { cause: err });
      throw err;
    }
  };
  // Each with the session it belongs to (a call retried after a re-login made it on the new one).
  let view: { ref: MoRef; generation: number } | undefined;
  let token: { value: string; generation: number } | undefined;
  try {
    view = { ref: await createView(client, options.root ?? client.serviceContent.rootFolder, [type], signal), generation: session.generation };
    const spec: PropertyFilterSpec = { objectSet: [viewObjectSpec(view.ref)], propSet: [{ type, pathSet: [...paths] }] };
    let res: RetrieveResult | undefined = await sameSession(() =>
      client.call('RetrievePropertiesEx', pc, { specSet: [spec], options: maxObjects === undefined ? {} : { maxObjects } }, { signal }));
    for (;;) {
      token = res?.token === undefined ? undefined : { value: res.token, generation: session.generation };
      const objects = res?.objects ?? [];
      // Only the rows stay referenced while the consumer holds them and the next page arrives:
      // a generator keeps its locals, so the decoded answer is dropped explicitly.
      res = undefined;
      let rows = objects.map((o) => toRow<T, P>('RetrievePropertiesEx', o, paths));
      objects.length = 0;
      if (rows.length > 0) yield rows;
      rows = [];
      if (token === undefined) break;
      throwIfAborted(signal);
      const t = token.value;
      res = await sameSession(() => client.call('ContinueRetrievePropertiesEx', pc, { token: t }, { signal }));
    }
  } catch (err) {
    throw abortedOr(signal, err);
  } finally {
    // The token and the view of a session that ended died with it; on this one they must not
    // outlive the read, which an abort or an abandoned loop ends too (so: not under `signal`).
    // A failed clean-up is logged, and never costs the caller rows already read.
    const live = session.generation;
    session.close();
    if (token?.generation === live) await quietly(() => client.call('CancelRetrievePropertiesEx', pc, { token: token!.value }));
    if (view?.generation === live) await destroyView(client, view.ref);
  }
}

/** retrieve()'s signature, which the finder's retrieveTagged keeps with options of its own (a tag). */
export type Retrieve<O extends RetrieveOptions> = <T extends ManagedTypeName, P extends PropertyPath<T>>(
  client: InventoryClient,
  type: T,
  paths: readonly P[],
  options?: O,
) => Promise<Array<Row<T, P>>>;

/** Every object of `type` under `root`, one row each; starts over once if the session is re-established meanwhile. */
export const retrieve: Retrieve<RetrieveOptions> = async (client, type, paths, options = {}) => {
  return traced({ operation: 'retrieve', type }, () => retrieveAll(client, type, paths, options));
};

async function retrieveAll<T extends ManagedTypeName, P extends PropertyPath<T>>(
  client: InventoryClient,
  type: T,
  paths: readonly P[],
  options: RetrieveOptions,
): Promise<Array<Row<T, P>>> {
  for (let attempt = 0; ; attempt++) {
    const rows: Array<Row<T, P>> = [];
    try {
      // No maxObjects: the server picks its page size, and every page is followed.
      for await (const page of pages(client, type, paths, { ...options, maxObjects: undefined })) {
        for (const row of page) rows.push(row);
      }
      return rows;
    } catch (err) {
      if (attempt === 0 && err instanceof SessionChangedError) continue;
      throw err;
    }
  }
}

/** The properties of one object (ManagedObjectNotFound when it does not exist). */
// T is read off the reference itself (its `type`), so a reference typed by any managed type,
// a Task reference with its result brand included, types the paths and the row.
export async function retrieveOne<T extends ManagedTypeName, P extends PropertyPath<T>>(
  client: InventoryClient,
  ref: ManagedObjectReference & { type: T },
  paths: readonly P[],
  options: { signal?: AbortSignal | undefined } = {},
): Promise<Row<T, P>> {
  checkPropertyPaths(ref.type, paths, client.apiVersion);
  const res = await client.call('RetrievePropertiesEx', client.serviceContent.propertyCollector, {
    specSet: [{ objectSet: [{ obj: ref }], propSet: [{ type: ref.type, pathSet: [...paths] }] }],
    options: {},
  }, { signal: options.signal }).catch((err: unknown) => {
    throw abortedOr(options.signal, err);
  });
  const content = res?.objects[0] ?? { obj: ref };
  return toRow<T, P>('RetrievePropertiesEx', content, paths);
}
