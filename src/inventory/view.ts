// ContainerViews: the one way the inventory layer selects "every object of a type under a
// folder". A view lives on the server until destroyed (vCenter keeps it, and its memory, for
// the session's life), so it is only ever used inside withContainerView.
import type { ManagedObjectReference, ObjectSpec, TraversalSpec } from '../generated/types.ts';
import { release, type InventoryClient } from './client.ts';

/** Selects the objects a view holds, not the view itself. */
export function viewObjectSpec(view: ManagedObjectReference): ObjectSpec {
  const toView: TraversalSpec = { _typeName: 'TraversalSpec', name: 'view', type: 'ContainerView', path: 'view', skip: false };
  return { obj: view, skip: true, selectSet: [toView] };
}

/** Runs `use` with a recursive ContainerView of `types` under `root`, destroyed afterwards, also on error or abort. */
export async function withContainerView<R>(
  client: InventoryClient,
  root: ManagedObjectReference<'ManagedEntity'>,
  types: readonly string[],
  signal: AbortSignal | undefined,
  use: (view: ManagedObjectReference) => Promise<R>,
): Promise<R> {
  const view = await createView(client, root, types, signal);
  let ok = false;
  try {
    const r = await use(view);
    ok = true;
    return r;
  } finally {
    await destroyView(client, view, !ok);
  }
}

export function createView(client: InventoryClient, root: ManagedObjectReference<'ManagedEntity'>, types: readonly string[], signal: AbortSignal | undefined): Promise<ManagedObjectReference> {
  return client.call('CreateContainerView', client.serviceContent.viewManager!, { container: root, type: [...types], recursive: true }, { signal });
}

/** Never under the caller's signal: an aborted operation must still free its view. */
export function destroyView(client: InventoryClient, view: ManagedObjectReference, quiet: boolean): Promise<void> {
  return release(() => client.call('DestroyView', view, {}), quiet);
}
