// waitForTask / waitForTasks on a harness of this file's own (it clones, powers on, runs tasks
// that only end when the test says so, and loses answers).
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { isVimFault, TaskBlockedError, TaskTimeoutError, VimFault, type ManagedObjectReference, type TaskInfo, type VimClient } from 'vim25-soap';
import { harnessDrop, harnessStats, harnessUnavailable, type HarnessInfo } from '../harness/vcsim.ts';
import { harnessQuestion, harnessTask, harnessUpdateTask, inventoryStats, loggedIn, ownHarness } from '../harness/inventory.ts';

let info: HarnessInfo;
let c: VimClient;
let vms: ManagedObjectReference<'VirtualMachine'>[];

// The client's last calls, for the message of a step that stalls (a wait across a re-login
// stalled once in ~25 full runs, and never again when looked for).
const trail: string[] = [];
const started = Date.now();
const record = (level: string) => (message: string, data?: Record<string, unknown>): void => {
  const d = data ?? {};
  trail.push(`${Date.now() - started} ms ${level} ${message} ${[d.method, d.ms, d.error, d.fault, d.code].filter((x) => x !== undefined).join(' ')}`);
  if (trail.length > 40) trail.shift();
};
const logger = { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };

/** `promise`, or a failure naming `step` and the client's last calls once it has taken `ms`. */
async function step<T>(name: string, promise: Promise<T>, ms = 20_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`stalled at ${name} after ${ms} ms; the client's last calls:\n${trail.join('\n')}`)), ms);
  });
  try {
    return await Promise.race([promise, stalled]);
  } finally {
    clearTimeout(timer);
  }
}

beforeAll(async () => {
  info = (await ownHarness({ inventory: { datacenters: 1, clusters: 0, standaloneHosts: 1, vms: 4 } })).info;
  c = await loggedIn(info, { logger });
  vms = await c.find('VirtualMachine', '/DC0/vm/*');
});

/** Resolves when `predicate` holds for a progress report. */
function progressReports() {
  const seen: number[] = [];
  const waiters: { want: number; resolve: () => void }[] = [];
  return {
    seen,
    onProgress: (percent: number, _info: TaskInfo) => {
      seen.push(percent);
      for (const w of waiters.filter((x) => x.want === percent)) w.resolve();
    },
    reached: (want: number) => (seen.includes(want) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ want, resolve }))),
  };
}

/** Collectors that died with a terminated session, never to be destroyed. */
let diedWithSession = 0;

async function collectorsBalanced(): Promise<void> {
  const { methods } = await inventoryStats(info);
  expect(methods.DestroyPropertyCollector ?? 0).toBe((methods.CreatePropertyCollector ?? 0) - diedWithSession);
}

describe('waitForTask', () => {
  it("resolves with a clone's result: the new VM", async () => {
    const folder = c.ref((await c.retrieveOne(vms[0]!, ['parent'])).parent!, 'Folder');
    const task = await c.call('CloneVM_Task', vms[0]!, { folder, name: 'inventory-clone', spec: { location: {}, powerOn: false, template: false } });
    const progress = progressReports();
    // Typed by the method's task result: a VirtualMachine reference.
    const vm = await c.waitForTask(task, { onProgress: progress.onProgress });
    expect(vm.type).toBe('VirtualMachine');
    expect((await c.retrieveOne(vm, ['name'])).name).toBe('inventory-clone');
    expect(progress.seen).toEqual([100]);
    await collectorsBalanced();
  });

  it('rejects with the VimFault of a failed task, hierarchy kept', async () => {
    const on = (await c.retrieve('VirtualMachine', ['runtime.powerState'])).find((r) => r['runtime.powerState'] === 'poweredOn')!.ref;
    const task = await c.call('PowerOnVM_Task', on, {});
    const err = await c.waitForTask(task).catch((e: unknown) => e);
    expect(isVimFault(err, 'InvalidPowerState')).toBe(true);
    expect((err as VimFault).is('InvalidState')).toBe(true);
    expect((err as VimFault).is('VimFault')).toBe(true);

    const slow = await harnessTask(info, vms[1]!);
    const failing = c.waitForTask(slow).catch((e: unknown) => e);
    await harnessUpdateTask(info, slow, { state: 'error', fault: 'FileAlreadyExists' });
    const fault = await failing;
    expect(fault).toBeInstanceOf(VimFault);
    expect((fault as VimFault).faultName).toBe('FileAlreadyExists');
    expect((fault as VimFault).is('FileFault')).toBe(true);
    await collectorsBalanced();
  });

  it('reports progress as the server reports it, then the result', async () => {
    const task = await harnessTask(info, vms[1]!);
    const progress = progressReports();
    const done = c.waitForTask(task, { onProgress: progress.onProgress });
    await harnessUpdateTask(info, task, { progress: 10 });
    await progress.reached(10);
    await harnessUpdateTask(info, task, { progress: 60 });
    await progress.reached(60);
    await harnessUpdateTask(info, task, { state: 'success', result: vms[2]! });
    expect(await done).toEqual(vms[2]);
    expect(progress.seen).toEqual([10, 60, 100]);
    await collectorsBalanced();
  });

  it('stops at an abort (CancelWaitForUpdates) and at its timeout; the task keeps running', async () => {
    // On a host: a VM's task would also get a question filter, and the abort could land on that call instead.
    const [host] = await c.find('HostSystem', '/DC0/host/*/*');
    const task = await harnessTask(info, host!);
    const before = (await inventoryStats(info)).methods.CancelWaitForUpdates ?? 0;
    const ctrl = new AbortController();
    const progress = progressReports();
    const aborted = c.waitForTask(task, { signal: ctrl.signal, onProgress: progress.onProgress }).catch((e: unknown) => e);
    await harnessUpdateTask(info, task, { progress: 5 });
    await progress.reached(5);
    ctrl.abort(new Error('user gave up'));
    expect(await aborted).toEqual(new Error('user gave up'));
    expect((await inventoryStats(info)).methods.CancelWaitForUpdates).toBe(before + 1);

    // Only the wait's own timer makes a TaskTimeoutError; that it is armed for timeoutMs is read
    // off the call that arms it, not off a clock a busy machine runs late.
    const timers = vi.spyOn(globalThis, 'setTimeout');
    let err: unknown;
    try {
      err = await c.waitForTask(task, { timeoutMs: 300 }).catch((e: unknown) => e);
      expect(timers.mock.calls.map(([, ms]) => ms)).toContain(300);
    } finally {
      timers.mockRestore();
    }
    expect(err).toBeInstanceOf(TaskTimeoutError);
    expect((err as TaskTimeoutError).task).toEqual(task);
    expect((err as TaskTimeoutError).info?.state).toBe('running');
    expect((await c.retrieveOne(task, ['info.state']))['info.state']).toBe('running');
    await collectorsBalanced();
  });

  it('fails with ManagedObjectNotFound when the task disappears while waited on', async () => {
    const task = await harnessTask(info, vms[1]!);
    const progress = progressReports();
    const gone = c.waitForTask(task, { onProgress: progress.onProgress }).catch((e: unknown) => e);
    await harnessUpdateTask(info, task, { progress: 2 });
    await progress.reached(2);
    await harnessUpdateTask(info, task, { remove: true });
    const err = await gone;
    expect(isVimFault(err, 'ManagedObjectNotFound')).toBe(true);
    expect((err as VimFault).fault.obj).toEqual(task);
    await collectorsBalanced();
  });

  it('fails with TaskBlockedError when the VM asks a question', async () => {
    const vm = vms[3]!;
    const task = await harnessTask(info, vm);
    const progress = progressReports();
    const blocked = c.waitForTask(task, { onProgress: progress.onProgress }).catch((e: unknown) => e);
    await harnessUpdateTask(info, task, { progress: 1 });
    await progress.reached(1);
    await harnessQuestion(info, vm, 'Did you move or copy it?');
    const err = await blocked;
    expect(err).toBeInstanceOf(TaskBlockedError);
    expect((err as TaskBlockedError).vm).toEqual(vm);
    expect((err as TaskBlockedError).question.text).toBe('Did you move or copy it?');
    await harnessQuestion(info, vm, '');
    await collectorsBalanced();
  });

  it('keeps waiting across a re-login: the task outlives the session, its filter is built again', async () => {
    const admin = await loggedIn(info);
    const task = await harnessTask(info, vms[1]!);
    const progress = progressReports();
    const done = c.waitForTask(task, { onProgress: progress.onProgress, maxWaitSeconds: 1 });
    await harnessUpdateTask(info, task, { progress: 30 });
    await step('progress 30', progress.reached(30));
    const relogin = new Promise((resolve) => c.once('reauthenticated', resolve));
    await admin.call('TerminateSession', admin.serviceContent.sessionManager!, { sessionId: [c.userSession!.key] });
    await step('the re-login', relogin); // the wait's own next WaitForUpdatesEx met NotAuthenticated
    diedWithSession++;
    await harnessUpdateTask(info, task, { progress: 80 });
    await step('progress 80', progress.reached(80));
    await harnessUpdateTask(info, task, { state: 'success', result: vms[1]! });
    expect(await step('the result', done)).toEqual(vms[1]);
    expect(progress.seen).toEqual([30, 80, 100]);
    await collectorsBalanced();
  });

  it('runs concurrent waits on collectors of their own, so one never holds up another', async () => {
    const [a, b] = [await harnessTask(info, vms[1]!), await harnessTask(info, vms[2]!)];
    const pa = progressReports();
    const pb = progressReports();
    let aDone = false;
    const waitA = c.waitForTask(a, { onProgress: pa.onProgress }).then((r) => ((aDone = true), r));
    const waitB = c.waitForTask(b, { onProgress: pb.onProgress });
    await harnessUpdateTask(info, a, { progress: 1 });
    await harnessUpdateTask(info, b, { progress: 1 });
    await Promise.all([pa.reached(1), pb.reached(1)]);
    expect(c.listenerCount('reauthenticated')).toBe(1); // one per client, however many waits
    await harnessUpdateTask(info, b, { state: 'success', result: vms[2]! });
    expect(await waitB).toEqual(vms[2]);
    expect(aDone).toBe(false);
    await harnessUpdateTask(info, a, { state: 'success', result: vms[1]! });
    expect(await waitA).toEqual(vms[1]);
    const [x, y] = [await harnessTask(info, vms[1]!), await harnessTask(info, vms[2]!)];
    const both = c.waitForTasks([x, y] as const);
    await harnessUpdateTask(info, y, { state: 'success', result: vms[2]! });
    await harnessUpdateTask(info, x, { state: 'success', result: vms[1]! });
    expect(await both).toEqual([vms[1], vms[2]]);
    expect(c.listenerCount('reauthenticated')).toBe(0);
    await collectorsBalanced();
  });
});

// Each switch below is spent by the test that arms it (asserted), so the others never meet it.
describe('waitForTask across a lost connection or a 503, the task still running', () => {
  it('resolves when the answer saying the task ended was lost: it reads the task afresh, not the spent version', async () => {
    const [host] = await c.find('HostSystem', '/DC0/host/*/*');
    const task = await harnessTask(info, host!);
    const progress = progressReports();
    const done = c.waitForTask(task, { onProgress: progress.onProgress });
    await harnessUpdateTask(info, task, { progress: 10 });
    await progress.reached(10);
    // The wait now open (or the next) is executed, and its connection closed instead of answered.
    await harnessDrop(info, 1, 'answer', 'WaitForUpdatesEx');
    await harnessUpdateTask(info, task, { state: 'success', result: vms[1]! });
    expect(await done).toEqual(vms[1]);
    expect(progress.seen).toEqual([10, 100]);
    expect((await harnessStats(info)).pending.drop).toBe(0);
    await collectorsBalanced();
  });

  it('resolves across a lost CreateFilter answer: the collector that may hold the filter is destroyed, and another built', async () => {
    const [host] = await c.find('HostSystem', '/DC0/host/*/*');
    const task = await harnessTask(info, host!);
    const before = (await inventoryStats(info)).methods.CreateFilter ?? 0;
    await harnessDrop(info, 1, 'answer', 'CreateFilter');
    const progress = progressReports();
    const done = c.waitForTask(task, { onProgress: progress.onProgress });
    await harnessUpdateTask(info, task, { progress: 20 });
    await progress.reached(20);
    await harnessUpdateTask(info, task, { state: 'success', result: vms[1]! });
    expect(await done).toEqual(vms[1]);
    expect((await inventoryStats(info)).methods.CreateFilter).toBe(before + 2);
    expect((await harnessStats(info)).pending.drop).toBe(0);
    await collectorsBalanced();
  });

  it('resolves across a 503: the wait the server never saw is sent again', async () => {
    const [host] = await c.find('HostSystem', '/DC0/host/*/*');
    const task = await harnessTask(info, host!);
    const refused = (await harnessStats(info)).unavailableAnswers;
    const progress = progressReports();
    const done = c.waitForTask(task, { onProgress: progress.onProgress });
    await harnessUpdateTask(info, task, { progress: 10 });
    await progress.reached(10);
    // Nothing else calls: the next SOAP request to arrive is one of this wait's WaitForUpdatesEx.
    await harnessUnavailable(info, 1);
    await harnessUpdateTask(info, task, { progress: 40 });
    await progress.reached(40);
    await harnessUpdateTask(info, task, { state: 'success', result: vms[2]! });
    expect(await done).toEqual(vms[2]);
    expect(progress.seen).toEqual([10, 40, 100]);
    expect((await harnessStats(info)).unavailableAnswers).toBe(refused + 1);
    await collectorsBalanced();
  });
});
