// The harness's inventory additions (test/vcsim/inventory.go) and what the inventory tests share.
import { fileURLToPath } from 'node:url';
import { afterAll, inject } from 'vitest';
import { VimClient, type ConnectOptions, type ManagedObjectReference, type TaskRef } from 'vim25-soap';
import { bundleIfPresent } from '../../scripts/lib/paths.ts';
import { pythonOk } from '../peers/python.ts';
import { Harness, harnessRequest, type HarnessInfo, type HarnessOptions } from './vcsim.ts';
import { withBundle } from '../fixtures.ts';

/** RetrievePropertiesEx answers at most `size` objects per page from now on (0: all at once unless maxObjects). */
export const harnessPageSize = (info: HarnessInfo, size: number): Promise<void> => harnessRequest(info, 'POST', '/_harness/page-size', { size });
/** That property of that object answers a missingSet NoPermission from now on. */
export const harnessDeny = (info: HarnessInfo, obj: ManagedObjectReference, path: string): Promise<void> =>
  harnessRequest(info, 'POST', '/_harness/deny', { obj: { type: obj.type, value: obj.value }, path });
/** A running Task on `entity`, changed only by harnessUpdateTask; what it ends with is the test's to say. */
export const harnessTask = (info: HarnessInfo, entity: ManagedObjectReference, name = 'HarnessTask'): Promise<TaskRef<ManagedObjectReference<'VirtualMachine'>>> =>
  harnessRequest(info, 'POST', '/_harness/task', { entity: { type: entity.type, value: entity.value }, name });
export const harnessUpdateTask = (info: HarnessInfo, task: ManagedObjectReference, change: { progress?: number; state?: 'success' | 'error'; fault?: string; result?: ManagedObjectReference; remove?: boolean }): Promise<void> =>
  harnessRequest(info, 'POST', '/_harness/task-update', { task: task.value, ...change });
/** Sets (text '' clears) the VM's runtime.question. */
export const harnessQuestion = (info: HarnessInfo, vm: ManagedObjectReference, text: string): Promise<void> => harnessRequest(info, 'POST', '/_harness/question', { vm: vm.value, text });
export const inventoryStats = async (info: HarnessInfo): Promise<{ methods: Record<string, number>; inventory: { pageSize: number; pendingTokens: number; views: number } }> =>
  harnessRequest(info, 'GET', '/_harness/stats');

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A harness of the test file's own (for anything that changes its state), stopped after the file. */
export async function ownHarness(options: HarnessOptions = {}): Promise<Harness> {
  const h = await Harness.start({ wsdlDir: bundleIfPresent(), ...options });
  cleanups.push(() => h.stop());
  return h;
}

/** A logged-in client, closed after the file. */
export async function loggedIn(info: HarnessInfo, options: Pick<ConnectOptions, 'logger'> = {}): Promise<VimClient> {
  const c = await VimClient.connect(info.url, { ...options, tls: { ca: await import('node:fs').then((fs) => fs.readFileSync(info.certFile)) }, ...withBundle() });
  cleanups.push(() => c.close());
  await c.login({ username: info.username, password: info.password });
  return c;
}

/** The views the server still holds (ViewManager.viewList). */
export async function viewList(c: VimClient): Promise<ManagedObjectReference[]> {
  const row = await c.retrieveOne(c.serviceContent.viewManager!, ['viewList']);
  return (row.viewList as ManagedObjectReference[] | undefined) ?? [];
}

export interface PyvmomiInventory {
  vms: { moref: string; name: string; powerState: string; host: string | null }[];
  paths: Record<string, ManagedObjectReference>;
}

const PEER = fileURLToPath(new URL('../peers/pyvmomi_inventory.py', import.meta.url));

/**
 * What pyvmomi read of the shared harness (inject('harness')), once per worker: no test may
 * change that harness (test/conformance/shared-harness.test.ts), so its inventory reads the same
 * for every file and for both projects that run them.
 */
let shared: { url: string; read: Promise<string> } | undefined;

/** What pyvmomi (Debian's python3-pyvmomi) reads of the harness's inventory. */
export async function pyvmomiInventory(info: HarnessInfo): Promise<PyvmomiInventory> {
  const run = (): Promise<string> => pythonOk([PEER, info.url, info.certFile, info.username, info.password], { timeoutMs: 60_000 });
  if (info.url !== inject('harness').url) return JSON.parse(await run()) as PyvmomiInventory;
  if (shared?.url !== info.url) {
    const read = run();
    shared = { url: info.url, read };
    read.catch(() => {
      if (shared?.read === read) shared = undefined;
    });
  }
  // Parsed for each caller: a test may sort or change what it is given.
  return JSON.parse(await shared.read) as PyvmomiInventory;
}
