// Session semantics against dedicated harnesses (each test counts what reached the server).
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TransportError, VimClient, isVimFault, type ManagedObjectReference, type UserSession } from '../../src/index.ts';
import { bundleDir, ROOT } from '../../scripts/lib/paths.ts';
import { Harness, harnessRestart, harnessSetPassword, harnessStall, harnessStats, harnessUnavailable, type HarnessOptions } from '../harness/vcsim.ts';

const SI: ManagedObjectReference<'ServiceInstance'> = { type: 'ServiceInstance', value: 'ServiceInstance' };
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function harness(options: HarnessOptions = {}): Promise<Harness> {
  const h = await Harness.start({ wsdlDir: bundleDir(), ...options });
  cleanups.push(() => h.stop());
  return h;
}

async function connect(h: Harness, options: Parameters<typeof VimClient.connect>[1] = {}): Promise<VimClient> {
  const c = await VimClient.connect(h.info.url, { tls: { ca: h.ca }, wsdl: bundleDir(), ...options });
  cleanups.push(() => c.close());
  return c;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function sessionCount(c: VimClient): Promise<number> {
  const r = await c.call('RetrievePropertiesEx', c.serviceContent.propertyCollector, {
    specSet: [{ propSet: [{ type: 'SessionManager', pathSet: ['sessionList'] }], objectSet: [{ obj: c.serviceContent.sessionManager! }] }],
    options: {},
  });
  return (r!.objects[0]!.propSet?.[0]?.val as UserSession[] | undefined)?.length ?? 0;
}

describe('re-authentication', () => {
  it('survives an idle timeout transparently with exactly one Login', async () => {
    const h = await harness({ idleTimeout: '1s' });
    const c = await connect(h);
    const events: string[] = [];
    c.on('reauthenticated', () => events.push('reauthenticated'));
    await c.login({ username: h.info.username, password: h.info.password });
    const before = c.sessionId;
    await sleep(2200);
    expect(await c.call('CurrentTime', SI)).toBeInstanceOf(Date);
    expect((await harnessStats(h.info)).methods.Login).toBe(2); // the first login and one re-login
    expect(events).toEqual(['reauthenticated']);
    expect(c.sessionId).not.toBe(before);
  });

  it('recovers 500 in-flight calls after TerminateSession with one Login, no call sent more than twice', async () => {
    const captureDir = mkdtempSync(join(tmpdir(), 'vim25-capture-'));
    cleanups.push(() => rmSync(captureDir, { recursive: true, force: true }));
    const h = await harness({ captureDir });
    const c = await connect(h);
    const admin = await connect(h);
    await c.login({ username: h.info.username, password: h.info.password });
    await admin.login({ username: h.info.username, password: h.info.password });
    const key = c.userSession!.key;

    let done = 0;
    const calls = Array.from({ length: 500 }, (_, i) =>
      c.call('FindByInventoryPath', c.serviceContent.searchIndex!, { inventoryPath: `nowhere/call-${i}` }).then((r) => {
        done++;
        return r;
      }));
    while (done < 20) await sleep(1);
    await admin.call('TerminateSession', admin.serviceContent.sessionManager!, { sessionId: [key] });
    const results = await Promise.allSettled(calls);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect((await harnessStats(h.info)).methods.Login).toBe(3); // c, admin, one re-login

    const sent = new Map<string, number>();
    for (const f of readdirSync(captureDir).filter((n) => n.includes('FindByInventoryPath'))) {
      const id = /call-(\d+)/.exec(readFileSync(join(captureDir, f), 'utf8'))![1]!;
      sent.set(id, (sent.get(id) ?? 0) + 1);
    }
    expect(sent.size).toBe(500);
    expect(Math.max(...sent.values())).toBeLessThanOrEqual(2);
    expect([...sent.values()].filter((n) => n === 2).length).toBeGreaterThan(0);
  });

  it('a refused re-login rejects every waiting call with InvalidLogin, and no further Login is tried for that burst', async () => {
    const h = await harness();
    const c = await connect(h);
    const admin = await connect(h);
    await c.login({ username: h.info.username, password: h.info.password });
    await admin.login({ username: h.info.username, password: h.info.password });
    await harnessSetPassword(h.info, 'changed-by-admin');
    await admin.call('TerminateSession', admin.serviceContent.sessionManager!, { sessionId: [c.userSession!.key] });
    const started = Date.now();
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => c.call('CurrentTime', SI)));
    expect(Date.now() - started).toBeLessThan(5000);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect(isVimFault((r as PromiseRejectedResult).reason, 'InvalidLogin')).toBe(true);
    }
    // A straggler of the same burst gets the same answer without another Login.
    expect(isVimFault(await c.call('CurrentTime', SI).catch((e: unknown) => e), 'InvalidLogin')).toBe(true);
    expect((await harnessStats(h.info)).methods.Login).toBe(3); // c, admin, one refused re-login
  });

  it('backs off when Login answers 503 instead of hammering it', async () => {
    const h = await harness();
    const c = await connect(h);
    const admin = await connect(h);
    await c.login({ username: h.info.username, password: h.info.password });
    await admin.login({ username: h.info.username, password: h.info.password });
    await admin.call('TerminateSession', admin.serviceContent.sessionManager!, { sessionId: [c.userSession!.key] });
    // The call's first attempt gets NotAuthenticated, answered late; meanwhile the server turns
    // 503 for one request, which is the re-login.
    await harnessStall(h.info, 0.4);
    const first = c.call('CurrentTime', SI).catch((e: unknown) => e);
    await sleep(100);
    await harnessUnavailable(h.info, 1);
    const err = await first;
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).status).toBe(503);
    // Within the back-off, calls fail with the same error without another Login.
    const burst = await Promise.all(Array.from({ length: 20 }, () => c.call('CurrentTime', SI).catch((e: unknown) => e)));
    expect(burst.every((e) => e === err)).toBe(true);
    expect((await harnessStats(h.info)).methods.Login).toBe(3); // c, admin, the refused re-login
    // After the back-off the client recovers by itself, with one more Login.
    await sleep(1100);
    expect(await c.call('CurrentTime', SI)).toBeInstanceOf(Date);
    expect((await harnessStats(h.info)).methods.Login).toBe(4);
  });

  it('never retries login methods themselves', async () => {
    const h = await harness();
    const c = await connect(h);
    const err = await c.login({ username: h.info.username, password: 'wrong' }).catch((e: unknown) => e);
    expect(isVimFault(err, 'InvalidLogin')).toBe(true);
    expect((await harnessStats(h.info)).methods.Login).toBe(1);
  });

  it('does not log in again when reauthenticate is off, and reports sessionLost', async () => {
    const h = await harness({ idleTimeout: '1s' });
    const c = await connect(h, { reauthenticate: false });
    const lost: unknown[] = [];
    c.on('sessionLost', (f) => lost.push(f));
    await c.login({ username: h.info.username, password: h.info.password });
    await sleep(2200);
    const err = await c.call('CurrentTime', SI).catch((e: unknown) => e);
    expect(isVimFault(err, 'NotAuthenticated')).toBe(true);
    expect(lost).toHaveLength(1);
    expect((await harnessStats(h.info)).methods.Login).toBe(1);
  });
});

describe('clone tickets and attached sessions are not replayable', () => {
  it('a cloned session that expires emits sessionLost and rejects with NotAuthenticated', async () => {
    const h = await harness({ idleTimeout: '1s' });
    const source = await connect(h, { keepAliveIntervalMs: 300 });
    await source.login({ username: h.info.username, password: h.info.password });
    const ticket = await source.acquireCloneTicket();
    const clone = await connect(h);
    const session = await clone.cloneSession(ticket);
    expect(session.userName).toBe(h.info.username);
    expect(clone.sessionId).not.toBe(source.sessionId);
    const lost: unknown[] = [];
    clone.on('sessionLost', (f) => lost.push(f));
    await sleep(2200);
    const err = await clone.call('CurrentTime', SI).catch((e: unknown) => e);
    expect(isVimFault(err, 'NotAuthenticated')).toBe(true);
    expect(lost).toHaveLength(1);
    // The keepalive kept the source alive across the idle timeout without logging in again.
    expect(await source.call('CurrentTime', SI)).toBeInstanceOf(Date);
    expect((await harnessStats(h.info)).methods.Login).toBe(1);
  });

  it('attachSession adopts a session id from another client, and the session can move by id', async () => {
    const h = await harness();
    const a = await connect(h);
    await a.login({ username: h.info.username, password: h.info.password });
    const b = await connect(h);
    const adopted = await b.attachSession(a.sessionId!);
    expect(adopted.key).toBe(a.userSession!.key);
    expect(b.sessionId).toBe(a.sessionId);
    expect(await b.call('CurrentTime', SI)).toBeInstanceOf(Date);
    const unknown = await connect(h);
    const err = await unknown.attachSession('0123456789abcdef-not-a-session').catch((e: unknown) => e);
    expect(isVimFault(err, 'NotAuthenticated')).toBe(true);
    expect(unknown.sessionId).toBeUndefined();
    await expect(unknown.attachSession('bad;id')).rejects.toThrow(TypeError);
  });
});

describe('keepalive and lifecycle', () => {
  it('keeps a session alive across three idle-timeout periods without logging in again', async () => {
    const h = await harness({ idleTimeout: '1s' });
    const c = await connect(h, { keepAliveIntervalMs: 300 });
    await c.login({ username: h.info.username, password: h.info.password });
    await sleep(3300);
    expect(await c.call('CurrentTime', SI)).toBeInstanceOf(Date);
    const stats = await harnessStats(h.info);
    expect(stats.methods.Login).toBe(1);
    expect(stats.methods.CurrentTime).toBeGreaterThanOrEqual(6);
  });

  it('keepalive logs in again once after a server restart', async () => {
    const h = await harness();
    const c = await connect(h, { keepAliveIntervalMs: 200 });
    const reauth: unknown[] = [];
    c.on('reauthenticated', (s) => reauth.push(s));
    await c.login({ username: h.info.username, password: h.info.password });
    const restarted = await harnessRestart(h.info);
    expect(restarted.sessionsEnded).toBeGreaterThanOrEqual(1);
    await sleep(900);
    expect(reauth).toHaveLength(1);
    expect((await harnessStats(h.info)).methods.Login).toBe(2);
    expect(await c.call('CurrentTime', SI)).toBeInstanceOf(Date);
  });

  it('leaves no sessions behind after 100 connect/login/close cycles', async () => {
    const h = await harness();
    const observer = await connect(h);
    await observer.login({ username: h.info.username, password: h.info.password });
    const start = await sessionCount(observer);
    for (let i = 0; i < 100; i++) {
      const c = await VimClient.connect(h.info.url, { tls: { ca: h.ca }, wsdl: bundleDir() });
      await c.login({ username: h.info.username, password: h.info.password });
      await c.close();
      await c.close(); // idempotent
    }
    expect(await sessionCount(observer)).toBe(start);
  });

  it('logout and close never throw for a dead session', async () => {
    const h = await harness({ idleTimeout: '1s' });
    const c = await connect(h, { reauthenticate: false });
    await c.login({ username: h.info.username, password: h.info.password });
    await sleep(2200);
    await c.logout();
    await c.logout();
    await c.close();
    await expect(c.call('CurrentTime', SI)).rejects.toMatchObject({ code: 'ECLOSED' });
  });

  it('a process that logs in with keepalive and calls close() exits by itself', async () => {
    const h = await harness();
    const script = `
      import { VimClient } from ${JSON.stringify(join(ROOT, 'src/index.ts'))};
      import { readFileSync } from 'node:fs';
      const c = await VimClient.connect(process.env.URL, { tls: { ca: readFileSync(process.env.CA) }, wsdl: process.env.WSDL, keepAliveIntervalMs: 100 });
      await c.login({ username: process.env.U, password: process.env.P });
      await c.close();
      console.log('closed');
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
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
    const h = await harness();
    const c = await connect(h);
    await c.login({ username: h.info.username, password: h.info.password });
    const first = c.userSession!.key;
    await c.login({ username: h.info.username, password: h.info.password });
    expect(c.userSession!.key).not.toBe(first);
    const observer = await connect(h);
    await observer.login({ username: h.info.username, password: h.info.password });
    expect(await observer.sessionManager.sessionIsActive(first, h.info.username)).toBe(false);
    expect(await c.call('CurrentTime', SI)).toBeInstanceOf(Date);
  });
});
