// Waits that end early when a caller's AbortSignal fires, rejecting as an aborted call does
// (abortedBy): a pause between two tries, or a wait on something the caller does not own alone
// (a re-login in flight, a WSDL shared by every client of the process), which goes on for the
// others.
import { abortedBy } from './errors.ts';

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
