// A client's wiring, for the library's own subpaths (vim25-soap/node-soap, vim25-soap/redis),
// which run on a VimClient's transport and session. Not public API: reached through a symbol, so
// it shows up in no enumeration, inspect() or JSON of a client.
import type { HttpTransport } from './transport/http.ts';

export const CLIENT_INTERNALS: unique symbol = Symbol.for('vim25-soap.client-internals') as never;

export interface ClientInternals {
  /** The client's transport: its TLS policy, cookie jar, deadlines and limits. */
  readonly transport: HttpTransport;
  /** The SDK endpoint, e.g. https://vc.example.com/sdk. */
  readonly url: string;
  /** The vim25 version requests carry in SOAPAction. */
  readonly apiVersion: string;
  /**
   * Runs one attempt of a non-login exchange under the client's session: waits for a re-login
   * in flight, re-authenticates once on NotAuthenticated (the single flight `call` uses) and runs
   * the attempt once more.
   */
  guard<T>(attempt: () => Promise<T>): Promise<T>;
}

export interface HasInternals {
  [CLIENT_INTERNALS](): ClientInternals;
}
