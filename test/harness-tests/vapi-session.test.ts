// Unified VIM/vAPI sessions: /api/session ids are vim session ids and the other way round.
import { describe, expect, it } from 'vitest';
import { harnessStats } from '../harness/vcsim.ts';
import { currentTime, currentUser, ownHarness, rest, sessionOf, SM, soap } from './raw.ts';

const harness = ownHarness();
const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
const withId = (id: string) => ({ 'vmware-api-session-id': id });

describe('/api/session', () => {
  it('POST with basic auth creates a vim session whose id works as the vmware_soap_session cookie', async () => {
    const h = harness().info;
    const before = (await harnessStats(h)).sessions;
    const res = await rest(h, 'POST', '/api/session', { headers: basic(h.username, h.password) });
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const id = res.json as string;
    expect(typeof id).toBe('string');
    expect((await harnessStats(h)).sessions).toBe(before + 1);
    expect((await currentTime(h, id)).status).toBe(200);
    expect(await currentUser(h, id)).toBe(h.username);
  });

  it('GET returns the session\'s user, also for a session made by SOAP Login', async () => {
    const h = harness().info;
    const id = await sessionOf(h);
    const res = await rest(h, 'GET', '/api/session', { headers: withId(id) });
    expect(res.status).toBe(200);
    const body = res.json as { user: string; created_time: string };
    expect(body.user).toBe(h.username);
    expect(Math.abs(Date.parse(body.created_time) - Date.now())).toBeLessThan(60_000);
  });

  it('DELETE ends the vim session', async () => {
    const h = harness().info;
    const id = (await rest(h, 'POST', '/api/session', { headers: basic(h.username, h.password) })).json as string;
    expect((await rest(h, 'DELETE', '/api/session', { headers: withId(id) })).status).toBe(204);
    expect((await rest(h, 'GET', '/api/session', { headers: withId(id) })).status).toBe(401);
    expect((await currentTime(h, id)).fault).toBe('NotAuthenticated');
    expect((await rest(h, 'DELETE', '/api/session', { headers: withId(id) })).status).toBe(401);
  });

  it('a vim session ended by SOAP Logout is gone from /api/session too', async () => {
    const h = harness().info;
    const id = await sessionOf(h);
    expect((await soap(h, 'Logout', SM, { session: id })).status).toBe(200);
    expect((await rest(h, 'GET', '/api/session', { headers: withId(id) })).status).toBe(401);
  });

  it('answers 401 for missing or wrong credentials and for missing or unknown ids', async () => {
    const h = harness().info;
    const before = (await harnessStats(h)).sessions;
    expect((await rest(h, 'POST', '/api/session')).status).toBe(401);
    expect((await rest(h, 'POST', '/api/session', { headers: basic(h.username, 'wrong') })).status).toBe(401);
    expect((await rest(h, 'POST', '/api/session', { headers: basic('nobody', h.password) })).status).toBe(401);
    expect((await rest(h, 'GET', '/api/session')).status).toBe(401);
    const unknown = await rest(h, 'GET', '/api/session', { headers: withId('not-a-session') });
    expect(unknown.status).toBe(401);
    expect(unknown.json).toMatchObject({ error_type: 'UNAUTHENTICATED' });
    expect((await harnessStats(h)).sessions).toBe(before);
  });

  it('answers 405 to other methods and 404 elsewhere under /api, and leaves vcsim\'s /rest alone', async () => {
    const h = harness().info;
    expect((await rest(h, 'PUT', '/api/session')).status).toBe(405);
    expect((await rest(h, 'GET', '/api/vcenter/vm')).status).toBe(404);
    const restSession = await rest(h, 'POST', '/rest/com/vmware/cis/session', { headers: basic(h.username, h.password) });
    expect(restSession.status).toBe(200);
    expect(restSession.json).toHaveProperty('value');
  });
});
