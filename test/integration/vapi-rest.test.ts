// The vAPI REST endpoints through a VimClient (src/vapi/): the unified session (vSphere 8.0 U3+),
// the vAPI session of the client's own on an older server, re-authentication shared with vim25
// callers, tags, errors, abort, deadline, and what is logged.
// client.rest, client.tags and client.library as users reach them, from the package.
import { readFileSync } from 'node:fs';
import { describe, expect, it, onTestFinished } from 'vitest';
import { harnessSetVapiUnified, harnessStall, harnessStats, type Harness } from '../harness/vcsim.ts';
import { startHarness, withBundle } from '../fixtures.ts';
import { rawRequest } from '../harness-tests/raw.ts';
import { AbortError, isVimFault, type Logger, RestError, TransportError, VimClient } from 'vim25-soap';

interface Line {
  level: string;
  message: string;
  data?: Record<string, unknown> | undefined;
}

function recorder(): { logger: Logger; lines: Line[]; text: () => string } {
  const lines: Line[] = [];
  const at = (level: string) => (message: string, data?: Record<string, unknown>) => lines.push({ level, message, data });
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines, text: () => JSON.stringify(lines) };
}

async function connected(h: Harness, logger?: Logger): Promise<VimClient> {
  const c = await VimClient.connect(h.info.url, { ...withBundle(), tls: { ca: readFileSync(h.info.certFile) }, ...(logger && { logger }) });
  onTestFinished(() => c.close());
  return c;
}

async function client(h: Harness, logger?: Logger): Promise<VimClient> {
  const c = await connected(h, logger);
  await c.login({ username: h.info.username, password: h.info.password });
  return c;
}

const SI = { type: 'ServiceInstance', value: 'ServiceInstance' } as const;
const path = (c: VimClient, i: number) => c.call('FindByInventoryPath', c.serviceContent.searchIndex!, { inventoryPath: `nowhere/${i}` });

describe('unified sessions (vSphere 8.0 U3+)', () => {
  it('a client making vim25 and vAPI calls logs in once and sends its vim session id to /api', async () => {
    const h = await startHarness();
    const c = await client(h);
    const rest = c.rest;
    expect(rest.sessionMode).toBe('unknown');
    expect(await rest.get('/api/cis/tagging/category')).toEqual([]);
    expect(rest.sessionMode).toBe('unified');
    await c.call('CurrentTime', SI);
    expect(await rest.get('/api/cis/tagging/tag')).toEqual([]);
    const stats = await harnessStats(h.info);
    expect(stats.methods.Login).toBe(1);
    expect(stats.apiSessionRequests).toBe(0);
    expect(stats.vapi).toMatchObject({ requests: 2, refused: 0 });
  });

  it('after the session was terminated from outside, vim25 and vAPI callers share one re-login', async () => {
    const h = await startHarness();
    const c = await client(h);
    const admin = await client(h);
    const rest = c.rest;
    await rest.get('/api/cis/tagging/category');
    await admin.call('TerminateSession', admin.serviceContent.sessionManager!, { sessionId: [c.userSession!.key] });
    const results = await Promise.allSettled([
      ...Array.from({ length: 10 }, (_, i) => rest.get('/api/cis/tagging/category').then(() => i)),
      ...Array.from({ length: 10 }, (_, i) => path(c, i)),
    ]);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    const stats = await harnessStats(h.info);
    expect(stats.methods.Login).toBe(3); // c, admin, one re-login
    expect(stats.apiSessionRequests).toBe(0);
    expect(rest.sessionMode).toBe('unified');
  });

  it('a vAPI call that finds the session dead before any vim25 call re-logs in too', async () => {
    const h = await startHarness();
    const c = await client(h);
    const admin = await client(h);
    await admin.call('TerminateSession', admin.serviceContent.sessionManager!, { sessionId: [c.userSession!.key] });
    expect(await c.rest.get('/api/cis/tagging/tag')).toEqual([]);
    expect(c.rest.sessionMode).toBe('unified');
    expect((await harnessStats(h.info)).methods.Login).toBe(3);
  });
});

describe('an older server (vim session ids refused on /api)', () => {
  it('makes one vAPI session of its own with the password login, and logs it out at close', async () => {
    const h = await startHarness();
    await harnessSetVapiUnified(h.info, false);
    const c = await client(h);
    const rest = c.rest;
    const answers = await Promise.all(Array.from({ length: 5 }, () => rest.get('/api/cis/tagging/category')));
    expect(answers).toEqual([[], [], [], [], []]);
    expect(rest.sessionMode).toBe('separate');
    await rest.get('/api/cis/tagging/tag');
    let stats = await harnessStats(h.info);
    expect(stats.apiSessionRequests).toBe(1);
    expect(stats.vapi.apiSessions).toBe(1);
    expect(stats.methods.Login).toBe(1); // the vim session's (the vAPI one is made by /api/session)
    expect(stats.sessions).toBe(2);
    await c.close();
    await rest.loggedOut();
    stats = await harnessStats(h.info);
    expect(stats.apiSessionRequests).toBe(2); // POST, DELETE
    expect(stats.sessions).toBe(0);
  });

  it('makes its vAPI session again, once, when it was ended from outside', async () => {
    const h = await startHarness();
    await harnessSetVapiUnified(h.info, false);
    const c = await client(h);
    const admin = await client(h);
    const rest = c.rest;
    await rest.get('/api/cis/tagging/category');
    const vapiKeys = ((await admin.sessionManager.properties(['sessionList'])).sessionList ?? [])
      .map((s) => s.key).filter((k) => k !== c.userSession!.key && k !== admin.userSession!.key);
    expect(vapiKeys).toHaveLength(1);
    await admin.call('TerminateSession', admin.serviceContent.sessionManager!, { sessionId: vapiKeys });
    await Promise.all(Array.from({ length: 5 }, () => rest.get('/api/cis/tagging/category')));
    const stats = await harnessStats(h.info);
    expect(stats.apiSessionRequests).toBe(2);
    expect(stats.methods.Login).toBe(2); // c, admin: the vim session was not touched
  });

  it('a login whose credentials cannot make a vAPI session fails the first call, saying why and what to do', async () => {
    const h = await startHarness();
    await harnessSetVapiUnified(h.info, false);
    // A session cloned from another client's: no password to make a vAPI session with.
    const ticket = await (await client(h)).acquireCloneTicket();
    const c = await connected(h);
    await c.cloneSession(ticket);
    const err = await c.rest.get('/api/cis/tagging/category').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RestError);
    expect((err as RestError).message).toMatch(/before vSphere 8\.0 U3.*login\(\{ username, password \}\)/);
    expect((await harnessStats(h.info)).apiSessionRequests).toBe(0);
  });
});

describe('tags', () => {
  it('creates, lists, names, attaches, queries and detaches', async () => {
    const h = await startHarness();
    const c = await client(h);
    const tags = c.tags;
    const zone = await tags.createCategory({ name: 'zone', cardinality: 'SINGLE', associableTypes: ['VirtualMachine'] });
    expect(zone).toMatchObject({ name: 'zone', cardinality: 'SINGLE', associable_types: ['VirtualMachine'] });
    expect(zone.id).toMatch(/^urn:vmomi:/);
    const east = await tags.createTag({ name: 'us-east-1a', category: 'zone', description: 'east' });
    const west = await tags.createTag({ name: 'us-west-1a', category: zone.id });
    await tags.createCategory({ name: 'owner' });
    await tags.createTag({ name: 'alice', category: 'owner' });
    expect((await tags.categories()).map((x) => x.name).sort()).toEqual(['owner', 'zone']);
    expect((await tags.tags('zone')).map((t) => t.name).sort()).toEqual(['us-east-1a', 'us-west-1a']);
    expect((await tags.tags()).length).toBe(3);
    expect(await tags.tag('zone/us-east-1a')).toEqual(east);
    expect(await tags.tag('us-west-1a')).toEqual(west);
    expect(await tags.tag(east.id)).toEqual(east);

    const vms = [c.ref('VirtualMachine', 'vm-1'), c.ref('VirtualMachine', 'vm-2')];
    await tags.attach('zone/us-east-1a', vms);
    await tags.attach(west.id, [vms[1]!]);
    const of = await tags.of(vms);
    expect(of.map((o) => [o.object.value, [...o.tagIds].sort()])).toEqual([
      ['vm-1', [east.id]],
      ['vm-2', [east.id, west.id].sort()],
    ]);
    const objects = await tags.objects(['zone/us-east-1a', west.id]);
    expect(objects.map((o) => [o.tagId, o.objects.map((r) => r.value).sort()])).toEqual([[east.id, ['vm-1', 'vm-2']], [west.id, ['vm-2']]]);
    expect(objects[0]!.objects[0]!.type).toBe('VirtualMachine');

    await tags.detach('zone/us-east-1a', [vms[0]!]);
    expect((await tags.of([vms[0]!]))[0]!.tagIds).toEqual([]);
    await tags.deleteTag('owner/alice');
    await tags.deleteCategory('owner');
    expect((await tags.categories()).map((x) => x.name)).toEqual(['zone']);
    expect((await harnessStats(h.info)).methods.Login).toBe(1);
  });

  it('a missing tag or category is a RestError NOT_FOUND; a bad request is INVALID_ARGUMENT', async () => {
    const h = await startHarness();
    const c = await client(h);
    const tags = c.tags;
    const missing = await tags.tag('urn:vmomi:InventoryServiceTag:00000000-0000-0000-0000-000000000000:GLOBAL').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(RestError);
    expect(missing).toMatchObject({ status: 404, errorType: 'NOT_FOUND', method: 'GET' });
    expect((missing as RestError).messages[0]).toMatch(/not found/);
    expect(await tags.tag('zone/nowhere').catch((e: unknown) => e)).toMatchObject({ name: 'RestError', status: 404, errorType: 'NOT_FOUND' });
    const tagInMissingCategory = await tags.createTag({ name: 'x', category: 'urn:vmomi:InventoryServiceCategory:nope:GLOBAL' }).catch((e: unknown) => e);
    expect(tagInMissingCategory).toMatchObject({ status: 404, errorType: 'NOT_FOUND' });
    const bad = await c.rest.post('/api/cis/tagging/category', { body: { description: 'no name' } }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(RestError);
    expect(bad).toMatchObject({ status: 400, errorType: 'INVALID_ARGUMENT', path: '/api/cis/tagging/category' });
    expect((bad as RestError).messages).toEqual(['name and cardinality are required']);
    await tags.createCategory({ name: 'dup' });
    expect(await tags.createCategory({ name: 'dup' }).catch((e: unknown) => e)).toMatchObject({ status: 400, errorType: 'ALREADY_EXISTS' });
    expect(await c.rest.get('/api/nothing/here').catch((e: unknown) => e)).toMatchObject({ status: 404, errorType: 'NOT_FOUND' });
  });
});

describe('requests', () => {
  it('refuses paths outside /api and /rest before sending anything', async () => {
    const h = await startHarness();
    const c = await client(h);
    for (const p of ['/sdk', 'api/x', '/api/../sdk', '/api/x?y=1', 'https://elsewhere/api/x']) {
      await expect(c.rest.get(p)).rejects.toThrow(TypeError);
    }
    expect((await harnessStats(h.info)).vapi.requests).toBe(0);
  });

  it('stops at an abort and at the deadline', async () => {
    const h = await startHarness();
    const c = await client(h);
    const rest = c.rest;
    const ac = new AbortController();
    ac.abort();
    expect(await rest.get('/api/cis/tagging/tag', { signal: ac.signal }).catch((e: unknown) => e)).toBeInstanceOf(AbortError);
    await harnessStall(h.info, 30);
    const later = new AbortController();
    const pending = rest.get('/api/cis/tagging/tag', { signal: later.signal }).catch((e: unknown) => e);
    while ((await harnessStats(h.info)).pending.stallSeconds !== 0) await new Promise((r) => setTimeout(r, 10));
    later.abort();
    expect(await pending).toBeInstanceOf(AbortError);
    await harnessStall(h.info, 30);
    const timedOut = await rest.get('/api/cis/tagging/tag', { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(timedOut).toBeInstanceOf(TransportError);
    expect(timedOut).toMatchObject({ code: 'ETIMEDOUT' });
  });

  it('never logs the basic-auth header, the password or a session id', async () => {
    const h = await startHarness({ password: 'vapi-Secret-7' });
    await harnessSetVapiUnified(h.info, false);
    const { logger, text, lines } = recorder();
    const c = await client(h, logger);
    const rest = c.rest;
    await rest.get('/api/cis/tagging/category');
    await rest.post('/api/cis/tagging/category', { body: { name: 'n', cardinality: 'SINGLE', associable_types: [] } });
    await rest.get('/api/nothing').catch(() => undefined);
    const vim = c.sessionId!;
    await c.close();
    await rest.loggedOut();
    const basic = Buffer.from(`${h.info.username}:${h.info.password}`).toString('base64');
    const vapiIds = ((await harnessStats(h.info)).vapi.apiSessions);
    expect(vapiIds).toBe(1);
    const all = text();
    expect(lines.some((l) => l.message === 'rest')).toBe(true);
    expect(lines.some((l) => l.message === 'vAPI session created')).toBe(true);
    expect(all).not.toContain(basic);
    expect(all).not.toContain(h.info.password);
    expect(all).not.toContain(vim);
    expect(all).not.toMatch(/vmware-api-session-id|authorization/i);
  });

  it('a NotAuthenticated before any login says to log in first', async () => {
    const h = await startHarness();
    const c = await VimClient.connect(h.info.url, { ...withBundle(), tls: { ca: readFileSync(h.info.certFile) } });
    onTestFinished(() => c.close());
    const err = await c.rest.get('/api/cis/tagging/tag').catch((e: unknown) => e);
    expect(isVimFault(err, 'NotAuthenticated')).toBe(true);
    expect((err as Error).message).toMatch(/log in first/);
  });
});

describe('content libraries', () => {
  it('lists libraries and their items, finds one by name', async () => {
    const h = await startHarness();
    const c = await client(h);
    const rest = c.rest;
    const library = c.library;
    expect(await library.list()).toEqual([]);
    const [ds] = await c.find('Datastore', '...');
    const id = await rest.post<string>('/api/content/local-library', {
      body: { name: 'templates', type: 'LOCAL', storage_backings: [{ type: 'DATASTORE', datastore_id: ds!.value }] },
    });
    await rest.post('/api/content/local-library', { body: { name: 'isos', type: 'LOCAL', storage_backings: [{ type: 'DATASTORE', datastore_id: ds!.value }] } });
    await rest.post('/api/content/library/item', { body: { library_id: id, name: 'ubuntu', type: 'ovf' } });
    await rest.post('/api/content/library/item', { body: { library_id: id, name: 'photon', type: 'ovf' } });
    expect((await library.list()).map((l) => l.name).sort()).toEqual(['isos', 'templates']);
    const [found, ...rest2] = await library.find({ name: 'TEMPLATES' });
    expect(rest2).toEqual([]);
    expect(found).toMatchObject({ id, name: 'templates', type: 'LOCAL' });
    expect((await library.items('templates')).map((i) => [i.name, i.type, i.library_id]).sort()).toEqual([['photon', 'ovf', id], ['ubuntu', 'ovf', id]]);
    expect(await library.items(id)).toHaveLength(2);
    expect(await library.get('nowhere').catch((e: unknown) => e)).toMatchObject({ name: 'RestError', status: 404, errorType: 'NOT_FOUND' });
    expect(await library.items('00000000-0000-0000-0000-000000000000').catch((e: unknown) => e)).toMatchObject({ status: 404, errorType: 'NOT_FOUND' });
  });
});

describe('/rest (servers before 7.0 U2)', () => {
  it('unwraps { value } answers and reads { type, value } errors', async () => {
    const h = await startHarness();
    const c = await client(h);
    // govmomi's vAPI simulator serves /rest with sessions of its own.
    const made = await rawRequest(h.info, '/rest/com/vmware/cis/session', {
      method: 'POST', headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` },
    });
    const rest = c.rest;
    rest.useSession((JSON.parse(made.body) as { value: string }).value);
    const id = await rest.post<string>('/rest/com/vmware/cis/tagging/category', { body: { create_spec: { name: 'old', cardinality: 'SINGLE', associable_types: [] } } });
    expect(id).toMatch(/^urn:vmomi:InventoryServiceCategory:/);
    expect(await rest.get('/rest/com/vmware/cis/tagging/category')).toEqual([id]);
    expect(await rest.get(`/rest/com/vmware/cis/tagging/category/id:${id}`)).toMatchObject({ id, name: 'old', cardinality: 'SINGLE' });
    const dup = await rest.post('/rest/com/vmware/cis/tagging/category', { body: { create_spec: { name: 'old', cardinality: 'SINGLE' } } }).catch((e: unknown) => e);
    expect(dup).toBeInstanceOf(RestError);
    expect(dup).toMatchObject({ status: 400, errorType: 'ALREADY_EXISTS', path: '/rest/com/vmware/cis/tagging/category' });
    expect(await rest.get('/rest/com/vmware/cis/tagging/category/id:nope').catch((e: unknown) => e)).toMatchObject({ name: 'RestError', status: 404, errorType: 'NOT_FOUND' });
  });
});

describe('on the VI/JSON wire', () => {
  it('the vim session id of a JSON-wire client is its vAPI session too', async () => {
    const h = await startHarness();
    const c = await VimClient.connect(h.info.url, { protocol: 'json', tls: { ca: readFileSync(h.info.certFile) } });
    onTestFinished(() => c.close());
    await c.login({ username: h.info.username, password: h.info.password });
    expect(await c.tags.categories()).toEqual([]);
    expect(c.rest.sessionMode).toBe('unified');
    expect((await harnessStats(h.info)).methods.Login).toBe(1);
  });
});
