// The vSphere Client plug-in flow and unified VIM/vAPI sessions, against the harness.
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PluginSessionError, VimClient, isVimFault, type Logger } from 'vim25-soap';
import { bundleIfPresent } from '../../scripts/lib/paths.ts';
import { Harness, harnessStats, harnessUiToken } from '../harness/vcsim.ts';
import { SI, withBundle } from '../fixtures.ts';

let h: Harness;
let endpoint: string;
const base = () => ({ tls: { ca: h.ca }, ...withBundle() });

beforeAll(async () => {
  h = await Harness.start({ wsdlDir: bundleIfPresent() });
  endpoint = `${new URL(h.info.url).origin}/api/ui?locale=en#/some/view`;
});
afterAll(() => h?.stop());

function recordingLogger(lines: string[]): Logger {
  const log = (level: string) => (m: string, d?: Record<string, unknown>) => lines.push(`${level} ${m} ${JSON.stringify(d ?? {})}`);
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

async function failure(p: Promise<unknown>): Promise<PluginSessionError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(PluginSessionError);
  return err as PluginSessionError;
}

describe('VimClient.fromPluginSession', () => {
  it('trades the plug-in session token for a clone ticket and clones the user session', async () => {
    const { token } = await harnessUiToken(h.info);
    const lines: string[] = [];
    const before = await harnessStats(h.info);
    const c = await VimClient.fromPluginSession({ sessionToken: token, uiApiEndpoint: { fullUrl: endpoint }, vcGuid: h.info.instanceUuid, ...base(), logger: recordingLogger(lines) });
    expect(c.userSession?.userName).toBe(h.info.username);
    expect(await c.call('CurrentTime', SI)).toBeInstanceOf(Date);
    const after = await harnessStats(h.info);
    expect(after.pluginRequests - before.pluginRequests).toBe(1);
    expect((after.methods.CloneSession ?? 0) - (before.methods.CloneSession ?? 0)).toBe(1);
    expect(lines.join('\n')).not.toContain(token);
    expect(lines.join('\n')).not.toContain(c.sessionId!);
    await c.close();
  });

  it('accepts the endpoint as a string', async () => {
    const { token } = await harnessUiToken(h.info);
    const c = await VimClient.fromPluginSession({ sessionToken: token, uiApiEndpoint: endpoint, vcGuid: h.info.instanceUuid, ...base() });
    expect(await c.call('CurrentTime', SI)).toBeInstanceOf(Date);
    await c.close();
  });

  it('reports an expired token as unauthorized, without the token in the message', async () => {
    const err = await failure(VimClient.fromPluginSession({ sessionToken: 'expired-token-123', uiApiEndpoint: endpoint, vcGuid: h.info.instanceUuid, ...base() }));
    expect(err.reason).toBe('unauthorized');
    expect(err.status).toBe(401);
    expect(err.message).not.toContain('expired-token-123');
  });

  it('refuses a vcGuid that is not the SDK endpoint\'s vCenter before asking for a ticket', async () => {
    const { token } = await harnessUiToken(h.info);
    const before = await harnessStats(h.info);
    const err = await failure(VimClient.fromPluginSession({ sessionToken: token, uiApiEndpoint: endpoint, vcGuid: '00000000-0000-0000-0000-000000000000', ...base() }));
    expect(err.reason).toBe('vcenterMismatch');
    const after = await harnessStats(h.info);
    expect(after.pluginRequests).toBe(before.pluginRequests);
    expect(after.methods.CloneSession ?? 0).toBe(before.methods.CloneSession ?? 0);
  });

  it('reports a vCenter the vsphere-ui service does not know (404) as unknownVcenter', async () => {
    // The SDK endpoint is a second vCenter; the UI endpoint belongs to the first and knows only its own GUID.
    const other = await Harness.start({ wsdlDir: bundleIfPresent(), instanceUuid: '11111111-2222-3333-4444-555555555555' });
    try {
      const { token } = await harnessUiToken(h.info);
      const before = await harnessStats(h.info);
      const err = await failure(VimClient.fromPluginSession({
        sessionToken: token, uiApiEndpoint: endpoint, vcGuid: other.info.instanceUuid, sdkUrl: other.info.url,
        allowedHosts: [new URL(h.info.url).host], tls: { ca: [other.ca, h.ca] }, ...withBundle(),
      }));
      expect(err.reason).toBe('unknownVcenter');
      expect(err.status).toBe(404);
      expect((await harnessStats(h.info)).pluginRequests - before.pluginRequests).toBe(1);
      expect((await harnessStats(other.info)).methods.CloneSession ?? 0).toBe(0);
    } finally {
      await other.stop();
    }
  });

  it('refuses an endpoint host outside allowedHosts before sending anything', async () => {
    const before = await harnessStats(h.info);
    const err = await failure(VimClient.fromPluginSession({ sessionToken: 't', uiApiEndpoint: 'https://evil.example.net/api/ui', vcGuid: h.info.instanceUuid, sdkUrl: h.info.url, ...base() }));
    expect(err.reason).toBe('hostNotAllowed');
    const err2 = await failure(VimClient.fromPluginSession({ sessionToken: 't', uiApiEndpoint: endpoint, vcGuid: h.info.instanceUuid, sdkUrl: h.info.url, allowedHosts: ['vc.example.com'], ...base() }));
    expect(err2.reason).toBe('hostNotAllowed');
    const http = await failure(VimClient.fromPluginSession({ sessionToken: 't', uiApiEndpoint: endpoint.replace('https:', 'http:'), vcGuid: h.info.instanceUuid, sdkUrl: h.info.url, ...base() }));
    expect(http.reason).toBe('insecureEndpoint');
    const after = await harnessStats(h.info);
    expect(after.pluginRequests).toBe(before.pluginRequests);
    expect(after.connections).toBe(before.connections);
  });
});

describe('unified VIM/vAPI sessions', () => {
  function apiSession(method: 'POST' | 'GET' | 'DELETE', headers: Record<string, string>): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = https.request(new URL('/api/session', h.info.url), { method, headers, ca: h.ca }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('attaches a session created by POST /api/session, and the VIM session id works on vAPI', async () => {
    const created = await apiSession('POST', { Authorization: `Basic ${Buffer.from(`${h.info.username}:${h.info.password}`).toString('base64')}` });
    expect(created.status).toBeLessThan(300);
    const vapiId = JSON.parse(created.body) as string;
    const c = await VimClient.connect(h.info.url, base());
    const s = await c.attachSession(vapiId);
    expect(s.userName).toBe(h.info.username);
    expect(c.sessionId).toBe(vapiId);
    expect(await c.call('CurrentTime', SI)).toBeInstanceOf(Date);
    // ...and the other way round: our VIM session id on the vAPI endpoint.
    const v = await VimClient.connect(h.info.url, base());
    await v.login({ username: h.info.username, password: h.info.password });
    const who = await apiSession('GET', { 'vmware-api-session-id': v.sessionId! });
    expect(who.status).toBe(200);
    expect(who.body).toContain(h.info.username);
    await v.close();
    await c.close();
  });

  it('an attached session that ends emits sessionLost and rejects with NotAuthenticated', async () => {
    const created = await apiSession('POST', { Authorization: `Basic ${Buffer.from(`${h.info.username}:${h.info.password}`).toString('base64')}` });
    const id = JSON.parse(created.body) as string;
    const c = await VimClient.connect(h.info.url, base());
    await c.attachSession(id);
    const lost: unknown[] = [];
    c.on('sessionLost', (f) => lost.push(f));
    expect((await apiSession('DELETE', { 'vmware-api-session-id': id })).status).toBeLessThan(300);
    const err = await c.call('CurrentTime', SI).catch((e: unknown) => e);
    expect(isVimFault(err, 'NotAuthenticated')).toBe(true);
    expect(lost).toHaveLength(1);
    await c.close();
  });
});
