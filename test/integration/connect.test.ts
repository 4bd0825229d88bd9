// connect and the first calls. The tests count what reached the server (SOAPAction values,
// methods) and reset the counters, so they run on a harness of their own.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransportError, ValidationError, VimClient, VimFault, isVimFault } from 'vim25-soap';
import { smallWsdl } from '../harness/wsdl-docs.ts';
import { harnessReset, harnessStats, type HarnessInfo } from '../harness/vcsim.ts';
import { connect, ownHarness, SI, tempDir } from '../fixtures.ts';

const harness = ownHarness();
let h: HarnessInfo;
let tls: { ca: Buffer };
beforeAll(() => {
  h = harness().info;
  tls = { ca: harness().ca };
});

// No wsdl option: the client needs no WSDL at run time, and reads no environment variable
// (a VIM25_WSDL_DIR pointing nowhere must not change connect).
describe('VimClient against vcsim, no WSDL given', () => {
  let client: VimClient;

  beforeAll(async () => {
    await harnessReset(h);
    const before = process.env.VIM25_WSDL_DIR;
    process.env.VIM25_WSDL_DIR = '/nonexistent';
    try {
      client = await VimClient.connect(h.url, { tls });
    } finally {
      if (before === undefined) delete process.env.VIM25_WSDL_DIR;
      else process.env.VIM25_WSDL_DIR = before;
    }
  });
  afterAll(() => client?.close());

  it('reads ServiceContent and about', () => {
    expect(client.about._typeName).toBe('AboutInfo');
    expect(client.about.apiVersion).toBe(h.apiVersion);
    expect(client.about.instanceUuid).toBe(h.instanceUuid);
    expect(client.serviceContent.sessionManager).toEqual({ type: 'SessionManager', value: 'SessionManager' });
    expect(client.apiVersion).toBe(h.apiVersion);
  });

  it('logs in, calls CurrentTime and SessionIsActive, logs out', async () => {
    const session = await client.login({ username: h.username, password: h.password });
    expect(session._typeName).toBe('UserSession');
    expect(session.userName).toBe(h.username);
    expect(session.loginTime).toBeInstanceOf(Date);
    expect(client.sessionId).toBeTruthy();
    expect(client.userSession?.key).toBe(session.key);

    const now = await client.call('CurrentTime', client.ref('ServiceInstance', 'ServiceInstance'));
    expect(now).toBeInstanceOf(Date);
    expect(Math.abs(now.getTime() - Date.now())).toBeLessThan(60_000);

    const active = await client.call('SessionIsActive', client.serviceContent.sessionManager!, { sessionID: session.key, userName: h.username });
    expect(active).toBe(true);

    await client.logout();
    expect(client.sessionId).toBeUndefined();
    expect(client.userSession).toBeUndefined();
    const err = await client.call('CurrentTime', client.ref('ServiceInstance', 'ServiceInstance')).catch((e: unknown) => e);
    expect(isVimFault(err, 'NotAuthenticated')).toBe(true);
    // logout is idempotent
    await client.logout();
  });

  it('rejects a wrong password with an InvalidLogin VimFault', async () => {
    const before = client.userSession;
    const err = await client.login({ username: h.username, password: 'wrong' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VimFault);
    const fault = err as VimFault;
    expect(fault.faultName).toBe('InvalidLogin');
    expect(fault.method).toBe('Login');
    expect(fault.is('VimFault')).toBe(true);
    expect(fault.message).toContain('InvalidLogin');
    expect(fault.message).not.toContain('wrong');
    expect(client.userSession).toBe(before);
  });

  it('sends the server version in SOAPAction on every request, never the WSDL default', async () => {
    await harnessReset(h);
    const c = await connect(h);
    await c.login({ username: h.username, password: h.password });
    await c.login({ username: h.username, password: 'wrong' }).catch(() => undefined);
    await c.call('CurrentTime', SI);
    const stats = await harnessStats(h);
    const actions = Object.keys(stats.soapActions);
    expect(actions).toEqual([`"urn:vim25/${h.apiVersion}"`]);
    expect(stats.methods.RetrieveServiceContent).toBeGreaterThanOrEqual(1);
    expect(stats.methods.Login).toBeGreaterThanOrEqual(2);
  });

  it('keeps secrets out of inspect output', async () => {
    await client.login({ username: h.username, password: h.password });
    const shown = inspect(client, { depth: 10 });
    expect(shown).not.toContain(h.password);
    expect(shown).not.toContain(client.sessionId!);
  });
});

describe('VimClient.connect failures', () => {
  it('fails with a TransportError naming the untrusted certificate and what to pass', async () => {
    const err = await VimClient.connect(h.url).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    const message = (err as Error).message;
    expect(message).toContain(h.sha1);
    expect(message).toContain(h.sha256);
    expect(message).toMatch(/tls\.thumbprint.*tls\.ca/);
    expect((err as TransportError).code).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY/);
  });

  it('accepts a pinned thumbprint instead of a CA, and refuses a wrong one', async () => {
    const pinned = await VimClient.connect(h.url, { tls: { thumbprint: h.sha256.toLowerCase() } });
    expect(pinned.about.apiVersion).toBe(h.apiVersion);
    await pinned.close();
    const wrong = h.sha1.replace(/^../, h.sha1.startsWith('00') ? '11' : '00');
    const err = await VimClient.connect(h.url, { tls: { thumbprint: wrong } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).code).toBe('ECERTPIN');
  });

  it('uses an explicit version for SOAPAction when given', async () => {
    await harnessReset(h);
    const c = await VimClient.connect(h.url, { tls, version: '8.0.1.0' });
    await c.call('CurrentTime', c.ref('ServiceInstance', 'ServiceInstance')).catch(() => undefined);
    await c.close();
    expect(Object.keys((await harnessStats(h)).soapActions)).toEqual(['"urn:vim25/8.0.1.0"']);
  });

  it('refuses a given WSDL that is missing or not a WSDL', async () => {
    const missing = await VimClient.connect(h.url, { tls, wsdl: '/nonexistent/vimService.wsdl' }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(TransportError);
    expect((missing as TransportError).code).toBe('EWSDL');
    const dir = tempDir('vim25-wsdl-');
    writeFileSync(join(dir, 'vimService.wsdl'), '<html><body>Not Found</body></html>');
    const html = await VimClient.connect(h.url, { tls, wsdl: dir }).catch((e: unknown) => e);
    expect((html as TransportError).code).toBe('EWSDL');
    expect((html as TransportError).message).toContain('HTML page');
  });

  it('with a given WSDL, refuses operations it does not declare, before sending', async () => {
    // A server's WSDL without CurrentTime (as an older API version lacks newer methods).
    const dir = tempDir('vim25-wsdl-');
    for (const [name, text] of Object.entries(smallWsdl(['RetrieveServiceContent', 'Login', 'Logout']))) writeFileSync(join(dir, name), text);
    await harnessReset(h);
    const c = await VimClient.connect(h.url, { tls, wsdl: dir });
    try {
      const err = await c.call('CurrentTime', c.ref('ServiceInstance', 'ServiceInstance')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as Error).message).toContain('not an operation of the WSDL');
      expect((await harnessStats(h)).methods.CurrentTime).toBeUndefined();
    } finally {
      await c.close();
    }
  });
});
