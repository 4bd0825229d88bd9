// retrieve() and retrievePages() against a scripted client (no server): whatever ends a read (a
// fault, an abort while a call is in flight, a loop left early), the token still open is
// cancelled and the view destroyed, once, and not under the caller's (aborted) signal; a
// clean-up that fails is logged and never costs rows already read.
import { describe, expect, it } from 'vitest';
import { abortedBy, TransportError, VimFault } from '../../../src/errors.ts';
import type { ManagedObjectReference, ObjectContent, RetrieveResult } from '../../../src/generated/types.ts';
import type { InventoryClient } from '../../../src/inventory/inventory-client.ts';
import { retrieve, retrievePages } from '../../../src/inventory/retrieve.ts';
import { ref, ScriptedInventoryClient } from './scripted-client.ts';
const vm = (n: number): ObjectContent => ({ obj: ref('VirtualMachine', `vm-${n}`), propSet: [{ name: 'name', val: `vm${n}` }] });
/** A page of the VMs numbered `from`..`to`; `token` when more follow. */
const page = (from: number, to: number, token?: string): RetrieveResult => ({
  objects: Array.from({ length: to - from + 1 }, (_, i) => vm(from + i)),
  ...(token !== undefined && { token }),
});

/** A step of the script: an answer, a failure the call throws, or a call that hangs until its signal aborts. */
type Step = RetrieveResult | Error | 'hang';

/**
 * Answers RetrievePropertiesEx and ContinueRetrievePropertiesEx from a script, in order. As a
 * real client's transport does, a call whose signal has already fired never reaches the server
 * (it is in `refused`, not `calls`), and a call in flight rejects with abortedBy(signal) once
 * its signal fires.
 */
class ScriptedClient extends ScriptedInventoryClient {
  // `calls` also names the token of the token methods.
  readonly refused: string[] = [];
  /** The arguments of each call that reached the server, by method. */
  readonly sent = new Map<string, unknown[]>();
  script: Step[] = [];
  /** Methods other than the two scripted ones that fail once they reach the server. */
  readonly failing = new Map<string, Error>();
  #hung: (call: string) => void = () => undefined;
  /** Resolves with the call once one hangs. */
  readonly hung = new Promise<string>((resolve) => {
    this.#hung = resolve;
  });

  call = (async (method: string, _this: ManagedObjectReference, args: { token?: string } | undefined, options?: { signal?: AbortSignal }) => {
    const call = `${method} ${_this.value}${args?.token === undefined ? '' : ` ${args.token}`}`;
    const signal = options?.signal;
    if (signal?.aborted) {
      this.refused.push(call);
      throw abortedBy(signal, 'request aborted');
    }
    this.calls.push(call);
    this.sent.set(method, [...(this.sent.get(method) ?? []), args]);
    const failure = this.failing.get(method);
    if (failure) throw failure;
    switch (method) {
      case 'CreateContainerView':
        return ref('ContainerView', 'session[1]view');
      case 'RetrievePropertiesEx':
      case 'ContinueRetrievePropertiesEx': {
        const step = this.script.shift();
        if (step === undefined) throw new Error(`unscripted ${call}`);
        if (step instanceof Error) throw step;
        if (step !== 'hang') return step;
        this.#hung(call);
        return new Promise((_, reject) => signal?.addEventListener('abort', () => reject(abortedBy(signal, 'request aborted')), { once: true }));
      }
      default:
        return undefined;
    }
  }) as unknown as InventoryClient['call'];
}

class MyError extends Error {
  override name = 'MyError';
}

const fault = (method: string): VimFault => new VimFault(method, { _typeName: 'InvalidArgument', invalidProperty: 'specSet' }, 'A specified parameter was not correct');

/** The two ways to read everything: one call, or every page of the stream. Both resolve with the VMs' names. */
const readers = {
  retrieve: async (client: InventoryClient, signal?: AbortSignal): Promise<string[]> =>
    (await retrieve(client, 'VirtualMachine', ['name'], { signal })).map((r) => r.name),
  retrievePages: async (client: InventoryClient, signal?: AbortSignal): Promise<string[]> => {
    const names: string[] = [];
    for await (const rows of retrievePages(client, 'VirtualMachine', ['name'], { pageSize: 2, signal })) names.push(...rows.map((r) => r.name));
    return names;
  },
};
const each = Object.entries(readers);

describe.each(each)('%s', (_, read) => {
  it('reads every page, then destroys the view and cancels nothing', async () => {
    const client = new ScriptedClient();
    client.script = [page(1, 2, 't1'), page(3, 4, 't2'), page(5, 5)];
    expect(await read(client)).toEqual(['vm1', 'vm2', 'vm3', 'vm4', 'vm5']);
    expect(client.calls).toEqual([
      'CreateContainerView ViewManager',
      'RetrievePropertiesEx propertyCollector',
      'ContinueRetrievePropertiesEx propertyCollector t1',
      'ContinueRetrievePropertiesEx propertyCollector t2',
      'DestroyView session[1]view',
    ]);
    expect(client.listenerCount('reauthenticated')).toBe(0);
  });

  it('resolves with every row when DestroyView fails after the last page, and logs that the view is left to the session', async () => {
    const client = new ScriptedClient();
    client.script = [page(1, 2, 't1'), page(3, 3)];
    const lost = new TransportError('the connection closed after the request was sent', { code: 'EOUTCOMEUNKNOWN', outcomeUnknown: true });
    client.failing.set('DestroyView', lost);
    expect(await read(client)).toEqual(['vm1', 'vm2', 'vm3']);
    expect(client.cleanup()).toEqual(['DestroyView session[1]view']);
    expect(client.warnings).toEqual([{
      message: 'DestroyView failed: the ContainerView is left on the server until the session ends',
      data: { method: 'DestroyView', type: 'ContainerView', error: 'TransportError', fault: undefined, code: 'EOUTCOMEUNKNOWN', status: undefined },
    }]);
    expect(client.listenerCount('reauthenticated')).toBe(0);
  });

  it('logs nothing when DestroyView finds the view gone with its session', async () => {
    const client = new ScriptedClient();
    client.script = [page(1, 1)];
    client.failing.set('DestroyView', new VimFault('DestroyView', { _typeName: 'ManagedObjectNotFound' }, 'gone', ['RuntimeFault', 'MethodFault']));
    expect(await read(client)).toEqual(['vm1']);
    expect(client.warnings).toEqual([]);
  });

  it('destroys the view when RetrievePropertiesEx fails, and rejects with its error unchanged', async () => {
    const client = new ScriptedClient();
    const err = fault('RetrievePropertiesEx');
    client.script = [err];
    await expect(read(client)).rejects.toBe(err);
    expect(client.calls).toEqual(['CreateContainerView ViewManager', 'RetrievePropertiesEx propertyCollector', 'DestroyView session[1]view']);
    expect(client.listenerCount('reauthenticated')).toBe(0);
  });

  it('cancels the open token and destroys the view when ContinueRetrievePropertiesEx fails after a page', async () => {
    const client = new ScriptedClient();
    const err = fault('ContinueRetrievePropertiesEx');
    client.script = [page(1, 2, 't1'), err];
    await expect(read(client)).rejects.toBe(err);
    expect(client.calls).toEqual([
      'CreateContainerView ViewManager',
      'RetrievePropertiesEx propertyCollector',
      'ContinueRetrievePropertiesEx propertyCollector t1',
      'CancelRetrievePropertiesEx propertyCollector t1',
      'DestroyView session[1]view',
    ]);
  });

  it('rejects a plain abort during RetrievePropertiesEx as an AbortError, and still destroys the view', async () => {
    const client = new ScriptedClient();
    client.script = ['hang'];
    const ctrl = new AbortController();
    const reading = read(client, ctrl.signal);
    expect(await client.hung).toBe('RetrievePropertiesEx propertyCollector');
    ctrl.abort();
    await expect(reading).rejects.toMatchObject({ name: 'AbortError', code: 'EABORTED' });
    // No token was open: nothing to cancel. The view is destroyed, not under the aborted signal.
    expect(client.cleanup()).toEqual(['DestroyView session[1]view']);
    expect(client.refused).toEqual([]);
    expect(client.listenerCount('reauthenticated')).toBe(0);
  });

  it("rejects with the abort's own reason during ContinueRetrievePropertiesEx, and still cancels the token and destroys the view", async () => {
    const client = new ScriptedClient();
    client.script = [page(1, 2, 't1'), 'hang'];
    const ctrl = new AbortController();
    const reading = read(client, ctrl.signal);
    expect(await client.hung).toBe('ContinueRetrievePropertiesEx propertyCollector t1');
    const reason = new MyError('stop');
    ctrl.abort(reason);
    await expect(reading).rejects.toBe(reason);
    expect(client.cleanup()).toEqual(['CancelRetrievePropertiesEx propertyCollector t1', 'DestroyView session[1]view']);
    expect(client.refused).toEqual([]);
  });
});

describe('retrievePages', () => {
  it('rejects a plain abort while a page is held as an AbortError, and cancels the token and destroys the view', async () => {
    const client = new ScriptedClient();
    client.script = [page(1, 2, 't1'), page(3, 3)];
    const ctrl = new AbortController();
    const pages = retrievePages(client, 'VirtualMachine', ['name'], { pageSize: 2, signal: ctrl.signal });
    expect((await pages.next()).value).toHaveLength(2);
    ctrl.abort();
    // No call is in flight: the check between pages notices it, and says so as a call would.
    await expect(pages.next()).rejects.toMatchObject({ name: 'AbortError', code: 'EABORTED' });
    expect(client.calls).toEqual([
      'CreateContainerView ViewManager',
      'RetrievePropertiesEx propertyCollector',
      'CancelRetrievePropertiesEx propertyCollector t1',
      'DestroyView session[1]view',
    ]);
    expect(client.refused).toEqual([]);
  });

  it('cancels the rest and destroys the view exactly once when the loop is left early', async () => {
    const client = new ScriptedClient();
    client.script = [page(1, 2, 't1'), page(3, 4, 't2'), page(5, 6)];
    const pages = retrievePages(client, 'VirtualMachine', ['name'], { pageSize: 2 });
    let n = 0;
    for await (const rows of pages) {
      expect(rows).toHaveLength(2);
      if (++n === 2) break;
    }
    // A generator already closed does nothing more when closed again.
    await pages.return(undefined);
    expect(client.calls).toEqual([
      'CreateContainerView ViewManager',
      'RetrievePropertiesEx propertyCollector',
      'ContinueRetrievePropertiesEx propertyCollector t1',
      'CancelRetrievePropertiesEx propertyCollector t2',
      'DestroyView session[1]view',
    ]);
    expect(client.script).toEqual([page(5, 6)]);
    expect(client.listenerCount('reauthenticated')).toBe(0);

    // Left on the last page (no token open): nothing to cancel, the view destroyed once.
    const last = new ScriptedClient();
    last.script = [page(1, 2, 't1'), page(3, 4)];
    for await (const rows of retrievePages(last, 'VirtualMachine', ['name'], { pageSize: 2 })) {
      if (rows[0]!.name === 'vm3') break;
    }
    expect(last.cleanup()).toEqual(['DestroyView session[1]view']);
  });
});

describe('what is asked of the server', () => {
  const drain = async (pages: AsyncIterable<unknown>): Promise<void> => {
    for await (const _ of pages);
  };
  const retrieveOptions = async (read: (client: InventoryClient) => Promise<unknown>): Promise<unknown> => {
    const client = new ScriptedClient();
    client.script = [page(1, 1)];
    await read(client);
    return (client.sent.get('RetrievePropertiesEx')?.[0] as { options?: unknown }).options;
  };

  it('retrievePages asks for pageSize objects a page, 1000 by default; retrieve leaves the page size to the server', async () => {
    expect(await retrieveOptions((c) => drain(retrievePages(c, 'VirtualMachine', ['name'], { pageSize: 2 })))).toEqual({ maxObjects: 2 });
    expect(await retrieveOptions((c) => drain(retrievePages(c, 'VirtualMachine', ['name'])))).toEqual({ maxObjects: 1000 });
    expect(await retrieveOptions((c) => retrieve(c, 'VirtualMachine', ['name']))).toEqual({});
  });

  it('reads the objects of the type in a recursive ContainerView of the root folder (or the root given), not the view itself', async () => {
    for (const [root, container] of [[undefined, ref('Folder', 'group-d1')], [ref('Folder', 'group-v3'), ref('Folder', 'group-v3')]] as const) {
      const client = new ScriptedClient();
      client.script = [page(1, 1)];
      await retrieve(client, 'VirtualMachine', ['name', 'runtime.powerState'], { root });
      expect(client.sent.get('CreateContainerView')).toEqual([{ container, type: ['VirtualMachine'], recursive: true }]);
      expect(client.sent.get('RetrievePropertiesEx')).toEqual([{
        specSet: [{
          objectSet: [{ obj: ref('ContainerView', 'session[1]view'), skip: true, selectSet: [{ _typeName: 'TraversalSpec', name: 'view', type: 'ContainerView', path: 'view', skip: false }] }],
          propSet: [{ type: 'VirtualMachine', pathSet: ['name', 'runtime.powerState'] }],
        }],
        options: {},
      }]);
    }
  });

  it('refuses a page size that is not a positive integer before asking the server anything', () => {
    for (const pageSize of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      const client = new ScriptedClient();
      expect(() => retrievePages(client, 'VirtualMachine', ['name'], { pageSize }), String(pageSize)).toThrow(new RangeError(`pageSize must be a positive integer, not ${String(pageSize)}`));
      expect(client.calls).toEqual([]);
    }
    expect(() => retrievePages(new ScriptedClient(), 'VirtualMachine', ['name'], { pageSize: 1 })).not.toThrow();
  });
});

describe('tracing', () => {
  /** What the `vim25-soap:operation` tracing channel saw while `run` ran: start and end (or error) of each operation. */
  async function traced(run: () => Promise<unknown>): Promise<string[]> {
    const { tracingChannel } = await import('node:diagnostics_channel');
    const channel = tracingChannel<unknown, Record<string, unknown>>('vim25-soap:operation');
    const seen: string[] = [];
    const show = (m: Record<string, unknown>): string => JSON.stringify({ ...m, error: undefined, result: undefined });
    const handlers = {
      start: (m: Record<string, unknown>) => void seen.push(`start ${show(m)}`),
      asyncEnd: (m: Record<string, unknown>) => void seen.push(`end ${show(m)}`),
      error: (m: Record<string, unknown>) => void seen.push(`error ${(m.error as Error).name}`),
      end: () => undefined,
      asyncStart: () => undefined,
    };
    channel.subscribe(handlers);
    try {
      await run();
    } finally {
      channel.unsubscribe(handlers);
    }
    return seen;
  }

  it('traces a retrieve as one operation, and each page of retrievePages, only while somebody listens', async () => {
    const client = new ScriptedClient();
    client.script = [page(1, 2, 't1'), page(3, 3)];
    expect(await traced(() => retrieve(client, 'VirtualMachine', ['name']))).toEqual([
      'start {"operation":"retrieve","type":"VirtualMachine"}',
      'end {"operation":"retrieve","type":"VirtualMachine"}',
    ]);
    client.script = [page(1, 2, 't1'), page(3, 3)];
    expect(await traced(async () => {
      for await (const _ of retrievePages(client, 'VirtualMachine', ['name'], { pageSize: 2 }));
    })).toEqual([
      'start {"operation":"retrievePages","type":"VirtualMachine","page":1}',
      'end {"operation":"retrievePages","type":"VirtualMachine","page":1}',
      'start {"operation":"retrievePages","type":"VirtualMachine","page":2}',
      'end {"operation":"retrievePages","type":"VirtualMachine","page":2}',
      'start {"operation":"retrievePages","type":"VirtualMachine","page":3}',
      'end {"operation":"retrievePages","type":"VirtualMachine","page":3}',
    ]);
    client.script = [fault('RetrievePropertiesEx')];
    expect(await traced(() => retrieve(client, 'VirtualMachine', ['name']).catch(() => undefined))).toEqual([
      'start {"operation":"retrieve","type":"VirtualMachine"}',
      'error VimFault',
      'end {"operation":"retrieve","type":"VirtualMachine"}',
    ]);
  });

  it('a traced page stream passes return and throw on to the generator', async () => {
    const client = new ScriptedClient();
    client.script = [page(1, 2, 't1'), page(3, 4, 't2')];
    await traced(async () => {
      const pages = retrievePages(client, 'VirtualMachine', ['name'], { pageSize: 2 });
      expect(pages[Symbol.asyncIterator]()).toBe(pages);
      await pages.next();
      expect(await pages.return(undefined)).toEqual({ done: true, value: undefined });
      expect(client.cleanup()).toEqual(['CancelRetrievePropertiesEx propertyCollector t1', 'DestroyView session[1]view']);
      const other = new ScriptedClient();
      other.script = [page(1, 2, 't1')];
      const more = retrievePages(other, 'VirtualMachine', ['name'], { pageSize: 2 });
      await more.next();
      const stop = new MyError('stop');
      await expect(more.throw(stop)).rejects.toBe(stop);
      expect(other.cleanup()).toEqual(['CancelRetrievePropertiesEx propertyCollector t1', 'DestroyView session[1]view']);
    });
  });
});
