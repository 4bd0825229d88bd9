// What the library publishes on node:diagnostics_channel, for tracing and metrics (vim25-soap/otel
// subscribes; any other subscriber may). Nothing is built or published while nobody subscribes:
// each publisher checks `hasSubscribers` first, so a process that never subscribes pays one
// property read per call.
//
//   vim25-soap:call       TracingChannel, one traced call per vim25 call (not per attempt): CallMessage
//   vim25-soap:session    plain channel, one message per session event: SessionMessage
//   vim25-soap:operation  TracingChannel of the inventory helpers (inventory/observe.ts): OperationMessage
//
// No message carries a secret nor a reference's value (vCenter names session objects after the
// session): a call's method, the managed type it was made on, the wire, the server, its attempts.
import { channel, tracingChannel } from 'node:diagnostics_channel';
import type { Policy, SoapCall } from './pipeline.ts';

export const CALL_CHANNEL = 'vim25-soap:call';
export const SESSION_CHANNEL = 'vim25-soap:session';
export const OPERATION_CHANNEL = 'vim25-soap:operation';

/** The server a call goes to: `server.address` and `server.port` in OpenTelemetry's terms. */
export interface ServerAddress {
  readonly address: string;
  readonly port: number;
}

/** Why a call was sent again: a re-login (the session policy) or a connection the server closed (the replay policy). */
export type RetryReason = 'reauthenticated' | 'replay';

/** One vim25 call, as `vim25-soap:call` publishes it (TracingChannel adds `result` or `error`). */
export interface CallMessage {
  readonly method: string;
  /** The managed type the call was made on; never the reference's value. */
  readonly this: { readonly type: string } | undefined;
  readonly wire: 'soap' | 'json';
  readonly server: ServerAddress;
  /** 1, then one more for each time the call was sent again. */
  attempt: number;
  /** Each time the call was sent again, and when (epoch ms). */
  readonly retries: Array<{ readonly reason: RetryReason; readonly at: number }>;
  error?: unknown;
  result?: unknown;
}

/** A session event, as `vim25-soap:session` publishes it. */
export interface SessionMessage {
  readonly event: 'login' | 'reauthenticated' | 'logout' | 'lost';
  /** The login strategy's name (password, cloneTicket, token, …), when there is one. */
  readonly strategy: string | undefined;
  readonly server: ServerAddress;
}

/** An inventory helper's run (or one page of a paged one), as `vim25-soap:operation` publishes it. */
export interface OperationMessage {
  readonly operation: 'retrieve' | 'retrievePages' | 'waitForTask' | 'watch';
  /** The managed type read or watched; 'Task' for waitForTask. */
  readonly type: string;
  /** The page (1, 2, …) of retrievePages and watch: each pull of the iterator. */
  readonly page?: number;
  /** How many tasks waitForTask waits for. */
  readonly count?: number;
  error?: unknown;
  result?: unknown;
}

const calls = tracingChannel<unknown, CallMessage>(CALL_CHANNEL);
const sessions = channel(SESSION_CHANNEL);

/** The host and port of a URL (the port the scheme implies when it names none). */
export function serverAddress(url: string): ServerAddress {
  const u = new URL(url);
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  return { address: host, port: u.port ? Number(u.port) : u.protocol === 'http:' ? 80 : 443 };
}

/** The outermost policy: each call traced once on `vim25-soap:call` while anybody subscribes. */
export function tracingPolicy(wire: 'soap' | 'json', server: ServerAddress): Policy {
  return {
    name: 'tracing',
    handle(call, next) {
      if (!calls.hasSubscribers) return next(call);
      const ref = call._this as { type?: unknown } | undefined;
      const message: CallMessage = {
        method: call.info.name,
        this: typeof ref?.type === 'string' ? { type: ref.type } : undefined,
        wire,
        server,
        attempt: 1,
        retries: [],
      };
      return calls.tracePromise(() => next({ ...call, traced: message }), message);
    },
  };
}

/** Notes on a traced call that it is sent again (a no-op for a call nobody traces). */
export function retried(call: SoapCall, reason: RetryReason): void {
  const m = call.traced;
  if (!m) return;
  m.attempt++;
  m.retries.push({ reason, at: Date.now() });
}

/** Publishes a session event on `vim25-soap:session` while anybody subscribes. */
export function publishSession(event: SessionMessage['event'], strategy: string | undefined, server: () => ServerAddress): void {
  if (sessions.hasSubscribers) sessions.publish({ event, strategy, server: server() } satisfies SessionMessage);
}
