// The inventory helpers' runs on node:diagnostics_channel: a TracingChannel `vim25-soap:operation`
// (the message is soap/diagnostics.ts's OperationMessage, repeated here as this layer imports
// only types from below), so a tracer can put the calls of a retrieve or a task wait under one
// span. Nothing is published while nobody subscribes.
import { tracingChannel } from 'node:diagnostics_channel';

interface Operation {
  readonly operation: 'retrieve' | 'retrievePages' | 'waitForTask' | 'watch';
  readonly type: string;
  readonly page?: number;
  readonly count?: number;
}

const operations = tracingChannel<unknown, Operation>('vim25-soap:operation');

/** `run()` traced as one operation while anybody subscribes. */
export function traced<R>(message: Operation, run: () => Promise<R>): Promise<R> {
  if (!operations.hasSubscribers) return run();
  return operations.tracePromise(run, { ...message });
}

/** Each pull of `gen` (a page) traced as one operation while anybody subscribes; `return` and `throw` pass through. */
export function tracedPages<Y>(message: Omit<Operation, 'page'>, gen: AsyncGenerator<Y, void, undefined>): AsyncGenerator<Y, void, undefined> {
  let page = 0;
  const pages: AsyncGenerator<Y, void, undefined> = {
    next: () => (operations.hasSubscribers ? operations.tracePromise(() => gen.next(), { ...message, page: ++page }) : gen.next()),
    return: (value) => gen.return(value),
    throw: (err: unknown) => gen.throw(err),
    [Symbol.asyncIterator]() {
      return pages;
    },
  };
  // `await using` where the runtime gives generators an asyncDispose (Node 24): as the generator's.
  const dispose = (gen as { [Symbol.asyncDispose]?: () => PromiseLike<void> })[Symbol.asyncDispose];
  if (typeof dispose === 'function') Object.defineProperty(pages, Symbol.asyncDispose, { value: () => dispose.call(gen) });
  return pages;
}
