// What the inventory layer needs of a client, and nothing more: typed calls, the service
// content, the server's version, the `reauthenticated` event and, if it has one, a logger.
// VimClient satisfies it as it is; the inventory modules never reach into its session, invoker
// or transport.
import type { MethodName, VimMethods } from '../generated/methods.ts';
import type { ManagedObjectReference, ServiceContent } from '../generated/types.ts';
import { AbortError, abortedBy, TransportError } from '../errors.ts';
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

/** What a log line may say of an error: names and codes, never its message (which may quote the request). */
function errorData(err: unknown): Record<string, unknown> {
  const e = err as { name?: unknown; faultName?: unknown; code?: unknown; status?: unknown } | undefined;
  return { error: e?.name, fault: e?.faultName, code: e?.code, status: e?.status };
}

/** A cancel whose failure changes nothing for the caller: what it concerns is destroyed next, or expires. */
export async function quietly(call: () => Promise<unknown>): Promise<void> {
  await call().catch(() => undefined);
}

/**
 * Destroys what an operation made on the server, and never fails the operation for it: what it
 * read (or the error it met) matters more to the caller than the clean-up. An object that died
 * with its session needs none; any other failure leaves it on the server until the session
 * ends, which is logged (a warning: vCenter keeps it, and its memory, that long).
 */
export async function destroy(client: InventoryClient, method: 'DestroyView' | 'DestroyPropertyCollector' | 'DestroyCollector', obj: ManagedObjectReference): Promise<void> {
  try {
    await client.call(method as 'DestroyView', obj, {});
  } catch (err) {
    if (isGone(err)) return;
    // Not the reference's value: vCenter names session objects after the session.
    client.logger?.warn(`${method} failed: the ${obj.type} is left on the server until the session ends`, { method, type: obj.type, ...errorData(err) });
  }
}

/**
 * A create whose answer was lost may have made an object nobody can name, so nobody can destroy
 * it (a session's collectors cannot be listed, and its views cannot be told from another
 * operation's): it stays until the session ends. Says so, and returns `err` to be rethrown.
 */
export function lostCreate(client: InventoryClient, method: string, type: string, err: unknown): unknown {
  if (err instanceof TransportError && err.outcomeUnknown) {
    client.logger?.warn(`${method}'s answer was lost: a ${type} it may have made is left on the server until the session ends`, { method, type, ...errorData(err) });
  }
  return err;
}

// Failures of the way to the server, or of a server restarting, not of the call: the same call
// may well succeed a moment later. Anything else (a fault, a refused certificate, a closed
// client, an answer that is not vim25) would fail the same way again.
const TRANSIENT_CODES = new Set(['EOUTCOMEUNKNOWN', 'ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EAI_AGAIN']);
/** Bad gateway, unavailable, gateway timeout: a proxy in front of a vpxd that is down or restarting. */
const TRANSIENT_STATUS = new Set([502, 503, 504]);

/** Whether another try of the call later may succeed (see TRANSIENT_CODES); an abort never is. */
export function isTransient(err: unknown): err is TransportError {
  if (!(err instanceof TransportError) || err instanceof AbortError) return false;
  return TRANSIENT_CODES.has(err.code) || (err.status !== undefined && TRANSIENT_STATUS.has(err.status));
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
