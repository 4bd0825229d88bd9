// Errors of the inventory layer, in the library's hierarchy (VimError).
import { VimError } from '../errors.ts';
import type { ManagedObjectReference, TaskInfo, VirtualMachineQuestionInfo } from '../generated/types.ts';

/** The VM a task runs on asks a question (runtime.question): the task waits for a user's answer. */
export class TaskBlockedError extends VimError {
  override name = 'TaskBlockedError';
  readonly task: ManagedObjectReference;
  readonly vm: ManagedObjectReference;
  readonly question: VirtualMachineQuestionInfo;
  readonly info: TaskInfo;

  constructor(info: TaskInfo, vm: ManagedObjectReference, question: VirtualMachineQuestionInfo) {
    super(`task ${info.task.value} is blocked: ${vm.value} asks "${question.text}" (answer it with AnswerVM)`);
    this.task = info.task;
    this.vm = vm;
    this.question = question;
    this.info = info;
  }
}

/** waitForTask's timeoutMs passed before the task ended; the task itself keeps running. */
export class TaskTimeoutError extends VimError {
  override name = 'TaskTimeoutError';
  readonly task: ManagedObjectReference;
  readonly info: TaskInfo | undefined;

  constructor(task: ManagedObjectReference, timeoutMs: number, info: TaskInfo | undefined) {
    super(`task ${task.value} did not end within ${timeoutMs} ms (state: ${info?.state ?? 'unknown'})`);
    this.task = task;
    this.info = info;
  }
}

/**
 * The session was re-established while pages were being streamed: the server forgot the view
 * and the continuation token, and pages already handed out cannot be taken back. retrieve()
 * starts over instead; a page consumer can do the same.
 */
export class SessionChangedError extends VimError {
  override name = 'SessionChangedError';
}
