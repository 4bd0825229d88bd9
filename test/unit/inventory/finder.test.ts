// find() refuses a pattern it cannot read before anything reaches the server: a service that
// hands users' patterns to find() answers them without a round trip.
import { describe, expect, it } from 'vitest';
import type { ManagedObjectReference } from '../../../src/generated/types.ts';
import type { InventoryClient } from '../../../src/inventory/inventory-client.ts';
import { InvalidPatternError } from '../../../src/inventory/errors.ts';
import { find } from '../../../src/inventory/finder.ts';
import { isManagedType } from '../../../src/inventory/typed-model.ts';
import { ref, ScriptedInventoryClient } from './scripted-client.ts';

/** A server with no objects at all; `calls` names the types of the views created. */
class EmptyServer extends ScriptedInventoryClient {
  call = (async (method: string, _this: ManagedObjectReference, args: { type?: string[] } | undefined) => {
    this.calls.push(method === 'CreateContainerView' ? `${method} ${String(args?.type)}` : method);
    return method === 'CreateContainerView' ? ref('ContainerView', 'session[1]view') : undefined;
  }) as unknown as InventoryClient['call'];
}

describe('find', () => {
  it.each<[string, string, string]>([
    ['an empty pattern', 'empty', ''],
    ['an unclosed class', 'malformed', 'web-[12'],
    ['a reversed range', 'malformed', '/DC0/vm/web-[2-1]'],
    ['a trailing backslash', 'malformed', 'vm/web\\'],
    ['4097 characters', 'too-long', '*'.repeat(4097)],
    ['65 levels', 'too-deep', '/*'.repeat(65)],
  ])('refuses %s (%s) before any call', async (_, reason, pattern) => {
    const client = new EmptyServer();
    await expect(find(client as unknown as InventoryClient, 'VirtualMachine', pattern)).rejects.toThrow(InvalidPatternError);
    await expect(find(client as unknown as InventoryClient, 'VirtualMachine', pattern)).rejects.toMatchObject({ reason });
    expect(client.calls).toEqual([]);
  });

  it('reads a bare ... as a path, not as a name', async () => {
    const client = new EmptyServer();
    expect(await find(client as unknown as InventoryClient, 'VirtualMachine', '...')).toEqual([]);
    // Relative, as `vm/...` is: from the datacenters, not from the VMs' names.
    expect(client.calls[0]).toBe('CreateContainerView Datacenter');
  });
});

/** An object of the fake inventory: its name, and its children by property. */
interface Node {
  ref: ManagedObjectReference;
  name?: string;
  props: Record<string, string[]>;
}

/**
 * A small inventory, answered as vCenter does: a ContainerView's objects of the types asked for,
 * and one level of TraversalSpecs (honouring their type), in pages of `page` objects.
 *   / (group-d1)
 *     DC0: vm/{web-1, web-2, apps/db-1}  host/C0{h1, Resources{web-1, rp1{db-1}}}
 *     DC1: vm/{web-1}
 */
class InventoryServer extends ScriptedInventoryClient {
  readonly nodes = new Map<string, Node>();
  /** What each RetrievePropertiesEx asked for: per object, the names of its traversal specs. */
  readonly asked: string[][] = [];
  page = 100;
  #pending: Array<{ obj: ManagedObjectReference; propSet: Array<{ name: string; val: unknown }> }> = [];
  #views = new Map<string, { container: string; types: string[] }>();
  onCall: (method: string) => void = () => undefined;

  constructor() {
    super();
    const add = (type: string, value: string, name: string | undefined, props: Record<string, string[]> = {}): void => {
      this.nodes.set(value, { ref: ref(type as never, value), ...(name !== undefined && { name }), props });
    };
    add('Folder', 'group-d1', 'Datacenters', { childEntity: ['datacenter-1', 'datacenter-2'] });
    add('Datacenter', 'datacenter-1', 'DC0', { vmFolder: ['group-v1'], hostFolder: ['group-h1'], datastoreFolder: ['group-s1'], networkFolder: ['group-n1'] });
    add('Folder', 'group-v1', 'vm', { childEntity: ['vm-1', 'vm-2', 'group-v2'] });
    add('Folder', 'group-v2', 'apps', { childEntity: ['vm-3'] });
    add('VirtualMachine', 'vm-1', 'web-1', { resourcePool: ['resgroup-1'] });
    add('VirtualMachine', 'vm-2', 'web-2');
    add('VirtualMachine', 'vm-3', 'db-1', { resourcePool: ['resgroup-2'] });
    add('Folder', 'group-h1', 'host', { childEntity: ['domain-c1'] });
    add('ClusterComputeResource', 'domain-c1', 'C0', { host: ['host-1'], resourcePool: ['resgroup-1'] });
    add('HostSystem', 'host-1', 'h1', { vm: ['vm-1'] });
    add('ResourcePool', 'resgroup-1', 'Resources', { resourcePool: ['resgroup-2'], vm: ['vm-1'] });
    add('ResourcePool', 'resgroup-2', 'rp1', { vm: ['vm-3'] });
    add('Folder', 'group-s1', 'datastore');
    add('Folder', 'group-n1', 'network');
    add('Datacenter', 'datacenter-2', 'DC1', { vmFolder: ['group-v3'] });
    add('Folder', 'group-v3', 'vm', { childEntity: ['vm-4'] });
    add('VirtualMachine', 'vm-4', 'web-1');
  }

  #under(value: string, into: Set<string>): void {
    for (const children of Object.values(this.nodes.get(value)?.props ?? {})) {
      for (const c of children) if (!into.has(c)) {
        into.add(c);
        this.#under(c, into);
      }
    }
  }

  #answer(objects: string[]) {
    this.#pending = objects.map((v) => {
      const n = this.nodes.get(v)!;
      return { obj: n.ref, propSet: n.name === undefined ? [] : [{ name: 'name', val: n.name }] };
    });
    return this.#next();
  }

  #next() {
    const objects = this.#pending.splice(0, this.page);
    return { objects, ...(this.#pending.length > 0 && { token: `t${this.#pending.length}` }) };
  }

  call = (async (method: string, _this: ManagedObjectReference, args: Record<string, any>, options?: { signal?: AbortSignal }) => {
    this.onCall(method);
    if (options?.signal?.aborted) throw new Error('socket closed'); // as a transport that noticed nothing else
    this.calls.push(method);
    switch (method) {
      case 'CreateContainerView': {
        const view = `session[1]view-${this.#views.size}`;
        this.#views.set(view, { container: args.container.value, types: args.type });
        return ref('ContainerView', view);
      }
      case 'RetrievePropertiesEx': {
        const spec = args.specSet[0];
        const view = this.#views.get(spec.objectSet[0].obj.value);
        if (view) {
          const all = new Set<string>();
          this.#under(view.container, all);
          return this.#answer([...all].filter((v) => view.types.some((t) => isManagedType(this.nodes.get(v)!.ref.type, t as never))));
        }
        this.asked.push(spec.objectSet.map((o: { obj: ManagedObjectReference; selectSet: Array<{ name: string }> }) => `${o.obj.value}: ${o.selectSet.map((s) => s.name).join(' ')}`));
        const found: string[] = [];
        for (const o of spec.objectSet) {
          const node = this.nodes.get(o.obj.value)!;
          for (const s of o.selectSet) {
            expect(s).toEqual({ _typeName: 'TraversalSpec', name: `${s.type}.${s.path}`, type: s.type, path: s.path, skip: false });
            if (isManagedType(node.ref.type, s.type)) found.push(...(node.props[s.path] ?? []));
          }
          expect(o.skip).toBe(true);
        }
        expect(spec.propSet).toEqual([{ type: 'ManagedEntity', pathSet: ['name'] }]);
        expect(args.options).toEqual({});
        return this.#answer(found);
      }
      case 'ContinueRetrievePropertiesEx':
        return this.#next();
      default:
        return undefined;
    }
  }) as unknown as InventoryClient['call'];
}

describe('find in an inventory', () => {
  const server = () => new InventoryServer();
  const values = (refs: ManagedObjectReference[]): string[] => refs.map((r) => r.value).sort();
  const findIn = (s: InventoryServer, type: string, pattern: string) => find(s as unknown as InventoryClient, type as 'VirtualMachine', pattern);

  it('by name or glob anywhere, or by moref id', async () => {
    const s = server();
    expect(values(await findIn(s, 'VirtualMachine', 'web-*'))).toEqual(['vm-1', 'vm-2', 'vm-4']);
    expect(values(await findIn(s, 'VirtualMachine', 'db-1'))).toEqual(['vm-3']);
    expect(values(await findIn(s, 'VirtualMachine', 'vm-2'))).toEqual(['vm-2']);
    expect(values(await findIn(s, 'VirtualMachine', 'nothing'))).toEqual([]);
    expect(values(await findIn(s, 'ComputeResource', 'C?'))).toEqual(['domain-c1']);
  });

  it('by absolute path, a level per round trip through each container\'s own children', async () => {
    const s = server();
    expect(values(await findIn(s, 'VirtualMachine', '/DC0/vm/web-*'))).toEqual(['vm-1', 'vm-2']);
    expect(s.asked).toEqual([
      ['group-d1: Folder.childEntity'],
      ['datacenter-1: Datacenter.vmFolder Datacenter.hostFolder Datacenter.datastoreFolder Datacenter.networkFolder'],
      ['group-v1: Folder.childEntity'],
    ]);
    expect(values(await findIn(s, 'VirtualMachine', '/DC0/vm/apps/db-1'))).toEqual(['vm-3']);
    expect(values(await findIn(s, 'Folder', '/DC0/vm/*'))).toEqual(['group-v2']); // of the type asked for only
    expect(values(await findIn(s, 'HostSystem', '/DC0/host/C0/h1'))).toEqual(['host-1']);
    s.asked.length = 0;
    expect(values(await findIn(s, 'ResourcePool', '/DC0/host/C0/Resources/*'))).toEqual(['resgroup-2']);
    expect(s.asked.at(-2)).toEqual(['domain-c1: ComputeResource.host ComputeResource.resourcePool']);
    expect(s.asked.at(-1)).toEqual(['resgroup-1: ResourcePool.resourcePool ResourcePool.vm']);
  });

  it('stops at a level that matches nothing, and asks nothing of objects that are no containers', async () => {
    const s = server();
    expect(await findIn(s, 'VirtualMachine', '/DC9/vm/*')).toEqual([]);
    expect(s.asked).toHaveLength(1);
    s.asked.length = 0;
    expect(await findIn(s, 'VirtualMachine', '/DC0/vm/web-1/x')).toEqual([]);
    expect(s.asked).toHaveLength(3); // not a fourth round trip for the VM's children
  });

  it('a relative path is read under every datacenter', async () => {
    const s = server();
    expect(values(await findIn(s, 'VirtualMachine', 'vm/web-1'))).toEqual(['vm-1', 'vm-4']);
    expect(s.calls[0]).toBe('CreateContainerView');
  });

  it('... reaches everything below, each object once however many ways lead to it', async () => {
    const s = server();
    expect(values(await findIn(s, 'VirtualMachine', '/DC0/.../db-*'))).toEqual(['vm-3']);
    expect(values(await findIn(s, 'VirtualMachine', '/DC0/...'))).toEqual(['vm-1', 'vm-2', 'vm-3']);
    expect(values(await findIn(s, 'VirtualMachine', '/...'))).toEqual(['vm-1', 'vm-2', 'vm-3', 'vm-4']);
    // The VM in both its folder and its pool: one request each level, no object asked for twice.
    for (const level of s.asked) expect(new Set(level).size).toBe(level.length);
  });

  it('follows every page of a level', async () => {
    const s = server();
    s.page = 1;
    expect(values(await findIn(s, 'VirtualMachine', '/DC0/vm/*'))).toEqual(['vm-1', 'vm-2']);
    expect(s.calls.filter((c) => c === 'ContinueRetrievePropertiesEx').length).toBeGreaterThan(2);
  });

  it('an object without a name matches only a pattern that matches the empty name', async () => {
    const s = server();
    delete s.nodes.get('vm-2')!.name;
    expect(values(await findIn(s, 'VirtualMachine', '/DC0/vm/*'))).toEqual(['vm-1', 'vm-2']);
    expect(values(await findIn(s, 'VirtualMachine', '/DC0/vm/?*'))).toEqual(['vm-1']);
  });

  it('refuses a pattern that is no string, and rejects with an AbortError once aborted', async () => {
    await expect(find(server() as unknown as InventoryClient, 'VirtualMachine', 7 as never)).rejects.toThrow(new TypeError('find needs a pattern string'));
    const s = server();
    const ctrl = new AbortController();
    s.onCall = (method) => {
      if (method === 'RetrievePropertiesEx' && s.asked.length === 1) ctrl.abort();
    };
    await expect(find(s as unknown as InventoryClient, 'VirtualMachine', '/DC0/vm/*', { signal: ctrl.signal })).rejects.toMatchObject({ name: 'AbortError', code: 'EABORTED' });
  });
});
