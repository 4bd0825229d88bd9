// TagsClient.of on its own, over a scripted RestClient: one batch request for the objects, then
// one GET per distinct tag (not per object), a tag deleted in between left out of `tags`.
import { describe, expect, it } from 'vitest';
import { RestError, type RestClient } from '../../../src/vapi/rest.ts';
import { TagsClient } from '../../../src/vapi/tags.ts';

const T1 = 'urn:vmomi:InventoryServiceTag:1:GLOBAL';
const T2 = 'urn:vmomi:InventoryServiceTag:2:GLOBAL';
const GONE = 'urn:vmomi:InventoryServiceTag:3:GLOBAL';
const C = 'urn:vmomi:InventoryServiceCategory:c:GLOBAL';

function scripted() {
  const calls: string[] = [];
  const rest = {
    post: async (path: string, options: { query?: { action?: string }; body?: unknown }) => {
      calls.push(`POST ${path}?${options.query?.action}`);
      return [
        { object_id: { type: 'VirtualMachine', id: 'vm-1' }, tag_ids: [T1, T2] },
        { object_id: { type: 'VirtualMachine', id: 'vm-2' }, tag_ids: [T2, GONE] },
        { object_id: { type: 'HostSystem', id: 'host-1' } },
      ];
    },
    get: async (path: string) => {
      calls.push(`GET ${path}`);
      const id = decodeURIComponent(path.slice(path.lastIndexOf('/') + 1));
      if (id === GONE) throw new RestError('GET', path, 404, 'NOT_FOUND', ['tag not found']);
      return { id, name: id === T1 ? 'one' : 'two', description: '', category_id: C, used_by: [] };
    },
  } as unknown as RestClient;
  return { tags: new TagsClient(rest), calls };
}

describe('tags.of', () => {
  it('answers each object with its tag ids and its tags, a GET per distinct tag', async () => {
    const { tags, calls } = scripted();
    const refs = [{ type: 'VirtualMachine', value: 'vm-1' }, { type: 'VirtualMachine', value: 'vm-2' }, { type: 'HostSystem', value: 'host-1' }] as const;
    const of = await tags.of(refs);
    expect(of.map((o) => [o.ref, o.object, o.tagIds, o.tags.map((t) => [t.id, t.name, t.categoryId])])).toEqual([
      [refs[0], refs[0], [T1, T2], [[T1, 'one', C], [T2, 'two', C]]],
      [refs[1], refs[1], [T2, GONE], [[T2, 'two', C]]],
      [refs[2], refs[2], [], []],
    ]);
    expect(calls.filter((c) => c.startsWith('POST'))).toEqual(['POST /api/cis/tagging/tag-association?list-attached-tags-on-objects']);
    expect(calls.filter((c) => c.startsWith('GET')).sort()).toEqual([T1, T2, GONE].map((id) => `GET /api/cis/tagging/tag/${encodeURIComponent(id)}`).sort());
  });

  it('a failure other than a deleted tag is the answer', async () => {
    const rest = {
      post: async () => [{ object_id: { type: 'VirtualMachine', id: 'vm-1' }, tag_ids: [T1] }],
      get: async (path: string) => {
        throw new RestError('GET', path, 403, 'UNAUTHORIZED', []);
      },
    } as unknown as RestClient;
    await expect(new TagsClient(rest).of([{ type: 'VirtualMachine', value: 'vm-1' }])).rejects.toMatchObject({ errorType: 'UNAUTHORIZED' });
  });

  it('createTag takes the category as category or categoryId, not two different ones', async () => {
    const posts: unknown[] = [];
    const rest = {
      post: async (_path: string, options: { body: unknown }) => (posts.push(options.body), T1),
      get: async () => ({ id: T1, name: 'one', description: '', category_id: C, used_by: [] }),
    } as unknown as RestClient;
    const t = new TagsClient(rest);
    expect(await t.createTag({ name: 'one', categoryId: C })).toMatchObject({ id: T1, categoryId: C, category_id: C });
    await t.createTag({ name: 'one', category: C, categoryId: C });
    expect(posts).toEqual([{ name: 'one', description: '', category_id: C }, { name: 'one', description: '', category_id: C }]);
    await expect(t.createTag({ name: 'one', category: C, categoryId: 'urn:vmomi:InventoryServiceCategory:other:GLOBAL' })).rejects.toThrow(TypeError);
    await expect(t.createTag({ name: 'one' })).rejects.toThrow(/category/);
    expect(posts).toHaveLength(2);
  });
});
