// An operation's view of the client's re-authentications: everything the server keeps per
// session is gone after one, so an operation that holds such objects counts them.
import type { InventoryClient } from './inventory-client.ts';

/** One `reauthenticated` listener per client, shared by every operation in flight on it. */
interface Hub {
  generation: number;
  subscribers: Set<() => void>;
  listener: () => void;
}

// Per client, not per operation: a hundred concurrent waits would otherwise be a hundred
// listeners, and Node warns of a leak past ten.
const hubs = new WeakMap<InventoryClient, Hub>();

/**
 * Counts re-authentications while an operation runs. Everything the server keeps per session
 * (views, collectors, filters, tokens, history collectors) is gone after one, so an operation
 * holding such objects compares `generation` before and after a call to know it must rebuild.
 */
export class SessionWatch {
  readonly #client: InventoryClient;
  readonly #hub: Hub;
  readonly #subscriber: () => void;

  constructor(client: InventoryClient, onChange: () => void = () => undefined) {
    this.#client = client;
    let hub = hubs.get(client);
    if (!hub) {
      const h: Hub = {
        generation: 0,
        subscribers: new Set(),
        listener: () => {
          h.generation++;
          for (const s of [...h.subscribers]) s();
        },
      };
      client.on('reauthenticated', h.listener);
      hubs.set(client, h);
      hub = h;
    }
    this.#hub = hub;
    this.#subscriber = onChange;
    hub.subscribers.add(this.#subscriber);
  }

  get generation(): number {
    return this.#hub.generation;
  }

  close(): void {
    this.#hub.subscribers.delete(this.#subscriber);
    if (this.#hub.subscribers.size === 0 && hubs.get(this.#client) === this.#hub) {
      this.#client.off('reauthenticated', this.#hub.listener);
      hubs.delete(this.#client);
    }
  }
}
