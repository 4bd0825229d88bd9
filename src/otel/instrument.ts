// OpenTelemetry for vim25-soap (the `vim25-soap/otel` subpath): subscribes to what the library
// publishes on node:diagnostics_channel (soap/diagnostics.ts) and makes of it spans, span events
// and metrics. Only this subpath loads @opentelemetry/api (an optional peer dependency).
//
// Spans nest through an AsyncLocalStorage bound to each TracingChannel's start (bindStore): a
// helper's span (retrieve, waitForTask, a watch or retrievePages page) is the parent of the calls
// it makes, a call's span the parent of a re-login it sets off. Without such a parent, a span's
// parent is the OpenTelemetry context active where the call or helper was started (the API's
// context manager, e.g. AsyncLocalStorageContextManager). Nothing is ever sent to the server:
// no trace context travels on the wire.
//
// What a span, event or metric carries: method names, the managed type a call was made on, the
// wire, the server's host and port, a fault's type name, the login strategy's name, attempts.
// Never an argument, a result, a reference's value, an error message, a session or a credential.
import { AsyncLocalStorage } from 'node:async_hooks';
import { channel, tracingChannel } from 'node:diagnostics_channel';
import {
  context, metrics, SpanKind, SpanStatusCode, trace,
  type Attributes, type Context, type MeterProvider, type Span, type TracerProvider,
} from '@opentelemetry/api';
import {
  CALL_CHANNEL, OPERATION_CHANNEL, SESSION_CHANNEL, type CallMessage, type OperationMessage, type SessionMessage,
} from '../soap/diagnostics.ts';

export type { CallMessage, OperationMessage, SessionMessage } from '../soap/diagnostics.ts';

export interface InstrumentOptions {
  /** Default: the global tracer provider (`trace.getTracerProvider()`). */
  tracerProvider?: TracerProvider | undefined;
  /** Default: the global meter provider (`metrics.getMeterProvider()`). */
  meterProvider?: MeterProvider | undefined;
}

/** Ends what `instrument` started: unsubscribes from every channel. Idempotent. */
export type Uninstrument = () => void;

const SCOPE = 'vim25-soap';

/** The buckets of `vim25.client.call.duration`, seconds (OpenTelemetry's advice for RPC durations). */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60];

interface Open {
  readonly span: Span;
  readonly started: number;
}

/** The error's type, safe to show: a VimFault's name (InvalidLogin), a TransportError's code (ECONNRESET), or the error class's name. */
function errorType(err: unknown): { outcome: 'fault' | 'error'; type: string } {
  const e = err as { faultName?: unknown; code?: unknown; name?: unknown } | null | undefined;
  if (typeof e?.faultName === 'string') return { outcome: 'fault', type: e.faultName };
  if (typeof e?.code === 'string' && /^[A-Z_0-9]+$/.test(e.code)) return { outcome: 'error', type: e.code };
  return { outcome: 'error', type: typeof e?.name === 'string' ? e.name : 'Error' };
}

/**
 * Subscribes to vim25-soap's channels: each call a CLIENT span `vim25 <Method>` (OpenTelemetry's
 * RPC conventions: `rpc.system` soap or vi-json, `rpc.service` vim25, `rpc.method`,
 * `server.address`, `server.port`; `vim25.this.type`; `vim25.fault` and `error.type` when it
 * failed; an event `vim25.reauthenticated` or `vim25.replay` each time it was sent again), each
 * inventory helper an INTERNAL span `vim25 <operation>` over its calls, and the metrics
 * `vim25.client.call.duration` (s, by method and outcome), `vim25.client.reauthentications`,
 * `vim25.client.calls.active`. Returns the function that undoes it.
 */
export function instrument(options: InstrumentOptions = {}): Uninstrument {
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(SCOPE);
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE);
  const duration = meter.createHistogram('vim25.client.call.duration', {
    description: 'Duration of vim25 calls, re-logins and replays included',
    unit: 's',
    advice: { explicitBucketBoundaries: DURATION_BUCKETS },
  });
  const reauthentications = meter.createCounter('vim25.client.reauthentications', {
    description: 'Sessions re-established after the server ended one (one re-login for all the calls waiting)',
  });
  const active = meter.createUpDownCounter('vim25.client.calls.active', { description: 'vim25 calls in flight' });

  const store = new AsyncLocalStorage<Context>();
  const open = new WeakMap<object, Open>();
  const parent = (): Context => store.getStore() ?? context.active();

  const calls = tracingChannel<unknown, CallMessage>(CALL_CHANNEL);
  const operations = tracingChannel<unknown, OperationMessage>(OPERATION_CHANNEL);
  const sessions = channel(SESSION_CHANNEL);

  const serverOf = (m: CallMessage): Attributes => ({ 'server.address': m.server.address, 'server.port': m.server.port });
  const systemOf = (m: CallMessage): string => (m.wire === 'json' ? 'vi-json' : 'soap');

  const startCall = (m: CallMessage): Context => {
    const ctx = parent();
    const attributes: Attributes = { 'rpc.system': systemOf(m), 'rpc.service': 'vim25', 'rpc.method': m.method, ...serverOf(m) };
    if (m.this) attributes['vim25.this.type'] = m.this.type;
    const span = tracer.startSpan(`vim25 ${m.method}`, { kind: SpanKind.CLIENT, attributes }, ctx);
    open.set(m, { span, started: performance.now() });
    active.add(1, { 'rpc.system': systemOf(m), ...serverOf(m) });
    return trace.setSpan(ctx, span);
  };
  const endCall = (m: CallMessage): void => {
    const o = open.get(m);
    if (!o) return;
    open.delete(m);
    const { span } = o;
    m.retries.forEach((r, i) => span.addEvent(`vim25.${r.reason}`, { 'vim25.attempt': i + 2 }, r.at));
    if (m.attempt > 1) span.setAttribute('vim25.attempts', m.attempt);
    const metric: Attributes = { 'rpc.system': systemOf(m), 'rpc.method': m.method, ...serverOf(m) };
    if (m.error !== undefined) {
      const { outcome, type } = errorType(m.error);
      if (outcome === 'fault') span.setAttribute('vim25.fault', type);
      span.setAttribute('error.type', type);
      span.setStatus({ code: SpanStatusCode.ERROR, message: type });
      metric['vim25.outcome'] = outcome;
      metric['error.type'] = type;
    } else metric['vim25.outcome'] = 'ok';
    span.end();
    duration.record((performance.now() - o.started) / 1000, metric);
    active.add(-1, { 'rpc.system': systemOf(m), ...serverOf(m) });
  };

  const startOperation = (m: OperationMessage): Context => {
    const ctx = parent();
    const attributes: Attributes = { 'vim25.operation': m.operation, 'vim25.type': m.type };
    if (m.page !== undefined) attributes['vim25.page'] = m.page;
    if (m.count !== undefined) attributes['vim25.task.count'] = m.count;
    const span = tracer.startSpan(`vim25 ${m.operation}`, { kind: SpanKind.INTERNAL, attributes }, ctx);
    open.set(m, { span, started: 0 });
    return trace.setSpan(ctx, span);
  };
  const endOperation = (m: OperationMessage): void => {
    const o = open.get(m);
    if (!o) return;
    open.delete(m);
    if (m.error !== undefined) {
      const { outcome, type } = errorType(m.error);
      if (outcome === 'fault') o.span.setAttribute('vim25.fault', type);
      o.span.setAttribute('error.type', type);
      o.span.setStatus({ code: SpanStatusCode.ERROR, message: type });
    }
    o.span.end();
  };

  // tracePromise publishes `end` when the function returns (or throws synchronously, with
  // `error` set), then `asyncEnd` when its promise settles: a span ends at the latter, or at
  // the former for a synchronous throw.
  const callEnd = (m: unknown): void => {
    if ((m as CallMessage).error !== undefined) endCall(m as CallMessage);
  };
  const callAsyncEnd = (m: unknown): void => endCall(m as CallMessage);
  const operationEnd = (m: unknown): void => {
    if ((m as OperationMessage).error !== undefined) endOperation(m as OperationMessage);
  };
  const operationAsyncEnd = (m: unknown): void => endOperation(m as OperationMessage);
  const onSession = (message: unknown): void => {
    const m = message as SessionMessage;
    if (m.event !== 'reauthenticated') return;
    reauthentications.add(1, { 'vim25.session.strategy': m.strategy ?? 'unknown', 'server.address': m.server.address, 'server.port': m.server.port });
  };

  calls.start.bindStore(store, startCall);
  calls.end.subscribe(callEnd);
  calls.asyncEnd.subscribe(callAsyncEnd);
  operations.start.bindStore(store, startOperation);
  operations.end.subscribe(operationEnd);
  operations.asyncEnd.subscribe(operationAsyncEnd);
  sessions.subscribe(onSession);

  let done = false;
  return () => {
    if (done) return;
    done = true;
    calls.start.unbindStore(store);
    calls.end.unsubscribe(callEnd);
    calls.asyncEnd.unsubscribe(callAsyncEnd);
    operations.start.unbindStore(store);
    operations.end.unsubscribe(operationEnd);
    operations.asyncEnd.unsubscribe(operationAsyncEnd);
    sessions.unsubscribe(onSession);
  };
}
