// The typed managed-object model the inventory layer is written against. Issue #17 generates
// these from the managed-object model; until that lands they are loose stand-ins under the same
// names, so that at merge this file becomes re-exports and every inventory signature tightens
// (property paths checked, values typed by path, task results typed by method) without other
// edits. Each stand-in says what replaces it.
import { vimFault } from '../soap/faults.ts';
import { ValidationError, type VimFault } from '../errors.ts';
import type { LocalizedMethodFault, ManagedObjectReference as MoRef } from '../generated/types.ts';

/** #17: the union of managed type names ('VirtualMachine' | 'HostSystem' | …). */
export type ManagedTypeName = string;

/** #17: a reference whose `type` is T (a subtype's reference is assignable). */
export type ManagedObjectReference<T extends ManagedTypeName = ManagedTypeName> = MoRef & { type: T };

/** #17: managed type name -> its properties interface. */
export type ManagedObjectTypes = Record<ManagedTypeName, Record<string, unknown>>;

/** #17: the dotted property paths of T ('name' | 'runtime.powerState' | …). */
export type PropertyPath<T extends ManagedTypeName> = string;

/** #17: the type of the value at path P of T. */
export type PathValue<T extends ManagedTypeName, P extends string> = unknown;

/** #17: a Task reference that knows its result type R. */
export type TaskRef<R = unknown> = MoRef;

/** #17: the result type of a TaskRef (or of a task method's name). */
export type TaskResultOf<X> = unknown;

/** #17: a VimFault (its ancestors included) from a TaskInfo.error or a missingSet entry. */
export function faultFromLocalized(method: string, localized: LocalizedMethodFault): VimFault {
  const fault = (localized.fault ?? { _typeName: 'MethodFault' }) as Record<string, unknown> & { _typeName?: string };
  return vimFault(method, { ...fault, _typeName: fault._typeName ?? 'MethodFault' }, localized.localizedMessage ?? '');
}

/**
 * #17: checks each path against T's properties at `apiVersion`. The stand-in only refuses what
 * no server accepts (an empty or malformed path), before anything is sent.
 */
export function checkPropertyPaths(type: ManagedTypeName, paths: readonly string[], _apiVersion: string): void {
  if (typeof type !== 'string' || !/^[A-Za-z]\w*$/.test(type)) throw new ValidationError('RetrievePropertiesEx', 'type', `not a managed type name: ${String(type)}`);
  paths.forEach((p, i) => {
    if (typeof p !== 'string' || !/^[A-Za-z_]\w*(\.[A-Za-z_]\w*|\["[^"]*"\])*$/.test(p)) {
      throw new ValidationError('RetrievePropertiesEx', `pathSet[${i}]`, `not a property path of ${type}: ${JSON.stringify(p)}`);
    }
  });
}

// The managed types that have subtypes an inventory search meets (#17 knows the whole hierarchy).
const MANAGED_SUBTYPES: Record<string, readonly string[]> = {
  ManagedEntity: ['Folder', 'Datacenter', 'ComputeResource', 'ClusterComputeResource', 'HostSystem', 'ResourcePool', 'VirtualApp',
    'VirtualMachine', 'Datastore', 'StoragePod', 'Network', 'OpaqueNetwork', 'DistributedVirtualPortgroup', 'DistributedVirtualSwitch',
    'VmwareDistributedVirtualSwitch'],
  ComputeResource: ['ClusterComputeResource'],
  ResourcePool: ['VirtualApp'],
  Folder: ['StoragePod'],
  Network: ['OpaqueNetwork', 'DistributedVirtualPortgroup'],
  DistributedVirtualSwitch: ['VmwareDistributedVirtualSwitch'],
};

/** #17: true when a managed object of type `actual` is a `wanted` (the type itself or a subtype). */
export function isManagedType(actual: string, wanted: ManagedTypeName): boolean {
  return actual === wanted || (MANAGED_SUBTYPES[wanted]?.includes(actual) ?? false);
}
