// ContainerViews: the one way the inventory layer selects "every object of a type under a
// folder". A view lives on the server until destroyed (vCenter keeps it, and its memory, for
// the session's life), so whoever creates one destroys it in a finally (retrieve.ts; watch.ts
// through updates.ts, with its collector).
import type { ManagedObjectReference, ObjectSpec, TraversalSpec } from '../generated/types.ts';
import { destroy, lostCreate } from './cleanup.ts';
import type { InventoryClient } from './inventory-client.ts';

/** Selects the objects a view holds, not the view itself. */
export function viewObjectSpec(view: ManagedObjectReference): ObjectSpec {
  const toView: TraversalSpec = { _typeName: 'TraversalSpec', name: 'view', type: 'ContainerView', path: 'view', skip: false };
  return { obj: view, skip: true, selectSet: [toView] };
}

export function createView(client: InventoryClient, root: ManagedObjectReference<'ManagedEntity'>, types: readonly string[], signal: AbortSignal | undefined): Promise<ManagedObjectReference> {
  return client.call('CreateContainerView', client.serviceContent.viewManager!, { container: root, type: [...types], recursive: true }, { signal }).catch((err: unknown) => {
    throw lostCreate(client, 'CreateContainerView', 'ContainerView', err);
  });
}

/** Never under the caller's signal: an aborted operation must still free its view. Never throws (see destroy). */
export function destroyView(client: InventoryClient, view: ManagedObjectReference): Promise<void> {
  return destroy(client, 'DestroyView', view);
}
