// A client's wiring, for the library's own subpath vim25-soap/node-soap, whose clients run on a
// VimClient's pipeline and session. Not public API, and no door in the client leads to it: it is
// held in a WeakMap of this module, which only the package's own modules import. The bundle puts
// this module in a chunk that the main entry and the node-soap entry both import
// (scripts/lib/esbuild-package.ts), so a process holds one map however it loads them (import or
// require); the declarations leave it out (@internal, stripInternal; scripts/lib/declarations.ts
// checks).
import type { Session } from './session/session.ts';
import type { Invoke } from './soap/pipeline.ts';
import type { HttpTransport } from './transport/http.ts';

/** @internal */
export interface ClientInternals {
  /** The client's transport (its TLS policy and cookie jar), for plain requests such as WSDL downloads. */
  readonly transport: HttpTransport;
  /** The SDK endpoint, e.g. https://vc.example.com/sdk. */
  readonly url: string;
  /** The vim25 version the server speaks. */
  readonly apiVersion: string;
  /** The client's pipeline, session policy included: what `client.call` runs on. */
  readonly call: Invoke;
  /** The client's session: logins and logouts sent by another toolkit go through it too. */
  readonly session: Session;
}

const wiring = new WeakMap<object, ClientInternals>();

/** @internal Called once by each client as it is made. */
export function setInternals(client: object, internals: ClientInternals): void {
  wiring.set(client, internals);
}

/** @internal The wiring of a VimClient made by this package, or undefined for anything else. */
export function internalsOf(client: unknown): ClientInternals | undefined {
  return typeof client === 'object' && client !== null ? wiring.get(client) : undefined;
}
