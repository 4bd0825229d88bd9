// The `vim25-soap/otel` subpath: OpenTelemetry spans and metrics of vim25 calls, sessions and
// inventory helpers (@opentelemetry/api, an optional peer dependency, loaded by this subpath only).
export { instrument, type InstrumentOptions, type Uninstrument, type CallMessage, type OperationMessage, type SessionMessage } from './otel/instrument.ts';
