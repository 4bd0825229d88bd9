// The typed managed-object model the inventory layer is written against: generated from the
// managed-object model (src/generated/managed.ts, paths.ts) with its run-time checks.
import type { ManagedTypeName } from '../generated/managed.ts';
import type { PathValue as ValueAtPath, PropertyPath } from '../generated/paths.ts';
import { isManagedSubtype } from '../managed/checks.ts';

export type { ManagedTypeName, ManagedObjectTypes, TaskRef, TaskResultOf } from '../generated/managed.ts';
export type { PropertyPath } from '../generated/paths.ts';

/**
 * The value a row holds for path P of type T: the layer's generic code passes paths as strings
 * (unknown), callers' literals get their type.
 */
export type RowValue<T extends ManagedTypeName, P extends string> = P extends PropertyPath<T> ? ValueAtPath<T, P> : unknown;
export type { ManagedObjectReference } from '../generated/types.ts';
export { checkPropertyPaths } from '../managed/checks.ts';
export { faultFromLocalized } from '../soap/faults.ts';

/** True when a managed object of type `actual` is a `wanted` (the type itself or a subtype). */
export function isManagedType(actual: string, wanted: ManagedTypeName): boolean {
  return actual === wanted || isManagedSubtype(actual, wanted);
}
