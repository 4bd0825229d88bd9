// Clone tickets: hand-off between clients and workers, single use, and interop with pyvmomi and govmomi.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VimClient, isVimFault } from 'vim25-soap';
import { bundleIfPresent } from '../../scripts/lib/paths.ts';
import { fileURLToPath } from 'node:url';
import { handOff } from '../../examples/clone-handoff.ts';
import { bundledEntry } from '../harness/child-entries.ts';
import { Harness } from '../harness/vcsim.ts';
import { peer, type Peer, type PeerSession } from '../peers/run.ts';
import { SI, withBundle } from '../fixtures.ts';

let h: Harness;
const connect = () => VimClient.connect(h.info.url, { tls: { ca: h.ca }, ...withBundle() });

beforeAll(async () => {
  h = await Harness.start({ wsdlDir: bundleIfPresent() });
});
afterAll(() => h?.stop());

describe('clone tickets between our clients', () => {
  it('hands a session over, and a ticket works only once', async () => {
    const a = await connect();
    await a.login({ username: h.info.username, password: h.info.password });
    const ticket = await a.acquireCloneTicket();
    const b = await connect();
    const s = await b.cloneSession(ticket);
    expect(s.userName).toBe(h.info.username);
    expect(b.sessionId).not.toBe(a.sessionId);
    expect(await b.call('CurrentTime', SI)).toBeInstanceOf(Date);
    const c = await connect();
    expect(isVimFault(await c.cloneSession(ticket).catch((e: unknown) => e), 'InvalidLogin')).toBe(true);
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it('rejects a ticket whose session logged out', async () => {
    const a = await connect();
    await a.login({ username: h.info.username, password: h.info.password });
    const ticket = await a.acquireCloneTicket();
    await a.logout();
    const b = await connect();
    expect(isVimFault(await b.cloneSession(ticket).catch((e: unknown) => e), 'InvalidLogin')).toBe(true);
    await Promise.all([a.close(), b.close()]);
  });

  it('rejects a ticket whose session was terminated or expired', async () => {
    const a = await connect();
    await a.login({ username: h.info.username, password: h.info.password });
    const ticket = await a.acquireCloneTicket();
    const admin = await connect();
    await admin.login({ username: h.info.username, password: h.info.password });
    await admin.sessionManager.terminateSessions([a.userSession!.key]);
    const b = await connect();
    expect(isVimFault(await b.cloneSession(ticket).catch((e: unknown) => e), 'InvalidLogin')).toBe(true);
    await Promise.all([a.close(), admin.close(), b.close()]);
  });

  it('runs the hand-off example with 4 workers, each with a session of its own', async () => {
    // The workers run the example bundled, on plain node (as a deployed service would).
    const entry = bundledEntry(fileURLToPath(new URL('../../examples/clone-handoff.ts', import.meta.url)));
    const result = await handOff(h.info.url, readFileSync(h.info.certFile, 'utf8'), h.info.username, h.info.password, 4, entry);
    expect(result.workers).toHaveLength(4);
    const keys = new Set([result.parentKey, ...result.workers.map((w) => w.sessionKey)]);
    expect(keys.size).toBe(5);
    for (const w of result.workers) expect(w.userName).toBe(h.info.username);
  });
});

describe.each<Peer>(['pyvmomi', 'govmomi'])('interop with %s', (which) => {
  it(`redeems a ticket ${which} minted`, async () => {
    const minted = await peer(which, h.info, ['clone-ticket'], { user: h.info.username, password: h.info.password });
    expect(minted.code, minted.stderr).toBe(0);
    const c = await connect();
    const s = await c.cloneSession(minted.stdout.trim());
    expect(s.userName).toBe(h.info.username);
    expect(await c.call('CurrentTime', SI)).toBeInstanceOf(Date);
    await c.close();
  });

  it(`mints a ticket ${which} redeems`, async () => {
    const c = await connect();
    await c.login({ username: h.info.username, password: h.info.password });
    const ticket = await c.acquireCloneTicket();
    const r = await peer(which, h.info, ['clone-session', '-ticket', ticket]);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as PeerSession;
    expect(s.userName).toBe(h.info.username);
    expect(s.key).not.toBe(c.userSession!.key);
    await c.close();
  });
});
