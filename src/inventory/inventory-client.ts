// What the inventory layer needs of a client, and nothing more: typed calls, the service
// content, the server's version, the `reauthenticated` event and, if it has one, a logger.
// VimClient satisfies it as it is; the inventory modules never reach into its session, invoker
// or transport.
import type { MethodName, VimMethods } from '../generated/methods.ts';
import type { ManagedObjectReference, ServiceContent } from '../generated/types.ts';
import type { Logger } from '../logger.ts';
import type { CallOptions } from '../soap/pipeline.ts';

/** A method's arguments, then call options; the arguments may be left out when every one is optional. */
export type InventoryCallArgs<M extends MethodName> = {} extends VimMethods[M]['args']
  ? [args?: VimMethods[M]['args'], options?: CallOptions]
  : [args: VimMethods[M]['args'], options?: CallOptions];

export interface InventoryClient {
  readonly serviceContent: ServiceContent;
  readonly apiVersion: string;
  call<M extends MethodName>(method: M, _this: ManagedObjectReference, ...rest: InventoryCallArgs<M>): Promise<VimMethods[M]['result']>;
  on(event: 'reauthenticated', listener: () => void): unknown;
  off(event: 'reauthenticated', listener: () => void): unknown;
  /** Where what an operation cannot report through its result goes (a clean-up that failed); none: not logged. */
  readonly logger?: Logger | undefined;
}
