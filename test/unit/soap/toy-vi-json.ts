// A toy server in the shape of vCenter's VI/JSON API, and a client's pieces wired to it as
// client.ts wires them, for the wire unit tests (wire.test.ts with a toy wire, json-wire.test.ts
// with the real one). Login with PASSWORD makes a session, its id in the vmware-api-session-id
// header; every other request needs a live one, else a NotAuthenticated fault as vCenter writes
// it; what is left goes to the test file's own handler.
import http from 'node:http';
import { CookieJar } from 'tough-cookie';
import { beforeEach, onTestFinished } from 'vitest';
import { silentLogger, type Logger } from '../../../src/logger.ts';
import { Session } from '../../../src/session/session.ts';
import { passwordLogin } from '../../../src/session/strategies.ts';
import { soapPipeline, type PipelineOptions } from '../../../src/soap/pipeline.ts';
import type { WireOptions, Wire } from '../../../src/soap/wire.ts';
import { HttpTransport } from '../../../src/transport/http.ts';
import { serveLocally } from '../local-server.ts';

export const HEADER = 'vmware-api-session-id';
export const PASSWORD = 'Sup3r-Secret';
const SM = { type: 'SessionManager', value: 'SessionManager' } as const;
const PC = { type: 'PropertyCollector', value: 'propertyCollector' } as const;

export interface ToyRequest {
  method: string;
  path: string;
  session: string | undefined;
  body: string;
  accept: string | undefined;
}

/** Writes a JSON answer (none for 204). */
export type Answer = (status: number, value?: unknown, headers?: Record<string, string>) => void;

export interface ToyServer {
  /** The SDK URL: http://127.0.0.1:PORT/sdk. */
  readonly endpoint: () => string;
  /** The live session ids; cleared, the server has forgotten them. */
  readonly sessions: Set<string>;
  /** Every request received, in order. */
  requests: ToyRequest[];
  /** The next request's connection is closed unanswered. */
  dropNext: boolean;
}

/** Serves the file's tests (fresh sessions, log and switch before each); `handle` answers an authenticated request. */
export function toyViJsonServer(handle: (req: ToyRequest, answer: Answer, res: http.ServerResponse) => void): ToyServer {
  let next = 0;
  const server: ToyServer = { endpoint: () => `${base()}/sdk`, sessions: new Set(), requests: [], dropNext: false };
  const base = serveLocally(http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      const request = { method: req.method!, path: req.url!, session: req.headers[HEADER] as string | undefined, body, accept: req.headers.accept };
      server.requests.push(request);
      if (server.dropNext) {
        server.dropNext = false;
        req.socket.destroy();
        return;
      }
      const answer: Answer = (status, value, headers = {}) => {
        if (status === 204) res.writeHead(204, headers).end();
        else res.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(JSON.stringify(value));
      };
      if (request.path.endsWith('/Login')) {
        if ((JSON.parse(body) as { password?: string }).password !== PASSWORD) return answer(500, { _typeName: 'InvalidLogin' });
        const id = `s${++next}`;
        server.sessions.add(id);
        return answer(200, { _typeName: 'UserSession', key: id, userName: 'u' }, { [HEADER]: id });
      }
      if (request.session === undefined || !server.sessions.has(request.session)) {
        return answer(500, { _typeName: 'NotAuthenticated', faultstring: 'The session is not authenticated.', object: { _typeName: 'ManagedObjectReference', type: 'VirtualMachine', value: 'vm-1' }, privilegeId: 'System.View' });
      }
      handle(request, answer, res);
    });
  }));
  beforeEach(() => {
    server.sessions.clear();
    server.requests = [];
    server.dropNext = false;
    next = 0;
  });
  return server;
}

/** A client's pieces on `wire` against `server`, logged in as 'u' (its transport closed when the test ends); what it logs at debug, and its session's events. */
export async function toyClient(server: ToyServer, wire: (o: WireOptions) => Wire, options: { debug?: boolean } = {}) {
  const lines: { message: string; data: string }[] = [];
  const events: string[] = [];
  const logger: Logger = { ...silentLogger, debug: (message, data) => lines.push({ message, data: JSON.stringify(data, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)) }) };
  const jar = new CookieJar();
  const transport = new HttpTransport({ tls: {}, jar, logger, timeoutMs: 10_000, maxResponseBytes: 1 << 20, maxSockets: 2, idleSocketMs: 30_000, userAgent: 't', http: 'https' });
  onTestFinished(() => transport.close());
  const url = server.endpoint();
  const base: PipelineOptions = { endpoint: url, transport, logger, version: () => '8.0.1.0', limits: {}, debug: options.debug, wire };
  const session = new Session({
    invoke: soapPipeline(base), sessionManager: SM, propertyCollector: PC, jar, url, logger, reauthenticate: true,
    emit: (event) => events.push(event),
    mutualTls: undefined as never, // no extension logins here
  });
  await session.login(passwordLogin('u', PASSWORD));
  return { session, call: soapPipeline({ ...base, session: session.policy }), lines, events };
}
