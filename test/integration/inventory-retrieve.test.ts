// retrieve / retrieveOne / retrievePages against the harness, and against what pyvmomi reads.
import { describe, expect, inject, it } from 'vitest';
import { isVimFault, type InventoryClient, type Logger, type ManagedObjectReference, type VimClient } from 'vim25-soap';
// retrieve() itself, on a stand-in client (below): the module of src/, so its errors are src's classes.
import { SessionChangedError } from '../../src/inventory/errors.ts';
import { retrieve, retrievePages } from '../../src/inventory/retrieve.ts';
import { harnessDeny, harnessPageSize, inventoryStats, loggedIn, ownHarness, pyvmomiInventory, viewList } from '../harness/inventory.ts';
import { harnessDrop, harnessStats } from '../harness/vcsim.ts';

/**
 * The views of `c`'s session the server still holds. The shared harness's viewList also holds
 * the views of other files' sessions, read in parallel; vcsim names a session's objects
 * `session[<session key>]…`.
 */
async function sessionViews(c: VimClient): Promise<ManagedObjectReference[]> {
  const prefix = `session[${c.userSession!.key}]`;
  return (await viewList(c)).filter((v) => v.value.startsWith(prefix));
}

describe('retrieve', () => {
  it('reads the same VMs, power states and hosts as pyvmomi', async () => {
    const info = inject('harness');
    const c = await loggedIn(info);
    const [rows, py] = await Promise.all([c.retrieve('VirtualMachine', ['name', 'runtime.powerState', 'runtime.host']), pyvmomiInventory(info)]);
    const ours = rows.map((r) => ({ moref: r.ref.value, name: r.name, powerState: r['runtime.powerState'], host: (r['runtime.host'] as ManagedObjectReference | undefined)?.value ?? null }));
    const byRef = (a: { moref: string }, b: { moref: string }) => a.moref.localeCompare(b.moref);
    expect(ours.length).toBeGreaterThan(0);
    expect(ours.sort(byRef)).toEqual(py.vms.sort(byRef));
    expect(rows.every((r) => r.ref.type === 'VirtualMachine' && r.missing === undefined)).toBe(true);
    expect(await sessionViews(c)).toEqual([]);

    // The filter sees this session's views: one while a read is paused between pages, none after.
    const pages = c.retrievePages('VirtualMachine', ['name'], { pageSize: 1 });
    await pages.next();
    expect(await sessionViews(c)).toEqual([expect.objectContaining({ type: 'ContainerView' })]);
    await pages.return(undefined);
    expect(await sessionViews(c)).toEqual([]);
  });

  it('reads only what is under root, as pyvmomi finds it there', async () => {
    const info = inject('harness');
    const c = await loggedIn(info);
    const [py, [cluster]] = await Promise.all([pyvmomiInventory(info), c.find('ComputeResource', '/DC0/host/DC0_C0')]);
    const rows = await c.retrieve('VirtualMachine', ['name'], { root: cluster! });
    const under = new Set(Object.entries(py.paths).filter(([p, r]) => p.startsWith('/DC0/host/DC0_C0/') && r.type === 'VirtualMachine').map(([, r]) => r.value));
    expect(under.size).toBeGreaterThan(0);
    expect(rows.map((r) => r.ref.value).sort()).toEqual([...under].sort());
  });

  it('retrieveOne reads one object, unset properties as undefined keys', async () => {
    const c = await loggedIn(inject('harness'));
    const [vm] = await c.find('VirtualMachine', '/DC0/vm/*');
    const one = await c.retrieveOne(vm!, ['config.hardware.numCPU', 'guest.ipAddress', 'name']);
    expect(one.ref).toEqual(vm);
    expect(one['config.hardware.numCPU']).toBeGreaterThan(0);
    expect(Object.keys(one)).toEqual(expect.arrayContaining(['ref', 'config.hardware.numCPU', 'guest.ipAddress', 'name']));
  });

  it('reports a property the server refused on that row, as a typed fault with its hierarchy', async () => {
    const h = await ownHarness({ inventory: { datacenters: 1, clusters: 0, standaloneHosts: 1, vms: 3 } });
    const c = await loggedIn(h.info);
    const [denied, ...others] = (await c.retrieve('VirtualMachine', ['name'])).map((r) => r.ref);
    await harnessDeny(h.info, denied!, 'runtime.powerState');
    const rows = await c.retrieve('VirtualMachine', ['name', 'runtime.powerState']);
    const row = rows.find((r) => r.ref.value === denied!.value)!;
    expect(row.name).toBeTypeOf('string');
    expect(row['runtime.powerState']).toBeUndefined();
    const fault = row.missing?.['runtime.powerState'];
    expect(isVimFault(fault, 'NoPermission')).toBe(true);
    expect(fault!.is('SecurityError')).toBe(true);
    for (const r of rows.filter((x) => others.some((o) => o.value === x.ref.value))) {
      expect(r.missing).toBeUndefined();
      expect(r['runtime.powerState']).toBe('poweredOn');
    }
  });

  it('follows every page when the server cuts answers (as vCenter does at 100)', async () => {
    const h = await ownHarness({ inventory: { datacenters: 1, clusters: 0, standaloneHosts: 1, vms: 25 } });
    const c = await loggedIn(h.info);
    await harnessPageSize(h.info, 10);
    const rows = await c.retrieve('VirtualMachine', ['name']);
    expect(new Set(rows.map((r) => r.ref.value)).size).toBe(25);
    const stats = await inventoryStats(h.info);
    expect(stats.methods.ContinueRetrievePropertiesEx).toBe(2);
    expect(stats.inventory).toMatchObject({ pendingTokens: 0, views: 0 });
  });

  it('destroys its view when aborted, before the first answer or between pages', async () => {
    const h = await ownHarness({ inventory: { datacenters: 1, clusters: 0, standaloneHosts: 1, vms: 5 } });
    const c = await loggedIn(h.info);
    const early = new AbortController();
    early.abort(new Error('stop'));
    await expect(c.retrieve('VirtualMachine', ['name'], { signal: early.signal })).rejects.toThrow('stop');
    const ctrl = new AbortController();
    const pages = c.retrievePages('VirtualMachine', ['name'], { pageSize: 2, signal: ctrl.signal });
    expect((await pages.next()).value).toHaveLength(2);
    ctrl.abort(new Error('stop'));
    await expect(pages.next()).rejects.toThrow('stop');
    const stats = await inventoryStats(h.info);
    expect(stats.methods.CreateContainerView).toBe(1); // the early abort sent nothing
    expect(stats.methods.CancelRetrievePropertiesEx).toBe(1);
    expect(stats.inventory).toMatchObject({ pendingTokens: 0, views: 0 });
    expect(await viewList(c)).toEqual([]);
  });
});

/** The client, except that the first ContinueRetrievePropertiesEx finds its session terminated from outside. */
function terminatedBeforeContinue(c: VimClient, admin: VimClient): InventoryClient {
  let armed = true;
  return {
    serviceContent: c.serviceContent,
    apiVersion: c.apiVersion,
    on: (event, listener) => c.on(event, listener),
    off: (event, listener) => c.off(event, listener),
    call: (async (method: string, _this: ManagedObjectReference, ...rest: unknown[]) => {
      if (method === 'ContinueRetrievePropertiesEx' && armed) {
        armed = false;
        await admin.call('TerminateSession', admin.serviceContent.sessionManager!, { sessionId: [c.userSession!.key] });
      }
      return (c.call as (...a: unknown[]) => Promise<unknown>)(method, _this, ...rest);
    }) as InventoryClient['call'],
  };
}

describe('retrieve across a re-login', () => {
  it('starts over when the session dies between pages (the view and the token died with it)', async () => {
    const h = await ownHarness({ inventory: { datacenters: 1, clusters: 0, standaloneHosts: 1, vms: 5 } });
    const c = await loggedIn(h.info);
    const admin = await loggedIn(h.info);
    await harnessPageSize(h.info, 2);
    const relogins: unknown[] = [];
    c.on('reauthenticated', (s) => relogins.push(s));
    const rows = await retrieve(terminatedBeforeContinue(c, admin), 'VirtualMachine', ['name']);
    expect(rows.map((r) => r.ref.value).sort()).toEqual((await c.retrieve('VirtualMachine', ['name'])).map((r) => r.ref.value).sort());
    expect(rows).toHaveLength(5);
    expect(relogins).toHaveLength(1);

    // Pages already handed out cannot be taken back: the stream says so instead.
    const pages = retrievePages(terminatedBeforeContinue(c, admin), 'VirtualMachine', ['name'], { pageSize: 2 });
    expect((await pages.next()).value).toHaveLength(2);
    await expect(pages.next()).rejects.toBeInstanceOf(SessionChangedError);
    expect(relogins).toHaveLength(2);
    expect(await viewList(c)).toEqual([]);
  });

  it('re-authenticates when the answer says NotAuthenticated in its missingSet', async () => {
    const h = await ownHarness({ inventory: { datacenters: 1, clusters: 0, standaloneHosts: 1, vms: 1 } });
    const c = await loggedIn(h.info);
    const admin = await loggedIn(h.info);
    const [vm] = await c.find('VirtualMachine', '/DC0/vm/*');
    const logins = (await inventoryStats(h.info)).methods.Login;
    await admin.call('TerminateSession', admin.serviceContent.sessionManager!, { sessionId: [c.userSession!.key] });
    // vcsim answers a RetrievePropertiesEx without a session with missingSet NotAuthenticated for each property.
    const row = await c.retrieveOne(vm!, ['name', 'runtime.powerState']);
    expect(row).toMatchObject({ ref: vm, 'runtime.powerState': 'poweredOn' });
    expect(row.missing).toBeUndefined();
    expect((await inventoryStats(h.info)).methods.Login).toBe(logins! + 1);
  });
});

/** The client, with a logger of the test's own to hand the inventory layer. */
function withLogger(c: VimClient, logger: Logger): InventoryClient {
  return {
    serviceContent: c.serviceContent,
    apiVersion: c.apiVersion,
    on: (event, listener) => c.on(event, listener),
    off: (event, listener) => c.off(event, listener),
    call: ((...args: unknown[]) => (c.call as (...a: unknown[]) => Promise<unknown>)(...args)) as InventoryClient['call'],
    logger,
  };
}

describe('a clean-up that fails after a complete read', () => {
  it('costs no rows: retrieve and retrievePages end as read, the view is left to the session, and a warning says so', async () => {
    const h = await ownHarness({ inventory: { datacenters: 1, clusters: 0, standaloneHosts: 1, vms: 5 } });
    const c = await loggedIn(h.info);
    await harnessPageSize(h.info, 2);
    // The connection closes once DestroyView is read, before it runs: EOUTCOMEUNKNOWN, never replayed.
    await harnessDrop(h.info, 1, 'request', 'DestroyView');
    expect((await c.retrieve('VirtualMachine', ['name'])).map((r) => r.name)).toHaveLength(5);
    expect(await viewList(c)).toHaveLength(1);

    const warnings: Array<{ message: string; data: Record<string, unknown> | undefined }> = [];
    const noop = (): void => undefined;
    const logged = withLogger(c, { debug: noop, info: noop, error: noop, warn: (message, data) => warnings.push({ message, data }) });
    await harnessDrop(h.info, 1, 'request', 'DestroyView');
    expect(await retrieve(logged, 'VirtualMachine', ['name'])).toHaveLength(5);
    await harnessDrop(h.info, 1, 'request', 'DestroyView');
    let streamed = 0;
    for await (const rows of retrievePages(logged, 'VirtualMachine', ['name'], { pageSize: 2 })) streamed += rows.length;
    expect(streamed).toBe(5);
    expect(warnings).toEqual(Array(2).fill({
      message: 'DestroyView failed: the ContainerView is left on the server until the session ends',
      data: expect.objectContaining({ method: 'DestroyView', type: 'ContainerView', code: 'EOUTCOMEUNKNOWN' }),
    }));
    expect(await viewList(c)).toHaveLength(3);
    expect((await harnessStats(h.info)).dropped).toBe(3);
  });
});

describe('retrievePages', () => {
  it('streams 420 VMs in pages of 50, each exactly once, and leaves no view or token behind', async () => {
    const h = await ownHarness({ inventory: { datacenters: 1, clusters: 1, hostsPerCluster: 1, standaloneHosts: 0, vms: 420 } });
    const c = await loggedIn(h.info);
    const seen = new Map<string, number>();
    const sizes: number[] = [];
    for await (const page of c.retrievePages('VirtualMachine', ['name', 'runtime.powerState'], { pageSize: 50 })) {
      sizes.push(page.length);
      for (const r of page) seen.set(r.ref.value, (seen.get(r.ref.value) ?? 0) + 1);
    }
    expect(seen.size).toBe(420);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect(sizes).toEqual([...Array(8).fill(50), 20]);
    expect(await viewList(c)).toEqual([]);
    expect((await inventoryStats(h.info)).inventory.pendingTokens).toBe(0);

    // Leaving early cancels the rest on the server and still destroys the view.
    let pages = 0;
    for await (const page of c.retrievePages('VirtualMachine', ['name'], { pageSize: 50 })) {
      expect(page).toHaveLength(50);
      if (++pages === 2) break;
    }
    const stats = await inventoryStats(h.info);
    expect(stats.methods.CancelRetrievePropertiesEx).toBe(1);
    expect(stats.inventory).toMatchObject({ pendingTokens: 0, views: 0 });
    expect(await viewList(c)).toEqual([]);
  });
});
