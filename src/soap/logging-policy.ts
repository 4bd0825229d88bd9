// Logs each call once, by name, time and outcome, with its arguments (secret fields redacted)
// at debug level; never results, never values of errors.
import { redactArgs } from '../binding/redact.ts';
import type { Logger } from '../logger.ts';
import type { Policy } from './pipeline.ts';

export function loggingPolicy(logger: Logger): Policy {
  return {
    name: 'logging',
    async handle(call, next) {
      const started = performance.now();
      const method = call.info.name;
      try {
        const value = await next(call);
        // The redacted copy is made only if the logger reads it: no cost on the hot path otherwise.
        logger.debug('call', {
          method,
          ms: Math.round(performance.now() - started),
          get args() {
            return redactArgs(call.info, call.args);
          },
        });
        return value;
      } catch (err) {
        const e = err as { name?: string; faultName?: string; code?: string; status?: number };
        logger.debug('call failed', { method, ms: Math.round(performance.now() - started), error: e?.name, fault: e?.faultName, code: e?.code, status: e?.status });
        throw err;
      }
    },
  };
}
