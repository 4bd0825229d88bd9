// watch() on a harness of this file's own: changes made by another client, and the same after
// the watch's own session was terminated from outside, or an answer was lost on the way.
import { describe, expect, it } from 'vitest';
import type { ManagedObjectReference, VimClient, WatchUpdate } from 'vim25-soap';
import { inventoryStats, loggedIn, ownHarness } from '../harness/inventory.ts';
import { harnessDrop, harnessStats } from '../harness/vcsim.ts';
import { SI } from '../fixtures.ts';

type Update = WatchUpdate<'VirtualMachine', 'name' | 'runtime.powerState'>;

/** Reads updates until one satisfies `done`; returns everything read. */
async function until(it: AsyncIterator<Update>, done: (u: Update) => boolean): Promise<Update[]> {
  const seen: Update[] = [];
  for (;;) {
    const r = await it.next();
    if (r.done) throw new Error(`the watch ended after ${JSON.stringify(seen)}`);
    seen.push(r.value);
    if (done(r.value)) return seen;
  }
}

const is = (kind: Update['kind'], vm: ManagedObjectReference, state?: string) => (u: Update) =>
  u.kind === kind && u.ref.value === vm.value && (state === undefined || u.props['runtime.powerState'] === state);

async function setup(vms: number) {
  const h = await ownHarness({ inventory: { datacenters: 1, clusters: 0, standaloneHosts: 1, vms } });
  const watcher = await loggedIn(h.info);
  const other = await loggedIn(h.info);
  const refs = await other.find('VirtualMachine', '/DC0/vm/*');
  return { h, watcher, other, refs };
}

async function powerOff(c: VimClient, vm: ManagedObjectReference<'VirtualMachine'>): Promise<void> {
  await c.waitForTask(await c.call('PowerOffVM_Task', vm, {}));
}

describe('watch', () => {
  it("reports every object, then another client's changes, and keeps going after its session was terminated", async () => {
    const { h, watcher, other, refs } = await setup(3);
    const reauthenticated: unknown[] = [];
    watcher.on('reauthenticated', (s) => reauthenticated.push(s));
    const it = watcher.watch('VirtualMachine', ['name', 'runtime.powerState'], { maxWaitSeconds: 1 })[Symbol.asyncIterator]();

    const enters: Update[] = [];
    while (enters.length < refs.length) enters.push(...(await until(it, () => true)));
    expect(enters.every((u) => u.kind === 'enter' && u.props['runtime.powerState'] === 'poweredOn' && typeof u.props.name === 'string')).toBe(true);
    expect(enters.map((u) => u.ref.value).sort()).toEqual(refs.map((r) => r.value).sort());

    await powerOff(other, refs[0]!);
    const modified = await until(it, is('modify', refs[0]!, 'poweredOff'));
    expect(modified.at(-1)!.props).toEqual({ 'runtime.powerState': 'poweredOff' });

    // The consumer holds the watch (it waits on nothing now) while the session is terminated
    // from outside and a VM changes: that change is only learnt from the full state the watch
    // reads on its new session, diffed against what it reported.
    await other.call('TerminateSession', other.serviceContent.sessionManager!, { sessionId: [watcher.userSession!.key] });
    await powerOff(other, refs[1]!);
    const missed = await until(it, is('modify', refs[1]!, 'poweredOff'));
    expect(missed).toEqual([{ kind: 'modify', ref: refs[1], props: { 'runtime.powerState': 'poweredOff' } }]);
    expect(reauthenticated).toHaveLength(1);

    // Terminated while the watch waits: with nothing else calling, it learns within
    // maxWaitSeconds, by its own next WaitForUpdatesEx, and carries on on the new session.
    const pending = it.next();
    const relogin = new Promise((resolve) => watcher.once('reauthenticated', resolve));
    await other.call('TerminateSession', other.serviceContent.sessionManager!, { sessionId: [watcher.userSession!.key] });
    await relogin;
    expect(reauthenticated).toHaveLength(2);
    await other.waitForTask(await other.call('PowerOnVM_Task', refs[0]!, {}));
    const next = await pending;
    expect(next.value).toEqual({ kind: 'modify', ref: refs[0], props: { 'runtime.powerState': 'poweredOn' } });

    // Terminated while the watch waits, and the client re-authenticates for another reason
    // first: the watch drops its wait on the dead session at once and rebuilds.
    const pending2 = it.next();
    await other.call('TerminateSession', other.serviceContent.sessionManager!, { sessionId: [watcher.userSession!.key] });
    await watcher.call('CurrentTime', SI);
    expect(reauthenticated).toHaveLength(3);
    await powerOff(other, refs[2]!);
    expect((await pending2).value).toEqual({ kind: 'modify', ref: refs[2], props: { 'runtime.powerState': 'poweredOff' } });

    const { methods } = await inventoryStats(h.info);
    const waits = 4; // the other client's waitForTask calls, a collector each
    expect(methods.CreatePropertyCollector).toBe(waits + 4); // the watch's first, and one per new session
    await it.return!();
    const after = (await inventoryStats(h.info)).methods;
    expect(after.DestroyPropertyCollector).toBe(waits + 1); // the watch's live one; the others died with their sessions
    expect(after.DestroyView).toBe(1);
  });

  it('reports a change whose answer was lost: it reads the full state afresh instead of waiting on a spent version', async () => {
    const { h, watcher, other, refs } = await setup(2);
    const it = watcher.watch('VirtualMachine', ['runtime.powerState'], { maxWaitSeconds: 60 })[Symbol.asyncIterator]();
    for (const _ of refs) expect((await it.next()).value).toMatchObject({ kind: 'enter', props: { 'runtime.powerState': 'poweredOn' } });
    // The server executes the watch's next wait, whose answer holds the power-off, and closes
    // the connection instead of answering. (No waitForTask on the other client: its own
    // WaitForUpdatesEx could take the drop.)
    await harnessDrop(h.info, 1, 'answer', 'WaitForUpdatesEx');
    const pending = it.next();
    await other.call('PowerOffVM_Task', refs[0]!, {});
    expect((await pending).value).toEqual({ kind: 'modify', ref: refs[0], props: { 'runtime.powerState': 'poweredOff' } });
    expect((await harnessStats(h.info)).dropped).toBe(1);
    await it.return!();
    const { methods } = await inventoryStats(h.info);
    // The collector and view of the lost answer, and those built again.
    expect(methods.CreatePropertyCollector).toBe(2);
    expect(methods.DestroyPropertyCollector).toBe(2);
    expect(methods.DestroyView).toBe(2);
  });

  it('stops at an abort, cancelling its pending wait on the server', async () => {
    const { h, watcher, refs } = await setup(1);
    const ctrl = new AbortController();
    const it = watcher.watch('VirtualMachine', ['runtime.powerState'], { signal: ctrl.signal, maxWaitSeconds: 60 })[Symbol.asyncIterator]();
    expect((await it.next()).value).toMatchObject({ kind: 'enter', ref: refs[0] });
    const pending = it.next();
    ctrl.abort(new Error('enough'));
    await expect(pending).rejects.toThrow('enough');
    const { methods } = await inventoryStats(h.info);
    expect(methods.CancelWaitForUpdates).toBe(1);
    expect(methods.DestroyPropertyCollector).toBe(1);
    expect(methods.DestroyView).toBe(1);
  });

  it('refuses a maxWaitSeconds outside 1–60 before anything is sent', async () => {
    const { watcher } = await setup(1);
    expect(() => watcher.watch('VirtualMachine', ['name'], { maxWaitSeconds: 0 })).toThrow(RangeError);
    expect(() => watcher.watch('VirtualMachine', ['name'], { maxWaitSeconds: 61 })).toThrow(RangeError);
  });
});
