// The wire is a seam: the pipeline (logging, session, replay) runs unchanged over a protocol that
// is not SOAP. A toy wire in the shape of VI/JSON (JSON bodies POSTed to
// /sdk/vim25/{release}/{moType}/{moId}/{method}, the session in a vmware-api-session-id header,
// faults as JSON objects) against a toy server, assembled by soapPipeline as a client assembles it.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CookieJar } from 'tough-cookie';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { redactArgs } from '../../../src/binding/redact.ts';
import { isVimFault, TransportError } from '../../../src/errors.ts';
import { silentLogger, type Logger } from '../../../src/logger.ts';
import { sessionIdIn, setSessionCookie } from '../../../src/transport/session-cookie.ts';
import { Session } from '../../../src/session/session.ts';
import { passwordLogin } from '../../../src/session/strategies.ts';
import { vimFault } from '../../../src/soap/faults.ts';
import { soapPipeline, type PipelineOptions } from '../../../src/soap/pipeline.ts';
import type { Wire, WireOptions } from '../../../src/soap/wire.ts';
import { HttpTransport } from '../../../src/transport/http.ts';

const SM = { type: 'SessionManager', value: 'SessionManager' } as const;
const PC = { type: 'PropertyCollector', value: 'propertyCollector' } as const;
const SI = { type: 'ServiceInstance', value: 'ServiceInstance' };
const VM = { type: 'VirtualMachine', value: 'vm-1' };
const HEADER = 'vmware-api-session-id';

/** The toy wire: what a VI/JSON implementation of the seam does, in a few lines. */
function jsonWire(o: WireOptions): Wire {
  const jarOf = (options: { jar?: CookieJar | undefined }): CookieJar => options.jar ?? o.transport.options.jar;
  return {
    request(call) {
      const ref = call._this as { type: string; value: string };
      const id = sessionIdIn(jarOf(call.options), o.endpoint);
      return {
        url: `${o.endpoint}/vim25/${o.version()}/${ref.type}/${ref.value}/${call.info.name}`,
        headers: { 'Content-Type': 'application/json', ...(id !== undefined && { [HEADER]: id }) },
        body: JSON.stringify(call.args ?? {}),
      };
    },
    async answer(call, res) {
      const value = JSON.parse(await o.transport.text(res.body)) as unknown;
      if (res.status !== 200) throw vimFault(call.info.name, value as { _typeName: string }, '');
      const id = res.headers[HEADER];
      if (typeof id === 'string') setSessionCookie(jarOf(call.options), o.endpoint, id);
      return value;
    },
    redacted: (call) => JSON.stringify(redactArgs(call.info, call.args)),
  };
}

/** The toy server: Login makes a session (its id in the header), every other call needs a live one. */
const server = {
  http: undefined as unknown as http.Server,
  endpoint: '',
  sessions: new Set<string>(),
  requests: [] as { path: string; session: string | undefined; body: string }[],
  dropNext: false,
  next: 0,
};

beforeAll(async () => {
  server.http = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      const session = req.headers[HEADER] as string | undefined;
      server.requests.push({ path: req.url!, session, body });
      if (server.dropNext) {
        server.dropNext = false;
        req.socket.destroy();
        return;
      }
      const method = req.url!.split('/').at(-1);
      const answer = (status: number, value: unknown, headers: Record<string, string> = {}) =>
        res.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(JSON.stringify(value));
      if (method === 'Login') {
        if ((JSON.parse(body) as { password?: string }).password !== 'Sup3r-Secret') return answer(500, { _typeName: 'InvalidLogin' });
        const id = `s${++server.next}`;
        server.sessions.add(id);
        return answer(200, { _typeName: 'UserSession', key: id, userName: 'u' }, { [HEADER]: id });
      }
      if (session === undefined || !server.sessions.has(session)) return answer(500, { _typeName: 'NotAuthenticated' });
      if (method === 'Logout') {
        server.sessions.delete(session);
        return answer(200, null);
      }
      return answer(200, method === 'CurrentTime' ? '2026-01-01T00:00:00Z' : { _typeName: 'ManagedObjectReference', type: 'Task', value: 'task-1' });
    });
  });
  await new Promise<void>((resolve) => server.http.listen(0, '127.0.0.1', resolve));
  server.endpoint = `http://127.0.0.1:${(server.http.address() as AddressInfo).port}/sdk`;
});
afterAll(() => new Promise<void>((resolve) => server.http.close(() => resolve())));
beforeEach(() => {
  server.sessions.clear();
  server.requests = [];
  server.dropNext = false;
  server.next = 0;
});

/** A client's pieces as client.ts wires them, over the toy wire, logged in (its transport closed when the test ends). */
async function loggedIn(options: { debug?: boolean } = {}) {
  const lines: { message: string; data: string }[] = [];
  const events: string[] = [];
  const logger: Logger = { ...silentLogger, debug: (message, data) => lines.push({ message, data: JSON.stringify(data) }) };
  const jar = new CookieJar();
  const transport = new HttpTransport({ tls: {}, jar, logger, timeoutMs: 10_000, maxResponseBytes: 1 << 20, maxSockets: 2, idleSocketMs: 30_000, userAgent: 't', http: 'https' });
  onTestFinished(() => transport.close());
  const base: PipelineOptions = { endpoint: server.endpoint, transport, logger, version: () => '8.0.1.0', limits: {}, debug: options.debug, wire: jsonWire };
  const session = new Session({
    invoke: soapPipeline(base), sessionManager: SM, propertyCollector: PC, jar, url: server.endpoint, logger, reauthenticate: true,
    emit: (event) => events.push(event),
    mutualTls: undefined as never, // no extension logins here
  });
  await session.login(passwordLogin('u', 'Sup3r-Secret'));
  return { session, call: soapPipeline({ ...base, session: session.policy }), lines, events };
}

describe('the pipeline over another wire', () => {
  it('logs in through the session, which finds the session id where the wire put it; logs each call once, secrets redacted', async () => {
    const c = await loggedIn();
    expect(c.session.sessionId).toBe('s1');
    expect(await c.call('CurrentTime', SI, {})).toBe('2026-01-01T00:00:00Z');
    expect(server.requests.map((r) => [r.path, r.session])).toEqual([
      ['/sdk/vim25/8.0.1.0/SessionManager/SessionManager/Login', undefined],
      ['/sdk/vim25/8.0.1.0/ServiceInstance/ServiceInstance/CurrentTime', 's1'],
    ]);
    expect(c.lines.map((l) => l.message)).toEqual(['call', 'call']);
    expect(c.lines[0]!.data).toContain('"password":"[redacted]"');
    expect(c.lines.map((l) => l.data).join('\n')).not.toContain('Sup3r-Secret');
    expect(c.events).toEqual(['login']);
  });

  it('re-authenticates once on the wire\'s NotAuthenticated and retries the call, logged once', async () => {
    const c = await loggedIn();
    server.sessions.clear(); // the server forgot the session
    const results = await Promise.all([c.call('CurrentTime', SI, {}), c.call('CurrentTime', SI, {})]);
    expect(results).toEqual(['2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z']);
    expect(server.requests.filter((r) => r.path.endsWith('/Login'))).toHaveLength(2);
    expect(c.events).toEqual(['login', 'reauthenticated']);
    expect(c.session.sessionId).toBe('s2');
    expect(c.lines.filter((l) => l.message === 'call' && l.data.includes('CurrentTime'))).toHaveLength(2);
    // A refused login is the wire's fault, typed.
    expect(isVimFault(await c.session.login(passwordLogin('u', 'wrong')).catch((e: unknown) => e), 'InvalidLogin')).toBe(true);
  });

  it('replays a read whose connection the server closed, never a task', async () => {
    const c = await loggedIn();
    server.dropNext = true;
    expect(await c.call('CurrentTime', SI, {})).toBe('2026-01-01T00:00:00Z');
    expect(server.requests.filter((r) => r.path.endsWith('/CurrentTime'))).toHaveLength(2);
    expect(c.lines.some((l) => l.message.startsWith('replaying'))).toBe(true);
    server.dropNext = true;
    const err = await c.call('PowerOffVM_Task', VM, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect(err).toMatchObject({ code: 'EOUTCOMEUNKNOWN', outcomeUnknown: true });
    expect(server.requests.filter((r) => r.path.endsWith('/PowerOffVM_Task'))).toHaveLength(1);
  });

  it('in debug mode logs the request as this wire writes it, redacted', async () => {
    const c = await loggedIn({ debug: true });
    const request = c.lines.find((l) => l.message === 'request')!;
    expect(JSON.parse(request.data)).toEqual({ method: 'Login', envelope: JSON.stringify({ userName: 'u', password: '[redacted]' }) });
    expect(c.lines.map((l) => l.data).join('\n')).not.toContain('Sup3r-Secret');
  });
});
