// LibraryClient.deploy on its own, over a scripted RestClient: the request it sends (the /api
// DeploymentTarget and ResourcePoolDeploymentSpec), and how it reads each kind of answer.
import { describe, expect, it } from 'vitest';
import { DeployError, LibraryClient } from '../../../src/vapi/library.ts';
import type { RestClient, RestOptions } from '../../../src/vapi/rest.ts';

/** A RestClient whose post answers `answer` and records what it was asked. */
function scripted(answer: unknown) {
  const posts: Array<{ path: string; options: RestOptions | undefined }> = [];
  const rest = {
    post: async (path: string, options?: RestOptions) => {
      posts.push({ path, options });
      return answer;
    },
  } as unknown as RestClient;
  return { library: new LibraryClient(rest), posts };
}

const pool = { type: 'ResourcePool', value: 'resgroup-8' } as const;
const ok = { succeeded: true, resource_id: { type: 'VirtualMachine', id: 'vm-77' } };

describe('library.deploy', () => {
  it('sends the target and the deployment spec in /api\'s names, the item id as a path segment', async () => {
    const { library, posts } = scripted(ok);
    const ac = new AbortController();
    const vm = await library.deploy('item/1 ?', {
      name: 'web-1',
      pool,
      folder: { type: 'Folder', value: 'group-v4' },
      host: { type: 'HostSystem', value: 'host-21' },
      datastore: { type: 'Datastore', value: 'datastore-15' },
      annotation: 'from the library',
      acceptAllEula: true,
      networks: { 'VM Network': { type: 'Network', value: 'network-17' } },
      signal: ac.signal,
      timeoutMs: 600_000,
    });
    expect(vm).toEqual({ type: 'VirtualMachine', value: 'vm-77' });
    expect(posts).toHaveLength(1);
    expect(posts[0]!.path).toBe('/api/vcenter/ovf/library-item/item%2F1%20%3F');
    expect(posts[0]!.options).toEqual({
      signal: ac.signal,
      timeoutMs: 600_000,
      query: { action: 'deploy' },
      body: {
        target: { resource_pool_id: 'resgroup-8', host_id: 'host-21', folder_id: 'group-v4' },
        deployment_spec: {
          name: 'web-1',
          annotation: 'from the library',
          accept_all_EULA: true,
          default_datastore_id: 'datastore-15',
          network_mappings: { 'VM Network': 'network-17' },
        },
      },
    });
  });

  it('leaves out what was not given (JSON drops the undefined fields), EULAs not accepted, an hour to finish', async () => {
    const { library, posts } = scripted(ok);
    await library.deploy('i', { pool });
    expect(posts[0]!.options!.timeoutMs).toBe(3_600_000);
    expect(JSON.parse(JSON.stringify(posts[0]!.options!.body))).toEqual({ target: { resource_pool_id: 'resgroup-8' }, deployment_spec: { accept_all_EULA: false } });
  });

  it('takes a subtype where a type is asked for (a vApp is a resource pool), and refuses other types', async () => {
    const { library, posts } = scripted(ok);
    await library.deploy('i', { pool: { type: 'VirtualApp', value: 'resgroup-v9' } as never });
    expect(posts).toHaveLength(1);
    await expect(library.deploy('i', { pool: { type: 'ClusterComputeResource', value: 'domain-c7' } as never })).rejects.toThrow(/pool must be a ResourcePool reference/);
    await expect(library.deploy('i', { pool, networks: { n: { type: 'Datastore', value: 'd' } as never } })).rejects.toThrow(/networks\["n"\] must be a Network reference/);
    await expect(library.deploy('i', { pool, name: '' })).rejects.toThrow(TypeError);
    await expect(library.deploy('i', { pool: { type: 'ResourcePool', value: '' } })).rejects.toThrow(TypeError);
    await expect(library.deploy(undefined as never, { pool })).rejects.toThrow(TypeError);
    expect(posts).toHaveLength(1);
  });

  it('a failed deploy is a DeployError with each error\'s text and category', async () => {
    const { library } = scripted({
      succeeded: false,
      error: {
        errors: [
          { category: 'SERVER', error: { '@class': 'com.vmware.vapi.std.errors.error', messages: [{ id: 'x', default_message: 'no space left' }, { default_message: 'on datastore1' }] } },
          { category: 'INPUT', message: { id: 'y', default_message: 'the EULA was not accepted' } },
          { category: 7, message: { default_message: 8 } },
        ],
      },
    });
    const err = await library.deploy('item-1', { pool }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeployError);
    expect(err).toMatchObject({ name: 'DeployError', itemId: 'item-1', categories: ['SERVER', 'INPUT'], messages: ['no space left', 'on datastore1', 'the EULA was not accepted'], resource: undefined });
    expect((err as Error).message).toBe('deploy of library item item-1 failed: no space left; on datastore1; the EULA was not accepted');
  });

  it('success without a VM, or with something else than a VM, is a DeployError naming what was made', async () => {
    const vapp = await scripted({ succeeded: true, resource_id: { type: 'VirtualApp', id: 'resgroup-v3' } }).library.deploy('i', { pool }).catch((e: unknown) => e);
    expect(vapp).toMatchObject({ name: 'DeployError', resource: { type: 'VirtualApp', value: 'resgroup-v3' } });
    expect((vapp as Error).message).toMatch(/deployed a VirtualApp, not a VirtualMachine/);
    for (const answer of [{ succeeded: true }, undefined, 'yes', { succeeded: 'true', resource_id: { type: 'VirtualMachine', id: 'vm-1' } }]) {
      expect(await scripted(answer).library.deploy('i', { pool }).catch((e: unknown) => e)).toBeInstanceOf(DeployError);
    }
  });
});
