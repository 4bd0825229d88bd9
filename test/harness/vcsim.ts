// Starts the vcsim harness (test/vcsim) as a child process and talks to its /_harness/ routes.
// Used by vitest's global setup, the demo, the benchmark and the harness's own tests.
//
// Besides vcsim's SOAP API at info.url the harness serves (all sessions are vcsim's own):
// - ExtensionManager (Register/Find/Update/UnregisterExtension, SetExtensionCertificate,
//   extensionList); LoginExtensionByCertificate accepts only the certificate whose SHA-1
//   thumbprint SetExtensionCertificate stored, LoginExtensionBySubjectName only a client
//   certificate whose subject, as an RFC 4514 string in reverse DER order
//   ("CN=ext,OU=Plugins,O=Example,C=US"), equals Extension.subjectName (blanks after commas
//   and the case of attribute types ignored).
// - the sdkTunnel: CONNECT sdkTunnel:8089 on 127.0.0.1:info.tunnelPort.
// - POST /api/ui/vcenter/session/clone-ticket (vSphere Client plug-in flow; tokens from
//   harnessUiToken) and POST/GET/DELETE /api/session (unified VIM/vAPI sessions).
//
// The fault switches, the password and restart act on every client of a harness: a test that
// flips them starts a harness of its own (`await Harness.start()`, ~50 ms) instead of using
// the shared one from inject('harness').
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Where harnesses capture SOAP requests when HarnessOptions.captureDir is not given. */
export const CAPTURE_ENV = 'VIM25_HARNESS_CAPTURE_DIR';

export interface HarnessInfo {
  /** https://127.0.0.1:PORT/sdk */
  url: string;
  /** PEM of the harness's self-signed certificate (its own CA). */
  certFile: string;
  sha1: string;
  sha256: string;
  apiVersion: string;
  instanceUuid: string;
  username: string;
  /** The startup password; see harnessSetPassword. */
  password: string;
  /** Port of the sdkTunnel CONNECT proxy (vCenter's port 80). */
  tunnelPort: number;
  /** Plain-HTTP base URL serving only /_harness/ routes, untouched by the fault switches. */
  controlUrl: string;
}

/** Inventory per datacenter, mapped to vcsim's Model fields (defaults: vcsim's VPX model). */
export interface HarnessInventory {
  datacenters?: number;
  /** Clusters per datacenter. */
  clusters?: number;
  hostsPerCluster?: number;
  /** Standalone hosts per datacenter. */
  standaloneHosts?: number;
  /** VMs per standalone host and per cluster (vcsim's Model.Machine). */
  vms?: number;
}

export interface HarnessOptions {
  wsdlDir?: string;
  apiVersion?: string;
  /** Go duration, e.g. '500ms', '30m'. */
  idleTimeout?: string;
  /**
   * Write every SOAP request body here, for the conformance check. Defaults to
   * $VIM25_HARNESS_CAPTURE_DIR, which the test run's global setup sets, so every harness a test
   * starts is checked too; '' turns capturing off (for peers' or deliberately odd traffic).
   */
  captureDir?: string;
  username?: string;
  password?: string;
  inventory?: HarnessInventory;
}

export interface HarnessStats {
  methods: Record<string, number>;
  soapActions: Record<string, number>;
  /** Live sessions in vcsim's SessionManager, clone tickets not counted. */
  sessions: number;
  /** Clone tickets handed out and not yet redeemed (vcsim keeps them in its session table). */
  cloneTickets: number;
  tunnels: number;
  tunnelsRefused: number;
  pluginRequests: number;
  apiSessionRequests: number;
  /** Connections accepted on the main listener, dropped ones included. */
  connections: number;
  dropped: number;
  stalled: number;
  unavailableAnswers: number;
  pending: { drop: number; dropStage: DropStage; stallSeconds: number; unavailable: number };
}

export type DropStage = 'accept' | 'request';

/** Builds the harness if needed (cached) and returns the binary's path. */
export function buildHarness(): string {
  return execFileSync('bash', [`${ROOT}scripts/build-vcsim.sh`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

function harnessArgs(options: HarnessOptions): string[] {
  const args: string[] = [];
  const opt = (flag: string, value: string | number | undefined): void => {
    if (value !== undefined && value !== '') args.push(`-${flag}`, String(value));
  };
  opt('wsdl', options.wsdlDir);
  opt('api-version', options.apiVersion);
  opt('idle-timeout', options.idleTimeout);
  opt('capture-dir', options.captureDir ?? process.env[CAPTURE_ENV]);
  opt('username', options.username);
  opt('password', options.password);
  const inv = options.inventory ?? {};
  opt('datacenters', inv.datacenters);
  opt('clusters', inv.clusters);
  opt('hosts', inv.hostsPerCluster);
  opt('standalone-hosts', inv.standaloneHosts);
  opt('vms', inv.vms);
  return args;
}

export class Harness {
  private constructor(readonly info: HarnessInfo, private readonly child: ChildProcess) {}

  static async start(options: HarnessOptions = {}): Promise<Harness> {
    const child = spawn(buildHarness(), harnessArgs(options), { stdio: ['pipe', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      const rl = createInterface({ input: child.stdout! });
      rl.once('line', (l) => {
        rl.close();
        resolve(l);
      });
      child.once('exit', (code) => reject(new Error(`vcsim harness exited with ${code} before it was ready`)));
      child.once('error', reject);
    });
    return new Harness(JSON.parse(line) as HarnessInfo, child);
  }

  get ca(): Buffer {
    return readFileSync(this.info.certFile);
  }

  /** Closing stdin stops the harness; it also stops by itself if this process dies. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * A JSON request to the harness's test-only routes. /_harness/ paths go to the control port
 * when the harness has one (so fault switches never hit them); anything else goes to the main
 * URL, verifying its certificate.
 */
export function harnessRequest<T>(info: HarnessInfo, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const control = path.startsWith('/_harness/') && info.controlUrl;
  const target = new URL(path, control ? info.controlUrl : new URL(info.url));
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = payload === undefined ? {} : { 'content-type': 'application/json' };
  return new Promise<T>((resolve, reject) => {
    const onResponse = (res: http.IncomingMessage): void => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        if ((res.statusCode ?? 0) >= 300) reject(new Error(`${method} ${path}: HTTP ${res.statusCode}: ${text}`));
        else resolve((text ? JSON.parse(text) : undefined) as T);
      });
    };
    const req = control
      ? http.request(target, { method, headers, agent: false }, onResponse)
      : https.request(target, { method, headers, ca: readFileSync(info.certFile), agent: false }, onResponse);
    req.on('error', reject);
    req.end(payload);
  });
}

export const harnessStats = (info: HarnessInfo): Promise<HarnessStats> => harnessRequest(info, 'GET', '/_harness/stats');
/** Clears counters and fault switches and restores the startup password; sessions stay. */
export const harnessReset = (info: HarnessInfo): Promise<void> => harnessRequest(info, 'POST', '/_harness/reset');
/** From now on Login (and POST /api/session, ui-token) accepts only this password. */
export const harnessSetPassword = (info: HarnessInfo, password: string): Promise<void> =>
  harnessRequest(info, 'POST', '/_harness/password', { password });
/** Logs in to vcsim (a real session) and mints a vSphere Client plug-in session token for it. */
export const harnessUiToken = (
  info: HarnessInfo,
  credentials: { username: string; password: string } = { username: info.username, password: info.password },
): Promise<{ token: string; sessionId: string }> => harnessRequest(info, 'POST', '/_harness/ui-token', credentials);
/**
 * Drops the next `count` new connections right after accept ('accept': connections a client
 * already holds open are not affected), or the next `count` SOAP requests right after reading
 * them ('request': works on pooled connections too, and leaves the outcome unknown).
 */
export const harnessDrop = (info: HarnessInfo, count = 1, stage: DropStage = 'accept'): Promise<void> =>
  harnessRequest(info, 'POST', '/_harness/drop', { count, stage });
/** Executes the next SOAP request at once but answers it `seconds` later. */
export const harnessStall = (info: HarnessInfo, seconds: number): Promise<void> =>
  harnessRequest(info, 'POST', '/_harness/stall', { seconds });
/** Answers the next `count` SOAP requests with an HTTP 503 HTML page. */
export const harnessUnavailable = (info: HarnessInfo, count = 1): Promise<void> =>
  harnessRequest(info, 'POST', '/_harness/unavailable', { count });
/** Ends every session and closes every connection; URL, port and certificate stay. */
export const harnessRestart = (info: HarnessInfo): Promise<{ sessionsEnded: number; connectionsClosed: number }> =>
  harnessRequest(info, 'POST', '/_harness/restart');
