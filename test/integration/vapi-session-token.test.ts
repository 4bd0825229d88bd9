// A vAPI session of the client's own from a SAML token login, on a server that takes no vim
// session ids on vAPI (before vSphere 8.0 U3; the harness's vapi-unified switch off): POST
// /api/session with `Authorization: SIGN token="..."` (bearer) or a request signed with the
// holder-of-key token's key; the harness verifies the token as its STS issued it
// (test/vcsim/vapi_token.go) and refuses anything else with 401.
import { readFileSync } from 'node:fs';
import { describe, expect, it, onTestFinished } from 'vitest';
import { RestError, VimClient, type Logger, type SamlToken } from 'vim25-soap';
import { tokenAuthorization } from '../../src/vapi/token-auth.ts';
import { harnessSetVapiUnified, harnessStats, type Harness, type HarnessInfo } from '../harness/vcsim.ts';
import { rawRequest } from '../harness-tests/raw.ts';
import { extensionCertificate } from '../harness/tls-fixtures.ts';
import { ownHarness, withBundle } from '../fixtures.ts';

const harness = ownHarness();
const pair = extensionCertificate({ commonName: 'vapi-hok-user' });
const other = extensionCertificate({ commonName: 'vapi-other' }, 'another'); // a key that is not the token's

async function stats(info: HarnessInfo): Promise<{ apiSessions: number; tokens: { made: number; refused: number }; sessions: number; apiSessionRequests: number }> {
  const s = await harnessStats(info);
  return { apiSessions: s.vapi.apiSessions, tokens: s.vapi.tokenSessions, sessions: s.sessions, apiSessionRequests: s.apiSessionRequests };
}

async function connected(h: Harness, logger?: Logger): Promise<VimClient> {
  const c = await VimClient.connect(h.info.url, { ...withBundle(), tls: { ca: readFileSync(h.info.certFile) }, ...(logger && { logger }) });
  onTestFinished(() => c.close());
  return c;
}

async function older(): Promise<Harness> {
  const h = harness();
  await harnessSetVapiUnified(h.info, false);
  onTestFinished(() => harnessSetVapiUnified(h.info, true));
  return h;
}

const bearer = (c: VimClient, h: Harness): Promise<SamlToken> => c.issueToken({ stsUrl: h.info.stsUrl, username: h.info.username, password: h.info.password });
const holderOfKey = (c: VimClient, h: Harness): Promise<SamlToken> =>
  c.issueToken({ stsUrl: h.info.stsUrl, username: h.info.username, password: h.info.password, certificate: pair.cert, privateKey: pair.key });

function recorder(): { logger: Logger; text: () => string } {
  const lines: unknown[] = [];
  const at = (level: string) => (message: string, data?: Record<string, unknown>) => lines.push({ level, message, data });
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, text: () => JSON.stringify(lines) };
}

const session = (h: Harness, authorization: string) =>
  rawRequest(h.info, '/api/session', { method: 'POST', headers: { authorization, accept: 'application/json' } });

describe('a token login makes the vAPI session of its own (older server)', () => {
  it('bearer: the first client.rest call makes one vAPI session with the token, logged out at close', async () => {
    const h = await older();
    const c = await connected(h);
    await c.loginByToken({ token: await bearer(c, h) });
    const before = await stats(h.info);
    const answers = await Promise.all(Array.from({ length: 4 }, () => c.rest.get('/api/cis/tagging/category')));
    expect(answers).toEqual([[], [], [], []]);
    expect(c.rest.sessionMode).toBe('separate');
    const after = await stats(h.info);
    expect(after.apiSessions).toBe(before.apiSessions + 1);
    expect(after.tokens.made).toBe(before.tokens.made + 1);
    expect(after.tokens.refused).toBe(before.tokens.refused);
    expect(after.sessions).toBe(before.sessions + 1);
    await c.close();
    await c.rest.loggedOut();
    expect((await stats(h.info)).sessions).toBe(before.sessions - 1); // the vim and the vAPI session
  });

  it('holder-of-key: the request is signed with the token\'s key, and the session is the token subject\'s', async () => {
    const h = await older();
    const c = await connected(h);
    const token = await holderOfKey(c, h);
    await c.loginByToken({ token });
    const admin = await connected(h);
    await admin.login({ username: h.info.username, password: h.info.password });
    const list = async () => (await admin.sessionManager.properties(['sessionList'])).sessionList ?? [];
    const earlier = new Set((await list()).map((s) => s.key));
    const before = await stats(h.info);
    expect(await c.rest.get('/api/cis/tagging/tag')).toEqual([]);
    const after = await stats(h.info);
    expect(after.tokens.made).toBe(before.tokens.made + 1);
    expect(after.apiSessions).toBe(before.apiSessions + 1);
    // The harness made the vAPI session for the token's subject.
    const made = (await list()).filter((s) => !earlier.has(s.key));
    expect(made.map((s) => s.userName.toLowerCase())).toEqual([h.info.username.toLowerCase()]);
  });

  it('a token provider is asked for a fresh token when the vAPI session must be made again', async () => {
    const h = await older();
    const c = await connected(h);
    let issued = 0;
    await c.loginByToken({ token: async () => (issued++, holderOfKey(c, h)) });
    expect(issued).toBe(1);
    const admin = await connected(h);
    await admin.login({ username: h.info.username, password: h.info.password });
    const keys = async () => ((await admin.sessionManager.properties(['sessionList'])).sessionList ?? []).map((s) => s.key);
    const earlier = new Set(await keys());
    await c.rest.get('/api/cis/tagging/category');
    expect(issued).toBe(2);
    const vapiKeys = (await keys()).filter((k) => !earlier.has(k));
    expect(vapiKeys).toHaveLength(1);
    await admin.call('TerminateSession', admin.serviceContent.sessionManager!, { sessionId: vapiKeys });
    const before = await stats(h.info);
    await Promise.all(Array.from({ length: 3 }, () => c.rest.get('/api/cis/tagging/category')));
    expect(issued).toBe(3);
    expect((await stats(h.info)).tokens.made).toBe(before.tokens.made + 1);
  });

  it('never logs the token, its header or the vAPI session id', async () => {
    const h = await older();
    const { logger, text } = recorder();
    const c = await connected(h, logger);
    const admin = await connected(h);
    await admin.login({ username: h.info.username, password: h.info.password });
    const keys = async () => ((await admin.sessionManager.properties(['sessionList'])).sessionList ?? []).map((s) => s.key);
    const token = await holderOfKey(c, h);
    await c.loginByToken({ token });
    const vim = c.sessionId!;
    const earlier = new Set(await keys());
    await c.rest.get('/api/cis/tagging/category');
    const [vapiId] = (await keys()).filter((k) => !earlier.has(k));
    expect(vapiId).toMatch(/\S/);
    await c.close();
    await c.rest.loggedOut();
    const all = text();
    expect(all).not.toContain(vapiId);
    expect(all).not.toContain(vim);
    expect(all).not.toContain(token.privateKey!.split('\n')[1]);
    expect(all).toContain('vAPI session created');
    expect(all).not.toMatch(/SIGN |Assertion|signature|authorization|vmware-api-session-id/i);
    expect(all).not.toContain(tokenAuthorization({ assertion: token.assertion }, 'POST', new URL('/api/session', h.info.url)).slice(12, 60));
  });

  it('a token the vAPI endpoint refuses: a RestError 401 that says what to check, the token not in it', async () => {
    const h = await older();
    const c = await connected(h);
    const good = await bearer(c, h);
    // The provider's second token (the one the vAPI session is made with) is not the STS's.
    const tampered = { assertion: good.assertion.replace('Administrator@VSPHERE.LOCAL', 'Root@VSPHERE.LOCAL') };
    let asked = 0;
    await c.loginByToken({ token: async () => (asked++ === 0 ? good : tampered) });
    const before = await stats(h.info);
    const err = await c.rest.get('/api/cis/tagging/category').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RestError);
    expect(err).toMatchObject({ status: 401, errorType: 'UNAUTHENTICATED', path: '/api/session' });
    expect((err as RestError).message).toMatch(/refused the SAML token.*token provider/);
    expect((err as RestError).message).not.toContain('Root@');
    const after = await stats(h.info);
    expect(after.tokens.refused).toBe(before.tokens.refused + 1);
    expect(after.apiSessions).toBe(before.apiSessions);
  });

  it('logins that cannot make a vAPI session still fail the first call, saying why', async () => {
    const h = await older();
    const owner = await connected(h);
    await owner.loginByToken({ token: await bearer(owner, h) });
    const attached = await connected(h);
    await attached.attachSession(owner.sessionId!);
    const err = await attached.rest.get('/api/cis/tagging/category').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RestError);
    expect((err as RestError).message).toMatch(/before vSphere 8\.0 U3.*attach.*login\(\{ username, password \}\) or loginByToken/);
  });
});

describe('the harness\'s POST /api/session with a SAML token (as vCenter)', () => {
  const url = (h: Harness) => new URL('/api/session', h.info.url);

  it('takes a bearer token the STS issued and a correctly signed holder-of-key request', async () => {
    const h = harness();
    const c = await connected(h);
    const ok1 = await session(h, tokenAuthorization(await bearer(c, h), 'POST', url(h)));
    expect(ok1.status).toBe(201);
    expect(JSON.parse(ok1.body)).toMatch(/\S/);
    const ok2 = await session(h, tokenAuthorization(await holderOfKey(c, h), 'POST', url(h)));
    expect(ok2.status).toBe(201);
  });

  it('refuses with 401 an altered bearer token, a holder-of-key token unsigned, signed with another key, for another path, or replayed', async () => {
    const h = harness();
    const c = await connected(h);
    const before = (await stats(h.info)).tokens;
    const b = await bearer(c, h);
    const altered = { assertion: b.assertion.replace('Administrator@VSPHERE.LOCAL', 'Root@VSPHERE.LOCAL') };
    expect(altered.assertion).not.toBe(b.assertion);
    const hok = await holderOfKey(c, h);
    const signed = tokenAuthorization(hok, 'POST', url(h));
    const another = await c.issueToken({ stsUrl: h.info.stsUrl, username: h.info.username, password: h.info.password, certificate: other.cert, privateKey: other.key });
    const answers = [
      await session(h, tokenAuthorization(altered, 'POST', url(h))),
      await session(h, tokenAuthorization({ assertion: hok.assertion }, 'POST', url(h))), // no signature
      await session(h, tokenAuthorization({ ...hok, privateKey: other.key }, 'POST', url(h))),
      await session(h, tokenAuthorization(hok, 'POST', new URL('/api/other', h.info.url))),
      // This request's signature, with another holder-of-key token in it (bound to another key).
      await session(h, signed.replace(/token="[^"]*"/, `token="${tokenAuthorization({ assertion: another.assertion }, 'POST', url(h)).slice(12, -1)}"`)),
      await session(h, 'SIGN token="not base64!"'),
    ];
    expect(answers.map((a) => a.status)).toEqual([401, 401, 401, 401, 401, 401]);
    expect(JSON.parse(answers[0]!.body)).toMatchObject({ error_type: 'UNAUTHENTICATED' });
    expect((await session(h, signed)).status).toBe(201);
    expect((await session(h, signed)).status).toBe(401); // the nonce was used
    const after = (await stats(h.info)).tokens;
    expect(after.refused).toBe(before.refused + 7);
    expect(after.made).toBe(before.made + 1);
  });
});
