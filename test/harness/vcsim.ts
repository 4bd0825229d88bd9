// Starts the vcsim harness (test/vcsim) as a child process and talks to its /_harness/ routes.
// Used by vitest's global setup, the demo and the benchmark.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface HarnessInfo {
  url: string;
  certFile: string;
  sha1: string;
  sha256: string;
  apiVersion: string;
  instanceUuid: string;
  username: string;
  password: string;
}

export interface HarnessOptions {
  wsdlDir?: string;
  apiVersion?: string;
  idleTimeout?: string;
  captureDir?: string;
  username?: string;
  password?: string;
}

export interface HarnessStats {
  methods: Record<string, number>;
  soapActions: Record<string, number>;
}

/** Builds the harness if needed (cached) and returns the binary's path. */
export function buildHarness(): string {
  return execFileSync('bash', [`${ROOT}scripts/build-vcsim.sh`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

export class Harness {
  private constructor(readonly info: HarnessInfo, private readonly child: ChildProcess) {}

  static async start(options: HarnessOptions = {}): Promise<Harness> {
    const args: string[] = [];
    if (options.wsdlDir) args.push('-wsdl', options.wsdlDir);
    if (options.apiVersion) args.push('-api-version', options.apiVersion);
    if (options.idleTimeout) args.push('-idle-timeout', options.idleTimeout);
    if (options.captureDir) args.push('-capture-dir', options.captureDir);
    if (options.username) args.push('-username', options.username);
    if (options.password) args.push('-password', options.password);
    const child = spawn(buildHarness(), args, { stdio: ['pipe', 'pipe', 'inherit'] });
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

/** A JSON request to the harness's test-only routes, verifying its certificate. */
export function harnessRequest<T>(info: HarnessInfo, method: 'GET' | 'POST', path: string): Promise<T> {
  const base = new URL(info.url);
  return new Promise<T>((resolve, reject) => {
    const req = https.request(new URL(path, base), { method, ca: readFileSync(info.certFile) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        if ((res.statusCode ?? 0) >= 300) reject(new Error(`${method} ${path}: HTTP ${res.statusCode}: ${body}`));
        else resolve((body ? JSON.parse(body) : undefined) as T);
      });
    });
    req.on('error', reject);
    req.end();
  });
}

export const harnessStats = (info: HarnessInfo): Promise<HarnessStats> => harnessRequest(info, 'GET', '/_harness/stats');
export const harnessReset = (info: HarnessInfo): Promise<void> => harnessRequest(info, 'POST', '/_harness/reset');
