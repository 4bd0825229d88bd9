// Sessions for a fleet with the FileSessionStore: real child processes sharing one directory,
// against a private harness that counts Logins.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileSessionStore, VimClient } from 'vim25-soap';
import { sessionKey } from '../../src/fleet/key.ts';
import { bundleIfPresent } from '../../scripts/lib/paths.ts';
import { FleetRegistry, liveSessions, progressed, terminateOthers, type FleetProcess } from '../harness/fleet.ts';
import type { ChildStart } from '../harness/fleet-child.ts';
import { Harness, harnessStall, harnessStats } from '../harness/vcsim.ts';
import { tempDir } from '../fixtures.ts';

// A generous store timeout: on a loaded machine a slow answer must not pass for an outage (which costs Logins).
// The lock TTL is the default (3 s, renewed while the Login runs); a long lockWaitMs, so that a
// Login slowed down by a loaded machine does not send the others to log in on their own.
const TIMING = { lockWaitMs: 20_000, pollIntervalMs: 20, renewIntervalMs: 200, timeoutMs: 3000 };
let h: Harness;
let admin: VimClient;
const fleet = new FleetRegistry();

beforeAll(async () => {
  h = await Harness.start({ wsdlDir: bundleIfPresent() });
  admin = await VimClient.connect(h.info.url, { tls: { ca: h.ca } });
  await admin.login({ username: h.info.username, password: h.info.password });
});
afterAll(async () => {
  await fleet.killAll();
  await admin?.close();
  await h?.stop();
});

function job(dir: string, timing: Record<string, number> = TIMING): ChildStart {
  return { url: h.info.url, ca: h.ca.toString(), username: h.info.username, password: h.info.password, store: { kind: 'file', dir, timing } };
}

/** Where the store keeps its files: a directory it must create itself (0700). */
const newDir = (): string => join(tempDir('vim25-fleet-'), 'sessions');

const spawn = (n: number): FleetProcess[] => fleet.spawn(n);
const logins = async (): Promise<number> => (await harnessStats(h.info)).methods.Login ?? 0;

describe('FileSessionStore across processes', () => {
  it('3 processes start with exactly one Login and share one session; a later process does no Login; the files are private', async () => {
    const dir = newDir();
    const before = await logins();
    const ps = spawn(3);
    const ready = await Promise.all(ps.map((p) => p.start(job(dir))));
    expect(await logins()).toBe(before + 1);
    expect(new Set(ready.map((r) => r.session)).size).toBe(1);

    await Promise.all(ps.map((p) => p.close()));
    // close() of a shared session does not log the fleet out: the next process adopts it.
    const [late] = spawn(1);
    const r = await late!.start(job(dir));
    expect(r.session).toBe(ready[0]!.session);
    expect(await logins()).toBe(before + 1);
    await late!.close();

    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const files = readdirSync(dir);
    expect(files.filter((f) => f.endsWith('.session'))).toHaveLength(1);
    for (const f of files) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
  });

  it('a session terminated from outside under load from every process: exactly one more Login fleet-wide, no failed call', async () => {
    const dir = newDir();
    const ps = spawn(3);
    await Promise.all(ps.map((p) => p.start(job(dir))));
    const before = await logins();
    for (const p of ps) p.send({ cmd: 'load', concurrency: 4 });
    await Promise.all(ps.map((p) => p.next('progress')));
    expect(await terminateOthers(admin)).toBeGreaterThanOrEqual(1);
    const again = await Promise.all(ps.map((p) => p.next('reauthenticated')));
    expect(new Set(again.map((m) => m.session)).size).toBe(1);
    await progressed(ps); // every process goes on calling on the new session
    const results = await Promise.all(ps.map((p) => p.stop()));
    for (const r of results) {
      expect(r.errors).toEqual([]);
      expect(r.failed).toBe(0);
      expect(r.ok).toBeGreaterThan(0);
    }
    expect(await logins()).toBe(before + 1);
    await Promise.all(ps.map((p) => p.close()));
  });

  it('the lock holder SIGKILLed mid-login: its lock expires within the lock TTL (3 s), and another process takes over with one Login', async () => {
    const dir = newDir();
    const [holder, b, c] = spawn(3);
    await Promise.all([holder!, b!, c!].map((p) => p.connect(job(dir))));
    const before = await logins();
    await harnessStall(h.info, 20); // the holder's Login is executed but answered only after it is dead
    holder!.send({ cmd: 'login' });
    while (!(existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.lock'))) || (await logins()) === before) await new Promise((r) => setTimeout(r, 10));
    await holder!.kill();
    // What the dead holder left: a lock renewed up to its death, never after, so it expires
    // within one TTL of now, whatever the Login it was waiting for.
    const lock = JSON.parse(readFileSync(join(dir, readdirSync(dir).find((f) => f.endsWith('.lock'))!), 'utf8')) as { expiresAt: number };
    expect(lock.expiresAt - Date.now()).toBeLessThanOrEqual(3_000);
    const [rb, rc] = await Promise.all([b!.login(), c!.login()]);
    expect(rb.session).toBe(rc.session);
    expect(await logins()).toBe(before + 2); // the dead holder's, and one for the rest of the fleet
    await Promise.all([b!.close(), c!.close()]);
  });

  it('another user\'s live session planted in the session file: no process adopts it; one Login replaces it', async () => {
    const dir = newDir();
    const viewer = await VimClient.connect(h.info.url, { tls: { ca: h.ca } });
    try {
      await viewer.login({ username: h.info.viewerUsername, password: h.info.viewerPassword });
      const key = await sessionKey(h.info.url, h.info.username, h.info.password);
      const planter = new FileSessionStore({ dir });
      expect(await planter.compareAndSet(key, undefined, viewer.sessionId!)).toBe(true);
      const before = await logins();
      const ps = spawn(2);
      const ready = await Promise.all(ps.map((p) => p.start(job(dir))));
      expect(await logins()).toBe(before + 1);
      expect(new Set(ready.map((m) => m.session)).size).toBe(1);
      const stored = await planter.get(key);
      expect(stored).not.toBe(viewer.sessionId);
      expect((await liveSessions(admin)).find((x) => x.key === stored)?.userName).toBe(h.info.username);
      expect(ps.flatMap((p) => p.messages).some((m) => m.type === 'log' && m.message.includes('belongs to another user'))).toBe(true);
      await Promise.all(ps.map((p) => p.close()));
    } finally {
      await viewer.close();
    }
  });

  it('a FIFO, or a symbolic link to /dev/zero, at the session file\'s path: the processes log in once and replace it (it hung their file I/O, or grew them without bound)', async () => {
    for (const plant of [(p: string) => execFileSync('mkfifo', ['-m', '600', p]), (p: string) => symlinkSync('/dev/zero', p)]) {
      const dir = newDir();
      mkdirSync(dir, { mode: 0o700 });
      const path = join(dir, `${await sessionKey(h.info.url, h.info.username, h.info.password)}.session`);
      plant(path);
      const before = await logins();
      const ps = spawn(2);
      const ready = await Promise.all(ps.map((p) => p.start(job(dir))));
      expect(await logins()).toBe(before + 1);
      expect(new Set(ready.map((m) => m.session)).size).toBe(1);
      expect(lstatSync(path).isFile()).toBe(true);
      await Promise.all(ps.map((p) => p.close()));
    }
  });
});
