// waitForTask against a scripted client (no server): the session dies between an update and the
// question filter the update asks for; answers are lost and calls refused while the task runs.
import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TransportError } from '../../../src/errors.ts';
import type { ManagedObjectReference, TaskInfo, UpdateSet } from '../../../src/generated/types.ts';
import type { InventoryClient } from '../../../src/inventory/inventory-client.ts';
import { TaskTimeoutError } from '../../../src/inventory/errors.ts';
import { waitForTask } from '../../../src/inventory/task.ts';
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
