// node-soap's IHttpClient on a VimClient. node-soap calls `request` (the answer read whole: WSDL
// files, and calls unless the client was made with `stream: true`) or `requestStream` (the answer
// as a stream). A call is not sent from here: node-soap's envelope goes into the VimClient's
// pipeline as a pre-built request, so it runs through the same policies as `client.call`
// (logging with secrets redacted, the session's single re-login on NotAuthenticated, the replay
// rule) on the same transport (TLS policy, cookie jar, deadline, abort signal, response-size
// limit). Logins and Logout go through the VimClient's session as its own do. node-soap then gets
// each answer as the server sent it, and reports faults its own way.
import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import type { IExOptions, IHeaders, IHttpClient, IMTOMAttachments } from 'soap';
import type { MethodInfo } from '../binding/metadata.ts';
import { REDACTED, redactXml, secretsIn, secretsInResult } from '../binding/redact.ts';
import { isVimFault, VimFault } from '../errors.ts';
import type { UserSession } from '../generated/types.ts';
import type { ClientInternals } from '../internals.ts';
import { SESSION_COOKIE } from '../transport/session-cookie.ts';
import { SESSION_METHODS, type LoginStrategy } from '../session/strategies.ts';
import type { InvokeOptions, RawAnswer } from '../soap/pipeline.ts';
import { plainRequest } from '../transport/plain.ts';

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

/** A request as the adapter's serializer wrote it: its method, and its arguments as the binding takes them. */
export interface WrittenRequest {
  readonly info: MethodInfo;
  readonly _this: unknown;
  readonly args: object | undefined;
  /** The secret strings in it, which nothing the client keeps or logs may show. */
  readonly secrets: ReadonlySet<string>;
}

/**
 * The serializer's requests by node-soap's options object of the call, which node-soap hands both
 * to the serializer and to `request`, so each envelope finds its own arguments whatever else runs.
 */
export type WrittenRequests = WeakMap<object, WrittenRequest>;

// Headers the transport owns: the jar writes Cookie (a Cookie header of the caller's would send
// a second, stale session), undici computes framing and connection handling.
const OWN_HEADERS = new Set(['cookie', 'host', 'content-length', 'connection', 'transfer-encoding', 'keep-alive', 'upgrade', 'expect']);
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization']);
// node-soap's HttpClient options that need an HTTP stack other than ours; none has a use on a vim25 endpoint.
const UNSUPPORTED_OPTIONS = ['ntlm', 'forceMTOM', 'forceGzip'] as const;
/** Bound on answers whose redacted copy waits for node-soap to store them as lastResponse. */
const MAX_PENDING_REDACTIONS = 32;

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

/**
 * Whether `err` is what the answer said: the error the wire made of it, or, for an answer the wire
 * read as a result, the NotAuthenticated the session found in its missingSet.
 */
function madeBy(last: { error?: unknown }, err: unknown): boolean {
  return last.error === undefined ? isVimFault(err, 'NotAuthenticated') : last.error === err;
}

/** The secrets a call's error carries: those of a fault's object (an SSPIChallenge's token). */
function secretsOfError(err: unknown): ReadonlySet<string> {
  return err instanceof VimFault ? secretsIn(undefined, err.fault) : new Set();
}

/**
 * A login node-soap sent, made the VimClient's session as its own logins are (on the side, then
 * adopted; `userSession`, the `login` event). Not replayable: the request is node-soap's (a
 * password, a ticket, a signed token in it) and is never sent again.
 */
function nodeSoapLogin(request: WrittenRequest, options: InvokeOptions): LoginStrategy {
  return {
    kind: 'node-soap',
    replayable: false,
    login: async ({ invoke }) => (await invoke(request.info.name, request._this, request.args, options)) as UserSession,
  };
}

let mtomParser: Promise<typeof import('soap/lib/utils.js').parseMTOMResp> | undefined;

function parseMtom(payload: Buffer, boundary: string): Promise<IMTOMAttachments> {
  mtomParser ??= import('soap/lib/utils.js').then((m) => m.parseMTOMResp);
  return mtomParser.then((parse) => new Promise<IMTOMAttachments>((resolve, reject) => {
    parse(payload, boundary, (err, resp) => (err || !resp ? reject(err ?? new Error('Cannot parse multipart response')) : resolve(resp))).catch(reject);
  }));
}

/** @internal Made by createSoapClient and useSession only. */
export class VimHttpClient implements IHttpClient {
  readonly #vim: ClientInternals;
  readonly #written: WrittenRequests;
  readonly #options: VimHttpClientOptions;
  /** Answer text -> the same text with its secrets redacted, until node-soap stores it as lastResponse. */
  readonly #redactions = new Map<string, string>();

  constructor(vim: ClientInternals, written: WrittenRequests, options: VimHttpClientOptions = {}) {
    this.#vim = vim;
    this.#written = written;
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
    const headers = requestHeaders(exheaders, o.headers as object | undefined);
    const signal = o.signal instanceof AbortSignal ? o.signal : undefined;
    const method = data === null || data === undefined ? 'GET' : 'POST';
    const config = { url, method, headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, SECRET_HEADERS.has(k.toLowerCase()) ? REDACTED : v])) } as const;
    if (method === 'GET') {
      // A WSDL document: a plain request beside the calls, as the VimClient reads its own.
      const res = await plainRequest(this.#vim.transport, url, { headers, signal });
      return this.#response(res, config, stream, new Set());
    }
    const request = exoptions && this.#written.get(exoptions);
    if (!request) throw new TypeError('a request the adapter\'s serializer did not write is not sent: its secrets could not be kept out of logs');
    this.#written.delete(exoptions);
    let last: { answer: RawAnswer; error?: unknown } | undefined;
    const options: InvokeOptions = {
      signal,
      timeoutMs: typeof o.timeout === 'number' && o.timeout > 0 ? o.timeout : undefined,
      prebuilt: {
        url,
        headers,
        body: Buffer.isBuffer(data) ? data.toString('utf8') : String(data),
        // Login methods are read whole: the session takes the UserSession from their answer.
        stream: stream && !SESSION_METHODS.has(request.info.name),
        answered: (answer, error) => {
          last = { answer, error };
        },
      },
    };
    try {
      const value = await this.#send(request, options);
      return await this.#response(last!.answer, config, stream, secretsInResult(request.info, value));
    } catch (err) {
      // A failure the server's answer made (a fault, a missingSet NotAuthenticated the session
      // could not recover from): node-soap gets the answer as it came and reports it its own way.
      if (!last || !madeBy(last, err)) throw err;
      return this.#response(last.answer, config, stream, secretsOfError(err));
    } finally {
      // Once the server has answered a Logout, the session is over for the VimClient too: no re-login brings it back.
      if (request.info.name === 'Logout' && last) await this.#vim.session.ended(signal);
    }
  }

  /** One call through the VimClient: logins through its session, everything else through its pipeline. */
  async #send(request: WrittenRequest, options: InvokeOptions): Promise<unknown> {
    const { call, session } = this.#vim;
    const name = request.info.name;
    if (name === 'Logout' || !SESSION_METHODS.has(name)) return call(name, request._this, request.args, options);
    if (name === 'ImpersonateUser') {
      const impersonated = (await call(name, request._this, request.args, options)) as UserSession;
      session.userSession = impersonated;
      return impersonated;
    }
    return session.login(nodeSoapLogin(request, options), options.signal);
  }

  async #response(answer: RawAnswer, config: SoapHttpResponse['config'], stream: boolean, secrets: ReadonlySet<string>): Promise<SoapHttpResponse> {
    const base = { status: answer.status, statusText: '', headers: redactedHeaders(answer.headers), config };
    if (!Buffer.isBuffer(answer.body)) return { ...base, data: answer.body };
    const { text, attachments } = await this.#read(answer.headers, answer.body);
    if (secrets.size > 0) this.#rememberRedaction(text, redactXml(text, secrets));
    return { ...base, data: stream ? Readable.from([text]) : text, ...(attachments && { mtomResponseAttachments: attachments }) };
  }

  async #read(headers: IncomingHttpHeaders, payload: Buffer): Promise<{ text: string; attachments?: IMTOMAttachments }> {
    const encoding = this.#options.encoding ?? 'utf8';
    const contentType = String(headers['content-type'] ?? '');
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
  #rememberRedaction(text: string, redacted: string): void {
    if (redacted === text) return;
    if (this.#redactions.size >= MAX_PENDING_REDACTIONS) this.#redactions.delete(this.#redactions.keys().next().value!);
    this.#redactions.set(text, redacted);
  }
}
