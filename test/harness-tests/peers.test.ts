// Interoperability peers against the harness: pyvmomi (Debian's python3-pyvmomi) and our
// govmomi program, each logging in, and a clone ticket minted by one redeemed by the other.
import { execFile, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { HarnessInfo } from '../harness/vcsim.ts';
import { currentUser, ownHarness, sessionOf } from './raw.ts';

const PEERS = fileURLToPath(new URL('../peers/', import.meta.url));
// Debian's interpreter, where python3-pyvmomi lives (a pyenv python3 on PATH has no pyVmomi).
const PYTHON = '/usr/bin/python3';
const harness = ownHarness();
let govmomi: string;

beforeAll(() => {
  govmomi = execFileSync('bash', [`${PEERS}build-govmomi.sh`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

type Peer = 'pyvmomi' | 'govmomi';
type Trust = 'ca' | 'insecure' | 'none';

function peer(which: Peer, h: HarnessInfo, command: string[], opts: { trust?: Trust; user?: string; password?: string; session?: string } = {}): Promise<Run> {
  const py = which === 'pyvmomi';
  const flag = (name: string) => (py ? `--${name}` : `-${name}`);
  const args = [flag('url'), h.url];
  const trust = opts.trust ?? 'ca';
  if (trust === 'ca') args.push(flag('ca'), h.certFile);
  if (trust === 'insecure') args.push(flag('insecure'));
  if (opts.session !== undefined) args.push(flag('session'), opts.session);
  else if (opts.user !== undefined) args.push(flag('user'), opts.user, flag('password'), opts.password ?? '');
  const cmd = command.map((c) => (c.startsWith('-') && py ? `-${c}` : c));
  return py ? run(PYTHON, [`${PEERS}pyvmomi_peer.py`, ...args, ...cmd]) : run(govmomi, [...args, ...cmd]);
}

interface PeerSession {
  key: string;
  userName: string;
  loginTime: string;
  sessionId: string;
}

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
