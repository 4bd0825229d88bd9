// Sessions that cannot be replayed, keepalive and the client's lifecycle, against harnesses of
// each test's own (each test counts what reached the server). Sessions die instantly here
// (TerminateSession from an administrator, the harness's restart); keepalive timing:
// test/unit/client/ with fake clocks. Re-authentication: session.test.ts.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { VimClient, isVimFault, type UserSession } from '../../src/index.ts';
import { bundleDir, ROOT } from '../../scripts/lib/paths.ts';
import { bundledEntry } from '../harness/bundle.ts';
import { harnessRestart, harnessStats } from '../harness/vcsim.ts';
import { connect, loggedIn, SI, startHarness, terminate } from '../fixtures.ts';

const withWsdl = { wsdl: bundleDir() };

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
  it('keepalive logs in again once after a server restart', async () => {
    const h = await startHarness();
    const c = await loggedIn(h, { ...withWsdl, keepAliveIntervalMs: 50 });
    const reauthenticated = once(c, 'reauthenticated');
    const restarted = await harnessRestart(h.info);
    expect(restarted.sessionsEnded).toBeGreaterThanOrEqual(1);
    await reauthenticated;
    // A few more ticks on the new session, without another Login.
    const calls = (await harnessStats(h.info)).methods.CurrentTime ?? 0;
    while (((await harnessStats(h.info)).methods.CurrentTime ?? 0) < calls + 3) await new Promise((r) => setTimeout(r, 25));
    expect((await harnessStats(h.info)).methods.Login).toBe(2);
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
    const lib = bundledEntry(join(ROOT, 'src/index.ts')); // plain node, as a user's process runs
    const script = `
      import { VimClient } from ${JSON.stringify(pathToFileURL(lib.file).href)};
      import { readFileSync } from 'node:fs';
      const c = await VimClient.connect(process.env.URL, { tls: { ca: readFileSync(process.env.CA) }, wsdl: process.env.WSDL, keepAliveIntervalMs: 100 });
      await c.login({ username: process.env.U, password: process.env.P });
      await c.close();
      console.log('closed');
    `;
    const child = spawn(process.execPath, [...lib.execArgv, '--input-type=module', '-e', script], {
      cwd: ROOT,
      env: { ...process.env, URL: h.info.url, CA: h.info.certFile, WSDL: bundleDir(), U: h.info.username, P: h.info.password },
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
