// What the inventory layer's unit specs share of a fake InventoryClient: the service content's
// references, the record of the calls that reached the "server" and of the warnings logged;
// each spec scripts answers.
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
  /** What was logged with `warn`: the message and its data. */
  readonly warnings: Array<{ message: string; data: Record<string, unknown> | undefined }> = [];
  readonly logger = {
    debug: (): void => undefined,
    info: (): void => undefined,
    warn: (message: string, data?: Record<string, unknown>): void => {
      this.warnings.push({ message, data });
    },
    error: (): void => undefined,
  };

  /** The clean-up calls among them, in order. */
  cleanup(): string[] {
    return this.calls.filter((c) => /^(Destroy|Cancel)/.test(c));
  }
}
