// waitForTask(s): WaitForUpdatesEx on a filter of each task's `info`, on a collector of its own
// (updates.ts), never the deprecated WaitForUpdates and never polling. A task whose VM asks a
// question waits for a person, possibly for days: the VM's runtime.question is watched on the
// same collector, and such a wait ends with TaskBlockedError (pyvmomi's TaskBlocked). A lost
// connection or a 503 does not end a wait while the task runs: the loop tries again, and after a
// lost answer it reads every task's `info` afresh (updates.ts).
import type { ManagedObjectReference as MoRef, TaskInfo, VirtualMachineQuestionInfo } from '../generated/types.ts';
import { abortedOr, isGone, linkedController, type InventoryClient } from './client.ts';
import { TaskBlockedError, TaskTimeoutError } from './errors.ts';
import { faultFromLocalized, type TaskRef, type TaskResultOf } from './model.ts';
import { applyChange } from './rows.ts';
import { checkMaxWait, retried, updateSets, type CollectorSetup } from './updates.ts';

export interface WaitForTaskOptions {
  /** Called when a task's progress changes (percent, 0–100), and with 100 when it succeeds. */
  onProgress?: ((percent: number, info: TaskInfo) => void) | undefined;
  signal?: AbortSignal | undefined;
  /** Give up (TaskTimeoutError) after this long; the task itself keeps running. Default: no limit. */
  timeoutMs?: number | undefined;
  /** The longest one WaitForUpdatesEx may stay open (1–60 s, default 30). */
  maxWaitSeconds?: number | undefined;
}

const DEFAULT_MAX_WAIT_SECONDS = 30;

function questionFilter(client: InventoryClient, collector: MoRef, vms: readonly MoRef[], signal: AbortSignal | undefined): Promise<MoRef> {
  return client.call('CreateFilter', collector, {
    spec: { objectSet: vms.map((obj) => ({ obj })), propSet: [{ type: 'VirtualMachine', pathSet: ['runtime.question'] }] },
    partialUpdates: false,
  }, { signal });
}

/**
 * Waits until every task has ended; resolves with their results in order. Rejects with the first
 * failed task's fault (a VimFault, hierarchy kept), TaskBlockedError, TaskTimeoutError, or the
 * signal's reason; the collector and its filters are destroyed in every case.
 */
export async function waitForTasks<R extends readonly TaskRef[]>(
  client: InventoryClient,
  tasks: R,
  options: WaitForTaskOptions = {},
): Promise<{ [K in keyof R]: TaskResultOf<R[K]> }> {
  const maxWaitSeconds = checkMaxWait(options.maxWaitSeconds ?? DEFAULT_MAX_WAIT_SECONDS);
  const { onProgress, timeoutMs } = options;
  if (timeoutMs !== undefined && !(timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive, not ${String(timeoutMs)}`);
  if (tasks.length === 0) return [] as unknown as { [K in keyof R]: TaskResultOf<R[K]> };
  const infos = new Map<string, TaskInfo>();
  const progress = new Map<string, number>();
  const questions = new Map<string, VirtualMachineQuestionInfo | undefined>();
  const vms = new Map<string, MoRef>();

  const setup: CollectorSetup = async (collector, signal) => {
    await client.call('CreateFilter', collector, {
      spec: { objectSet: tasks.map((obj) => ({ obj })), propSet: [{ type: 'Task', pathSet: ['info'] }] },
      partialUpdates: false,
    }, { signal });
    if (vms.size > 0) await questionFilter(client, collector, [...vms.values()], signal);
    return [];
  };

  const link = linkedController(options.signal);
  const timer = timeoutMs === undefined ? undefined : setTimeout(() => {
    const first = tasks.find((t) => infos.get(t.value)?.state !== 'success') ?? tasks[0]!;
    link.abort(new TaskTimeoutError(first, timeoutMs, infos.get(first.value)));
  }, timeoutMs);
  try {
    for await (const { set, collector } of updateSets(client, setup, link.signal, maxWaitSeconds)) {
      const newVms: MoRef[] = [];
      // A task the server no longer has (purged, or removed while waited on) never ends: say so.
      for (const m of (set.filterSet ?? []).flatMap((f) => f.missingSet ?? [])) {
        if (m.obj.type === 'Task') throw faultFromLocalized('WaitForUpdatesEx', m.fault);
      }
      for (const u of (set.filterSet ?? []).flatMap((f) => f.objectSet ?? [])) {
        if (u.kind === 'leave' && u.obj.type === 'Task' && infos.get(u.obj.value)?.state !== 'success') {
          throw faultFromLocalized('WaitForUpdatesEx', { fault: { _typeName: 'ManagedObjectNotFound', obj: u.obj } as never, localizedMessage: `task ${u.obj.value} is gone` });
        }
        if (u.obj.type === 'VirtualMachine') {
          const props: Record<string, unknown> = {};
          for (const c of u.changeSet ?? []) applyChange(props, c, ['runtime.question']);
          questions.set(u.obj.value, props['runtime.question'] as VirtualMachineQuestionInfo | undefined);
          continue;
        }
        const props: Record<string, unknown> = { info: infos.get(u.obj.value) };
        for (const c of u.changeSet ?? []) applyChange(props, c, ['info']);
        const info = props.info as TaskInfo | undefined;
        if (!info) continue;
        infos.set(u.obj.value, info);
        const entity = info.entity;
        if (entity?.type === 'VirtualMachine' && !vms.has(entity.value)) {
          vms.set(entity.value, entity);
          newVms.push(entity);
        }
        const percent = info.state === 'success' ? 100 : info.progress;
        if (onProgress && percent !== undefined && percent !== progress.get(u.obj.value)) {
          progress.set(u.obj.value, percent);
          onProgress(percent, info);
        }
      }
      // The session may have died since this batch: the collector went with it, and the
      // rebuilt one (updateSets) gets the question filter of every VM seen so far. A collector
      // gone for another reason fails the loop's next wait instead. Tried again after a
      // transient failure: a filter made twice (its answer lost) only reports a question twice,
      // and goes with the collector.
      if (newVms.length > 0) {
        await retried(() => questionFilter(client, collector, newVms, link.signal), link.signal).catch((err: unknown) => {
          if (!isGone(err)) throw err;
        });
      }
      const results: unknown[] = [];
      for (const t of tasks) {
        const info = infos.get(t.value);
        if (info?.state === 'error') throw faultFromLocalized(info.name ?? info.descriptionId, info.error ?? { fault: { _typeName: 'MethodFault' } });
        if (info?.state === 'success') results.push(info.result);
      }
      if (results.length === tasks.length) return results as { [K in keyof R]: TaskResultOf<R[K]> };
      for (const t of tasks) {
        const info = infos.get(t.value);
        const vm = info?.entity;
        const question = vm && questions.get(vm.value);
        if (info && vm && question && (info.state === 'running' || info.state === 'queued')) throw new TaskBlockedError(info, vm, question);
      }
    }
    throw new TypeError('the update loop ended'); // updateSets ends only by throwing
  } catch (err) {
    throw abortedOr(link.signal, err);
  } finally {
    if (timer) clearTimeout(timer);
    link.dispose();
  }
}

/** Waits for one task: its result on success (CloneVM_Task: the new VM), its fault on error. */
export async function waitForTask<R extends TaskRef>(client: InventoryClient, task: R, options: WaitForTaskOptions = {}): Promise<TaskResultOf<R>> {
  const [result] = await waitForTasks(client, [task] as const, options);
  return result;
}
