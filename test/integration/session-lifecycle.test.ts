// Sessions that cannot be replayed, keepalive and the client's lifecycle, against harnesses of
// each test's own (each test counts what reached the server). Sessions die instantly here
// (TerminateSession from an administrator, the harness's restart); keepalive timing:
// test/unit/client/ with fake clocks. Re-authentication: session.test.ts.
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { VimClient, isVimFault, type Logger, type UserSession } from 'vim25-soap';
import { ROOT, bundleIfPresent } from '../../scripts/lib/paths.ts';
import { packageFiles } from '../harness/package.ts';
import { harnessRestart, harnessStats } from '../harness/vcsim.ts';
import { connect, loggedIn, SI, startHarness, terminate, withBundle } from '../fixtures.ts';

const withWsdl = withBundle();

/** A realistic keepalive interval: no test waits for it (the clock is a fake one). */
const INTERVAL = 10 * 60_000;

/**
 * A logger that reports how each CurrentTime call of the client ended ('call' or 'call
 * failed'), in order: the client logs a call once, however often it was sent. While the test
 * calls nothing else, these are the keepalive's ticks.
 */
function currentTimeCalls(): { logger: Logger; next: () => Promise<string> } {
  const ended: string[] = [];
  const waiting: ((message: string) => void)[] = [];
  const logger: Logger = {
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
    debug(message, data) {
      if (data?.method !== 'CurrentTime') return;
      const wake = waiting.shift();
      if (wake) wake(message);
      else ended.push(message);
    },
  };
  const next = (): Promise<string> => (ended.length ? Promise.resolve(ended.shift()!) : new Promise((resolve) => waiting.push(resolve)));
  return { logger, next };
}

async function sessionCount(c: VimClient): Promise<number> {
  const r = await c.call('RetrievePropertiesEx', c.serviceContent.propertyCollector, {
    specSet: [{ propSet: [{ type: 'SessionManager', pathSet: ['sessionList'] }], objectSet: [{ obj: c.serviceContent.sessionManager! }] }],
    options: {},
  });
  return (r!.objects[0]!.propSet?.[0]?.val as UserSession[] | undefined)?.length ?? 0;
}

describe('clone tickets and attached sessions are not replayable', () => {
  it('a cloned session that ends emits sessionLost and rejects with NotAuthenticated', async () => {
    const h = await startHarness();
    const source = await loggedIn(h, withWsdl);
    const ticket = await source.acquireCloneTicket();
    const clone = await connect(h, withWsdl);
    const session = await clone.cloneSession(ticket);
    expect(session.userName).toBe(h.info.username);
    expect(clone.sessionId).not.toBe(source.sessionId);
    const lost: unknown[] = [];
    clone.on('sessionLost', (f) => lost.push(f));
    await terminate(source, clone);
    const err = await clone.call('CurrentTime', SI).catch((e: unknown) => e);
    expect(isVimFault(err, 'NotAuthenticated')).toBe(true);
    expect(lost).toHaveLength(1);
    // The clone did not try to log in again; the source's own session is untouched.
    expect(await source.call('CurrentTime', SI)).toBeInstanceOf(Date);
    expect((await harnessStats(h.info)).methods.Login).toBe(1);
  });

  it('attachSession adopts a session id from another client, and the session can move by id', async () => {
    const h = await startHarness();
    const a = await loggedIn(h, withWsdl);
    const b = await connect(h, withWsdl);
    const adopted = await b.attachSession(a.sessionId!);
    expect(adopted.key).toBe(a.userSession!.key);
    expect(b.sessionId).toBe(a.sessionId);
    expect(await b.call('CurrentTime', SI)).toBeInstanceOf(Date);
    const unknown = await connect(h, withWsdl);
    const err = await unknown.attachSession('0123456789abcdef-not-a-session').catch((e: unknown) => e);
    expect(isVimFault(err, 'NotAuthenticated')).toBe(true);
    expect(unknown.sessionId).toBeUndefined();
    await expect(unknown.attachSession('bad;id')).rejects.toThrow(TypeError);
  });
});

describe('keepalive and lifecycle', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('keepalive logs in again once after a server restart', async () => {
    const h = await startHarness();
    // The keepalive's interval is on a fake clock (only setInterval: sockets, deadlines and the
    // harness keep real time), so each tick starts when the test advances it; the client's
    // logger tells when it has ended, re-login and retry included.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const ticks = currentTimeCalls();
    const c = await loggedIn(h, { ...withWsdl, keepAliveIntervalMs: INTERVAL, logger: ticks.logger });
    const events: string[] = [];
    c.on('reauthenticated', () => events.push('reauthenticated'));
    const restarted = await harnessRestart(h.info);
    expect(restarted.sessionsEnded).toBeGreaterThanOrEqual(1);
    const before = (await harnessStats(h.info)).methods.CurrentTime ?? 0;
    await vi.advanceTimersByTimeAsync(INTERVAL);
    expect(await ticks.next()).toBe('call'); // NotAuthenticated, a Login, the same call again
    expect(events).toEqual(['reauthenticated']);
    // More ticks on the new session, without another Login.
    for (let tick = 0; tick < 3; tick++) {
      await vi.advanceTimersByTimeAsync(INTERVAL);
      expect(await ticks.next()).toBe('call');
    }
    const stats = await harnessStats(h.info);
    expect(stats.methods.Login).toBe(2);
    expect(stats.methods.CurrentTime).toBe(before + 2 + 3);
    expect(events).toEqual(['reauthenticated']);
    expect(await c.call('CurrentTime', SI)).toBeInstanceOf(Date);
  });

  it('leaves no sessions behind after 100 connect/login/close cycles', async () => {
    const h = await startHarness();
    const observer = await loggedIn(h, withWsdl);
    const start = await sessionCount(observer);
    // 100 cycles, ten clients at a time (as a service's workers would): what is checked is that
    // none leaves a session behind, not their order.
    const cycle = async (): Promise<void> => {
      const c = await VimClient.connect(h.info.url, { tls: { ca: h.ca }, ...withWsdl });
      await c.login({ username: h.info.username, password: h.info.password });
      await c.close();
      await c.close(); // idempotent
    };
    for (let round = 0; round < 10; round++) await Promise.all(Array.from({ length: 10 }, cycle));
    expect((await harnessStats(h.info)).methods.Logout).toBeGreaterThanOrEqual(100);
    expect(await sessionCount(observer)).toBe(start);
  });

  it('logout and close never throw for a dead session', async () => {
    const h = await startHarness();
    const c = await loggedIn(h, { ...withWsdl, reauthenticate: false });
    const admin = await loggedIn(h, withWsdl);
    await terminate(admin, c);
    await c.logout();
    await c.logout();
    await c.close();
    await expect(c.call('CurrentTime', SI)).rejects.toMatchObject({ code: 'ECLOSED' });
    expect((await harnessStats(h.info)).methods.Logout).toBe(1); // the first logout found the session gone; the second had none to end
  });

  it('a process that logs in with keepalive and calls close() exits by itself', async () => {
    const h = await startHarness();
    const script = `
      import { VimClient } from ${JSON.stringify(pathToFileURL(packageFiles()['vim25-soap']).href)};
      import { readFileSync } from 'node:fs';
      const c = await VimClient.connect(process.env.URL, { tls: { ca: readFileSync(process.env.CA) }, wsdl: process.env.WSDL || undefined, keepAliveIntervalMs: 100 });
      await c.login({ username: process.env.U, password: process.env.P });
      await c.close();
      console.log('closed');
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: ROOT,
      env: { ...process.env, URL: h.info.url, CA: h.info.certFile, WSDL: bundleIfPresent() ?? '', U: h.info.username, P: h.info.password },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (out += d));
    const code = await new Promise<number | null>((resolve) => {
      const t = setTimeout(() => {
        child.kill();
        resolve(-1);
      }, 15_000);
      child.on('exit', (c) => {
        clearTimeout(t);
        resolve(c);
      });
    });
    expect(out).toContain('closed');
    expect(code).toBe(0);
  });
});

describe('a second login', () => {
  it('logs the first session out instead of leaving it on the server', async () => {
    const h = await startHarness();
    const c = await loggedIn(h, withWsdl);
    const first = c.userSession!.key;
    await c.login({ username: h.info.username, password: h.info.password });
    expect(c.userSession!.key).not.toBe(first);
    const observer = await loggedIn(h, withWsdl);
    expect(await observer.sessionManager.sessionIsActive(first, h.info.username)).toBe(false);
    expect(await c.call('CurrentTime', SI)).toBeInstanceOf(Date);
  });
});
