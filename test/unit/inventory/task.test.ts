// waitForTask against a scripted client (no server): the session dies between an update and the
// question filter the update asks for; answers are lost and calls refused while the task runs.
import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TransportError } from '../../../src/errors.ts';
import type { ManagedObjectReference, TaskInfo, UpdateSet } from '../../../src/generated/types.ts';
import type { InventoryClient } from '../../../src/inventory/inventory-client.ts';
import { TaskBlockedError, TaskTimeoutError } from '../../../src/inventory/errors.ts';
import { waitForTask, waitForTasks } from '../../../src/inventory/task.ts';
import { vimFault } from '../../../src/soap/faults.ts';
import { ScriptedInventoryClient } from './scripted-client.ts';

const ref = (type: string, value: string) => ({ type, value }) as unknown as ManagedObjectReference;
const TASK = ref('Task', 'task-7');
const VM = ref('VirtualMachine', 'vm-1');
const info = (more: Partial<TaskInfo>): TaskInfo => ({ key: 'task-7', task: TASK, entity: VM, state: 'running', ...more }) as TaskInfo;
const answer = (i: TaskInfo): UpdateSet => ({
  version: '1',
  filterSet: [{ filter: ref('PropertyFilter', 'f'), objectSet: [{ kind: 'enter', obj: TASK, changeSet: [{ name: 'info', op: 'assign', val: i }] }] }],
}) as UpdateSet;

it('a session lost before the question filter of a new VM is made: the wait goes on, on a rebuilt collector with that filter', async () => {
  const client = new (class extends EventEmitter {
    readonly apiVersion = '8.0.2.0';
    readonly serviceContent = { propertyCollector: ref('PropertyCollector', 'propertyCollector') };
    readonly calls: string[] = [];
    collectors = 0;
    call = async (method: string, _this: ManagedObjectReference, args: { spec?: { propSet: { pathSet: string[] }[] } }) => {
      const what = args?.spec ? `${method} ${args.spec.propSet[0]!.pathSet[0]} on ${_this.value}` : `${method} on ${_this.value}`;
      this.calls.push(what);
      if (method === 'CreatePropertyCollector') return ref('PropertyCollector', `session[${++this.collectors}]pc`);
      if (what === 'CreateFilter runtime.question on session[1]pc') {
        // As the session layer does: re-login, then the call is retried on the new session, where the old collector does not exist.
        this.emit('reauthenticated');
        throw vimFault('CreateFilter', { _typeName: 'ManagedObjectNotFound', obj: _this }, 'managed object not found');
      }
      if (method === 'WaitForUpdatesEx') return answer(info(this.collectors === 1 ? { progress: 30 } : { state: 'success', result: VM }));
      return ref('PropertyFilter', 'f');
    };
  })();
  const seen: number[] = [];
  const result = await waitForTask(client as unknown as InventoryClient, TASK as never, { onProgress: (p) => seen.push(p) });
  expect(result).toEqual(VM);
  expect(seen).toEqual([30, 100]);
  expect(client.calls).toEqual([
    'CreatePropertyCollector on propertyCollector',
    'CreateFilter info on session[1]pc',
    'WaitForUpdatesEx on session[1]pc',
    'CreateFilter runtime.question on session[1]pc',
    'CreatePropertyCollector on propertyCollector',
    'CreateFilter info on session[2]pc',
    'CreateFilter runtime.question on session[2]pc',
    'WaitForUpdatesEx on session[2]pc',
    'DestroyPropertyCollector on session[2]pc',
  ]);
});

describe('waitForTask across transient failures', () => {
  /** A task on no VM: no question filter to make. */
  const onNoVm = (more: Partial<TaskInfo>): TaskInfo => ({ key: 'task-7', task: TASK, state: 'running', ...more }) as TaskInfo;
  /** Answers from per-method scripts (an Error is thrown); an unscripted wait answers the task's info as it is now. */
  class FlakyClient extends ScriptedInventoryClient {
    readonly script = new Map<string, Array<UpdateSet | Error>>();
    readonly versions: string[] = [];
    task: TaskInfo = onNoVm({ progress: 10 });
    #collectors = 0;
    call = (async (method: string, _this: ManagedObjectReference, args: { version?: string } | undefined) => {
      this.calls.push(`${method} ${_this.value}`);
      if (method === 'WaitForUpdatesEx') this.versions.push(args?.version ?? '');
      const step = this.script.get(method)?.shift();
      if (step instanceof Error) throw step;
      if (step !== undefined) return step;
      if (method === 'CreatePropertyCollector') return ref('PropertyCollector', `pc${++this.#collectors}`);
      if (method === 'WaitForUpdatesEx') return { ...answer(this.task), version: `v${this.versions.length}` };
      return ref('PropertyFilter', 'f');
    }) as unknown as InventoryClient['call'];
  }
  const lost = (): TransportError => new TransportError('the connection closed after the request was sent', { code: 'EOUTCOMEUNKNOWN', outcomeUnknown: true });
  const unavailable = (): TransportError => new TransportError('HTTP 503 without a SOAP answer', { code: 'HTTP_503', status: 503 });
  const succeeded = onNoVm({ state: 'success', result: VM });

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reads the task afresh when the answer saying it ended was lost, never sending that version again', async () => {
    const client = new FlakyClient();
    client.script.set('WaitForUpdatesEx', [{ ...answer(client.task), version: 'v1' }, lost()]);
    const seen: number[] = [];
    const waiting = waitForTask(client as unknown as InventoryClient, TASK as never, { onProgress: (p) => seen.push(p) });
    // The lost answer said "success": the server counts it delivered, and a wait on v1 would never hear of it again.
    client.task = succeeded;
    await vi.runAllTimersAsync();
    expect(await waiting).toEqual(VM);
    expect(client.versions).toEqual(['', 'v1', '']);
    expect(seen).toEqual([10, 100]);
    expect(client.cleanup()).toEqual(['CancelWaitForUpdates pc1', 'DestroyPropertyCollector pc1', 'DestroyPropertyCollector pc2']);
  });

  it('tries CreatePropertyCollector and CreateFilter again after a reset connection or a 503', async () => {
    const client = new FlakyClient();
    client.task = succeeded;
    client.script.set('CreatePropertyCollector', [new TransportError('ECONNRESET: socket hang up', { code: 'ECONNRESET' })]);
    client.script.set('CreateFilter', [unavailable()]);
    const waiting = waitForTask(client as unknown as InventoryClient, TASK as never);
    await vi.runAllTimersAsync();
    expect(await waiting).toEqual(VM);
    expect(client.calls).toEqual([
      'CreatePropertyCollector propertyCollector',
      'CreatePropertyCollector propertyCollector',
      'CreateFilter pc1',
      'DestroyPropertyCollector pc1',
      'CreatePropertyCollector propertyCollector',
      'CreateFilter pc2',
      'WaitForUpdatesEx pc2',
      'DestroyPropertyCollector pc2',
    ]);
  });

  it('ends with TaskTimeoutError at its deadline while every try fails, pausing longer each time', async () => {
    const client = new FlakyClient();
    client.script.set('WaitForUpdatesEx', Array.from({ length: 50 }, unavailable));
    const waiting = waitForTask(client as unknown as InventoryClient, TASK as never, { timeoutMs: 5000 }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(5000);
    const err = await waiting;
    expect(err).toBeInstanceOf(TaskTimeoutError);
    // Sent at 0, 250, 750, 1750 and 3750 ms; the next pause would end at 7750.
    expect(client.versions).toEqual(['', '', '', '', '']);
    expect(client.cleanup()).toEqual(['DestroyPropertyCollector pc1']);
  });

  it('ends at once on a fault that is not transient', async () => {
    const client = new FlakyClient();
    const fault = vimFault('WaitForUpdatesEx', { _typeName: 'InvalidArgument' }, 'A specified parameter was not correct');
    client.script.set('WaitForUpdatesEx', [fault]);
    await expect(waitForTask(client as unknown as InventoryClient, TASK as never)).rejects.toBe(fault);
    expect(client.versions).toEqual(['']);
  });
});

describe('waitForTasks', () => {
  const T1 = ref('Task', 'task-1');
  const T2 = ref('Task', 'task-2');
  const VM2 = ref('VirtualMachine', 'vm-2');
  const infoOf = (task: ManagedObjectReference, more: Omit<Partial<TaskInfo>, 'entity'> & { entity?: ManagedObjectReference }): TaskInfo => ({ key: task.value, task, state: 'running', ...more }) as TaskInfo;
  const enter = (obj: ManagedObjectReference, name: string, val: unknown, kind = 'enter') => ({ kind, obj, changeSet: [{ name, op: 'assign', val }] });
  const batch = (...objectSet: unknown[]): UpdateSet => ({ version: 'v', filterSet: [{ filter: ref('PropertyFilter', 'f'), objectSet }] }) as UpdateSet;

  /** Answers each WaitForUpdatesEx with the next batch of its script; keeps every call's arguments. */
  class TaskServer extends ScriptedInventoryClient {
    batches: UpdateSet[] = [];
    readonly sent: Array<[string, unknown]> = [];
    call = (async (method: string, _this: ManagedObjectReference, args: unknown, options?: { signal?: AbortSignal }) => {
      if (options?.signal?.aborted) throw options.signal.reason;
      this.calls.push(`${method} ${_this.value}`);
      this.sent.push([method, args]);
      if (method === 'CreatePropertyCollector') return ref('PropertyCollector', 'pc1');
      if (method === 'WaitForUpdatesEx') {
        const next = this.batches.shift();
        if (next) return next;
        return new Promise((_, reject) => options?.signal?.addEventListener('abort', () => reject(options.signal!.reason), { once: true }));
      }
      return ref('PropertyFilter', `f${this.calls.length}`);
    }) as unknown as InventoryClient['call'];

    filters(): unknown[] {
      return this.sent.filter(([m]) => m === 'CreateFilter').map(([, a]) => a);
    }
  }
  const wait = (client: TaskServer, tasks: ManagedObjectReference[], options = {}) => waitForTasks(client as unknown as InventoryClient, tasks as never, options);

  it('resolves with every result in the order of the tasks once all succeeded, reporting each change of progress', async () => {
    const client = new TaskServer();
    client.batches = [
      batch(enter(T1, 'info', infoOf(T1, { progress: 10 })), enter(T2, 'info', infoOf(T2, {}))),
      batch(enter(T2, 'info', infoOf(T2, { state: 'success', result: 'two' })), enter(T1, 'info', infoOf(T1, { progress: 10 }))),
      batch(enter(T1, 'info.progress', 60, 'modify')),
      batch(enter(T1, 'info', infoOf(T1, { state: 'success', result: 'one', progress: 60 }))),
    ];
    const seen: string[] = [];
    expect(await wait(client, [T1, T2], { onProgress: (p: number, i: TaskInfo) => seen.push(`${i.key} ${p}`), maxWaitSeconds: 5 })).toEqual(['one', 'two']);
    expect(seen).toEqual(['task-1 10', 'task-2 100', 'task-1 60', 'task-1 100']);
    expect(client.filters()).toEqual([{ spec: { objectSet: [{ obj: T1 }, { obj: T2 }], propSet: [{ type: 'Task', pathSet: ['info'] }] }, partialUpdates: false }]);
    expect(client.sent.filter(([m]) => m === 'WaitForUpdatesEx').map(([, a]) => a)).toEqual(Array(4).fill({ version: expect.any(String), options: { maxWaitSeconds: 5 } }));
    expect(client.cleanup()).toEqual(['DestroyPropertyCollector pc1']);
  });

  it('waits for nothing when given no task, and refuses a timeout or a wait that is out of range', async () => {
    const client = new TaskServer();
    expect(await wait(client, [])).toEqual([]);
    expect(client.calls).toEqual([]);
    for (const timeoutMs of [0, -5, Number.NaN]) await expect(wait(client, [T1], { timeoutMs }), String(timeoutMs)).rejects.toThrow(new RangeError(`timeoutMs must be positive, not ${String(timeoutMs)}`));
    for (const maxWaitSeconds of [0, 61, 1.5]) await expect(wait(client, [T1], { maxWaitSeconds }), String(maxWaitSeconds)).rejects.toThrow(RangeError);
    expect(client.calls).toEqual([]);
  });

  it('rejects with the first failed task\'s fault, its hierarchy kept, or a MethodFault when the task names none', async () => {
    const failed = new TaskServer();
    failed.batches = [batch(enter(T1, 'info', infoOf(T1, { state: 'error', name: 'PowerOnVM_Task', error: { fault: { _typeName: 'InvalidPowerState' }, localizedMessage: 'off' } as never })))];
    await expect(wait(failed, [T1])).rejects.toMatchObject({ name: 'VimFault', faultName: 'InvalidPowerState', method: 'PowerOnVM_Task' });
    expect(failed.cleanup()).toEqual(['DestroyPropertyCollector pc1']);
    const bare = new TaskServer();
    bare.batches = [batch(enter(T1, 'info', infoOf(T1, { state: 'error', descriptionId: 'VirtualMachine.clone' })))];
    await expect(wait(bare, [T1])).rejects.toMatchObject({ faultName: 'MethodFault', method: 'VirtualMachine.clone' });
  });

  it('a task the server no longer has ends the wait: missing, or gone before it succeeded', async () => {
    const missing = new TaskServer();
    missing.batches = [{ version: 'v', filterSet: [{ filter: ref('PropertyFilter', 'f'), missingSet: [{ obj: T1, fault: { fault: { _typeName: 'ManagedObjectNotFound' }, localizedMessage: 'gone' } }] }] } as UpdateSet];
    await expect(wait(missing, [T1])).rejects.toMatchObject({ faultName: 'ManagedObjectNotFound' });
    const left = new TaskServer();
    left.batches = [batch(enter(T1, 'info', infoOf(T1, {}))), batch({ kind: 'leave', obj: T1 })];
    await expect(wait(left, [T1])).rejects.toMatchObject({ faultName: 'ManagedObjectNotFound', message: expect.stringContaining('task task-1 is gone') });
    const missingVm = new TaskServer(); // a VM missing is not a task missing
    missingVm.batches = [
      { version: 'v', filterSet: [{ filter: ref('PropertyFilter', 'f'), missingSet: [{ obj: VM, fault: { fault: { _typeName: 'ManagedObjectNotFound' } } }] }] } as UpdateSet,
      batch(enter(T1, 'info', infoOf(T1, { state: 'success', result: 1 }))),
    ];
    expect(await wait(missingVm, [T1])).toEqual([1]);
  });

  it('a succeeded task that leaves is done, and one without any info yet is still waited for', async () => {
    const client = new TaskServer();
    client.batches = [
      batch({ kind: 'enter', obj: T2, changeSet: [] }, enter(T1, 'info', infoOf(T1, { state: 'success', result: 1 }))),
      batch({ kind: 'leave', obj: T1 }, enter(T2, 'info', infoOf(T2, { state: 'success', result: 2 }))),
    ];
    expect(await wait(client, [T1, T2])).toEqual([1, 2]);
  });

  it('watches the question of each VM a task runs on, once per VM, and ends with TaskBlockedError while a task waits for an answer', async () => {
    const client = new TaskServer();
    const question = { id: 'q1', text: 'Cancel or retry?', choice: { choiceInfo: [] } };
    client.batches = [
      batch(enter(T1, 'info', infoOf(T1, { state: 'queued', entity: VM })), enter(T2, 'info', infoOf(T2, { entity: VM2 }))),
      batch(enter(T1, 'info', infoOf(T1, { state: 'queued', entity: VM, progress: 1 }))),
      batch(enter(VM2, 'runtime.question', undefined)),
      batch(enter(VM, 'runtime.question', question)),
    ];
    const err = await wait(client, [T1, T2]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskBlockedError);
    expect(err).toMatchObject({ task: T1, vm: VM, question, message: 'task task-1 is blocked: vm-1 asks "Cancel or retry?" (answer it with AnswerVM)' });
    expect(client.filters().slice(1)).toEqual([{ spec: { objectSet: [{ obj: VM }, { obj: VM2 }], propSet: [{ type: 'VirtualMachine', pathSet: ['runtime.question'] }] }, partialUpdates: false }]);
  });

  it('a question on the VM of a task that already ended blocks nothing', async () => {
    const client = new TaskServer();
    client.batches = [
      batch(enter(T1, 'info', infoOf(T1, { state: 'success', entity: VM, result: 1 })), enter(T2, 'info', infoOf(T2, {}))),
      batch(enter(VM, 'runtime.question', { id: 'q', text: '?' })),
      batch(enter(T2, 'info', infoOf(T2, { state: 'success', result: 2 }))),
    ];
    expect(await wait(client, [T1, T2])).toEqual([1, 2]);
  });

  it('gives up at timeoutMs with TaskTimeoutError naming the first task that has not succeeded, which keeps running', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const client = new TaskServer();
      client.batches = [batch(enter(T1, 'info', infoOf(T1, { state: 'success', result: 1 })), enter(T2, 'info', infoOf(T2, { progress: 40 })))];
      const waiting = wait(client, [T1, T2], { timeoutMs: 1_000 }).catch((e: unknown) => e);
      await vi.advanceTimersByTimeAsync(999);
      expect(client.cleanup()).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      const err = (await waiting) as TaskTimeoutError;
      expect(err).toBeInstanceOf(TaskTimeoutError);
      expect([err.task, err.info?.progress, err.message]).toEqual([T2, 40, 'task task-2 did not end within 1000 ms (state: running)']);
      expect(client.cleanup()).toEqual(['CancelWaitForUpdates pc1', 'DestroyPropertyCollector pc1']);
      const none = new TaskServer();
      const silent = wait(none, [T1], { timeoutMs: 50 }).catch((e: unknown) => e);
      await vi.advanceTimersByTimeAsync(50);
      expect(((await silent) as Error).message).toBe('task task-1 did not end within 50 ms (state: unknown)');
      const done = new TaskServer();
      done.batches = [batch(enter(T1, 'info', infoOf(T1, { state: 'success', result: 1 })))];
      await wait(done, [T1], { timeoutMs: 50 });
      expect(vi.getTimerCount()).toBe(0); // no deadline left behind
    } finally {
      vi.useRealTimers();
    }
  });

  it('rejects with the signal\'s reason when aborted, and destroys its collector', async () => {
    const client = new TaskServer();
    client.batches = [batch(enter(T1, 'info', infoOf(T1, {})))];
    const ctrl = new AbortController();
    const waiting = wait(client, [T1], { signal: ctrl.signal }).catch((e: unknown) => e);
    await vi.waitFor(() => expect(client.calls.filter((c) => c.startsWith('WaitForUpdatesEx'))).toHaveLength(2));
    const reason = new Error('stop');
    ctrl.abort(reason);
    expect(await waiting).toBe(reason);
    expect(client.cleanup()).toContain('DestroyPropertyCollector pc1');
  });
});
