// The vSphere Client plug-in endpoint: a UI session token traded for a clone ticket of the
// user's vim session, redeemed with CloneSession.
import { describe, expect, it } from 'vitest';
import { harnessRequest, harnessStats, harnessUiToken } from '../harness/vcsim.ts';
import { currentUser, ownHarness, rest, SM, soap, text } from './raw.ts';

const harness = ownHarness();
const PATH = '/api/ui/vcenter/session/clone-ticket';

function cloneTicket(token: string | undefined, options: { contentType?: string; body?: string; json?: unknown } = {}) {
  const h = harness().info;
  const headers: Record<string, string> = { accept: 'application/json', 'content-type': options.contentType ?? 'application/json' };
  if (token !== undefined) headers['vmware-api-session-id'] = token;
  const body = options.body ?? JSON.stringify(options.json ?? { vc_guid: h.instanceUuid });
  return rest(h, 'POST', PATH, { headers, body });
}

describe('POST /api/ui/vcenter/session/clone-ticket', () => {
  it('trades a UI session token for a clone ticket that CloneSession redeems once', async () => {
    const h = harness().info;
    const { token, sessionId } = await harnessUiToken(h);
    expect(token).not.toBe(sessionId);
    expect(await currentUser(h, sessionId)).toBe(h.username);
    // Other tests of this file may leave tickets they did not redeem.
    const outstanding = (await harnessStats(h)).cloneTickets;

    const res = await cloneTicket(token);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const ticket = (res.json as { session_clone_ticket: string }).session_clone_ticket;
    expect(typeof ticket).toBe('string');
    expect((await harnessStats(h)).cloneTickets).toBe(outstanding + 1);

    const cloned = await soap(h, 'CloneSession', `${SM}<cloneTicket>${ticket}</cloneTicket>`);
    expect(cloned.status).toBe(200);
    expect(text(cloned.body, 'userName')).toBe(h.username);
    expect(cloned.setSession).toBeTruthy();
    expect(cloned.setSession).not.toBe(sessionId);
    expect(await currentUser(h, cloned.setSession!)).toBe(h.username);
    expect((await harnessStats(h)).cloneTickets).toBe(outstanding);

    expect((await soap(h, 'CloneSession', `${SM}<cloneTicket>${ticket}</cloneTicket>`)).fault).toBe('InvalidLogin');
  });

  it('answers 401 without a token, for an unknown token, and once the token\'s session has ended', async () => {
    expect((await cloneTicket(undefined)).status).toBe(401);
    expect((await cloneTicket('ui-session-bogus')).status).toBe(401);
    const h = harness().info;
    const { token, sessionId } = await harnessUiToken(h);
    expect((await soap(h, 'Logout', SM, { session: sessionId })).status).toBe(200);
    const res = await cloneTicket(token);
    expect(res.status).toBe(401);
    expect(res.json).toMatchObject({ error_type: 'UNAUTHENTICATED' });
  });

  it('answers 415 for a content type other than JSON', async () => {
    const { token } = await harnessUiToken(harness().info);
    expect((await cloneTicket(token, { contentType: 'text/plain' })).status).toBe(415);
    expect((await cloneTicket(token, { contentType: 'application/x-www-form-urlencoded', body: 'vc_guid=x' })).status).toBe(415);
    expect((await cloneTicket(token, { contentType: 'application/json; charset=utf-8' })).status).toBe(200);
  });

  it('answers 400 for a body that is not JSON or has no vc_guid, 404 for an unknown guid', async () => {
    const { token } = await harnessUiToken(harness().info);
    expect((await cloneTicket(token, { body: '{"vc_guid":' })).status).toBe(400);
    expect((await cloneTicket(token, { json: {} })).status).toBe(400);
    expect((await cloneTicket(token, { json: { 'vc-guid': harness().info.instanceUuid } })).status).toBe(400);
    expect((await cloneTicket(token, { json: { vc_guid: '223b94f2-af15-4613-5d1a-a278b19abc09' } })).status).toBe(404);
  });

  it('answers 405 to other methods and counts every request in stats', async () => {
    const h = harness().info;
    const before = (await harnessStats(h)).pluginRequests;
    expect((await rest(h, 'GET', PATH)).status).toBe(405);
    await cloneTicket(undefined);
    expect((await harnessStats(h)).pluginRequests - before).toBe(2);
  });

  it('refuses to mint a UI token for wrong credentials or without a body', async () => {
    const h = harness().info;
    await expect(harnessUiToken(h, { username: h.username, password: 'wrong' })).rejects.toThrow(/HTTP 401/);
    await expect(harnessRequest(h, 'POST', '/_harness/ui-token')).rejects.toThrow(/HTTP 400/);
  });
});
