// The wire is a seam: the pipeline (logging, session, replay) runs unchanged over a protocol that
// is not SOAP. A toy wire in the shape of VI/JSON (JSON bodies POSTed to
// /sdk/vim25/{release}/{moType}/{moId}/{method}, the session in a vmware-api-session-id header,
// faults as JSON objects) against a toy server, assembled by soapPipeline as a client assembles it.
import type { CookieJar } from 'tough-cookie';
import { describe, expect, it } from 'vitest';
import { redactArgs } from '../../../src/binding/redact.ts';
import { isVimFault, TransportError } from '../../../src/errors.ts';
import { sessionIdIn, setSessionCookie } from '../../../src/transport/session-cookie.ts';
import { passwordLogin } from '../../../src/session/strategies.ts';
import { vimFault } from '../../../src/soap/faults.ts';
import type { Wire, WireOptions } from '../../../src/soap/wire.ts';
import { HEADER, toyClient, toyViJsonServer } from './toy-vi-json.ts';

const SI = { type: 'ServiceInstance', value: 'ServiceInstance' };
const VM = { type: 'VirtualMachine', value: 'vm-1' };

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

/** The toy server (toy-vi-json.ts), whose calls answer: CurrentTime a date, Logout ends the session, anything else a task. */
const server = toyViJsonServer((req, answer) => {
  const method = req.path.split('/').at(-1);
  if (method === 'Logout') {
    server.sessions.delete(req.session!);
    return answer(200, null);
  }
  answer(200, method === 'CurrentTime' ? '2026-01-01T00:00:00Z' : { _typeName: 'ManagedObjectReference', type: 'Task', value: 'task-1' });
});

/** A client's pieces as client.ts wires them, over the toy wire, logged in. */
const loggedIn = (options: { debug?: boolean } = {}) => toyClient(server, jsonWire, options);

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
