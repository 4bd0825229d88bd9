// waitForTask(s): WaitForUpdatesEx on a filter of each task's `info`, on a collector of its own
// (updates.ts), never the deprecated WaitForUpdates and never polling. A task whose VM asks a
// question waits for a person, possibly for days: the VM's runtime.question is watched on the
// same collector, and such a wait ends with TaskBlockedError (pyvmomi's TaskBlocked). A lost
// connection or a 503 does not end a wait while the task runs: the loop tries again, and after a
// lost answer it reads every task's `info` afresh (updates.ts).
import { abortedOr, linkedController } from '../abort.ts';
import type { ManagedObjectReference as MoRef, ObjectUpdate, TaskInfo, UpdateSet, VirtualMachineQuestionInfo } from '../generated/types.ts';
import { isGone } from './cleanup.ts';
import { traced } from './observe.ts';
import type { InventoryClient } from './inventory-client.ts';
import { TaskBlockedError, TaskTimeoutError } from './errors.ts';
import { faultFromLocalized, type TaskRef, type TaskResultOf } from './typed-model.ts';
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
  return traced({ operation: 'waitForTask', type: 'Task', count: tasks.length }, () => waitAll(client, tasks, options));
}

async function waitAll<R extends readonly TaskRef[]>(
  client: InventoryClient,
  tasks: R,
  options: WaitForTaskOptions,
): Promise<{ [K in keyof R]: TaskResultOf<R[K]> }> {
  const maxWaitSeconds = checkMaxWait(options.maxWaitSeconds ?? DEFAULT_MAX_WAIT_SECONDS);
  const { timeoutMs } = options;
  if (timeoutMs !== undefined && !(timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive, not ${String(timeoutMs)}`);
  if (tasks.length === 0) return [] as unknown as { [K in keyof R]: TaskResultOf<R[K]> };
  const seen = new TaskStates(tasks, options.onProgress);

  const setup: CollectorSetup = async (collector, signal) => {
    await client.call('CreateFilter', collector, {
      spec: { objectSet: tasks.map((obj) => ({ obj })), propSet: [{ type: 'Task', pathSet: ['info'] }] },
      partialUpdates: false,
    }, { signal });
    if (seen.vms.size > 0) await questionFilter(client, collector, [...seen.vms.values()], signal);
    return [];
  };

  const link = linkedController(options.signal);
  const timer = timeoutMs === undefined ? undefined : setTimeout(() => link.abort(seen.timedOut(timeoutMs)), timeoutMs);
  try {
    for await (const { set, collector } of updateSets(client, setup, link.signal, maxWaitSeconds)) {
      const newVms = seen.apply(set);
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
      const results = seen.results();
      if (results) return results as { [K in keyof R]: TaskResultOf<R[K]> };
      seen.throwIfBlocked();
    }
    throw new TypeError('the update loop ended'); // updateSets ends only by throwing
  } catch (err) {
    throw abortedOr(link.signal, err);
  } finally {
    if (timer) clearTimeout(timer);
    link.dispose();
  }
}

/** What the updates said so far of the tasks waited on, and of the questions their VMs ask. */
class TaskStates {
  readonly #tasks: readonly TaskRef[];
  readonly #onProgress: WaitForTaskOptions['onProgress'];
  readonly #infos = new Map<string, TaskInfo>();
  readonly #progress = new Map<string, number>();
  readonly #questions = new Map<string, VirtualMachineQuestionInfo | undefined>();
  /** The VMs the tasks work on, whose runtime.question is watched. */
  readonly vms = new Map<string, MoRef>();

  constructor(tasks: readonly TaskRef[], onProgress: WaitForTaskOptions['onProgress']) {
    this.#tasks = tasks;
    this.#onProgress = onProgress;
  }

  /**
   * Takes in one batch of updates: tasks' info (reporting progress), VMs' questions. Returns the
   * VMs it met first, whose questions are to be watched. Throws for a task the server no longer
   * has (purged, or removed while waited on): it would never end.
   */
  apply(set: UpdateSet): MoRef[] {
    const newVms: MoRef[] = [];
    for (const m of (set.filterSet ?? []).flatMap((f) => f.missingSet ?? [])) {
      if (m.obj.type === 'Task') throw faultFromLocalized('WaitForUpdatesEx', m.fault);
    }
    for (const u of (set.filterSet ?? []).flatMap((f) => f.objectSet ?? [])) {
      if (u.kind === 'leave' && u.obj.type === 'Task' && this.#infos.get(u.obj.value)?.state !== 'success') {
        throw faultFromLocalized('WaitForUpdatesEx', { fault: { _typeName: 'ManagedObjectNotFound', obj: u.obj } as never, localizedMessage: `task ${u.obj.value} is gone` });
      }
      if (u.obj.type === 'VirtualMachine') this.#question(u);
      else this.#taskInfo(u, newVms);
    }
    return newVms;
  }

  #question(u: ObjectUpdate): void {
    const props: Record<string, unknown> = {};
    for (const c of u.changeSet ?? []) applyChange(props, c, ['runtime.question']);
    this.#questions.set(u.obj.value, props['runtime.question'] as VirtualMachineQuestionInfo | undefined);
  }

  #taskInfo(u: ObjectUpdate, newVms: MoRef[]): void {
    const props: Record<string, unknown> = { info: this.#infos.get(u.obj.value) };
    for (const c of u.changeSet ?? []) applyChange(props, c, ['info']);
    const info = props.info as TaskInfo | undefined;
    if (!info) return;
    this.#infos.set(u.obj.value, info);
    const entity = info.entity;
    if (entity?.type === 'VirtualMachine' && !this.vms.has(entity.value)) {
      this.vms.set(entity.value, entity);
      newVms.push(entity);
    }
    const percent = info.state === 'success' ? 100 : info.progress;
    if (this.#onProgress && percent !== undefined && percent !== this.#progress.get(u.obj.value)) {
      this.#progress.set(u.obj.value, percent);
      this.#onProgress(percent, info);
    }
  }

  /** Every task's result, in order, once all succeeded; undefined while any runs. Throws the first failed task's fault. */
  results(): unknown[] | undefined {
    const results: unknown[] = [];
    for (const t of this.#tasks) {
      const info = this.#infos.get(t.value);
      if (info?.state === 'error') throw faultFromLocalized(info.name ?? info.descriptionId, info.error ?? { fault: { _typeName: 'MethodFault' } });
      if (info?.state === 'success') results.push(info.result);
    }
    return results.length === this.#tasks.length ? results : undefined;
  }

  /** A task still queued or running whose VM asks a question waits for a person: TaskBlockedError. */
  throwIfBlocked(): void {
    for (const t of this.#tasks) {
      const info = this.#infos.get(t.value);
      const vm = info?.entity;
      const question = vm && this.#questions.get(vm.value);
      if (info && vm && question && (info.state === 'running' || info.state === 'queued')) throw new TaskBlockedError(info, vm, question);
    }
  }

  /** The timeout's error: it names the first task that has not succeeded. */
  timedOut(timeoutMs: number): TaskTimeoutError {
    const first = this.#tasks.find((t) => this.#infos.get(t.value)?.state !== 'success') ?? this.#tasks[0]!;
    return new TaskTimeoutError(first, timeoutMs, this.#infos.get(first.value));
  }
}

/** Waits for one task: its result on success (CloneVM_Task: the new VM), its fault on error. */
export async function waitForTask<R extends TaskRef>(client: InventoryClient, task: R, options: WaitForTaskOptions = {}): Promise<TaskResultOf<R>> {
  const [result] = await waitForTasks(client, [task] as const, options);
  return result;
}
