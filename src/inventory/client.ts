// What the inventory layer needs of a client, and nothing more: typed calls, the service
// content, the server's version and the `reauthenticated` event. VimClient satisfies it as it
// is; the inventory modules never reach into its session, invoker or transport.
import type { MethodName, VimMethods } from '../generated/methods.ts';
import type { ManagedObjectReference, ServiceContent } from '../generated/types.ts';
import { AbortError, abortedBy } from '../errors.ts';
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
}

/** One `reauthenticated` listener per client, shared by every operation in flight on it. */
interface Hub {
  generation: number;
  subscribers: Set<() => void>;
  listener: () => void;
}

// Per client, not per operation: a hundred concurrent waits would otherwise be a hundred
// listeners, and Node warns of a leak past ten.
const hubs = new WeakMap<InventoryClient, Hub>();

/**
 * Counts re-authentications while an operation runs. Everything the server keeps per session
 * (views, collectors, filters, tokens, history collectors) is gone after one, so an operation
 * holding such objects compares `generation` before and after a call to know it must rebuild.
 */
export class SessionWatch {
  readonly #client: InventoryClient;
  readonly #hub: Hub;
  readonly #subscriber: () => void;

  constructor(client: InventoryClient, onChange: () => void = () => undefined) {
    this.#client = client;
    let hub = hubs.get(client);
    if (!hub) {
      const h: Hub = {
        generation: 0,
        subscribers: new Set(),
        listener: () => {
          h.generation++;
          for (const s of [...h.subscribers]) s();
        },
      };
      client.on('reauthenticated', h.listener);
      hubs.set(client, h);
      hub = h;
    }
    this.#hub = hub;
    this.#subscriber = onChange;
    hub.subscribers.add(this.#subscriber);
  }

  get generation(): number {
    return this.#hub.generation;
  }

  close(): void {
    this.#hub.subscribers.delete(this.#subscriber);
    if (this.#hub.subscribers.size === 0 && hubs.get(this.#client) === this.#hub) {
      this.#client.off('reauthenticated', this.#hub.listener);
      hubs.delete(this.#client);
    }
  }
}

/** Faults that mean the object died with the session that made it (or was destroyed meanwhile). */
export function isGone(err: unknown): boolean {
  const f = err as { is?: (name: string) => boolean } | undefined;
  return typeof f?.is === 'function' && (f.is('ManagedObjectNotFound') || f.is('NotAuthenticated'));
}

/**
 * Releases a server-side object. After a failure or an abort the original error matters more
 * than a failed clean-up, and an object that died with its session needs no clean-up at all.
 */
export async function release(call: () => Promise<unknown>, quiet: boolean): Promise<void> {
  try {
    await call();
  } catch (err) {
    if (!quiet && !isGone(err)) throw err;
  }
}

/** A signal that fires when `outer` does or when `abort()` is called, for one call at a time. */
export function linkedController(outer: AbortSignal | undefined): { signal: AbortSignal; abort: (reason?: unknown) => void; dispose: () => void } {
  const ctrl = new AbortController();
  const onAbort = (): void => ctrl.abort(outer?.reason);
  if (outer?.aborted) ctrl.abort(outer.reason);
  else outer?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: ctrl.signal,
    abort: (reason) => ctrl.abort(reason),
    dispose: () => outer?.removeEventListener('abort', onAbort),
  };
}

/**
 * What an operation rejects with once its caller's signal fired, whichever step noticed (a call
 * in flight, a check between calls): the same as a call rejects with (abortedBy: the caller's
 * own reason, else an AbortError with code EABORTED), so a caller sees one error for one abort.
 */
export function abortedOr(signal: AbortSignal | undefined, err: unknown): unknown {
  if (!signal?.aborted) return err;
  return err instanceof AbortError ? err : abortedBy(signal, 'aborted');
}

/** The check between two calls: throws what abortedOr would. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortedBy(signal, 'aborted');
}
