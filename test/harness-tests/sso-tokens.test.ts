// SSO: vcsim's STS (bearer tokens), the harness's holder-of-key tokens, and LoginByToken's
// signature check (xmlsec1 in the harness; the requests are signed here with node's crypto).
import { beforeAll, describe, expect, it } from 'vitest';
import { harnessStats } from '../harness/vcsim.ts';
import { clientCertificate, currentUser, EM, ownHarness, ref, sessionOf, SM, soap, text, xmlEscape, type ClientCertificate } from './raw.ts';
import { issueRequest, plainEnvelope, postEnvelope, samlKeyInfo, signedEnvelope, usernameToken, x509Token } from './wssec.ts';

const harness = ownHarness();
const h = () => harness().info;
const ISSUE = '"http://docs.oasis-open.org/ws-sx/ws-trust/200512/RST/Issue"';
const LOGIN_BY_TOKEN = `<LoginByToken xmlns="urn:vim25">${SM}</LoginByToken>`;
let key: ClientCertificate;
let other: ClientCertificate;
let admin: string;

beforeAll(async () => {
  key = clientCertificate([{ shortName: 'CN', value: 'hok-user' }]);
  other = clientCertificate([{ shortName: 'CN', value: 'someone-else' }], 'another'); // signs with a key that is not the token's
  admin = await sessionOf(h());
});

const stsPath = () => new URL(h().stsUrl).pathname;
const assertionOf = (rstr: string): string => {
  const m = /<saml2:Assertion\b[\s\S]*?<\/saml2:Assertion>/.exec(rstr);
  if (!m) throw new Error(`no assertion in ${rstr.slice(0, 500)}`);
  return m[0];
};
const idOf = (assertion: string): string => /\bID="([^"]+)"/.exec(assertion)![1]!;

/** A holder-of-key Issue request signed with cert's key; with a UsernameToken unless user is null. */
function hokIssue(cert: ClientCertificate, user: { username: string; password: string } | null, opts: { lifetime?: number; tamper?: (b: string) => string; signWith?: string } = {}) {
  const bst = x509Token(cert.cert);
  return postEnvelope(h(), signedEnvelope({
    bodyInner: issueRequest('PublicKey', opts.lifetime ?? 600),
    key: opts.signWith ?? cert.key,
    tokens: bst.token + (user ? usernameToken(user.username, user.password) : ''),
    keyInfo: bst.keyInfo,
    ...(opts.tamper ? { tamper: opts.tamper } : {}),
  }), { path: stsPath(), soapAction: ISSUE });
}

async function hokToken(cert = key, user: { username: string; password: string } | null = { username: h().username, password: h().password }, lifetime?: number): Promise<string> {
  const res = await hokIssue(cert, user, lifetime === undefined ? {} : { lifetime });
  expect(res.status, res.body).toBe(200);
  return assertionOf(res.body);
}

/** LoginByToken with assertion, signed over Timestamp and Body with signKey. */
function hokLogin(assertion: string, signKey: string, opts: { tamper?: (b: string) => string; created?: Date; expires?: Date } = {}) {
  return postEnvelope(h(), signedEnvelope({ bodyInner: LOGIN_BY_TOKEN, key: signKey, tokens: assertion, keyInfo: samlKeyInfo(idOf(assertion)), ...opts }));
}

describe('the STS endpoint', () => {
  it('is config.vpxd.sso.sts.uri, reported as stsUrl', async () => {
    const res = await soap(h(), 'QueryOptions', `${ref('OptionManager', 'VpxSettings')}<name>config.vpxd.sso.sts.uri</name>`, { session: admin });
    expect(text(res.body, 'value')).toBe(h().stsUrl);
    expect(h().stsUrl).toBe(`${new URL(h().url).origin}/sts/STSService/vsphere.local`);
  });
});

describe('bearer tokens (vcsim\'s STS)', () => {
  it('issues its canned bearer assertion, which LoginByToken accepts (quoted SOAPAction too)', async () => {
    const rstr = await postEnvelope(h(), plainEnvelope(usernameToken('Administrator@vsphere.local', 'anything'), issueRequest('Bearer')), { path: stsPath(), soapAction: ISSUE });
    expect(rstr.status).toBe(200);
    const assertion = assertionOf(rstr.body);
    expect(assertion).toContain('urn:oasis:names:tc:SAML:2.0:cm:bearer');
    const res = await postEnvelope(h(), plainEnvelope(assertion, LOGIN_BY_TOKEN));
    expect(res.status).toBe(200);
    expect(text(res.body, 'userName')).toBe('Administrator@VSPHERE.LOCAL');
    expect(await currentUser(h(), res.setSession!)).toBe('Administrator@VSPHERE.LOCAL');
  });

  it('LoginByToken without an assertion is InvalidLogin', async () => {
    expect((await postEnvelope(h(), plainEnvelope('', LOGIN_BY_TOKEN))).fault).toBe('InvalidLogin');
  });
});

describe('holder-of-key tokens', () => {
  it('are issued for a signed request with a harness user\'s credentials, confirming the certificate', async () => {
    const before = (await harnessStats(h())).sts;
    const assertion = await hokToken();
    expect(assertion).toContain('Method="urn:oasis:names:tc:SAML:2.0:cm:holder-of-key"');
    const der = /<ds:X509Certificate>([^<]+)<\/ds:X509Certificate>/.exec(assertion)![1];
    expect(Buffer.from(der!, 'base64').equals(Buffer.from(key.cert.replace(/-----[^-]+-----|\s/g, ''), 'base64'))).toBe(true);
    expect(/<saml2:NameID[^>]*>([^<]+)</.exec(assertion)![1]).toBe(h().username);
    const notOnOrAfter = Date.parse(/<saml2:Conditions NotBefore="[^"]+" NotOnOrAfter="([^"]+)"/.exec(assertion)![1]!);
    expect(notOnOrAfter - Date.now()).toBeGreaterThan(500_000);
    expect(notOnOrAfter - Date.now()).toBeLessThanOrEqual(600_000);
    const after = (await harnessStats(h())).sts;
    expect(after.hokIssued - before.hokIssued).toBe(1);
    expect(after.signaturesVerified - before.signaturesVerified).toBe(1);
  });

  it('log in with a LoginByToken signed by the token\'s key', async () => {
    const res = await hokLogin(await hokToken(), key.key);
    expect(res.status, res.body).toBe(200);
    expect(text(res.body, 'userName')).toBe(h().username);
    expect(await currentUser(h(), res.setSession!)).toBe(h().username);
  });

  it('refuse the same request with the body altered after signing (InvalidLogin)', async () => {
    const assertion = await hokToken();
    const before = (await harnessStats(h())).sts.signaturesRejected;
    const res = await hokLogin(assertion, key.key, { tamper: (b) => b.replace('</LoginByToken>', '<locale>de</locale></LoginByToken>') });
    expect(res.fault).toBe('InvalidLogin');
    expect(res.body).toMatch(/signature/);
    expect(res.setSession).toBeUndefined();
    expect((await harnessStats(h())).sts.signaturesRejected).toBe(before + 1);
    // The untouched request still works: the token was not spent by the refusal.
    expect((await hokLogin(assertion, key.key)).status).toBe(200);
  });

  it('refuse a signature by another key, no signature, an expired Timestamp (InvalidLogin)', async () => {
    const assertion = await hokToken();
    expect((await hokLogin(assertion, other.key)).fault).toBe('InvalidLogin');
    expect((await postEnvelope(h(), plainEnvelope(assertion, LOGIN_BY_TOKEN))).fault).toBe('InvalidLogin');
    const hourAgo = new Date(Date.now() - 3600_000);
    expect((await hokLogin(assertion, key.key, { created: hourAgo, expires: new Date(hourAgo.getTime() + 300_000) })).fault).toBe('InvalidLogin');
  });

  it('refuse a holder-of-key assertion the STS did not issue, or altered (InvalidLogin)', async () => {
    const assertion = await hokToken();
    const forged = assertion.replace(/\bID="[^"]+"/, 'ID="_forged"');
    expect((await hokLogin(forged, key.key)).fault).toBe('InvalidLogin');
    const renamed = assertion.replace(/(<saml2:NameID[^>]*>)[^<]+/, `$1${h().viewerUsername}`);
    expect((await hokLogin(renamed, key.key)).fault).toBe('InvalidLogin');
  });

  it('refuse an expired token (InvalidLogin)', async () => {
    // Asked for with a Lifetime that ended a minute ago: a token valid at no instant, so that
    // no test waits for one to expire.
    const assertion = await hokToken(key, { username: h().username, password: h().password }, -60);
    const conditions = /<saml2:Conditions NotBefore="([^"]+)" NotOnOrAfter="([^"]+)"/.exec(assertion)!;
    expect(conditions[2]).toBe(conditions[1]);
    const res = await hokLogin(assertion, key.key);
    expect(res.fault).toBe('InvalidLogin');
    expect(res.body).toMatch(/not valid now/);
  });

  it('are issued to the viewer too, an unprivileged session', async () => {
    const res = await hokLogin(await hokToken(key, { username: h().viewerUsername, password: h().viewerPassword }), key.key);
    expect(text(res.body, 'userName')).toBe(h().viewerUsername);
    expect((await soap(h(), 'UpdateServiceMessage', `${SM}<message>x</message>`, { session: res.setSession! })).fault).toBe('NoPermission');
  });

  it('are issued to a solution: a certificate-only request with an extension\'s certificate', async () => {
    const solution = clientCertificate([{ shortName: 'CN', value: 'com.example.solution' }]);
    expect((await hokIssue(solution, null)).fault).toBe('FailedAuthentication');
    const ext = '<extension><description><label>l</label><summary>s</summary></description><key>com.example.solution</key>' +
      '<company>Example</company><version>1.0</version><lastHeartbeatTime>2024-01-01T00:00:00Z</lastHeartbeatTime></extension>';
    expect((await soap(h(), 'RegisterExtension', EM + ext, { session: admin })).status).toBe(200);
    expect((await soap(h(), 'SetExtensionCertificate', `${EM}<extensionKey>com.example.solution</extensionKey><certificatePem>${xmlEscape(solution.cert)}</certificatePem>`, { session: admin })).status).toBe(200);
    const assertion = await hokToken(solution, null);
    expect(assertion).toContain('urn:oasis:names:tc:SAML:2.0:ac:classes:X509');
    const res = await hokLogin(assertion, solution.key);
    expect(text(res.body, 'userName')).toBe('com.example.solution');
  });

  it('are refused (wst:FailedAuthentication) for a wrong password, an unsigned or altered request, a signature by another key', async () => {
    const before = (await harnessStats(h())).sts.hokRefused;
    const user = { username: h().username, password: h().password };
    expect((await hokIssue(key, { ...user, password: 'wrong' })).fault).toBe('FailedAuthentication');
    expect((await hokIssue(key, user, { signWith: other.key })).fault).toBe('FailedAuthentication');
    expect((await hokIssue(key, user, { tamper: (b) => b.replace('/PublicKey<', '/PublicKey <') })).fault).toBe('FailedAuthentication');
    const unsigned = await postEnvelope(h(), plainEnvelope(usernameToken(user.username, user.password), issueRequest('PublicKey')), { path: stsPath(), soapAction: ISSUE });
    expect(unsigned.status).toBe(500);
    expect(unsigned.body).toContain('wst:FailedAuthentication');
    expect((await harnessStats(h())).sts.hokRefused).toBe(before + 4);
  });
});

