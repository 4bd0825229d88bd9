// Errors of the inventory layer, in the library's hierarchy (VimError).
import { ValidationError, VimError } from '../errors.ts';
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

/** Why find() refused a pattern; see InvalidPatternError. */
export type PatternProblem = 'empty' | 'malformed' | 'too-long' | 'too-deep';

/**
 * find() refused its pattern before sending anything: empty, malformed (an unclosed `[`, a
 * reversed range, a trailing `\`), longer than 4096 characters or deeper than 64 levels. A
 * ValidationError, so a caller that hands users' patterns to find() can answer them a 400.
 */
export class InvalidPatternError extends ValidationError {
  override name = 'InvalidPatternError';
  readonly reason: PatternProblem;
  /** Where a malformed part starts in the pattern (UTF-16 index); undefined for the other reasons. */
  readonly index: number | undefined;

  constructor(reason: PatternProblem, problem: string, index?: number) {
    super('find', 'pattern', problem);
    this.reason = reason;
    this.index = index;
  }
}
