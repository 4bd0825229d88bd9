// How VimClient wires its pieces, against the small vim25 server of test/harness/hostile-server.ts:
// the keepalive runs only while there is a session, and signals reach every login, logout and
// the connect.
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AbortError, VimClient } from 'vim25-soap';
import { startHostileServer, type HostileServer } from '../harness/hostile-server.ts';
import { extensionCertificate } from '../harness/tls-fixtures.ts';
import { SI } from '../fixtures.ts';
import { smallWsdl } from '../harness/wsdl-docs.ts';

let server: HostileServer;
beforeAll(async () => {
  server = await startHostileServer();
});
afterAll(() => server?.close());
afterEach(() => {
  vi.useRealTimers();
  server.answers.clear();
});

const count = (method: string, from: number) => server.requests.slice(from).filter((r) => r.method === method).length;

describe('keepalive', () => {
  it('calls CurrentTime each interval only while there is a session', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const c = await VimClient.connect(server.url, { tls: { ca: server.cert }, keepAliveIntervalMs: 60_000 });
    try {
      // No session yet: nothing to keep, no timer.
      expect(vi.getTimerCount()).toBe(0);

      await c.login({ username: 'root', password: 'x' });
      expect(vi.getTimerCount()).toBe(1);
      const loggedIn = server.requests.length;
      await vi.advanceTimersByTimeAsync(60_000);
      await vi.waitFor(() => expect(count('CurrentTime', loggedIn)).toBe(1));
      await vi.advanceTimersByTimeAsync(60_000);
      await vi.waitFor(() => expect(count('CurrentTime', loggedIn)).toBe(2));

      await c.logout();
      expect(vi.getTimerCount()).toBe(0);
      await c.login({ username: 'root', password: 'x' });
      expect(vi.getTimerCount()).toBe(1);
    } finally {
      await c.close();
    }
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('signals', () => {
  it('an aborted connect, login and logout reject with an AbortError (or the signal\'s own reason)', async () => {
    const aborted = AbortSignal.abort();
    const connect = await VimClient.connect(server.url, { tls: { ca: server.cert }, signal: aborted }).catch((e: unknown) => e);
    expect(connect).toBeInstanceOf(AbortError);
    expect(connect).toMatchObject({ name: 'AbortError', code: 'EABORTED' });

    const c = await VimClient.connect(server.url, { tls: { ca: server.cert } });
    try {
      const before = server.requests.length;
      const login = await c.login({ username: 'root', password: 'x', signal: aborted }).catch((e: unknown) => e);
      expect(login).toBeInstanceOf(AbortError);
      expect(count('Login', before)).toBe(0);
      expect(c.sessionId).toBeUndefined();

      await c.login({ username: 'root', password: 'x' });
      const mine = new Error('shutting down');
      const controller = new AbortController();
      controller.abort(mine);
      expect(await c.call('CurrentTime', c.ref('ServiceInstance', 'ServiceInstance'), undefined, { signal: controller.signal }).catch((e: unknown) => e)).toBe(mine);
      // An aborted logout rejects; the client has let go of the session all the same.
      const logouts = count('Logout', 0);
      expect(await c.logout({ signal: aborted }).catch((e: unknown) => e)).toBeInstanceOf(AbortError);
      expect(c.sessionId).toBeUndefined();
      expect(count('Logout', 0)).toBe(logouts);
    } finally {
      await c.close();
    }
  });

  it('an aborted certificate, broker or token login, issueToken and close reject with an AbortError, sending nothing', async () => {
    const aborted = AbortSignal.abort();
    const ext = extensionCertificate({ commonName: 'secret-test' });
    const c = await VimClient.connect(server.url, { tls: { ca: server.cert } });
    const before = server.requests.length;
    const outcomes = await Promise.all([
      c.loginByCertificate({ extensionKey: 'secret-test', cert: ext.cert, key: ext.key, signal: aborted }),
      c.loginByBroker({ url: 'https://127.0.0.1:1/broker', token: 'broker-token', signal: aborted }),
      c.loginByToken({ token: '<saml2:Assertion xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a"/>', signal: aborted }),
      c.issueToken({ stsUrl: `${server.url}/sts`, username: 'u', password: 'p', signal: aborted }),
    ].map((p) => p.catch((e: unknown) => e)));
    for (const o of outcomes) expect(o).toMatchObject({ name: 'AbortError', code: 'EABORTED' });
    expect(server.requests.length).toBe(before);
    expect(await c.close({ signal: aborted }).catch((e: unknown) => e)).toBeUndefined(); // no session: nothing to abort
    const d = await VimClient.connect(server.url, { tls: { ca: server.cert } });
    await d.login({ username: 'root', password: 'x' });
    const mine = new Error('shutting down');
    expect(await d.close({ signal: AbortSignal.abort(mine) }).catch((e: unknown) => e)).toBe(mine);
    expect(d.sessionId).toBeUndefined();
    await expect(d.call('CurrentTime', SI)).rejects.toThrow(/closed/);
  });

  it('a connect aborted while it reads the WSDL stops waiting; the read, shared with another connect, goes on for that one', async () => {
    // A small WSDL's documents, held back until the test lets them go; a query string of its own
    // keeps this read out of the process's cache of WSDLs read before.
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    server.answers.set('?', {
      write: (res, req) => {
        const text = smallWsdl(['RetrieveServiceContent', 'Login', 'Logout', 'CurrentTime'])[new URL(req.url!, 'https://x').pathname.split('/').pop()!];
        void released.then(() => {
          res.writeHead(200, { 'Content-Type': 'text/xml' });
          res.end(text);
        });
      },
    });
    const wsdl = `${server.url}/vimService.wsdl?read=${Date.now()}`;
    const options = { tls: { ca: server.cert }, wsdl, version: '8.0.2.0' };
    const ctrl = new AbortController();
    const first = VimClient.connect(server.url, { ...options, signal: ctrl.signal }).catch((e: unknown) => e);
    const second = VimClient.connect(server.url, options);
    await vi.waitUntil(() => server.requests.some((r) => r.method === '?'), { interval: 5 });
    ctrl.abort();
    expect(await first).toMatchObject({ name: 'AbortError', code: 'EABORTED' });
    release();
    const c = await second;
    try {
      expect(await c.call('CurrentTime', SI)).toBeInstanceOf(Date);
    } finally {
      await c.close();
    }
  });
});

describe('debug mode', () => {
  it('logs each request as sent and each answer as data, secrets redacted', async () => {
    const lines: { message: string; data: Record<string, unknown> }[] = [];
    const logger = { debug: (message: string, data?: Record<string, unknown>) => lines.push({ message, data: data ?? {} }), info: () => undefined, warn: () => undefined, error: () => undefined };
    const c = await VimClient.connect(server.url, { tls: { ca: server.cert }, logger, debug: true });
    try {
      await c.login({ username: 'root', password: 'Sup3r-Secret-Pw' });
      const ticket = await c.acquireCloneTicket();
      const shown = lines.map((l) => `${l.message} ${inspect(l.data, { depth: 10 })}`).join('\n');
      expect(shown).not.toContain('Sup3r-Secret-Pw');
      expect(shown).not.toContain(ticket);
      expect(shown).not.toContain(c.userSession!.key);
      expect(shown).not.toContain('[Getter]');
      const login = lines.find((l) => l.message === 'request' && l.data.method === 'Login')!;
      expect(login.data.envelope).toMatch(/<vim25:Login [^>]*><_this type="SessionManager">SessionManager<\/_this><userName>root<\/userName><password>\[redacted\]<\/password><\/vim25:Login>/);
      const answer = lines.find((l) => l.message === 'call' && l.data.method === 'Login')!;
      expect(answer.data.result).toMatchObject({ _typeName: 'UserSession', userName: 'root', key: '[redacted]' });
      expect(lines.find((l) => l.message === 'call' && l.data.method === 'AcquireCloneTicket')!.data.result).toBe('[redacted]');
    } finally {
      await c.close();
    }
  });
});
