// What tests against a server share: the ServiceInstance reference, clients that close
// themselves when the test ends, and harnesses of a test's own that stop themselves.
//
// The shared harness (inject('harness'), started once per run by test/harness/global-setup.ts)
// is read-only: files run in parallel and in any order, so a test that changes what another
// file may read there (powers, renames, reconfigures, options, folders, fault switches,
// harnessReset, the password, terminated sessions, counters it asserts on) uses a harness of
// its own: `ownHarness()` for a file or describe block, `startHarness()` for one test.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, onTestFinished } from 'vitest';
import { VimClient, type ConnectOptions, type ManagedObjectReference } from 'vim25-soap';
import { bundleIfPresent } from '../scripts/lib/paths.ts';
import { startHostileServer, type HostileServer } from './harness/hostile-server.ts';
import { Harness, type HarnessInfo, type HarnessOptions } from './harness/vcsim.ts';

export const SI: ManagedObjectReference<'ServiceInstance'> = { type: 'ServiceInstance', value: 'ServiceInstance' };

/**
 * Connect options that give the client the vim25 bundle (its operations check) when there is
 * one; without it (an outsider's clone) the client connects as users do, without a WSDL.
 */
export function withBundle(): { wsdl?: string } {
  const dir = bundleIfPresent();
  return dir === undefined ? {} : { wsdl: dir };
}

/**
 * A new directory under the system's temporary directory, removed after the current test, or,
 * made at a file's or describe block's top level, after its tests: runs leave nothing behind.
 */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const remove = (): void => rmSync(dir, { recursive: true, force: true });
  try {
    onTestFinished(remove);
  } catch {
    afterAll(remove);
  }
  return dir;
}

/**
 * A client of the harness that trusts its CA, closed (logged out, sockets freed) when the
 * current test finishes, whether it passed or not. Only inside a test, and not in concurrent
 * ones (vitest cannot tell them apart after an await): in beforeAll, connect yourself and
 * return the close from the hook.
 */
export async function connect(target: Harness | HarnessInfo, options: ConnectOptions = {}): Promise<VimClient> {
  const info = target instanceof Harness ? target.info : target;
  const client = await VimClient.connect(info.url, { ...options, tls: { ca: readFileSync(info.certFile), ...options.tls } });
  onTestFinished(() => client.close());
  return client;
}

/** connect() and a password login as the harness's administrator. */
export async function loggedIn(target: Harness | HarnessInfo, options: ConnectOptions = {}): Promise<VimClient> {
  const client = await connect(target, options);
  const info = target instanceof Harness ? target.info : target;
  await client.login({ username: info.username, password: info.password });
  return client;
}

/** Ends `victim`'s session on the server at once, as an administrator would (no idle wait). */
export async function terminate(admin: VimClient, victim: VimClient): Promise<void> {
  await admin.call('TerminateSession', admin.serviceContent.sessionManager!, { sessionId: [victim.userSession!.key] });
}

/**
 * A harness for one test, stopped when the test finishes. Its SOAP requests are captured for
 * the conformance check like the shared harness's (HarnessOptions.captureDir).
 */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const harness = await Harness.start({ wsdlDir: bundleIfPresent(), ...options });
  onTestFinished(() => harness.stop());
  return harness;
}

/**
 * A harness of the enclosing file or describe block: started before its tests, stopped after
 * them. Returns a getter, since the harness exists only once the tests run.
 */
export function ownHarness(options: HarnessOptions = {}): () => Harness {
  let harness: Harness | undefined;
  beforeAll(async () => {
    harness = await Harness.start({ wsdlDir: bundleIfPresent(), ...options });
  });
  afterAll(() => harness?.stop());
  return () => {
    if (!harness) throw new Error('the harness did not start');
    return harness;
  };
}

/**
 * Our small in-process vim25 server (test/harness/hostile-server.ts) for the enclosing file or
 * describe block; the answers a test replaced are cleared after it.
 */
export function ownVimServer(): () => HostileServer {
  let server: HostileServer | undefined;
  beforeAll(async () => {
    server = await startHostileServer();
  });
  afterAll(() => server?.close());
  afterEach(() => server?.answers.clear());
  return () => {
    if (!server) throw new Error('the server did not start');
    return server;
  };
}
