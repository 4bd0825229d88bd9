// A request whose connection the server closed before answering (typically a keep-alive socket
// it had just closed as idle) may be sent again on a connection of its own. The transport only
// records the fact and whether the request had been written; whether that makes a replay safe
// is the caller's decision (the SOAP pipeline's replay policy, the plain-HTTP helper for GETs).
import { TransportError } from '../errors.ts';

const closedBeforeAnswer = new WeakMap<TransportError, { written: boolean }>();

/** Recorded by the transport for an error whose connection the server closed (FIN or reset) before any answer. */
export function markClosedBeforeAnswer(err: TransportError, written: boolean): void {
  closedBeforeAnswer.set(err, { written });
}

/** Whether `err` is such an error, and if so whether the request had been written. */
export function closedBeforeAnswerOf(err: unknown): { written: boolean } | undefined {
  return err instanceof TransportError ? closedBeforeAnswer.get(err) : undefined;
}

/**
 * Runs `attempt` on the pool's connection; if the server closed it before answering, runs it
 * once more on a fresh connection when `mayReplay(written)` allows, and otherwise fails with
 * EOUTCOMEUNKNOWN when the request had been written (it may have taken effect).
 */
export async function replayOnce<T>(attempt: (freshConnection: boolean) => Promise<T>, mayReplay: (written: boolean) => boolean, onReplay?: () => void): Promise<T> {
  try {
    return await attempt(false);
  } catch (err) {
    const closed = closedBeforeAnswerOf(err);
    if (!closed) throw err;
    if (!mayReplay(closed.written)) {
      throw new TransportError('the connection closed after the request was sent: its outcome is unknown and it was not replayed', { code: 'EOUTCOMEUNKNOWN', outcomeUnknown: true, cause: err });
    }
    onReplay?.();
    return attempt(true);
  }
}
