// Logs each call once, by name, time and outcome, never with a secret. Normally at debug level
// with its arguments (secret fields redacted) read only if the logger reads them; in wire mode
// (`debug: true`) also the request as the wire sends it, secrets redacted, and the decoded
// answer, secrets redacted, as plain data a console shows.
import { redactArgs, redactResult } from '../binding/redact.ts';
import type { Logger } from '../logger.ts';
import type { Policy, SoapCall } from './pipeline.ts';

/** `shown`: wire mode, with the request as sent, secrets redacted (the wire's `redacted`). */
export function loggingPolicy(logger: Logger, shown?: (call: SoapCall) => string): Policy {
  return {
    name: 'logging',
    async handle(call, next) {
      // Date.now(): the global `performance` loads Node's perf_hooks (~0.7 MB) in every process.
      const started = Date.now();
      const method = call.info.name;
      if (shown) logger.debug('request', { method, envelope: shown(call) });
      try {
        const value = await next(call);
        const ms = Date.now() - started;
        if (shown) {
          logger.debug('call', { method, ms, result: redactResult(call.info, value) });
        } else {
          // The redacted copy is made only if the logger reads it: no cost on the hot path otherwise.
          logger.debug('call', {
            method,
            ms,
            get args() {
              return redactArgs(call.info, call.args);
            },
          });
        }
        return value;
      } catch (err) {
        const e = err as { name?: string; faultName?: string; code?: string; status?: number };
        logger.debug('call failed', { method, ms: Date.now() - started, error: e?.name, fault: e?.faultName, code: e?.code, status: e?.status });
        throw err;
      }
    },
  };
}
