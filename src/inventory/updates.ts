// The WaitForUpdatesEx loop that waitForTask and watch share. Each loop has a PropertyCollector
// of its own (CreatePropertyCollector): WaitForUpdatesEx blocks its collector, so two waits on
// the shared one would hold each other up and see each other's filters. Every wait carries
// maxWaitSeconds, so a server that stays silent (or keeps a dead session's wait open, as vcsim
// does) answers within that bound. When the session is re-established, the collector, its
// filters and views are gone on the server: the loop drops the pending wait at once and builds
// everything again on the new session, and the consumer learns it from `fresh`.
import type { ManagedObjectReference, UpdateSet } from '../generated/types.ts';
import { abortedOr, linkedController, release, SessionWatch, throwIfAborted, type InventoryClient } from './client.ts';
import { SessionChangedError } from './errors.ts';
import { destroyView } from './view.ts';

/** Creates the filters (and whatever they need) on a new collector; returns the views to destroy with it. */
export type CollectorSetup = (collector: ManagedObjectReference, signal: AbortSignal | undefined) => Promise<ManagedObjectReference[]>;

export interface UpdateBatch {
  set: UpdateSet;
  collector: ManagedObjectReference;
  /** Part of the full state a new collector reports first (at the start, and after a re-login). */
  fresh: boolean;
  /** False while the server truncated the answer and more of it follows. */
  complete: boolean;
}

export const MAX_WAIT_SECONDS = 60;

export function checkMaxWait(seconds: number): number {
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_WAIT_SECONDS) {
    throw new RangeError(`maxWaitSeconds must be an integer from 1 to ${MAX_WAIT_SECONDS}, not ${String(seconds)}`);
  }
  return seconds;
}

export async function* updateSets(client: InventoryClient, setup: CollectorSetup, signal: AbortSignal | undefined, maxWaitSeconds: number): AsyncGenerator<UpdateBatch, never, undefined> {
  let pending: ((reason: unknown) => void) | undefined;
  const session = new SessionWatch(client, () => pending?.(new SessionChangedError('the session was re-established')));
  // The HTTP deadline must outlast the server's own bound, whatever the client's default is.
  const timeoutMs = (maxWaitSeconds + 30) * 1000;
  try {
    for (;;) {
      throwIfAborted(signal);
      let generation = session.generation;
      let collector: ManagedObjectReference | undefined;
      let views: ManagedObjectReference[] = [];
      let waiting = false;
      try {
        collector = await client.call('CreatePropertyCollector', client.serviceContent.propertyCollector, {}, { signal });
        // A call retried after a re-login made its collector on the new session: that is the one it belongs to.
        generation = session.generation;
        views = await setup(collector, signal);
        let version = '';
        let fresh = true;
        for (;;) {
          if (session.generation !== generation) throw new SessionChangedError('the session was re-established');
          const link = linkedController(signal);
          pending = link.abort;
          waiting = true;
          let set: UpdateSet | undefined;
          try {
            set = await client.call('WaitForUpdatesEx', collector, { version, options: { maxWaitSeconds } }, { signal: link.signal, timeoutMs });
          } finally {
            pending = undefined;
            link.dispose();
          }
          waiting = false;
          if (session.generation !== generation) throw new SessionChangedError('the session was re-established');
          if (set === undefined) continue; // maxWaitSeconds passed without a change
          version = set.version;
          const complete = set.truncated !== true;
          yield { set, collector, fresh, complete };
          if (complete) fresh = false;
        }
      } catch (err) {
        if (signal?.aborted) throw abortedOr(signal, err);
        if (session.generation === generation) throw err;
        // Re-established: everything below died with the old session; build it again.
      } finally {
        // On the old session these objects are gone already; on this one they must not outlive the loop.
        if (collector && session.generation === generation) {
          if (waiting) await release(() => client.call('CancelWaitForUpdates', collector!, {}), true);
          for (const v of views) await destroyView(client, v, true);
          await release(() => client.call('DestroyPropertyCollector', collector!, {}), true);
        }
      }
    }
  } finally {
    session.close();
  }
}
