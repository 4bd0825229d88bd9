// SessionManager's SSO and remaining methods against the harness: holder-of-key tokens (the
// harness verifies our signature with xmlsec1), SSPI, local and service tickets, impersonation,
// locale and the service message, with the faults the reference lists.
import https from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataObject, isVimFault, TokenError, VimClient, type FaultName } from 'vim25-soap';
import { tokenHeader } from '../../src/session/token.ts';
import { requestEnvelope } from '../../src/soap/envelope.ts';
import { bundleIfPresent } from '../../scripts/lib/paths.ts';
import { Harness, harnessSetLocalTickets, harnessSetSspi, harnessStats, sspiFirstToken, sspiResponseToken } from '../harness/vcsim.ts';
import { SI, withBundle } from '../fixtures.ts';
import { extensionCertificate } from '../harness/tls-fixtures.ts';

let h: Harness;
let admin: VimClient;
const connect = () => VimClient.connect(h.info.url, { tls: { ca: h.ca }, ...withBundle() });
const fault = async (p: Promise<unknown>, name: FaultName): Promise<void> => {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(isVimFault(err, name), `${name} expected, got ${String(err)}`).toBe(true);
};

beforeAll(async () => {
  h = await Harness.start({ wsdlDir: bundleIfPresent() });
  admin = await connect();
  await admin.login({ username: h.info.username, password: h.info.password });
});
afterAll(async () => {
  await admin?.close();
  await h?.stop();
});

describe('holder-of-key tokens', () => {
  const pair = extensionCertificate({ commonName: 'hok-user' });

  it('gets a HoK token from the STS and logs in with a signed request', async () => {
    const c = await connect();
    const token = await c.issueToken({ stsUrl: h.info.stsUrl, username: h.info.username, password: h.info.password, certificate: pair.cert, privateKey: pair.key });
    expect(token.assertion).toMatch(/holder-of-key/);
    const s = await c.loginByToken({ token });
    expect(s.userName).toBeTruthy();
    expect(await c.call('CurrentTime', SI)).toBeInstanceOf(Date);
    await c.close();
  });

  it('is refused when the signed body is altered, and when the key is not the token\'s', async () => {
    const c = await connect();
    const token = await c.issueToken({ stsUrl: h.info.stsUrl, username: h.info.username, password: h.info.password, certificate: pair.cert, privateKey: pair.key });
    const signed = requestEnvelope('LoginByToken', '<_this type="SessionManager">SessionManager</_this><locale>en_US</locale>', await tokenHeader(token));
    const send = (xml: string) => new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = https.request(h.info.url, { method: 'POST', ca: h.ca, headers: { 'Content-Type': 'text/xml', SOAPAction: `"urn:vim25/${h.info.apiVersion}"` } }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end(xml);
    });
    expect((await send(signed)).status).toBe(200);
    const altered = await send(signed.replace('<locale>en_US</locale>', '<locale>de_DE</locale>'));
    expect(altered.status).toBe(500);
    expect(altered.body).toContain('InvalidLogin');
    const other = extensionCertificate({ commonName: 'other' }, 'another'); // a key that is not the token's
    await fault(c.loginByToken({ token: { ...token, privateKey: other.key } }), 'InvalidLogin');
    await expect(c.issueToken({ stsUrl: h.info.stsUrl, certificate: pair.cert })).rejects.toBeInstanceOf(TokenError);
    await c.close();
  });
});

describe('loginBySSPI', () => {
  it('completes a two-round handshake', async () => {
    const c = await connect();
    const challenges: string[] = [];
    const s = await c.loginBySSPI({
      token: sspiFirstToken(h.info.username),
      next: async (challenge) => {
        challenges.push(challenge);
        return sspiResponseToken(challenge, h.info.username);
      },
    });
    expect(challenges).toHaveLength(1);
    expect(s.userName).toBe(h.info.username);
    expect(await c.call('CurrentTime', SI)).toBeInstanceOf(Date);
    await c.close();
  });

  it('surfaces a refusal as InvalidLogin and a host without SSPI as NotSupported', async () => {
    const c = await connect();
    await fault(c.loginBySSPI({ token: sspiFirstToken(h.info.username), next: async (ch) => sspiResponseToken(ch, 'someone-else') }), 'InvalidLogin');
    await fault(c.loginBySSPI({ token: sspiFirstToken('nobody'), next: async () => 'x' }), 'InvalidLogin');
    await harnessSetSspi(h.info, false);
    try {
      await fault(c.loginBySSPI({ token: sspiFirstToken(h.info.username), next: async () => 'x' }), 'NotSupported');
    } finally {
      await harnessSetSspi(h.info, true);
    }
    await c.close();
  });
});

describe('the rest of SessionManager', () => {
  it('reads the properties and updates the service message', async () => {
    await admin.sessionManager.updateServiceMessage('maintenance at noon');
    const p = await admin.sessionManager.properties();
    expect(p.message).toBe('maintenance at noon');
    expect(p.currentSession?.userName).toBe(h.info.username);
    expect(p.sessionList?.length).toBeGreaterThan(0);
    expect(p.supportedLocaleList).toContain('en_US');
    expect(typeof p.defaultLocale).toBe('string');
    const viewer = await connect();
    await viewer.login({ username: h.info.viewerUsername, password: h.info.viewerPassword });
    await fault(viewer.sessionManager.updateServiceMessage('x'), 'NoPermission');
    await admin.sessionManager.updateServiceMessage('');
    await viewer.close();
  });

  it('SessionIsActive and TerminateSession with the reference\'s faults', async () => {
    const other = await connect();
    await other.login({ username: h.info.username, password: h.info.password });
    const key = other.userSession!.key;
    expect(await admin.sessionManager.sessionIsActive(key, h.info.username)).toBe(true);
    await fault(admin.sessionManager.terminateSessions([admin.userSession!.key]), 'InvalidArgument');
    await fault(admin.sessionManager.terminateSessions(['no-such-session', key]), 'NotFound');
    expect(await admin.sessionManager.sessionIsActive(key, h.info.username)).toBe(true); // stopped at the unknown id
    await admin.sessionManager.terminateSessions([key]);
    expect(await admin.sessionManager.sessionIsActive(key, h.info.username)).toBe(false);
    const viewer = await connect();
    await viewer.login({ username: h.info.viewerUsername, password: h.info.viewerPassword });
    await fault(viewer.sessionManager.sessionIsActive(key, h.info.username), 'NoPermission');
    await Promise.all([other.close(), viewer.close()]);
  });

  it('SetLocale and ImpersonateUser', async () => {
    const c = await connect();
    await c.login({ username: h.info.username, password: h.info.password });
    await c.sessionManager.setLocale('en_US');
    await fault(c.sessionManager.setLocale('xx_YY'), 'InvalidLocale');
    const viewer = await connect();
    await viewer.login({ username: h.info.viewerUsername, password: h.info.viewerPassword });
    await fault(c.impersonateUser({ userName: 'nobody-logged-in' }), 'InvalidLogin');
    await fault(viewer.impersonateUser({ userName: h.info.username }), 'NoPermission');
    // Every SessionManager call takes the call options: an aborted signal sends nothing.
    const aborted = AbortSignal.abort();
    const before = (await harnessStats(h.info)).methods;
    await expect(c.impersonateUser({ userName: h.info.viewerUsername, signal: aborted })).rejects.toMatchObject({ name: 'AbortError' });
    await expect(c.sessionManager.setLocale('en_US', { signal: aborted })).rejects.toMatchObject({ name: 'AbortError' });
    await expect(c.sessionManager.terminateSessions(['x'], { signal: aborted })).rejects.toMatchObject({ name: 'AbortError' });
    const after = (await harnessStats(h.info)).methods;
    expect([after.ImpersonateUser, after.SetLocale, after.TerminateSession]).toEqual([before.ImpersonateUser, before.SetLocale, before.TerminateSession]);
    // The positional form still works for a minor version (deprecated).
    const s = await c.impersonateUser(h.info.viewerUsername);
    expect(s.userName).toBe(h.info.viewerUsername);
    expect(c.userSession?.userName).toBe(h.info.viewerUsername);
    // The session now has the viewer's (lack of) privileges.
    await fault(c.impersonateUser(h.info.username), 'NoPermission');
    await Promise.all([c.close(), viewer.close()]);
  });

  it('logs in with a local ticket once, and is refused remotely', async () => {
    const c = await connect();
    const directories = [join(h.info.stateDir, 'local-tickets')];
    const s = await c.loginByLocalTicket(h.info.username, { directories });
    expect(s.userName).toBe(h.info.username);
    const ticket = await admin.sessionManager.acquireLocalTicket(h.info.username);
    expect(ticket.passwordFilePath).toContain(h.info.stateDir);
    await fault(admin.sessionManager.acquireLocalTicket('nobody'), 'InvalidLogin');
    await harnessSetLocalTickets(h.info, 'remote');
    try {
      const remote = await connect();
      await fault(remote.loginByLocalTicket(h.info.username, { directories }), 'InvalidRequest');
      await remote.close();
    } finally {
      await harnessSetLocalTickets(h.info, 'local');
    }
    await c.close();
  });

  it('uses a generic service ticket once for the datastore file request it was minted for', async () => {
    const url = `${new URL(h.info.url).origin}/folder/DC0_H0_VM0/DC0_H0_VM0.vmx?dcPath=DC0&dsName=LocalDS_0`;
    const ticket = await admin.sessionManager.acquireGenericServiceTicket({ _typeName: 'SessionManagerHttpServiceRequestSpec', url, method: 'httpGet' } as never);
    expect(ticket.id).toBeTruthy();
    const c = await connect(); // no session: only the ticket authorizes
    const first = await c.requestWithTicket({ ticket, url });
    expect(first.status).toBe(200);
    const again = await c.requestWithTicket(ticket, url); // the positional form (deprecated) still works
    expect(again.status).toBe(401);
    await fault(admin.sessionManager.acquireGenericServiceTicket({ _typeName: 'SessionManagerHttpServiceRequestSpec', url: 'https://elsewhere/x', method: 'httpGet' } as never), 'InvalidArgument');
    await c.close();
  });
});

describe('the faults the SessionManager reference lists, as typed VimFaults', () => {
  const ext = extensionCertificate({ commonName: 'faults-ext', organization: 'Example' });
  // Both tests log in as this extension, in either order.
  beforeAll(async () => {
    const em = admin.serviceContent.extensionManager!;
    const description = dataObject('Description', { label: 'faults', summary: 'faults' });
    await admin.call('RegisterExtension', em, { extension: dataObject('Extension', { key: 'com.example.faults', version: '1', description, lastHeartbeatTime: new Date() }) });
    await admin.call('SetExtensionCertificate', em, { extensionKey: 'com.example.faults', certificatePem: ext.cert });
  });

  it('InvalidLocale on every login, NotAuthenticated without a session, NotSupported and NoSubjectName', async () => {
    const c = await VimClient.connect(h.info.url, { tls: { ca: h.ca }, ...withBundle(), tunnel: { proxyPort: h.info.tunnelPort } });
    await fault(c.login({ username: h.info.username, password: h.info.password, locale: 'xx_YY' }), 'InvalidLocale');
    await fault(c.loginByToken({ token: await c.issueToken({ stsUrl: h.info.stsUrl, username: 'a', password: 'b' }), locale: 'xx_YY' }), 'InvalidLocale');
    await fault(c.loginBySSPI({ token: sspiFirstToken(h.info.username), next: async (ch) => sspiResponseToken(ch, h.info.username), locale: 'xx_YY' }), 'InvalidLocale');
    await fault(c.acquireCloneTicket(), 'NotAuthenticated');
    await fault(c.sessionManager.acquireGenericServiceTicket({ _typeName: 'SessionManagerHttpServiceRequestSpec', url: `${new URL(h.info.url).origin}/folder/x?dcPath=DC0&dsName=LocalDS_0`, method: 'httpGet' } as never), 'NotAuthenticated');

    await fault(c.loginByCertificate({ extensionKey: 'com.example.faults', cert: ext.cert, key: ext.key, locale: 'xx_YY' }), 'InvalidLocale');
    await fault(c.loginBySubjectName({ extensionKey: 'com.example.faults', cert: ext.cert, key: ext.key }), 'NoSubjectName');

    await harnessSetLocalTickets(h.info, 'unsupported');
    try {
      await fault(c.loginByLocalTicket(h.info.username), 'NotSupported');
    } finally {
      await harnessSetLocalTickets(h.info, 'local');
    }
    await c.close();
  });

  it('issues a holder-of-key token to a solution by its certificate alone', async () => {
    const c = await connect();
    const token = await c.issueToken({ stsUrl: h.info.stsUrl, certificate: ext.cert, privateKey: ext.key });
    const s = await c.loginByToken({ token });
    expect(s.userName).toBe('com.example.faults');
    await c.close();
  });
});
