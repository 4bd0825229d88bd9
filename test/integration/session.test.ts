// Session semantics against harnesses of each test's own (each test counts what reached the
// server). Sessions die instantly here (TerminateSession from an administrator, the harness's
// restart) wherever the idle path itself is not under test; only the first test waits for a
// real idle expiry. Back-off and keepalive timing: test/unit/client/ with fake clocks; here the
// back-off window is held open by a stopped Date (only Date: sockets and timers run as they do),
// so that it does not lapse while a busy machine answers a burst.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TransportError, isVimFault } from 'vim25-soap';
import {  } from '../../scripts/lib/paths.ts';
import { harnessSetPassword, harnessStall, harnessStats, harnessUnavailable, type Harness } from '../harness/vcsim.ts';
import { connect, loggedIn, SI, startHarness, tempDir, terminate, withBundle } from '../fixtures.ts';

const withWsdl = withBundle();

/** Resolves once the harness reports `count` live sessions (vcsim ends idle ones on a timer of its own). */
async function sessionsReach(h: Harness, count: number): Promise<void> {
  while ((await harnessStats(h.info)).sessions !== count) await new Promise((r) => setTimeout(r, 25));
}

describe('idle expiry, end to end', () => {
  it('an idle session is logged in again transparently with one Login, while a keepalive keeps its own alive', async () => {
    // vcsim checks each session every idleTimeout and ends it once idle for longer: a session
    // dies between one and two periods after its last call. The keepalive ticks well inside one.
    const h = await startHarness({ idleTimeout: '1s' });
    const kept = await loggedIn(h, { ...withWsdl, keepAliveIntervalMs: 100 });
    const idle = await loggedIn(h, withWsdl);
    const events: string[] = [];
    idle.on('reauthenticated', () => events.push('reauthenticated'));
    const before = idle.sessionId;
    // The idle client logged in after the kept one: once its session is gone, the kept one
    // has been idle-free only thanks to the keepalive.
    await sessionsReach(h, 1);
    expect(await kept.sessionManager.sessionIsActive(kept.userSession!.key, h.info.username)).toBe(true);
    expect(await idle.call('CurrentTime', SI)).toBeInstanceOf(Date);
    expect(events).toEqual(['reauthenticated']);
    expect(idle.sessionId).not.toBe(before);
    const stats = await harnessStats(h.info);
    expect(stats.methods.Login).toBe(3); // two logins and one re-login, none by the keepalive
    expect(stats.methods.CurrentTime).toBeGreaterThanOrEqual(3);
  });
});

describe('re-authentication', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('recovers 500 in-flight calls after TerminateSession with one Login, no call sent more than twice', async () => {
    const captureDir = tempDir('vim25-capture-');
    const h = await startHarness({ captureDir });
    const c = await loggedIn(h, withWsdl);
    const admin = await loggedIn(h, withWsdl);

    let done = 0;
    let twentyDone!: () => void;
    const twenty = new Promise<void>((resolve) => (twentyDone = resolve));
    const call = (i: number) => c.call('FindByInventoryPath', c.serviceContent.searchIndex!, { inventoryPath: `nowhere/call-${i}` }).then((r) => {
      if (++done === 20) twentyDone();
      return r;
    });
    const calls = Array.from({ length: 400 }, (_, i) => call(i));
    await twenty;
    await terminate(admin, c);
    // And 100 more once the session is gone: on a machine busy enough that the server answered
    // all 400 before the TerminateSession, these still meet the dead session, together.
    calls.push(...Array.from({ length: 100 }, (_, i) => call(400 + i)));
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
    const h = await startHarness();
    const c = await loggedIn(h, withWsdl);
    const admin = await loggedIn(h, withWsdl);
    await harnessSetPassword(h.info, 'changed-by-admin');
    await terminate(admin, c);
    const before = (await harnessStats(h.info)).methods.CurrentTime ?? 0;
    vi.useFakeTimers({ toFake: ['Date'] });
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => c.call('CurrentTime', SI)));
    // Each call was sent once, and none again after the refused re-login (nor after waiting out
    // a back-off): the burst ends with the one refused Login.
    expect((await harnessStats(h.info)).methods.CurrentTime).toBe(before + 50);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect(isVimFault((r as PromiseRejectedResult).reason, 'InvalidLogin')).toBe(true);
    }
    // A straggler of the same burst gets the same answer without another Login.
    expect(isVimFault(await c.call('CurrentTime', SI).catch((e: unknown) => e), 'InvalidLogin')).toBe(true);
    expect((await harnessStats(h.info)).methods.Login).toBe(3); // c, admin, one refused re-login
  });

  it('backs off when Login answers 503 instead of hammering it', async () => {
    const h = await startHarness();
    const c = await loggedIn(h, withWsdl);
    const admin = await loggedIn(h, withWsdl);
    await terminate(admin, c);
    // The call's first attempt gets NotAuthenticated, answered late; once the server has taken
    // it, it turns 503 for one request, which is then the re-login. The stall is the window for
    // arming the 503 (two control requests: 4-10 ms with both cores busy); the harness has no
    // switch that waits for a Login instead.
    const before = (await harnessStats(h.info)).methods.CurrentTime ?? 0;
    vi.useFakeTimers({ toFake: ['Date'] });
    await harnessStall(h.info, 1);
    const first = c.call('CurrentTime', SI).catch((e: unknown) => e);
    while (((await harnessStats(h.info)).methods.CurrentTime ?? 0) === before) await new Promise((r) => setTimeout(r, 5));
    await harnessUnavailable(h.info, 1);
    const err = await first;
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).status).toBe(503);
    // Within the back-off, calls fail with the same error without another Login.
    const burst = await Promise.all(Array.from({ length: 20 }, () => c.call('CurrentTime', SI).catch((e: unknown) => e)));
    expect(burst.every((e) => e === err)).toBe(true);
    expect((await harnessStats(h.info)).methods.Login).toBe(3); // c, admin, the refused re-login
    // Once the back-off (1 s after a first refusal) has passed, the next call logs in again.
    vi.setSystemTime(Date.now() + 1_000);
    expect(await c.call('CurrentTime', SI)).toBeInstanceOf(Date);
    expect((await harnessStats(h.info)).methods.Login).toBe(4);
  });

  it('never retries login methods themselves', async () => {
    const h = await startHarness();
    const c = await connect(h, withWsdl);
    const err = await c.login({ username: h.info.username, password: 'wrong' }).catch((e: unknown) => e);
    expect(isVimFault(err, 'InvalidLogin')).toBe(true);
    expect((await harnessStats(h.info)).methods.Login).toBe(1);
  });

  it('does not log in again when reauthenticate is off, and reports sessionLost', async () => {
    const h = await startHarness();
    const c = await loggedIn(h, { ...withWsdl, reauthenticate: false });
    const admin = await loggedIn(h, withWsdl);
    const lost: unknown[] = [];
    c.on('sessionLost', (f) => lost.push(f));
    await terminate(admin, c);
    const err = await c.call('CurrentTime', SI).catch((e: unknown) => e);
    expect(isVimFault(err, 'NotAuthenticated')).toBe(true);
    expect(lost).toHaveLength(1);
    expect((await harnessStats(h.info)).methods.Login).toBe(2); // c and admin
  });
});
