// Typed construction of vim25 data objects, for the places where a subtype goes into a field
// declared as its base type (deviceChange, backing, selectSet, anyType values).
import type { DataTypes } from './generated/types.ts';

/** `dataObject('VirtualDisk', { key: -1, ... })` -> a VirtualDisk with `_typeName` set. */
export function dataObject<N extends keyof DataTypes>(typeName: N, fields: Omit<DataTypes[N], '_typeName'>): DataTypes[N] {
  return { ...fields, _typeName: typeName } as DataTypes[N];
}
