// find() refuses a pattern it cannot read before anything reaches the server: a service that
// hands users' patterns to find() answers them without a round trip.
import { describe, expect, it } from 'vitest';
import type { ManagedObjectReference } from '../../../src/generated/types.ts';
import type { InventoryClient } from '../../../src/inventory/inventory-client.ts';
import { InvalidPatternError } from '../../../src/inventory/errors.ts';
import { find } from '../../../src/inventory/finder.ts';
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
