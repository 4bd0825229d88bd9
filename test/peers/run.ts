// Runs the interoperability peers (pyvmomi and our govmomi program) against a harness.
import { execFile, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { HarnessInfo } from '../harness/vcsim.ts';
import { python } from './python.ts';

const PEERS = fileURLToPath(new URL('./', import.meta.url));
let govmomi: string | undefined;

export type Peer = 'pyvmomi' | 'govmomi';
export type Trust = 'ca' | 'insecure' | 'none';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export interface PeerSession {
  key: string;
  userName: string;
  loginTime: string;
  sessionId: string;
}

/** Builds the govmomi peer if needed (cached) and returns its path. */
export function buildGovmomiPeer(): string {
  govmomi ??= execFileSync('bash', [`${PEERS}build-govmomi.sh`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  return govmomi;
}

function run(file: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** `login`, `clone-ticket`, `clone-session -ticket T` with the same options for both peers. */
export function peer(which: Peer, h: HarnessInfo, command: string[], opts: { trust?: Trust; user?: string; password?: string; session?: string } = {}): Promise<Run> {
  const py = which === 'pyvmomi';
  const flag = (name: string) => (py ? `--${name}` : `-${name}`);
  const args = [flag('url'), h.url];
  const trust = opts.trust ?? 'ca';
  if (trust === 'ca') args.push(flag('ca'), h.certFile);
  if (trust === 'insecure') args.push(flag('insecure'));
  if (opts.session !== undefined) args.push(flag('session'), opts.session);
  else if (opts.user !== undefined) args.push(flag('user'), opts.user, flag('password'), opts.password ?? '');
  const cmd = command.map((c) => (c.startsWith('-') && py ? `-${c}` : c));
  if (!py) return run(buildGovmomiPeer(), [...args, ...cmd]);
  return python([`${PEERS}pyvmomi_peer.py`, ...args, ...cmd]).then((r) => ({ ...r, code: r.code ?? 1 }));
}
