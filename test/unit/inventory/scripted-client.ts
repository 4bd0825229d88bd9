// What the inventory layer's unit specs share of a fake InventoryClient: the service content's
// references and the record of the calls that reached the "server"; each spec scripts answers.
import { EventEmitter } from 'node:events';
import type { ManagedTypeName } from '../../../src/generated/managed.ts';
import type { ManagedObjectReference, ServiceContent } from '../../../src/generated/types.ts';

export const ref = <T extends ManagedTypeName>(type: T, value: string): ManagedObjectReference<T> => ({ type, value }) as unknown as ManagedObjectReference<T>;

export class ScriptedInventoryClient extends EventEmitter {
  readonly apiVersion = '8.0.2.0';
  readonly serviceContent = {
    propertyCollector: ref('PropertyCollector', 'propertyCollector'),
    viewManager: ref('ViewManager', 'ViewManager'),
    rootFolder: ref('Folder', 'group-d1'),
  } as ServiceContent;
  /** `${method} ${_this.value}` of each call that reached the server, in order. */
  readonly calls: string[] = [];

  /** The clean-up calls among them, in order. */
  cleanup(): string[] {
    return this.calls.filter((c) => /^(Destroy|Cancel)/.test(c));
  }
}
