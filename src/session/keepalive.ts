// Keeps an idle session alive by calling a cheap method on a timer, only while there is a
// session (the client starts it on login and stops it on logout, a lost session and close).
// The call goes through the whole pipeline, so a session that died anyway (a server restart)
// is logged in again when its strategy allows; network errors and 503s are logged and the next
// tick tries again. The timer is unref'd so it never keeps a process alive.
import type { Logger } from '../logger.ts';

export class KeepAlive {
  #timer: NodeJS.Timeout | undefined;
  #running = false;

  constructor(private readonly intervalMs: number, private readonly tick: () => Promise<unknown>, private readonly logger: Logger) {}

  get active(): boolean {
    return this.#timer !== undefined;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      // A tick still waiting (a slow server, a re-login) is not doubled.
      if (this.#running) return;
      this.#running = true;
      this.tick()
        .catch((err: unknown) => this.logger.debug('keepalive failed', { error: err instanceof Error ? `${err.name}: ${(err as { code?: string }).code ?? ''}` : 'unknown' }))
        .finally(() => {
          this.#running = false;
        });
    }, this.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
