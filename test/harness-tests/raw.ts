// Raw HTTP/SOAP for the harness's own tests: node's https module and hand-written envelopes,
// never our library, so a harness bug and a library bug cannot hide each other.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import type { Harness, HarnessInfo, HarnessOptions } from '../harness/vcsim.ts';
import { ownHarness as ownFileHarness } from '../fixtures.ts';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface RawOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Client certificate and key (PEM). */
  cert?: string;
  key?: string;
  /** An already connected socket (e.g. a TLS session inside the sdkTunnel). */
  socket?: tls.TLSSocket;
  timeoutMs?: number;
}

/** One request on a fresh connection (no agent: connection-level switches must see each one). */
export function rawRequest(h: HarnessInfo, path: string, options: RawOptions = {}): Promise<RawResponse> {
  const url = new URL(path, h.url);
  const body = options.body;
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: options.method ?? 'GET',
        headers: { ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }), ...options.headers },
        ca: readFileSync(h.certFile),
        ...(options.cert === undefined ? {} : { cert: options.cert }),
        ...(options.key === undefined ? {} : { key: options.key }),
        // Node uses createConnection only when no agent is given (agent: false makes a new one).
        ...(options.socket === undefined ? { agent: false } : { createConnection: () => options.socket! }),
      },
      (res) => {
        if (options.socket && res.socket !== options.socket) {
          reject(new Error('the request did not go over the given socket'));
          return;
        }
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        res.on('error', reject);
      },
    );
    if (options.timeoutMs !== undefined) {
      req.setTimeout(options.timeoutMs, () => req.destroy(Object.assign(new Error('client timeout'), { code: 'ETIMEDOUT' })));
    }
    req.on('error', reject);
    req.end(body);
  });
}

export const envelope = (operation: string, inner: string): string =>
  '<?xml version="1.0" encoding="UTF-8"?>\n' +
  '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">' +
  `<soapenv:Body><${operation} xmlns="urn:vim25">${inner}</${operation}></soapenv:Body></soapenv:Envelope>`;

export const ref = (type: string, value: string, element = '_this'): string => `<${element} type="${type}">${value}</${element}>`;
export const SI = ref('ServiceInstance', 'ServiceInstance');
export const SM = ref('SessionManager', 'SessionManager');
export const EM = ref('ExtensionManager', 'ExtensionManager');
export const PC = ref('PropertyCollector', 'propertyCollector');

export const xmlEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export interface SoapResponse extends RawResponse {
  /** xsi:type of the fault in <detail>, when the answer is a SOAP fault. */
  fault?: string;
  /** vmware_soap_session from Set-Cookie, when the server set one. */
  setSession?: string;
}

export interface SoapOptions extends Omit<RawOptions, 'body' | 'method'> {
  /** Sent as the vmware_soap_session cookie. */
  session?: string;
}

export async function soap(h: HarnessInfo, operation: string, inner: string, options: SoapOptions = {}): Promise<SoapResponse> {
  const { session, headers, ...rest } = options;
  const res = await rawRequest(h, '/sdk', {
    ...rest,
    method: 'POST',
    headers: {
      'content-type': 'text/xml; charset=utf-8',
      soapaction: `"urn:vim25/${h.apiVersion}"`,
      ...(session === undefined ? {} : { cookie: `vmware_soap_session=${session}` }),
      ...headers,
    },
    body: envelope(operation, inner),
  });
  const fault = /<detail>\s*<\w+\b[^>]*\bxsi:type="(?:\w+:)?(\w+)"/.exec(res.body)?.[1];
  const setSession = [res.headers['set-cookie'] ?? []].flat().map((c) => /^vmware_soap_session=([^;]*)/.exec(c)?.[1]).find(Boolean);
  return { ...res, ...(fault === undefined ? {} : { fault }), ...(setSession === undefined ? {} : { setSession }) };
}

/** Text of the first <tag>…</tag> in xml (no nesting, no namespaces: enough for these answers). */
export function text(xml: string, tag: string): string | undefined {
  return new RegExp(`<${tag}(?:\\s[^>]*)?>([^<]*)</${tag}>`).exec(xml)?.[1];
}

export async function login(h: HarnessInfo, username = h.username, password = h.password, options: SoapOptions = {}): Promise<SoapResponse> {
  return soap(h, 'Login', `${SM}<userName>${xmlEscape(username)}</userName><password>${xmlEscape(password)}</password>`, options);
}

/** Logs in and returns the session id (fails the test when the login fails). */
export async function sessionOf(h: HarnessInfo, username = h.username, password = h.password): Promise<string> {
  const res = await login(h, username, password);
  if (res.status !== 200 || !res.setSession) throw new Error(`Login failed: ${res.status} ${res.body}`);
  return res.setSession;
}

/** SessionManager.currentSession through RetrievePropertiesEx: the session's userName, or undefined. */
export async function currentUser(h: HarnessInfo, session: string, options: SoapOptions = {}): Promise<string | undefined> {
  const res = await soap(
    h,
    'RetrievePropertiesEx',
    `${PC}<specSet><propSet><type>SessionManager</type><pathSet>currentSession</pathSet></propSet>` +
      `<objectSet>${ref('SessionManager', 'SessionManager', 'obj')}</objectSet></specSet><options/>`,
    { ...options, session },
  );
  return text(res.body, 'userName');
}

export async function currentTime(h: HarnessInfo, session?: string): Promise<SoapResponse> {
  return soap(h, 'CurrentTime', SI, session === undefined ? {} : { session });
}

/** A JSON request to a REST route of the harness (vAPI session, plug-in endpoint). */
export async function rest(h: HarnessInfo, method: string, path: string, options: { headers?: Record<string, string>; json?: unknown; body?: string } = {}): Promise<RawResponse & { json?: unknown }> {
  const body = options.json === undefined ? options.body : JSON.stringify(options.json);
  const res = await rawRequest(h, path, {
    method,
    headers: { accept: 'application/json', ...(options.json === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers },
    ...(body === undefined ? {} : { body }),
  });
  let json: unknown;
  try {
    json = res.body ? JSON.parse(res.body) : undefined;
  } catch {
    json = undefined;
  }
  return { ...res, json };
}

/**
 * A harness of the test file's own (the switches these tests flip would disturb other files),
 * started before and stopped after the file's tests, with a small inventory. Its requests are
 * not captured for the conformance check: they are hand-written or a peer's, not our library's.
 */
export function ownHarness(options: HarnessOptions = {}): () => Harness {
  return ownFileHarness({ wsdlDir: '', captureDir: '', inventory: { datacenters: 1, clusters: 1, hostsPerCluster: 1, standaloneHosts: 0, vms: 1 }, ...options });
}

export { clientCertificate } from '../harness/tls-fixtures.ts';
export type ClientCertificate = ReturnType<typeof import('../harness/tls-fixtures.ts').clientCertificate>;

/** A TLS session to the harness inside the sdkTunnel (CONNECT sdkTunnel:8089 on the tunnel port). */
export function tunnelSocket(h: HarnessInfo, client: { cert?: string; key?: string } = {}, target = 'sdkTunnel:8089'): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: h.tunnelPort, method: 'CONNECT', path: target, agent: false });
    req.on('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        reject(Object.assign(new Error(`CONNECT ${target}: HTTP ${res.statusCode}`), { status: res.statusCode }));
        return;
      }
      const t = tls.connect({ socket, host: '127.0.0.1', ca: readFileSync(h.certFile), ...(client.cert ? { cert: client.cert, key: client.key } : {}) });
      t.once('secureConnect', () => resolve(t));
      t.once('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
