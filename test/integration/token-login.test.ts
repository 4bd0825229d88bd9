// SSO token logins: a bearer token from the STS simulator, and re-authentication through a provider.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isVimFault, TokenError, VimClient, type SamlToken } from 'vim25-soap';
import { bundleIfPresent } from '../../scripts/lib/paths.ts';
import { Harness, harnessStats } from '../harness/vcsim.ts';
import { SI, withBundle } from '../fixtures.ts';

let h: Harness;
let admin: VimClient;
let stsUrl: string;
const connect = () => VimClient.connect(h.info.url, { tls: { ca: h.ca }, ...withBundle() });

beforeAll(async () => {
  h = await Harness.start({ wsdlDir: bundleIfPresent() });
  admin = await connect();
  await admin.login({ username: h.info.username, password: h.info.password });
  const [option] = await admin.call('QueryOptions', admin.serviceContent.setting!, { name: 'config.vpxd.sso.sts.uri' });
  stsUrl = option!.value as string;
});
afterAll(async () => {
  await admin?.close();
  await h?.stop();
});

describe('loginByToken', () => {
  it('logs in with a bearer token issued by the STS', async () => {
    const token = await admin.issueToken({ username: 'Administrator@vsphere.local', password: 'x' });
    expect(token.assertion).toMatch(/^<saml2:Assertion\b/);
    const c = await connect();
    const session = await c.loginByToken({ token });
    expect(session.userName).toBe('Administrator@VSPHERE.LOCAL');
    expect(await c.call('CurrentTime', SI)).toBeInstanceOf(Date);
    await c.close();
  });

  it('takes a bearer token as the assertion string alone', async () => {
    const { assertion } = await admin.issueToken({ username: 'Administrator@vsphere.local', password: 'x' });
    const c = await connect();
    const session = await c.loginByToken({ token: assertion });
    expect(session.userName).toBe('Administrator@VSPHERE.LOCAL');
    await c.close();
  });

  it('gets the STS URL from the caller when not logged in', async () => {
    const c = await connect();
    const token = await c.issueToken({ stsUrl, username: 'Administrator@vsphere.local', password: 'x' });
    await c.loginByToken({ token });
    expect(c.userSession?.userName).toBe('Administrator@VSPHERE.LOCAL');
    await c.close();
  });

  it('re-authenticates through the token provider after the session is terminated', async () => {
    const c = await connect();
    let issued = 0;
    const provider = async (): Promise<SamlToken> => {
      issued++;
      return c.issueToken({ stsUrl, username: 'Administrator@vsphere.local', password: 'x' });
    };
    await c.loginByToken({ token: provider });
    expect(issued).toBe(1);
    const before = (await harnessStats(h.info)).methods.LoginByToken ?? 0;
    await admin.sessionManager.terminateSessions([c.userSession!.key]);
    expect(await c.call('CurrentTime', SI)).toBeInstanceOf(Date);
    expect(issued).toBe(2);
    expect((await harnessStats(h.info)).methods.LoginByToken).toBe(before + 1);
    await c.close();
  });

  it('refuses something that is not an assertion', async () => {
    const c = await connect();
    await expect(c.loginByToken({ token: { assertion: '<nope/>' } })).rejects.toBeInstanceOf(TokenError);
    const empty = await c.loginByToken({ token: { assertion: '<saml2:Assertion xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion" ID="_x"></saml2:Assertion>' } }).catch((e: unknown) => e);
    expect(isVimFault(empty, 'InvalidLogin')).toBe(true);
    await c.close();
  });
});
