// What the inventory layer needs of a client, and nothing more: typed calls, the service
// content, the server's version, the `reauthenticated` event and, if it has them, a logger and
// the tagging API (for the tag filter). VimClient satisfies it as it is; the inventory modules
// never reach into its session, invoker or transport.
import type { MethodName, VimMethods } from '../generated/methods.ts';
import type { ManagedObjectReference, ServiceContent } from '../generated/types.ts';
import type { Logger } from '../logger.ts';
import type { CallOptions } from '../soap/pipeline.ts';

/** A method's arguments, then call options; the arguments may be left out when every one is optional. */
export type InventoryCallArgs<M extends MethodName> = {} extends VimMethods[M]['args']
  ? [args?: VimMethods[M]['args'], options?: CallOptions]
  : [args: VimMethods[M]['args'], options?: CallOptions];

/** What the tag filter of find and retrieve needs of the client's tagging API (VimClient's `tags`). */
export interface InventoryTags {
  /** The tag named by its id or as 'category/tag'; rejects (RestError NOT_FOUND) when there is none. */
  tag(ref: string, options?: { signal?: AbortSignal | undefined }): Promise<{ id: string }>;
  /** The objects each tag is attached to. */
  objects(tags: readonly string[], options?: { signal?: AbortSignal | undefined }): Promise<Array<{ tagId: string; objects: Array<{ type: string; value: string }> }>>;
}

export interface InventoryClient {
  readonly serviceContent: ServiceContent;
  readonly apiVersion: string;
  call<M extends MethodName>(method: M, _this: ManagedObjectReference, ...rest: InventoryCallArgs<M>): Promise<VimMethods[M]['result']>;
  on(event: 'reauthenticated', listener: () => void): unknown;
  off(event: 'reauthenticated', listener: () => void): unknown;
  /** Where what an operation cannot report through its result goes (a clean-up that failed); none: not logged. */
  readonly logger?: Logger | undefined;
  /** The vAPI tagging API on the client's session; without it the tag filter is refused. */
  readonly tags?: InventoryTags | undefined;
}
