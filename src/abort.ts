// Waits that end early when a caller's AbortSignal fires, rejecting as an aborted call does
// (abortedBy): a pause between two tries, or a wait on something the caller does not own alone
// (a re-login in flight, a WSDL shared by every client of the process), which goes on for the
// others. And what an operation of several calls needs to end as one aborted call would: a
// signal of its own linked to the caller's, the check between two calls, and the error it
// rejects with whichever step noticed.
import { AbortError, abortedBy } from './errors.ts';

/**
 * `promise`, or abortedBy's rejection as soon as `signal` fires. The promise itself goes on, and
 * how it ends is no longer this caller's: its rejection is not left unhandled.
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined, message: string): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(abortedBy(signal, message));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortedBy(signal, message));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** A pause of `ms` that ends with abortedBy's rejection when `signal` fires. */
export function delay(ms: number, signal: AbortSignal | undefined, message: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const elapsed = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return untilAborted(elapsed, signal, message).finally(() => clearTimeout(timer));
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
