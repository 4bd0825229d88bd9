// node-soap's IHttpClient on a VimClient's transport: its TLS policy (CA, thumbprint pins,
// client certificate), its cookie jar (so one session serves both APIs), its deadline, abort
// signal and response-size limit. node-soap calls `request` (the answer read whole: WSDL files,
// and calls unless the client was made with `stream: true`) or `requestStream` (the answer as a
// stream). Both run a vim25 call under the VimClient's session guard: a NotAuthenticated answer
// joins the single re-login every caller of either API shares and the request is sent once
// more; login methods are sent once.
import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import type { IExOptions, IHeaders, IHttpClient, IMTOMAttachments } from 'soap';
import { decodeResponseText, type DecodedResponse } from '../binding/decode.ts';
import { faultError } from '../soap/faults.ts';
import { replayOnce } from '../transport/replay.ts';
import { MOREF, PRIMITIVES, methodInfo, typeInfo, type MethodInfo } from '../binding/metadata.ts';
import { REDACTED } from '../binding/redact.ts';
import { isVimFault, type VimFault } from '../errors.ts';
import type { ClientInternals } from '../internals.ts';
import { notAuthenticatedInResult } from '../session/missing-set.ts';
import { SESSION_COOKIE } from '../session/cookie.ts';
import { SESSION_METHODS } from '../session/strategies.ts';
import { isIdempotent } from '../soap/idempotency.ts';
import type { HttpResponse } from '../transport/http.ts';
import { redactXml, secretsIn, secretsInResult } from './secrets.ts';

/** What node-soap reads of an answer (the shape of the axios response its own client returns). */
export interface SoapHttpResponse {
  status: number;
  statusText: string;
  headers: IncomingHttpHeaders;
  data: string | Readable;
  config: { url: string; method: 'GET' | 'POST'; headers: Record<string, string> };
  mtomResponseAttachments?: IMTOMAttachments;
}

export interface VimHttpClientOptions {
  /** node-soap's option: read multipart/related (MTOM) answers into attachments. */
  parseResponseAttachments?: boolean | undefined;
  /** node-soap's option: the encoding of the SOAP part of such answers (default utf8). */
  encoding?: BufferEncoding | undefined;
}

// Headers the transport owns: the jar writes Cookie (a Cookie header of the caller's would send
// a second, stale session), undici computes framing and connection handling.
const OWN_HEADERS = new Set(['cookie', 'host', 'content-length', 'connection', 'transfer-encoding', 'keep-alive', 'upgrade', 'expect']);
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization']);
// node-soap's HttpClient options that need an HTTP stack other than ours; none has a use on a vim25 endpoint.
const UNSUPPORTED_OPTIONS = ['ntlm', 'forceMTOM', 'forceGzip'] as const;
const BODY_OPERATION = /<(?:[\w.-]+:)?Body\b[^>]*>\s*(?:<!--[\s\S]*?-->\s*)*<(?:[\w.-]+:)?([\w.-]+)/;
const PROPERTY_COLLECTOR_READS = new Set(['RetrieveProperties', 'RetrievePropertiesEx', 'ContinueRetrievePropertiesEx', 'WaitForUpdates', 'WaitForUpdatesEx', 'CheckForUpdates']);
/** Bound on answers whose redacted copy waits for node-soap to store them as lastResponse. */
const MAX_PENDING_REDACTIONS = 32;

/** The operation a request envelope calls: the local name of the Body's first element. */
export function operationOf(xml: string): string | undefined {
  return BODY_OPERATION.exec(xml)?.[1];
}

/**
 * The names of the secret fields a value of declared type `name` can hold (declared field
 * types followed, anyType positions not), into `out`.
 */
function secretFieldNames(name: string, out: Set<string>, seen: Set<string>): void {
  if (seen.has(name)) return;
  seen.add(name);
  for (const f of typeInfo(name)?.fields ?? []) {
    if (f.secret) out.add(f.name);
    else if (f.type !== MOREF && !PRIMITIVES.has(f.type)) secretFieldNames(f.type, out, seen);
  }
}

const secretElementPatterns = new Map<string, RegExp | null>();

/**
 * An answer of `info` may carry a secret when one of the elements its result type declares
 * secret occurs in it, e.g. <key> in Login's UserSession, <token> in a RetrievePropertiesEx
 * answer that has more to come: only those are decoded a second time (node-soap parses every
 * answer itself), so a large retrieve without a continuation token costs nothing more.
 */
function mayHoldSecrets(info: MethodInfo, text: string): boolean {
  const r = info.result;
  if (!r || r.type === MOREF) return false;
  if (r.secret) return true;
  let pattern = secretElementPatterns.get(info.name);
  if (pattern === undefined) {
    const names = new Set<string>();
    if (!PRIMITIVES.has(r.type)) secretFieldNames(r.type, names, new Set());
    pattern = names.size ? new RegExp(`<(?:[\\w.-]+:)?(?:${[...names].join('|')})[\\s>]`) : null;
    secretElementPatterns.set(info.name, pattern);
  }
  return pattern !== null && pattern.test(text);
}

/** What node-soap's own HttpClient keeps of an answer: the SOAP envelope without text around it. */
function envelopeOnly(text: string): string {
  const m = /(?:<\?[^?]*\?>[\s]*)?<([^:]*):Envelope([\S\s]*)<\/\1:Envelope>/i.exec(text.replace(/<!--[\s\S]*?-->/, ''));
  return m ? m[0] : text;
}

function redactedHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = { ...headers };
  const cookies = headers['set-cookie'];
  if (cookies) out['set-cookie'] = cookies.map((c) => (c.startsWith(`${SESSION_COOKIE}=`) ? c.replace(/^([^=]+=)[^;]*/, `$1${REDACTED}`) : c));
  return out;
}

function requestHeaders(...sources: (object | undefined)[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const source of sources) {
    for (const [k, v] of Object.entries(source ?? {})) {
      if (v === undefined || v === null || OWN_HEADERS.has(k.toLowerCase())) continue;
      out[k] = String(v);
    }
  }
  return out;
}

function decodeQuietly(info: MethodInfo, text: string): DecodedResponse | undefined {
  try {
    return decodeResponseText(info, text);
  } catch {
    return undefined; // not a vim25 answer: node-soap reports what it makes of it
  }
}

/** The NotAuthenticated fault a vim25 answer carries: as a SOAP fault, or in a PropertyCollector missingSet. */
function notAuthenticated(info: MethodInfo, status: number, text: string): VimFault | undefined {
  if (!text.includes('NotAuthenticated')) return undefined;
  if (status === 500) {
    const decoded = decodeQuietly(info, text);
    if (decoded?.kind !== 'fault' || !decoded.fault.detail) return undefined;
    const fault = faultError(info.name, decoded.fault);
    return isVimFault(fault, 'NotAuthenticated') ? fault : undefined;
  }
  if (status === 200 && PROPERTY_COLLECTOR_READS.has(info.name)) {
    const decoded = decodeQuietly(info, text);
    return decoded?.kind === 'result' ? notAuthenticatedInResult(info.name, decoded.value) : undefined;
  }
  return undefined;
}

let mtomParser: Promise<typeof import('soap/lib/utils.js').parseMTOMResp> | undefined;

function parseMtom(payload: Buffer, boundary: string): Promise<IMTOMAttachments> {
  mtomParser ??= import('soap/lib/utils.js').then((m) => m.parseMTOMResp);
  return mtomParser.then((parse) => new Promise<IMTOMAttachments>((resolve, reject) => {
    parse(payload, boundary, (err, resp) => (err || !resp ? reject(err ?? new Error('Cannot parse multipart response')) : resolve(resp))).catch(reject);
  }));
}

export class VimHttpClient implements IHttpClient {
  readonly #vim: ClientInternals;
  readonly #options: VimHttpClientOptions;
  /** Answer text -> the same text with its secrets redacted, until node-soap stores it as lastResponse. */
  readonly #redactions = new Map<string, string>();

  constructor(vim: ClientInternals, options: VimHttpClientOptions = {}) {
    this.#vim = vim;
    this.#options = options;
  }

  /** The redacted form of an answer node-soap is about to keep as lastResponse, or the answer itself. */
  redactedAnswer(text: string): string {
    const redacted = this.#redactions.get(text);
    if (redacted === undefined) return text;
    this.#redactions.delete(text);
    return redacted;
  }

  request(rurl: string, data: unknown, callback: (error: unknown, res?: unknown, body?: unknown) => unknown, exheaders?: IHeaders, exoptions?: IExOptions): never {
    const answer = this.#exchange(rurl, data, exheaders, exoptions, false);
    answer.then((res) => callback(null, res, res.data), (err: unknown) => callback(err));
    // node-soap types this as an axios promise; it only ever uses the callback.
    return answer as never;
  }

  requestStream(rurl: string, data: unknown, exheaders?: IHeaders, exoptions?: IExOptions): never {
    return this.#exchange(rurl, data, exheaders, exoptions, true) as never;
  }

  async #exchange(url: string, data: unknown, exheaders: IHeaders | undefined, exoptions: IExOptions | undefined, stream: boolean): Promise<SoapHttpResponse> {
    const o = exoptions ?? {};
    const unsupported = UNSUPPORTED_OPTIONS.find((k) => o[k]) ?? (Array.isArray(o.attachments) && o.attachments.length > 0 ? 'attachments' : undefined);
    if (unsupported) throw new TypeError(`the node-soap option ${unsupported} is not supported through a VimClient (vim25 endpoints take plain SOAP 1.1 requests)`);
    const method = data === null || data === undefined ? 'GET' : 'POST';
    const body = method === 'POST' ? (Buffer.isBuffer(data) ? data.toString('utf8') : String(data)) : undefined;
    const headers = requestHeaders(exheaders, o.headers as object | undefined);
    const operation = body === undefined ? undefined : operationOf(body);
    const info = operation === undefined ? undefined : methodInfo(operation);
    const ctx = {
      timeoutMs: typeof o.timeout === 'number' && o.timeout > 0 ? o.timeout : undefined,
      signal: o.signal instanceof AbortSignal ? o.signal : undefined,
    };
    // The same replay rule as the VimClient's pipeline: a connection the server closed under a
    // request is tried once more if the request was not written, or is a read.
    const idempotent = method === 'GET' || (info !== undefined && isIdempotent(info.name));
    const config = { url, method, headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, SECRET_HEADERS.has(k.toLowerCase()) ? REDACTED : v])) } as const;
    const transport = this.#vim.transport;
    /** Answers held back as NotAuthenticated faults, handed to node-soap as they came if the session cannot recover. */
    const held = new WeakMap<VimFault, SoapHttpResponse>();

    const attempt = async (): Promise<SoapHttpResponse> => {
      const res = await replayOnce((freshConnection) => transport.send(url, { method, body, headers, ctx, freshConnection }), (written) => !written || idempotent);
      const base = { status: res.status, statusText: '', headers: redactedHeaders(res.headers), config };
      if (stream && res.status === 200) return { ...base, data: res.body };
      const { text, attachments } = await this.#read(res);
      const answer: SoapHttpResponse = { ...base, data: stream ? Readable.from([text]) : text, ...(attachments && { mtomResponseAttachments: attachments }) };
      if (info) {
        const fault = notAuthenticated(info, res.status, text);
        if (fault) {
          held.set(fault, answer);
          throw fault;
        }
        this.#rememberRedaction(info, res.status, text);
      }
      return answer;
    };

    if (!info || SESSION_METHODS.has(info.name)) return attempt();
    try {
      return await this.#vim.guard(attempt);
    } catch (err) {
      // The session could not be recovered (not replayable, or the retry was refused too):
      // node-soap gets the server's answer and reports the fault its own way.
      const answer = held.get(err as VimFault);
      if (answer) return answer;
      throw err;
    }
  }

  async #read(res: HttpResponse): Promise<{ text: string; attachments?: IMTOMAttachments }> {
    const payload = await this.#vim.transport.readAll(res.body);
    const encoding = this.#options.encoding ?? 'utf8';
    const contentType = String(res.headers['content-type'] ?? '');
    if (this.#options.parseResponseAttachments && /multipart\/related/i.test(contentType)) {
      const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
      if (!boundary) throw new TypeError('Missing boundary from content-type');
      const attachments = await parseMtom(payload, boundary);
      const first = attachments.parts.shift();
      if (!first?.body) throw new TypeError('Cannot parse multipart response');
      return { text: envelopeOnly(first.body.toString(encoding)), attachments };
    }
    return { text: envelopeOnly(payload.toString(encoding)) };
  }

  /** For answers that carry secrets (clone tickets, session keys, SSPI challenges), the redacted copy node-soap will keep. */
  #rememberRedaction(info: MethodInfo, status: number, text: string): void {
    if (status !== 500 && !(status === 200 && mayHoldSecrets(info, text))) return;
    const decoded = decodeQuietly(info, text);
    if (!decoded) return;
    const secrets = decoded.kind === 'result'
      ? secretsInResult(info.result, decoded.value)
      : secretsIn(decoded.fault.detail && typeInfo(decoded.fault.detail._typeName), decoded.fault.detail);
    if (secrets.size === 0) return;
    if (this.#redactions.size >= MAX_PENDING_REDACTIONS) this.#redactions.delete(this.#redactions.keys().next().value!);
    this.#redactions.set(text, redactXml(text, secrets));
  }
}
