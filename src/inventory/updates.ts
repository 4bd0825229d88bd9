// The WaitForUpdatesEx loop that waitForTask and watch share. Each loop has a PropertyCollector
// of its own (CreatePropertyCollector): WaitForUpdatesEx blocks its collector, so two waits on
// the shared one would hold each other up and see each other's filters. Every wait carries
// maxWaitSeconds, so a server that stays silent (or keeps a dead session's wait open, as vcsim
// does) answers within that bound. When the session is re-established, the collector, its
// filters and views are gone on the server: the loop drops the pending wait at once and builds
// everything again on the new session, and the consumer learns it from `fresh`.
//
// A transient failure (isTransient: a lost connection, a 503 while vpxd restarts) does not end
// the loop: after a pause that grows with each failure in a row, a wait the server never saw is
// sent again, and anything else is built again from a fresh full read, as after a re-login. A
// wait whose answer was lost is never sent again with the same version: the server counts that
// answer as delivered, so the changes in it would never come (hence not replayable either,
// soap/idempotency.ts). The loop ends only by the consumer, its signal, or a permanent error.
import { abortedOr, delay, linkedController, throwIfAborted } from '../abort.ts';
import type { ManagedObjectReference, UpdateSet } from '../generated/types.ts';
import { AbortError, TransportError } from '../errors.ts';
import { destroy, lostCreate, quietly } from './cleanup.ts';
import type { InventoryClient } from './inventory-client.ts';
import { SessionWatch } from './session-watch.ts';
import { SessionChangedError } from './errors.ts';

/** Creates the filters (and whatever they need) on a new collector; returns the views to destroy with it. */
export type CollectorSetup = (collector: ManagedObjectReference, signal: AbortSignal | undefined) => Promise<ManagedObjectReference[]>;

export interface UpdateBatch {
  set: UpdateSet;
  collector: ManagedObjectReference;
  /** Part of the full state a new collector reports first (at the start, and after a re-login or a transient failure). */
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

export const BACKOFF_MIN_MS = 250;
export const BACKOFF_MAX_MS = 15_000;

/** Pauses between tries after transient failures: 250 ms, doubling with each failure in a row, at most 15 s. */
class Backoff {
  #failures = 0;

  /** Ends early, rejecting as an aborted call does, when `signal` fires. */
  pause(signal: AbortSignal | undefined): Promise<void> {
    const ms = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.#failures++);
    return delay(ms, signal, 'aborted');
  }

  reset(): void {
    this.#failures = 0;
  }
}

/** `call`, tried again after each transient failure (with a Backoff's pauses) until it succeeds, fails otherwise, or `signal` fires. */
export async function retried<T>(call: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  const backoff = new Backoff();
  for (;;) {
    try {
      return await call();
    } catch (err) {
      if (signal?.aborted || !isTransient(err)) throw err;
    }
    await backoff.pause(signal);
  }
}

export async function* updateSets(client: InventoryClient, setup: CollectorSetup, signal: AbortSignal | undefined, maxWaitSeconds: number): AsyncGenerator<UpdateBatch, never, undefined> {
  let pending: ((reason: unknown) => void) | undefined;
  const session = new SessionWatch(client, () => pending?.(new SessionChangedError('the session was re-established')));
  // The HTTP deadline must outlast the server's own bound, whatever the client's default is.
  const timeoutMs = (maxWaitSeconds + 30) * 1000;
  // Failures in a row, wherever they happen: only an answer to a wait resets it.
  const backoff = new Backoff();
  try {
    for (;;) {
      throwIfAborted(signal);
      let generation = session.generation;
      let collector: ManagedObjectReference | undefined;
      let views: ManagedObjectReference[] = [];
      let waiting = false;
      let transient = false;
      try {
        collector = await client.call('CreatePropertyCollector', client.serviceContent.propertyCollector, {}, { signal }).catch((err: unknown) => {
          throw lostCreate(client, 'CreatePropertyCollector', 'PropertyCollector', err);
        });
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
          let answer: { set: UpdateSet | undefined } | undefined;
          try {
            answer = { set: await client.call('WaitForUpdatesEx', collector, { version, options: { maxWaitSeconds } }, { signal: link.signal, timeoutMs }) };
          } catch (err) {
            // Only a wait the server never saw (a 503 page, a connection refused) keeps its version.
            if (!isTransient(err) || err.outcomeUnknown) throw err;
          } finally {
            pending = undefined;
            link.dispose();
          }
          waiting = false;
          if (session.generation !== generation) throw new SessionChangedError('the session was re-established');
          if (!answer) {
            await backoff.pause(signal);
            continue;
          }
          backoff.reset();
          const { set } = answer;
          if (set === undefined) continue; // maxWaitSeconds passed without a change
          version = set.version;
          const complete = set.truncated !== true;
          yield { set, collector, fresh, complete };
          if (complete) fresh = false;
        }
      } catch (err) {
        if (signal?.aborted) throw abortedOr(signal, err);
        if (session.generation === generation) {
          if (!isTransient(err)) throw err;
          transient = true;
        }
        // Re-established, or transient: build everything again (on the new session).
      } finally {
        // On the old session these objects are gone already; on this one they must not outlive the loop.
        if (collector && session.generation === generation) {
          if (waiting) await quietly(() => client.call('CancelWaitForUpdates', collector!, {}));
          for (const v of views) await destroy(client, 'DestroyView', v);
          await destroy(client, 'DestroyPropertyCollector', collector);
        }
      }
      if (transient) await backoff.pause(signal);
    }
  } finally {
    session.close();
  }
}
