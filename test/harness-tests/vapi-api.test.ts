// The vAPI endpoints under /api/ (test/vcsim/vapi_api.go), in raw HTTP: /api shapes over govmomi's
// /rest simulator, vim session ids accepted (unified sessions) unless switched off.
import { describe, expect, it } from 'vitest';
import { harnessReset, harnessSetVapiUnified, harnessStats } from '../harness/vcsim.ts';
import { ownHarness, rest, sessionOf } from './raw.ts';

const harness = ownHarness();
const withId = (id: string) => ({ 'vmware-api-session-id': id });
const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

describe('/api/cis/tagging', () => {
  it('answers in /api shapes: bare values, { error_type, messages }', async () => {
    const h = harness().info;
    const id = await sessionOf(h);
    expect((await rest(h, 'GET', '/api/cis/tagging/category', { headers: withId(id) })).json).toEqual([]);
    const made = await rest(h, 'POST', '/api/cis/tagging/category', { headers: withId(id), json: { name: 'c', cardinality: 'SINGLE', associable_types: [] } });
    expect(made.status).toBe(201);
    const cat = made.json as string;
    expect(cat).toMatch(/^urn:vmomi:InventoryServiceCategory:/);
    expect((await rest(h, 'GET', `/api/cis/tagging/category/${cat}`, { headers: withId(id) })).json).toMatchObject({ id: cat, name: 'c', cardinality: 'SINGLE' });
    const tag = (await rest(h, 'POST', '/api/cis/tagging/tag', { headers: withId(id), json: { name: 't', category_id: cat } })).json as string;
    expect((await rest(h, 'POST', `/api/cis/tagging/tag/category/${cat}?action=list-tags-for-category`, { headers: withId(id) })).json).toEqual([tag]);
    const obj = { type: 'VirtualMachine', id: 'vm-1' };
    expect((await rest(h, 'POST', `/api/cis/tagging/tag-association/${tag}?action=attach-tag-to-multiple-objects`, { headers: withId(id), json: { object_ids: [obj] } })).status).toBeLessThan(300);
    expect((await rest(h, 'POST', '/api/cis/tagging/tag-association?action=list-attached-tags-on-objects', { headers: withId(id), json: { object_ids: [obj] } })).json).toEqual([{ object_id: obj, tag_ids: [tag] }]);
    expect((await rest(h, 'POST', `/api/cis/tagging/tag-association/${tag}?action=detach-tag-from-multiple-objects`, { headers: withId(id), json: { object_ids: [obj] } })).status).toBe(204);
    expect((await rest(h, 'POST', '/api/cis/tagging/tag-association?action=list-attached-objects-on-tags', { headers: withId(id), json: { tag_ids: [tag] } })).json).toEqual([{ tag_id: tag, object_ids: [] }]);
    const missing = await rest(h, 'GET', '/api/cis/tagging/tag/urn:vmomi:InventoryServiceTag:x:GLOBAL', { headers: withId(id) });
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({ error_type: 'NOT_FOUND', messages: [{ default_message: expect.stringMatching(/not found/) }] });
    const dup = await rest(h, 'POST', '/api/cis/tagging/category', { headers: withId(id), json: { name: 'c', cardinality: 'SINGLE' } });
    expect(dup.status).toBe(400);
    expect(dup.json).toMatchObject({ error_type: 'ALREADY_EXISTS' });
    expect((await rest(h, 'GET', '/api/cis/tagging/category')).status).toBe(401);
  });

  it('vapi-unified false: vim ids are refused on /api, ids from POST /api/session still work', async () => {
    const h = harness().info;
    await harnessReset(h);
    await harnessSetVapiUnified(h, false);
    try {
      const vim = await sessionOf(h);
      const refused = await rest(h, 'GET', '/api/cis/tagging/tag', { headers: withId(vim) });
      expect(refused.status).toBe(401);
      expect(refused.json).toMatchObject({ error_type: 'UNAUTHENTICATED' });
      const api = (await rest(h, 'POST', '/api/session', { headers: basic(h.username, h.password) })).json as string;
      expect((await rest(h, 'GET', '/api/cis/tagging/tag', { headers: withId(api) })).status).toBe(200);
      expect((await harnessStats(h)).vapi).toMatchObject({ unified: false, refused: 1 });
    } finally {
      await harnessReset(h);
    }
    expect((await harnessStats(h)).vapi.unified).toBe(true);
  });
});
