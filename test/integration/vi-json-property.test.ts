// VI/JSON property reads: where a SOAP client reads one top-level property of one object with a
// RetrievePropertiesEx (retrieveOne of one path, attachSession's currentSession), the JSON wire
// sends GET /sdk/vim25/{release}/{Type}/{moId}/{property}. Each read here is made through both
// wires against one harness and compared value for value; the harness counts the GETs it is sent
// (stats viJson.propertyReads), so each case also shows which form went out.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VimClient, type ManagedObjectReference, type PropertyPath } from 'vim25-soap';
import { harnessDeny } from '../harness/inventory.ts';
import { harnessStats, type Harness } from '../harness/vcsim.ts';
import { loggedIn, ownHarness, terminate } from '../fixtures.ts';

const harness = ownHarness({ inventory: { vms: 3 } });
const h = (): Harness => harness();
let soap: VimClient;
let json: VimClient;
let vm: ManagedObjectReference<'VirtualMachine'>;

beforeAll(async () => {
  const open = async (protocol: 'soap' | 'json') => {
    const c = await VimClient.connect(h().info.url, { tls: { ca: readFileSync(h().info.certFile) }, protocol });
    await c.login({ username: h().info.username, password: h().info.password });
    return c;
  };
  [soap, json] = await Promise.all([open('soap'), open('json')]);
  expect(json.protocol).toBe('json');
  vm = (await soap.retrieve('VirtualMachine', ['name']))[0]!.ref;
});
afterAll(async () => {
  await Promise.all([soap?.close(), json?.close()]);
});

const gets = async (): Promise<number> => (await harnessStats(h().info)).viJson.propertyReads;

/** retrieveOne through both wires: the rows, and how many property GETs the JSON one sent. */
async function both<T extends ManagedObjectReference['type']>(ref: ManagedObjectReference<T>, paths: readonly PropertyPath<T>[]) {
  const a = await soap.retrieveOne(ref as never, paths as never);
  const before = await gets();
  const b = await json.retrieveOne(ref as never, paths as never);
  return { soap: a as Record<string, unknown>, json: b as Record<string, unknown>, gets: (await gets()) - before };
}

describe('retrieveOne of one top-level property is a GET on the JSON wire, with the SOAP wire\'s values', () => {
  it.each([
    ['a MoRef', 'resourcePool'],
    ['an array of MoRefs', 'datastore'],
    ['a data object with polymorphic members (devices, backings) and longs', 'config'],
    ['a data object with dates and a MoRef', 'runtime'],
    ['a data object with longs', 'summary'],
    ['an enum', 'guestHeartbeatStatus'],
    ['a string', 'name'],
    ['an unset property', 'snapshot'],
    ['an empty array', 'rootSnapshot'],
  ] as const)('%s (VirtualMachine.%s)', async (_what, path) => {
    const r = await both(vm, [path]);
    expect(r.gets).toBe(1);
    expect(r.json).toEqual(r.soap);
    expect(Object.keys(r.json).sort()).toEqual(Object.keys(r.soap).sort());
  });

  it('keeps the types: Date, bigint-or-number longs, arrays, nested _typeNames', async () => {
    const { json: row } = await both(vm, ['config']);
    const config = row.config as { _typeName: string; hardware: { device: { _typeName: string }[] }; modified: unknown; changeVersion?: unknown };
    expect(config._typeName).toBe('VirtualMachineConfigInfo');
    expect(config.modified).toBeInstanceOf(Date);
    const kinds = new Set(config.hardware.device.map((d) => d._typeName));
    expect(kinds.size).toBeGreaterThan(3);
    const { json: runtime } = await both(vm, ['runtime']);
    expect((runtime.runtime as { host: unknown }).host).toMatchObject({ type: 'HostSystem' });
  });

  it('an unset property is absent from the row on both wires', async () => {
    const r = await both(json.serviceContent.sessionManager!, ['message']);
    expect(r.gets).toBe(1);
    expect(r.json).toEqual(r.soap);
    expect(r.json.message).toBeUndefined();
    expect(Object.keys(r.json).sort()).toEqual(Object.keys(r.soap).sort());
  });

  it('an object whose id needs escaping in a URL path (vcsim names a datastore by its directory: slashes)', async () => {
    const [ds] = await soap.retrieve('Datastore', ['name']);
    expect(ds!.ref.value).toMatch(/[/@]/);
    for (const path of ['name', 'summary'] as const) {
      const r = await both(ds!.ref, [path]);
      expect(r.gets).toBe(1);
      expect(r.json).toEqual(r.soap);
    }
  });

  it('ServiceInstance and a folder: other managed types by their own model', async () => {
    const root = json.serviceContent.rootFolder;
    for (const path of ['childEntity', 'childType', 'name'] as const) {
      const r = await both(root, [path]);
      expect(r.gets).toBe(1);
      expect(r.json).toEqual(r.soap);
    }
    const clock = await both({ type: 'ServiceInstance', value: 'ServiceInstance' } as ManagedObjectReference<'ServiceInstance'>, ['serverClock']);
    expect(clock.gets).toBe(1);
    expect(clock.json.serverClock).toBeInstanceOf(Date);
  });
});

describe('what stays a RetrievePropertiesEx POST', () => {
  it.each([
    ['a nested path', ['runtime.powerState']],
    ['two properties', ['name', 'runtime']],
    ['a keyed path', ['config.hardware.device']],
  ] as const)('%s', async (_what, paths) => {
    const r = await both(vm, paths as never);
    expect(r.gets).toBe(0);
    expect(r.json).toEqual(r.soap);
  });

  it('a spec whose type the object is not of (a POST); one of a base type the object derives from (a GET)', async () => {
    const pc = json.serviceContent.propertyCollector;
    const before = await gets();
    const spec = (type: string) => ({
      specSet: [{ propSet: [{ type, pathSet: ['name'] }], objectSet: [{ obj: vm }] }], options: {},
    });
    const [a, b] = await Promise.all([soap.call('RetrievePropertiesEx', soap.serviceContent.propertyCollector, spec('HostSystem') as never), json.call('RetrievePropertiesEx', pc, spec('HostSystem') as never)]);
    expect(b).toEqual(a);
    expect(await gets()).toBe(before);
    // A base type the object derives from is a read of that object's property.
    const [c, d] = await Promise.all([soap.call('RetrievePropertiesEx', soap.serviceContent.propertyCollector, spec('ManagedEntity') as never), json.call('RetrievePropertiesEx', pc, spec('ManagedEntity') as never)]);
    expect(d).toEqual(c);
    expect(await gets()).toBe(before + 1);
  });
});

describe('the same faults', () => {
  it('ManagedObjectNotFound: the same VimFault, fault object and message', async () => {
    const gone = { type: 'VirtualMachine', value: 'vm-nope' } as ManagedObjectReference<'VirtualMachine'>;
    const a = await soap.retrieveOne(gone, ['name']).catch((e: unknown) => e);
    const before = await gets();
    const b = await json.retrieveOne(gone, ['name']).catch((e: unknown) => e);
    expect(await gets()).toBe(before + 1);
    expect(a).toMatchObject({ name: 'VimFault', faultName: 'ManagedObjectNotFound' });
    expect((b as Error).message).toBe((a as Error).message);
    expect((b as { fault: unknown }).fault).toEqual((a as { fault: unknown }).fault);
  });

  it('InvalidProperty from the server (a property of the model its object lacks): missing[path] on both wires', async () => {
    // ComputeResource.configManagerEnabled (vim25 8.0) is in the model; the simulator (govmomi 0.24) has no such property.
    const [cr] = (await soap.retrieve('ComputeResource', ['name'])).map((r) => r.ref);
    const a = await soap.retrieveOne(cr!, ['configManagerEnabled']).catch((e: unknown) => e);
    const before = await gets();
    const b = await json.retrieveOne(cr!, ['configManagerEnabled']).catch((e: unknown) => e);
    expect(await gets()).toBe(before + 1);
    expect((a as { missing: Record<string, unknown> }).missing.configManagerEnabled).toMatchObject({ name: 'VimFault', faultName: 'InvalidProperty' });
    expect(b).toEqual(a);
    // A property the model does not know is left to the collector: a POST, the same answer.
    const pc = (c: VimClient) => c.call('RetrievePropertiesEx', c.serviceContent.propertyCollector, {
      specSet: [{ propSet: [{ type: 'ComputeResource', pathSet: ['noSuchProperty'] }], objectSet: [{ obj: cr! }] }], options: {},
    }).catch((e: unknown) => e);
    const x = await pc(soap);
    const y = await pc(json);
    expect(await gets()).toBe(before + 1);
    expect(y).toEqual(x);
    expect((y as Error).message).toBe((x as Error).message);
  });

  it('a property the session may not read: missing[path] with NoPermission on both wires', async () => {
    // Another VM than the one the other tests read.
    const other = (await soap.retrieve('VirtualMachine', ['name'])).map((r) => r.ref).find((r) => r.value !== vm.value);
    await harnessDeny(h().info, other!, 'runtime');
    const r = await both(other!, ['runtime']);
    expect(r.gets).toBe(1);
    const missing = (r.json.missing as Record<string, unknown>).runtime;
    expect(missing).toMatchObject({ name: 'VimFault', faultName: 'NoPermission' });
    expect(r.json).toEqual(r.soap);
    expect((missing as { fault: unknown }).fault).toEqual(((r.soap.missing as Record<string, { fault: unknown }>).runtime)!.fault);
  });

  it('NotAuthenticated: re-authenticates once and reads again, as on SOAP', async () => {
    const c = await loggedIn(h(), { protocol: 'json' });
    let relogins = 0;
    c.on('reauthenticated', () => relogins++);
    await terminate(soap, c);
    const before = await gets();
    const row = await c.retrieveOne(vm, ['name']);
    expect(relogins).toBe(1);
    expect(await gets()).toBe(before + 2); // the refused GET, and the GET after the re-login
    expect(row).toEqual(await soap.retrieveOne(vm, ['name']));
  });

  it("attachSession checks the id with a GET of the SessionManager's currentSession", async () => {
    const c = await loggedIn(h(), { protocol: 'json' });
    const other = await VimClient.connect(h().info.url, { tls: { ca: readFileSync(h().info.certFile) }, protocol: 'json' });
    try {
      const before = await gets();
      const adopted = await other.attachSession(c.sessionId!);
      expect(adopted.key).toBe(c.userSession!.key);
      expect(await gets()).toBe(before + 1);
      await expect(other.attachSession('no-such-session')).rejects.toMatchObject({ faultName: 'NotAuthenticated' });
    } finally {
      await other.close();
    }
  });
});
