// vim25 over VI/JSON (vCenter 8.0 Update 1 and later): a method's parameters as a JSON object
// POSTed to /sdk/vim25/{release}/{Type}/{moId}/{Method}, its value back as JSON (204 or an empty
// body for none), faults as HTTP 500 with a JSON fault object. The session id travels in the
// vmware-api-session-id header: read from the call's cookie jar when sent, stored there from an
// answer that carries one (a login's), so the session layer keeps the one notion of a session it
// has on SOAP, and an id made on either wire works on the other (unified sessions).
//
// A call with a SOAP header (a token login's WS-Security) has no JSON form (VMware's guide sends
// token logins over SOAP): it goes over the SOAP wire, and the session it makes serves JSON too.
//
// A read of one property is a GET of /sdk/vim25/{release}/{Type}/{moId}/{property}, the value
// itself back: where a SOAP client would send a RetrievePropertiesEx of one top-level property of
// one object (retrieveOne of one path, the session's currentSession), this wire sends that GET
// and gives the call the RetrieveResult the PropertyCollector would have given (property-read.ts).
// The call stays what it is in the pipeline (RetrievePropertiesEx: its tracing, logging, session
// and replay rules), only its framing differs.
import type { CookieJar } from 'tough-cookie';
import { TransportError, ValidationError, type VimFault } from '../errors.ts';
import type { DecodeLimits } from '../binding/decode.ts';
import { decodeJsonResponseStream, decodeJsonResponseText } from '../binding/json-decode.ts';
import type { MethodInfo } from '../binding/metadata.ts';
import { encodeJsonRequest } from '../binding/json-encode.ts';
import { redactArgs } from '../binding/redact.ts';
import { excerpt } from '../transport/http.ts';
import { sessionIdIn, setSessionCookie } from '../transport/session-cookie.ts';
import { failedAnswer, faultError } from './faults.ts';
import type { SoapCall } from './pipeline.ts';
import { propertyRead, propertyResult, type PropertyRead } from './property-read.ts';
import { errorText, soapWire } from './soap-wire.ts';
import type { Wire, WireOptions } from './wire.ts';

export const SESSION_HEADER = 'vmware-api-session-id';

/** The path below the endpoint where VI/JSON lives, for `release`. */
export function jsonBase(endpoint: string, release: string): string {
  return `${endpoint.replace(/\/+$/, '')}/vim25/${encodeURIComponent(release)}`;
}

export function jsonWire(o: WireOptions): Wire {
  const { transport, limits, endpoint } = o;
  const soap = soapWire(o);
  const decodeLimits = { maxBytes: transport.options.maxResponseBytes, ...limits };
  const viaSoap = (call: SoapCall): boolean => call.options.header !== undefined;
  const jarOf = (call: SoapCall): CookieJar => call.options.jar ?? transport.options.jar;
  // The jar's lookup (tough-cookie's domain and path matching) cost ~88 us of every call's CPU
  // (bench, first 2000 calls): the id is kept per jar until the jar changes (jars made by
  // cookieJar() count their changes; others are asked every time).
  const known = new WeakMap<CookieJar, { changes: number; id: string | undefined }>();
  const sessionIdOf = (jar: CookieJar): string | undefined => {
    const changes = (jar.store as { changes?: unknown }).changes;
    if (typeof changes !== 'number') return sessionIdIn(jar, endpoint);
    const k = known.get(jar);
    if (k?.changes === changes) return k.id;
    const id = sessionIdIn(jar, endpoint);
    known.set(jar, { changes, id });
    return id;
  };

  return {
    protocol: 'json',
    request(call) {
      if (viaSoap(call)) return soap.request(call);
      const read = propertyRead(call);
      const id = sessionIdOf(jarOf(call));
      if (read) {
        return {
          method: 'GET',
          url: propertyUrl(endpoint, o.version(), read),
          headers: { Accept: 'application/json', ...(id !== undefined && { [SESSION_HEADER]: id }) },
          body: '',
        };
      }
      const { type, value } = target(call);
      return {
        url: `${jsonBase(endpoint, o.version())}/${encodeURIComponent(type)}/${encodeURIComponent(value)}/${encodeURIComponent(call.info.name)}`,
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...(id !== undefined && { [SESSION_HEADER]: id }) },
        body: encodeJsonRequest(call.info, call.args),
      };
    },

    async answer(call, res) {
      if (viaSoap(call)) return soap.answer(call, res);
      const id = res.headers[SESSION_HEADER];
      if (typeof id === 'string' && id !== '') setSessionCookie(jarOf(call), endpoint, id);
      const read = propertyRead(call);
      // A property read's answer is decoded by the property's declared type.
      const info = read ? read.info : call.info;
      if (res.status === 204) {
        res.body.resume();
        return read ? propertyResult(read, { kind: 'unset' }) : undefined;
      }
      if (res.status !== 200) {
        // Read no further than an error answer can legitimately be, as on SOAP: a vim25 fault
        // object, or else an HTTP failure with an excerpt of what came instead.
        const text = await errorText(transport, info, res.status, res.body);
        const fault = isJson(res.headers['content-type']) ? jsonFault(info, text, res.status, limits) : undefined;
        if (fault && read) return propertyResult(read, { kind: 'fault', fault });
        throw fault || failedAnswer(info, res.status, text, limits);
      }
      if (!isJson(res.headers['content-type'])) {
        const text = await errorText(transport, info, res.status, res.body);
        throw new TransportError(`${info.name}: HTTP 200 without a VI/JSON answer (${res.headers['content-type'] ?? 'no content type'})`, { code: 'EBADJSON', status: 200, excerpt: excerpt(text) });
      }
      const decoded = await decodeJsonResponseStream(info, res.body, res.status, decodeLimits);
      if (decoded.kind === 'fault') throw faultError(info.name, decoded.fault);
      return read ? propertyResult(read, { kind: 'value', value: decoded.value }) : decoded.value;
    },

    redacted(call) {
      if (viaSoap(call)) return soap.redacted(call);
      const read = propertyRead(call);
      if (read) return `GET ${propertyUrl(endpoint, o.version(), read)}`;
      return JSON.stringify(redactArgs(call.info, call.args));
    },
  };
}

function propertyUrl(endpoint: string, release: string, read: PropertyRead): string {
  return `${jsonBase(endpoint, release)}/${encodeURIComponent(read.ref.type)}/${encodeURIComponent(read.ref.value)}/${encodeURIComponent(read.property)}`;
}

/** The VimFault a JSON error answer holds, or undefined when it holds none. */
function jsonFault(info: MethodInfo, text: string, status: number, limits: DecodeLimits): VimFault | undefined {
  try {
    const decoded = decodeJsonResponseText(info, text, limits, status);
    return decoded.kind === 'fault' ? faultError(info.name, decoded.fault) : undefined;
  } catch {
    return undefined; // not a decodable fault: reported as the HTTP failure it is
  }
}

function target(call: SoapCall): { type: string; value: string } {
  const ref = call._this as { type?: unknown; value?: unknown } | null | undefined;
  if (typeof ref?.type !== 'string' || typeof ref.value !== 'string' || ref.type === '' || ref.value === '') {
    throw new ValidationError(call.info.name, '_this', 'a ManagedObjectReference { type, value } is needed (VI/JSON puts it in the URL)');
  }
  return { type: ref.type, value: ref.value };
}

function isJson(contentType: string | undefined): boolean {
  return contentType !== undefined && /^application\/(?:[\w.+-]+\+)?json\b/i.test(contentType);
}
