// The library's error hierarchy. Every error a caller can see is one of these classes, with the
// data needed to branch on it; none of them carries a secret (messages are built from names,
// paths, status codes and server fault strings, never from request values).
import type { FaultName, FaultTypes } from './generated/types.ts';

/** Base class: `err instanceof VimError` catches everything this library throws on purpose. */
export class VimError extends Error {
  override name = 'VimError';
}

/** A fault object: typed as the fault `N` once `is(N)` or `isVimFault(err, N)` said so (it may be a subtype). */
export type VimFaultObject<N extends string = string> = N extends FaultName
  ? FaultTypes[N] & { _typeName: string }
  : Record<string, unknown> & { _typeName: string };

/**
 * A vim25 fault returned by the server (SOAP Fault with a vim25 fault object in its detail), or
 * the fault of a failed task (see faultFromLocalized).
 */
export class VimFault<N extends string = string> extends VimError {
  override name = 'VimFault';
  /** The fault's vim25 type, from the detail's xsi:type (never from the localized faultstring). */
  readonly faultName: string;
  /** The decoded fault object (`_typeName` === faultName), e.g. InvalidLogin, NotAuthenticated. */
  readonly fault: VimFaultObject<N>;
  readonly faultString: string;
  /** The vim25 method whose call failed. */
  readonly method: string;
  /** The fault type's ancestors, nearest first (NotAuthenticated: NoPermission, SecurityError, RuntimeFault, MethodFault). */
  readonly ancestors: readonly string[];

  constructor(method: string, fault: Record<string, unknown> & { _typeName: string }, faultString: string, ancestors: readonly string[] = []) {
    super(`${method}: ${fault._typeName}${faultString ? `: ${faultString}` : ''}`);
    this.method = method;
    this.fault = fault as VimFaultObject<N>;
    this.faultName = fault._typeName;
    this.faultString = faultString;
    this.ancestors = ancestors;
  }

  /** True when this fault is `name` or derives from it (NotAuthenticated is a NoPermission, a SecurityError, ...). */
  is<K extends FaultName>(name: K): this is VimFault<K> {
    return this.faultName === name || this.ancestors.includes(name);
  }
}

/** The codes the library itself gives a TransportError (see TransportErrorCode). */
export const LIBRARY_TRANSPORT_ERROR_CODES = [
  'ETRANSPORT', // anything else the transport could not name
  'ENETWORK', // a network failure the HTTP stack gave no code for
  'EABORTED', // the caller's signal fired (an AbortError)
  'ETIMEDOUT', // the call's deadline passed (timeoutMs)
  'ECLOSED', // the client was closed
  'EOUTCOMEUNKNOWN', // the connection was lost after the request went out: it may have been executed (outcomeUnknown)
  'ERESPONSETOOLARGE', // an answer past maxResponseBytes, or an error answer past what one can legitimately be
  'ERESPONSELIMIT', // an answer past maxResponseElements or maxResponseDepth
  'ETRUNCATED', // a SOAP answer that ended before it was complete
  'ENOTSOAP', // a 200 answer that is no SOAP answer, or no readable one
  'EBADJSON', // a VI/JSON answer that is no JSON
  'ENOJSON', // protocol 'json' against a server without the VI/JSON API
  'EPROTOCOL', // a URL scheme other than https: or http:
  'EWSDL', // a WSDL that cannot be read, or is no vim25 WSDL
  'ETUNNEL', // the sdkTunnel proxy refused or failed
  'ECERTPIN', // the server's certificate is not the pinned thumbprint
  'ECERTUNTRUSTED', // the server's certificate could not be verified (TLS gave no more precise code)
  'ENOSESSION', // a login succeeded but the server set no session
] as const;

export type LibraryTransportErrorCode = (typeof LIBRARY_TRANSPORT_ERROR_CODES)[number];

/**
 * A TransportError's `code`: one of the library's own, `HTTP_<status>` for an HTTP failure, or
 * the connection's own error as Node reports it (ECONNRESET, ECONNREFUSED, EPIPE, ENOTFOUND, …,
 * and TLS verification codes such as CERT_HAS_EXPIRED or DEPTH_ZERO_SELF_SIGNED_CERT), which no
 * list can close.
 */
export type TransportErrorCode = LibraryTransportErrorCode | `HTTP_${number}` | (string & {});

export interface TransportErrorOptions {
  status?: number | undefined;
  code?: TransportErrorCode | undefined;
  /** A short excerpt of a non-SOAP answer, to tell a proxy's HTML page from a crash. */
  excerpt?: string | undefined;
  /** The request may or may not have reached the server; it must not be replayed blindly. */
  outcomeUnknown?: boolean | undefined;
  cause?: unknown;
}

/** HTTP, TLS and network failures, and answers that are not SOAP (e.g. a 503 HTML page). */
export class TransportError extends VimError {
  override name = 'TransportError';
  readonly status: number | undefined;
  readonly code: TransportErrorCode;
  readonly excerpt: string | undefined;
  readonly outcomeUnknown: boolean;

  constructor(message: string, options: TransportErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = options.status;
    this.code = options.code ?? 'ETRANSPORT';
    this.excerpt = options.excerpt;
    this.outcomeUnknown = options.outcomeUnknown ?? false;
  }
}

/**
 * A call or login stopped by its AbortSignal. Its `name` is 'AbortError', as fetch's, and it
 * is still a TransportError with `code: 'EABORTED'`; the signal's reason is its `cause`.
 */
export class AbortError extends TransportError {
  override name = 'AbortError';
}

/**
 * What an aborted operation rejects with: the signal's own reason when the caller gave one
 * (e.g. `controller.abort(new MyError())`, or AbortSignal.timeout's TimeoutError), else an
 * AbortError.
 */
export function abortedBy(signal: AbortSignal, message: string, outcomeUnknown = false): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name !== 'AbortError') return reason;
  return new AbortError(message, { code: 'EABORTED', outcomeUnknown, cause: reason });
}

/** A request argument that does not fit the vim25 schema; nothing was sent. */
export class ValidationError extends VimError {
  override name = 'ValidationError';
  /** Where in the arguments, e.g. `specSet[0].objectSet[0].selectSet[1]._typeName`. */
  readonly path: string;
  readonly method: string;

  constructor(method: string, path: string, problem: string) {
    super(`${method}: ${path ? `${path}: ` : ''}${problem}`);
    this.method = method;
    this.path = path;
  }
}

/** Narrows to a VimFault, optionally one that is (or derives from) `name`, with `fault` typed as that fault. */
export function isVimFault(err: unknown): err is VimFault;
export function isVimFault<N extends FaultName>(err: unknown, name: N): err is VimFault<N>;
export function isVimFault(err: unknown, name?: FaultName): boolean {
  return err instanceof VimFault && (name === undefined || err.is(name));
}
