// Keeps an idle session alive by calling a cheap method on a timer. The call goes through the
// session's wrapped invoke, so a session that died (idle timeout, server restart) is logged in
// again when its strategy allows; network errors and 503s are logged and the next tick tries
// again. The timer is unref'd so it never keeps a process alive.
import type { Logger } from '../logger.ts';

export interface KeepAlive {
  stop(): void;
}

export function startKeepAlive(intervalMs: number, tick: () => Promise<unknown>, logger: Logger): KeepAlive {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    tick()
      .catch((err: unknown) => logger.debug('keepalive failed', { error: err instanceof Error ? `${err.name}: ${err.message}` : 'unknown' }))
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
