// Interoperability peers against the harness: pyvmomi (Debian's python3-pyvmomi) and our
// govmomi program, each logging in, and a clone ticket minted by one redeemed by the other.
import { beforeAll, describe, expect, it } from 'vitest';
import { currentUser, ownHarness, sessionOf } from './raw.ts';
import { buildGovmomiPeer, peer, type Peer, type PeerSession, type Run } from '../peers/run.ts';

const harness = ownHarness();

beforeAll(() => {
  buildGovmomiPeer();
});

function parseSession(r: Run): PeerSession {
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as PeerSession;
}

describe.each<Peer>(['pyvmomi', 'govmomi'])('%s peer', (which) => {
  it('logs in trusting the harness CA and prints a real vcsim session', async () => {
    const h = harness().info;
    const s = parseSession(await peer(which, h, ['login'], { user: h.username, password: h.password }));
    expect(s.userName).toBe(h.username);
    expect(s.sessionId).toBeTruthy();
    expect(await currentUser(h, s.sessionId)).toBe(h.username);
  });

  it('logs in without verification when told to, and logs out with -logout', async () => {
    const h = harness().info;
    const s = parseSession(await peer(which, h, ['login', '-logout'], { trust: 'insecure', user: h.username, password: h.password }));
    expect(await currentUser(h, s.sessionId)).toBeUndefined();
  });

  it('refuses an untrusted certificate, and reports InvalidLogin for a wrong password', async () => {
    const h = harness().info;
    const untrusted = await peer(which, h, ['login'], { trust: 'none', user: h.username, password: h.password });
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toMatch(/certificate|x509|SSL/i);
    const wrong = await peer(which, h, ['login'], { user: h.username, password: 'wrong' });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('fault: InvalidLogin');
  });

  it('adopts an existing session id', async () => {
    const h = harness().info;
    const id = await sessionOf(h);
    expect(parseSession(await peer(which, h, ['login'], { session: id })).key).toBe(id);
  });
});

describe('clone tickets between peers', () => {
  it.each<[Peer, Peer]>([
    ['pyvmomi', 'govmomi'],
    ['govmomi', 'pyvmomi'],
  ])('a ticket from %s is redeemed by %s, once', async (minter, redeemer) => {
    const h = harness().info;
    const minted = await peer(minter, h, ['clone-ticket'], { user: h.username, password: h.password });
    expect(minted.code, minted.stderr).toBe(0);
    const ticket = minted.stdout.trim();
    expect(ticket).toBeTruthy();
    const s = parseSession(await peer(redeemer, h, ['clone-session', '-ticket', ticket]));
    expect(s.userName).toBe(h.username);
    expect(await currentUser(h, s.sessionId)).toBe(h.username);
    const again = await peer(redeemer, h, ['clone-session', '-ticket', ticket]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('fault: InvalidLogin');
  });
});
