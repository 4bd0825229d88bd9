// watch() against a scripted client (no server): truncated answers followed, and the full state
// a new collector reports after a re-login or a lost answer diffed against what was reported
// before.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TransportError } from '../../../src/errors.ts';
import type { ManagedObjectReference, ObjectUpdate, UpdateSet } from '../../../src/generated/types.ts';
import type { InventoryClient } from '../../../src/inventory/inventory-client.ts';
import { watch } from '../../../src/inventory/watch.ts';
import { ref, ScriptedInventoryClient } from './scripted-client.ts';
const vm = (n: number) => ref('VirtualMachine', `vm-${n}`);
const update = (kind: ObjectUpdate['kind'], n: number, props: Record<string, unknown> = {}): ObjectUpdate => ({
  kind,
  obj: vm(n),
  changeSet: Object.entries(props).map(([name, val]) => ({ name, op: 'assign', val })),
});
const set = (version: string, objects: ObjectUpdate[], truncated = false): UpdateSet => ({
  version,
  ...(truncated && { truncated }),
  filterSet: [{ filter: ref('PropertyFilter', 'f'), objectSet: objects }],
});

/** A connection closed after the wait was written: the server may have answered it, and counts it delivered. */
const lost = (): TransportError => new TransportError('the connection closed after the request was sent', { code: 'EOUTCOMEUNKNOWN', outcomeUnknown: true });

/** Answers WaitForUpdatesEx from a script (an Error is thrown); once it runs out, a wait hangs until its signal aborts. */
class ScriptedClient extends ScriptedInventoryClient {
  readonly versions: string[] = [];
  script: Array<UpdateSet | Error> = [];
  /** A method that fails, as a server fault would. */
  failing: string | undefined;
  #collectors = 0;

  call = (async (method: string, _this: ManagedObjectReference, args: { version?: string } | undefined, options?: { signal?: AbortSignal }) => {
    this.calls.push(`${method} ${_this.value}`);
    if (method === this.failing) throw new Error(`${method} failed`);
    switch (method) {
      case 'CreatePropertyCollector':
        return ref('PropertyCollector', `session[${++this.#collectors}]pc`);
      case 'CreateContainerView':
        return ref('ContainerView', `session[${this.#collectors}]view`);
      case 'WaitForUpdatesEx': {
        this.versions.push(args?.version ?? '');
        const next = this.script.shift();
        if (next instanceof Error) throw next;
        if (next) return next;
        return new Promise((_, reject) => options?.signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
      }
      default:
        return undefined;
    }
  }) as unknown as InventoryClient['call'];
}

afterEach(() => {
  vi.useRealTimers();
});

describe('watch', () => {
  it('follows truncated answers, then rebuilds after a re-login and reports only what changed meanwhile', async () => {
    const client = new ScriptedClient();
    client.script = [
      set('1', [update('enter', 1, { name: 'a', 'runtime.powerState': 'poweredOn' })], true),
      set('2', [update('enter', 2, { name: 'b', 'runtime.powerState': 'poweredOn' })]),
      set('3', [update('modify', 1, { 'runtime.powerState': 'poweredOff' })]),
    ];
    const it = watch(client, 'VirtualMachine', ['name', 'runtime.powerState'])[Symbol.asyncIterator]();
    expect((await it.next()).value).toEqual({ kind: 'enter', ref: vm(1), props: { name: 'a', 'runtime.powerState': 'poweredOn' } });
    expect((await it.next()).value).toEqual({ kind: 'enter', ref: vm(2), props: { name: 'b', 'runtime.powerState': 'poweredOn' } });
    expect((await it.next()).value).toEqual({ kind: 'modify', ref: vm(1), props: { 'runtime.powerState': 'poweredOff' } });
    expect(client.versions).toEqual(['', '1', '2']);

    // The next wait hangs; the session is re-established: the wait is dropped at once and the
    // new collector's full state (vm-2 gone, vm-3 new, vm-1 as reported) becomes two updates.
    const pending = it.next();
    await new Promise((r) => setImmediate(r));
    client.script = [
      set('1', [update('enter', 1, { name: 'a', 'runtime.powerState': 'poweredOff' }), update('enter', 3, { name: 'c', 'runtime.powerState': 'poweredOn' })]),
    ];
    client.emit('reauthenticated');
    expect((await pending).value).toEqual({ kind: 'enter', ref: vm(3), props: { name: 'c', 'runtime.powerState': 'poweredOn' } });
    expect((await it.next()).value).toEqual({ kind: 'leave', ref: vm(2), props: { name: 'b', 'runtime.powerState': 'poweredOn' } });
    expect(client.versions.slice(3)).toEqual(['3', '']);
    await it.return(undefined);

    // The first collector died with its session: nothing is sent for it. The second is cleaned up.
    const cleanup = client.cleanup();
    expect(cleanup).toEqual(['DestroyView session[2]view', 'DestroyPropertyCollector session[2]pc']);
    expect(client.listenerCount('reauthenticated')).toBe(0);
  });

  it('diffs a truncated full state after a re-login only once the rest of it has come', async () => {
    const client = new ScriptedClient();
    client.script = [set('1', [update('enter', 1, { name: 'a' }), update('enter', 2, { name: 'b' })])];
    const it = watch(client, 'VirtualMachine', ['name'])[Symbol.asyncIterator]();
    await it.next();
    await it.next();
    const pending = it.next();
    await new Promise((r) => setImmediate(r));
    // vm-2 is in the second part: diffed after the first part alone, it would leave and enter again.
    client.script = [
      set('1', [update('enter', 1, { name: 'a' })], true),
      set('2', [update('enter', 2, { name: 'b' }), update('enter', 3, { name: 'c' })]),
    ];
    client.emit('reauthenticated');
    expect((await pending).value).toEqual({ kind: 'enter', ref: vm(3), props: { name: 'c' } });
    expect(client.versions).toEqual(['', '1', '', '1']);
    await it.return(undefined);
  });

  it('reads the full state afresh after a lost answer and reports what that answer held, on a new collector and view', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const client = new ScriptedClient();
    client.script = [
      set('1', [update('enter', 1, { name: 'a', 'runtime.powerState': 'poweredOn' }), update('enter', 2, { name: 'b', 'runtime.powerState': 'poweredOn' })]),
      // This answer (vm-1 powered off) never arrives.
      lost(),
      set('1', [update('enter', 1, { name: 'a', 'runtime.powerState': 'poweredOff' }), update('enter', 2, { name: 'b', 'runtime.powerState': 'poweredOn' })]),
    ];
    const it = watch(client, 'VirtualMachine', ['name', 'runtime.powerState'])[Symbol.asyncIterator]();
    await it.next();
    await it.next();
    const next = it.next();
    await vi.runAllTimersAsync();
    expect((await next).value).toEqual({ kind: 'modify', ref: vm(1), props: { 'runtime.powerState': 'poweredOff' } });
    expect(client.versions).toEqual(['', '1', '']);
    await it.return(undefined);
    expect(client.cleanup()).toEqual([
      'CancelWaitForUpdates session[1]pc', 'DestroyView session[1]view', 'DestroyPropertyCollector session[1]pc',
      'DestroyView session[2]view', 'DestroyPropertyCollector session[2]pc',
    ]);
  });

  it('starts a truncated full state over when the collector is rebuilt in its middle', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const client = new ScriptedClient();
    client.script = [
      set('1', [update('enter', 1, { name: 'a' }), update('enter', 2, { name: 'b' })], true),
      lost(),
      // vm-2 was deleted meanwhile: the new collector does not report it.
      set('1', [update('enter', 1, { name: 'a' })]),
      set('2', [update('modify', 1, { name: 'z' })]),
    ];
    const it = watch(client, 'VirtualMachine', ['name'])[Symbol.asyncIterator]();
    const first = it.next();
    await vi.runAllTimersAsync();
    expect((await first).value).toEqual({ kind: 'enter', ref: vm(1), props: { name: 'a' } });
    // Not an enter of vm-2, which only the old collector's first half told of.
    expect((await it.next()).value).toEqual({ kind: 'modify', ref: vm(1), props: { name: 'z' } });
    await it.return(undefined);
  });

  it('destroys its view and collector when the filter cannot be made', async () => {
    const client = new ScriptedClient();
    client.failing = 'CreateFilter';
    const it = watch(client, 'VirtualMachine', ['name'])[Symbol.asyncIterator]();
    await expect(it.next()).rejects.toThrow('CreateFilter failed');
    expect(client.calls).toEqual([
      'CreatePropertyCollector propertyCollector',
      'CreateContainerView ViewManager',
      'CreateFilter session[1]pc',
      'DestroyView session[1]view',
      'DestroyPropertyCollector session[1]pc',
    ]);
    expect(client.listenerCount('reauthenticated')).toBe(0);
  });

  it('rejects an abort as a call does: an AbortError with code EABORTED, or the reason the caller gave', async () => {
    for (const reason of [undefined, new Error('enough')]) {
      const client = new ScriptedClient();
      const ctrl = new AbortController();
      const it = watch(client, 'VirtualMachine', ['name'], { signal: ctrl.signal })[Symbol.asyncIterator]();
      const pending = it.next();
      await new Promise((r) => setImmediate(r));
      ctrl.abort(reason);
      if (reason) await expect(pending).rejects.toBe(reason);
      else await expect(pending).rejects.toMatchObject({ name: 'AbortError', code: 'EABORTED' });
      expect(client.cleanup()).toEqual(['CancelWaitForUpdates session[1]pc', 'DestroyView session[1]view', 'DestroyPropertyCollector session[1]pc']);
    }
  });
});


describe('watch between full states', () => {
  /** Keeps what CreateContainerView and CreateFilter were given too. */
  class ArgsClient extends ScriptedClient {
    readonly args: Array<[string, unknown]> = [];
    constructor() {
      super();
      const call = this.call;
      this.call = (async (method: string, _this: ManagedObjectReference, args: unknown, options?: { signal?: AbortSignal }) => {
        this.args.push([method, args]);
        return (call as unknown as (...a: unknown[]) => Promise<unknown>)(method, _this, args, options);
      }) as unknown as InventoryClient['call'];
    }
  }
  const nested = (n: number, name: string, val: unknown): ObjectUpdate => ({ kind: 'modify', obj: vm(n), changeSet: [{ name, op: 'assign', val }] });
  const faultOf = { fault: { _typeName: 'NoPermission' }, localizedMessage: 'no' };

  it('reports a leave with the last known values, an enter in full, and of a modify the paths asked for that it changed', async () => {
    const client = new ArgsClient();
    client.script = [
      set('1', [update('enter', 1, { name: 'a', 'summary.runtime': { powerState: 'poweredOn', host: 'h1' } })]),
      set('2', [nested(1, 'summary.runtime.powerState', 'poweredOff'), update('enter', 2, { name: 'b' })]),
      set('3', [{ kind: 'leave', obj: vm(1) }, update('modify', 3, { name: 'new one' })]),
      set('4', [{ kind: 'modify', obj: vm(2), missingSet: [{ path: 'summary.runtime', fault: faultOf }] } as ObjectUpdate]),
    ];
    const seen: unknown[] = [];
    const root = ref('Folder', 'group-v3');
    for await (const u of watch(client as unknown as InventoryClient, 'VirtualMachine', ['name', 'summary.runtime'], { root: root as never, maxWaitSeconds: 7 })) {
      seen.push(u);
      if (seen.length === 6) break;
    }
    expect(seen.slice(0, 5)).toEqual([
      { kind: 'enter', ref: vm(1), props: { name: 'a', 'summary.runtime': { powerState: 'poweredOn', host: 'h1' } } },
      { kind: 'modify', ref: vm(1), props: { 'summary.runtime': { powerState: 'poweredOff', host: 'h1' } } },
      { kind: 'enter', ref: vm(2), props: { name: 'b' } },
      { kind: 'leave', ref: vm(1), props: { name: 'a', 'summary.runtime': { powerState: 'poweredOff', host: 'h1' } } },
      { kind: 'enter', ref: vm(3), props: { name: 'new one' } }, // a modify of an object never reported is its enter
    ]);
    expect(seen[5]).toMatchObject({ kind: 'modify', ref: vm(2), props: {}, missing: { 'summary.runtime': { name: 'VimFault', faultName: 'NoPermission', method: 'WaitForUpdatesEx' } } });
    expect(client.args.find(([m]) => m === 'CreateContainerView')?.[1]).toEqual({ container: root, type: ['VirtualMachine'], recursive: true });
    expect(client.args.find(([m]) => m === 'CreateFilter')?.[1]).toEqual({
      spec: {
        objectSet: [{ obj: ref('ContainerView', 'session[1]view'), skip: true, selectSet: [{ _typeName: 'TraversalSpec', name: 'view', type: 'ContainerView', path: 'view', skip: false }] }],
        propSet: [{ type: 'VirtualMachine', pathSet: ['name', 'summary.runtime'] }],
      },
      partialUpdates: false,
    });
    expect(client.args.filter(([m]) => m === 'WaitForUpdatesEx').map(([, a]) => a)).toEqual(['', '1', '2', '3'].map((version) => ({ version, options: { maxWaitSeconds: 7 } })));
  });

  it('watches under the root folder by default, and destroys its view when the filter cannot be made', async () => {
    const client = new ArgsClient();
    client.failing = 'CreateFilter';
    await expect(watch(client as unknown as InventoryClient, 'VirtualMachine', ['name']).next()).rejects.toThrow('CreateFilter failed');
    expect(client.args.find(([m]) => m === 'CreateContainerView')?.[1]).toMatchObject({ container: ref('Folder', 'group-d1') });
    expect(client.cleanup()).toEqual(['DestroyView session[1]view', 'DestroyPropertyCollector session[1]pc']);
  });

  it('a full state that says an object is gone after saying it was there leaves it out', async () => {
    const client = new ScriptedClient();
    client.script = [
      set('1', [update('enter', 1, { name: 'a' }), update('enter', 2, { name: 'b' })], true),
      set('2', [{ kind: 'leave', obj: vm(1) }, update('modify', 2, { name: 'b2' })]),
    ];
    const it = watch(client as unknown as InventoryClient, 'VirtualMachine', ['name'])[Symbol.asyncIterator]();
    expect((await it.next()).value).toEqual({ kind: 'enter', ref: vm(2), props: { name: 'b2' } });
    await it.return(undefined);
  });

  it('refuses a maxWaitSeconds out of range', () => {
    for (const maxWaitSeconds of [0, 61, 2.5]) {
      expect(() => watch(new ScriptedClient() as unknown as InventoryClient, 'VirtualMachine', ['name'], { maxWaitSeconds })).toThrow(new RangeError(`maxWaitSeconds must be an integer from 1 to 60, not ${maxWaitSeconds}`));
    }
  });
});
