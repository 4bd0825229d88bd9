// What an operation leaves on the server, and how it lets go of it: objects destroyed without
// ever failing the operation, cancels whose failure changes nothing, and creates whose answer
// was lost, said in the log (names and codes only, never a reference or an error's message).
import type { ManagedObjectReference } from '../generated/types.ts';
import { TransportError } from '../errors.ts';
import type { InventoryClient } from './inventory-client.ts';

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
