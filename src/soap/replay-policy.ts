// A call whose connection the server closed before answering is sent once more, on a
// connection of its own, if it had not been written yet, or if it is a read that leaves the
// server as it found it (idempotency.ts); anything else fails with EOUTCOMEUNKNOWN.
import type { Logger } from '../logger.ts';
import { replayOnce } from '../transport/replay.ts';
import { retried } from './diagnostics.ts';
import { isIdempotent } from './idempotency.ts';
import type { Policy } from './pipeline.ts';

export function replayPolicy(logger: Logger, timeoutMs: number): Policy {
  return {
    name: 'replay',
    handle(call, next) {
      const method = call.info.name;
      // One deadline for the attempt and its replay: a replay does not extend the call's time.
      const timed = { ...call, deadline: Date.now() + (call.options.timeoutMs ?? timeoutMs) };
      return replayOnce(
        (freshConnection) => next(freshConnection ? { ...timed, freshConnection } : timed),
        (written) => !written || isIdempotent(method),
        () => {
          logger.debug('replaying a call whose connection the server closed', { method });
          retried(call, 'replay');
        },
      );
    },
  };
}
