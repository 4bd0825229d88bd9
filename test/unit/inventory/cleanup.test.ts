// What the inventory operations share: how they let go of what they made on the server (and what
// they log when they cannot), how they count re-authentications, and how a PropertyCollector's
// contents and changes become rows.
import { describe, expect, it } from 'vitest';
import { TransportError, VimFault } from '../../../src/errors.ts';
import type { ManagedObjectReference } from '../../../src/generated/types.ts';
import { destroy, isGone, lostCreate, quietly } from '../../../src/inventory/cleanup.ts';
import { SessionChangedError } from '../../../src/inventory/errors.ts';
import type { InventoryClient } from '../../../src/inventory/inventory-client.ts';
import { applyChange, toRow } from '../../../src/inventory/rows.ts';
import { SessionWatch } from '../../../src/inventory/session-watch.ts';
import { ref, ScriptedInventoryClient } from './scripted-client.ts';

const fault = (name: string, ancestors: string[] = []) => new VimFault('DestroyView', { _typeName: name }, 'text', ancestors);

/** Every call fails with `failure` (or answers nothing); what each was given is kept. */
class FailingClient extends ScriptedInventoryClient {
  failure: unknown;
  readonly args: unknown[] = [];
  call = (async (method: string, _this: ManagedObjectReference, args: unknown) => {
    this.calls.push(`${method} ${_this.value}`);
    this.args.push(args);
    if (this.failure !== undefined) throw this.failure;
    return undefined;
  }) as unknown as InventoryClient['call'];
}

/** A client that has no logger (InventoryClient.logger is optional). */
const withoutLogger = <C extends object>(client: C): C => Object.defineProperty(client, 'logger', { value: undefined });

describe('isGone', () => {
  it('takes ManagedObjectNotFound and NotAuthenticated (and their subtypes) for an object gone with its session', () => {
    expect(isGone(fault('ManagedObjectNotFound'))).toBe(true);
    expect(isGone(fault('NotAuthenticated'))).toBe(true);
    expect(isGone(fault('SomeSubtype', ['NotAuthenticated', 'NoPermission']))).toBe(true);
    expect(isGone(fault('InvalidState'))).toBe(false);
    for (const other of [undefined, null, 'ManagedObjectNotFound', new Error('ManagedObjectNotFound'), { is: 'not a function' }]) expect(isGone(other)).toBe(false);
  });
});

describe('destroy', () => {
  const view = ref('ContainerView', 'session[52b4]view-1');

  it('destroys with no arguments, and says nothing when that works or the object died with its session', async () => {
    const client = new FailingClient();
    await destroy(client as unknown as InventoryClient, 'DestroyView', view);
    expect([client.calls, client.args]).toEqual([['DestroyView session[52b4]view-1'], [{}]]);
    client.failure = fault('ManagedObjectNotFound');
    await destroy(client as unknown as InventoryClient, 'DestroyView', view);
    expect(client.warnings).toEqual([]);
  });

  it('logs any other failure by names and codes, never the reference or the message, and never fails', async () => {
    const client = new FailingClient();
    client.failure = new TransportError('secret details', { code: 'ECONNRESET', status: 502 });
    await destroy(client as unknown as InventoryClient, 'DestroyCollector', ref('HistoryCollector', 'session[52b4]c'));
    client.failure = fault('InvalidState');
    await destroy(client as unknown as InventoryClient, 'DestroyPropertyCollector', ref('PropertyCollector', 'session[52b4]pc'));
    client.failure = 'a thrown string';
    await destroy(client as unknown as InventoryClient, 'DestroyView', view);
    client.failure = null;
    await destroy(client as unknown as InventoryClient, 'DestroyView', view);
    expect(client.warnings).toEqual([
      { message: 'DestroyCollector failed: the HistoryCollector is left on the server until the session ends', data: { method: 'DestroyCollector', type: 'HistoryCollector', error: 'TransportError', fault: undefined, code: 'ECONNRESET', status: 502 } },
      { message: 'DestroyPropertyCollector failed: the PropertyCollector is left on the server until the session ends', data: { method: 'DestroyPropertyCollector', type: 'PropertyCollector', error: 'VimFault', fault: 'InvalidState', code: undefined, status: undefined } },
      { message: 'DestroyView failed: the ContainerView is left on the server until the session ends', data: { method: 'DestroyView', type: 'ContainerView', error: undefined, fault: undefined, code: undefined, status: undefined } },
      { message: 'DestroyView failed: the ContainerView is left on the server until the session ends', data: { method: 'DestroyView', type: 'ContainerView', error: undefined, fault: undefined, code: undefined, status: undefined } },
    ]);
    const silent = withoutLogger(new FailingClient());
    silent.failure = fault('InvalidState');
    await destroy(silent as unknown as InventoryClient, 'DestroyView', view);
  });
});

describe('lostCreate and quietly', () => {
  it('logs a create whose answer was lost, and only that, returning the error', () => {
    const client = new FailingClient();
    const lost = new TransportError('closed', { code: 'EOUTCOMEUNKNOWN', outcomeUnknown: true });
    expect(lostCreate(client as unknown as InventoryClient, 'CreateContainerView', 'ContainerView', lost)).toBe(lost);
    const refused = new TransportError('refused', { code: 'ECONNREFUSED' });
    expect(lostCreate(client as unknown as InventoryClient, 'CreateContainerView', 'ContainerView', refused)).toBe(refused);
    const odd = Object.assign(new Error('x'), { outcomeUnknown: true });
    expect(lostCreate(client as unknown as InventoryClient, 'CreateContainerView', 'ContainerView', odd)).toBe(odd);
    expect(client.warnings).toEqual([{
      message: "CreateContainerView's answer was lost: a ContainerView it may have made is left on the server until the session ends",
      data: { method: 'CreateContainerView', type: 'ContainerView', error: 'TransportError', fault: undefined, code: 'EOUTCOMEUNKNOWN', status: undefined },
    }]);
    const silent = withoutLogger(new FailingClient());
    expect(lostCreate(silent as unknown as InventoryClient, 'CreatePropertyCollector', 'PropertyCollector', lost)).toBe(lost);
  });

  it('quietly swallows a failure', async () => {
    await expect(quietly(() => Promise.reject(new Error('no')))).resolves.toBeUndefined();
  });
});

describe('SessionWatch', () => {
  it('one listener per client however many operations watch it; each learns of a re-authentication; the last to close removes it', () => {
    const client = new ScriptedInventoryClient() as unknown as InventoryClient & ScriptedInventoryClient;
    const told: string[] = [];
    const a = new SessionWatch(client, () => told.push('a'));
    const b = new SessionWatch(client, () => told.push('b'));
    const c = new SessionWatch(client);
    expect(client.listenerCount('reauthenticated')).toBe(1);
    expect([a.generation, b.generation]).toEqual([0, 0]);
    client.emit('reauthenticated');
    client.emit('reauthenticated');
    expect([a.generation, b.generation, c.generation]).toEqual([2, 2, 2]);
    expect(told).toEqual(['a', 'b', 'a', 'b']);
    a.close();
    client.emit('reauthenticated');
    expect(told).toEqual(['a', 'b', 'a', 'b', 'b']);
    b.close();
    expect(client.listenerCount('reauthenticated')).toBe(1);
    c.close();
    expect(client.listenerCount('reauthenticated')).toBe(0);
    c.close(); // twice: nothing more to remove
    const d = new SessionWatch(client);
    expect(d.generation).toBe(0);
    expect(client.listenerCount('reauthenticated')).toBe(1);
    // A watch of the old hub closing late leaves the new hub's listener alone.
    a.close();
    expect(client.listenerCount('reauthenticated')).toBe(1);
    d.close();
  });

  it('SessionChangedError names itself', () => {
    expect(new SessionChangedError('x').name).toBe('SessionChangedError');
  });
});

describe('rows', () => {
  it('a row has its reference, every path asked for, and `missing` only when the server refused some, with their faults', () => {
    const obj = ref('VirtualMachine', 'vm-1');
    expect(toRow('RetrievePropertiesEx', { obj, propSet: [{ name: 'name', val: 'a' }] }, ['name', 'config.uuid'])).toEqual({ ref: obj, name: 'a', 'config.uuid': undefined });
    expect(toRow('RetrievePropertiesEx', { obj, missingSet: [] }, ['name'])).toEqual({ ref: obj, name: undefined });
    const row = toRow('RetrievePropertiesEx', { obj, missingSet: [{ path: 'config.uuid', fault: { fault: { _typeName: 'NoPermission' }, localizedMessage: 'no' } }] } as never, ['name', 'config.uuid']);
    expect(Object.keys(row).sort()).toEqual(['config.uuid', 'missing', 'name', 'ref']);
    expect(row.missing!['config.uuid']).toMatchObject({ name: 'VimFault', faultName: 'NoPermission', method: 'RetrievePropertiesEx' });
  });

  it('applies a change: a removal unsets, a nested name is written into a copy of the value asked for', () => {
    const runtime = { powerState: 'poweredOn', host: { value: 'host-1' } };
    const props: Record<string, unknown> = { 'summary.runtime': runtime, name: 'a' };
    applyChange(props, { name: 'summary.runtime.host.value', op: 'assign', val: 'host-2' }, ['summary.runtime', 'name']);
    expect(props['summary.runtime']).toEqual({ powerState: 'poweredOn', host: { value: 'host-2' } });
    expect(runtime).toEqual({ powerState: 'poweredOn', host: { value: 'host-1' } }); // handed out before: unchanged
    applyChange(props, { name: 'summary.runtime.powerState', op: 'remove' }, ['summary.runtime', 'name']);
    expect(props['summary.runtime']).toEqual({ powerState: undefined, host: { value: 'host-2' } });
    applyChange(props, { name: 'name', op: 'indirectRemove' }, ['summary.runtime', 'name']);
    expect(props.name).toBeUndefined();
    applyChange(props, { name: 'name', op: 'add', val: 'b' }, ['summary.runtime', 'name']);
    expect(props.name).toBe('b');
    applyChange(props, { name: 'summaryX', op: 'assign', val: 1 }, ['summary']); // no path it is under: by its own name
    expect(props.summaryX).toBe(1);
    applyChange(props, { name: 'a.b.c', op: 'assign', val: 2 }, ['a']);
    expect(props.a).toEqual({ b: { c: 2 } });
  });
});
