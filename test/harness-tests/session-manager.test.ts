// The SessionManager methods and properties the harness adds or corrects on vcsim's sessions:
// locales, SetLocale, UpdateServiceMessage/message, ImpersonateUser, TerminateSession,
// SessionIsActive, and the viewer user's missing privileges. Raw SOAP.
import { beforeAll, describe, expect, it } from 'vitest';
import { clientCertificate, currentUser, EM, login, ownHarness, PC, ref, sessionOf, SM, soap, text, xmlEscape } from './raw.ts';

const harness = ownHarness();
const h = () => harness().info;
let admin: string;
let viewer: string;

beforeAll(async () => {
  admin = await sessionOf(h());
  viewer = await sessionOf(h(), h().viewerUsername, h().viewerPassword);
});

/** SessionManager properties through RetrievePropertiesEx. */
async function props(session: string, ...paths: string[]): Promise<string> {
  const res = await soap(h(), 'RetrievePropertiesEx',
    `${PC}<specSet><propSet><type>SessionManager</type>${paths.map((p) => `<pathSet>${p}</pathSet>`).join('')}</propSet>` +
    `<objectSet>${ref('SessionManager', 'SessionManager', 'obj')}</objectSet></specSet><options/>`, { session });
  expect(res.status).toBe(200);
  return res.body;
}
const propVal = (xml: string, name: string): string | undefined =>
  new RegExp(`<name>${name}</name><val[^>]*>(.*?)</val>`).exec(xml)?.[1];
const strings = (xml: string | undefined): string[] => [...(xml ?? '').matchAll(/<string>([^<]*)<\/string>/g)].map((m) => m[1]!);
const sessionProp = async (session: string, field: string) => text(propVal(await props(session, 'currentSession'), 'currentSession') ?? '', field);

describe('users', () => {
  it('logs in the viewer, a second user, with its own password only', async () => {
    expect(h().viewerUsername).toBe('viewer');
    expect(await currentUser(h(), viewer)).toBe('viewer');
    expect((await login(h(), h().viewerUsername, 'wrong')).fault).toBe('InvalidLogin');
    expect((await login(h(), h().viewerUsername, h().password)).fault).toBe('InvalidLogin');
  });
});

describe('locales', () => {
  it('serves defaultLocale, supportedLocaleList and messageLocaleList', async () => {
    const xml = await props(admin, 'defaultLocale', 'supportedLocaleList', 'messageLocaleList');
    expect(propVal(xml, 'defaultLocale')).toBe('en');
    expect(strings(propVal(xml, 'supportedLocaleList'))).toEqual(expect.arrayContaining(['en', 'en_US', 'de', 'fr_CA', 'zh_CN']));
    expect(strings(propVal(xml, 'messageLocaleList'))).toEqual(expect.arrayContaining(['en', 'de', 'ja']));
  });

  it('SetLocale changes the session locale and messageLocale; unknown ones are InvalidLocale', async () => {
    const s = await sessionOf(h());
    expect((await soap(h(), 'SetLocale', `${SM}<locale>de_DE</locale>`, { session: s })).status).toBe(200);
    expect(await sessionProp(s, 'locale')).toBe('de_DE');
    expect(await sessionProp(s, 'messageLocale')).toBe('de');
    expect((await soap(h(), 'SetLocale', `${SM}<locale>xx_YY</locale>`, { session: s })).fault).toBe('InvalidLocale');
    expect((await soap(h(), 'SetLocale', `${SM}<locale></locale>`, { session: s })).fault).toBe('InvalidLocale');
    expect(await sessionProp(s, 'locale')).toBe('de_DE');
    expect((await soap(h(), 'SetLocale', `${SM}<locale>fr</locale>`)).fault).toBe('NotAuthenticated');
  });

  it('Login and the extension logins refuse an unknown locale with InvalidLocale', async () => {
    const res = await soap(h(), 'Login', `${SM}<userName>${h().username}</userName><password>${h().password}</password><locale>tlh</locale>`);
    expect(res.fault).toBe('InvalidLocale');
    expect(res.setSession).toBeUndefined();
    const ok = await soap(h(), 'Login', `${SM}<userName>${h().username}</userName><password>${h().password}</password><locale>ja</locale>`);
    expect(ok.status).toBe(200);
    expect(text(ok.body, 'locale')).toBe('ja');
    expect((await soap(h(), 'LoginExtensionByCertificate', `${SM}<extensionKey>k</extensionKey><locale>tlh</locale>`)).fault).toBe('InvalidLocale');
  });
});

describe('UpdateServiceMessage', () => {
  it('sets the message property, readable by every session; an empty message clears it', async () => {
    expect((await soap(h(), 'UpdateServiceMessage', `${SM}<message>${xmlEscape('Maintenance at 5 <UTC>\nsecond line')}</message>`, { session: admin })).status).toBe(200);
    // vcsim writes the newline as a character reference.
    expect(propVal(await props(viewer, 'message'), 'message')?.replace(/&#xA;/g, '\n')).toBe(xmlEscape('Maintenance at 5 <UTC>\nsecond line'));
    expect((await soap(h(), 'UpdateServiceMessage', `${SM}<message></message>`, { session: admin })).status).toBe(200);
    expect(propVal(await props(admin, 'message'), 'message')).toBeUndefined();
  });

  it('needs Sessions.GlobalMessage (NoPermission for the viewer) and a session', async () => {
    const res = await soap(h(), 'UpdateServiceMessage', `${SM}<message>x</message>`, { session: viewer });
    expect(res.fault).toBe('NoPermission');
    expect(text(res.body, 'privilegeId')).toBe('Sessions.GlobalMessage');
    expect(res.body).toContain('<object type="SessionManager">SessionManager</object>');
    const anonymous = await soap(h(), 'UpdateServiceMessage', `${SM}<message>x</message>`);
    expect(anonymous.fault).toBe('NotAuthenticated');
    expect(anonymous.body).toContain('<object type="SessionManager">SessionManager</object>');
  });
});

describe('ImpersonateUser', () => {
  it('makes the current session (same key) take the identity of a user with an active session', async () => {
    const other = await sessionOf(h(), h().viewerUsername, h().viewerPassword);
    const s = await sessionOf(h());
    const key = await sessionProp(s, 'key');
    const res = await soap(h(), 'ImpersonateUser', `${SM}<userName>viewer</userName><locale>fr</locale>`, { session: s });
    expect(res.status).toBe(200);
    expect(text(res.body, 'userName')).toBe('viewer');
    expect(text(res.body, 'key')).toBe(key);
    expect(text(res.body, 'locale')).toBe('fr');
    expect(res.setSession).toBeUndefined();
    expect(await currentUser(h(), s)).toBe('viewer');
    // Now it is the viewer, without Sessions.ImpersonateUser.
    const again = await soap(h(), 'ImpersonateUser', `${SM}<userName>${h().username}</userName>`, { session: s });
    expect(again.fault).toBe('NoPermission');
    expect(text(again.body, 'privilegeId')).toBe('Sessions.ImpersonateUser');
    await soap(h(), 'Logout', SM, { session: other });
    await soap(h(), 'Logout', SM, { session: s });
  });

  it('impersonates a registered extension key', async () => {
    const ext = '<extension><description><label>l</label><summary>s</summary></description><key>com.example.impersonated</key>' +
      '<company>Example</company><version>1.0</version><lastHeartbeatTime>2024-01-01T00:00:00Z</lastHeartbeatTime></extension>';
    expect((await soap(h(), 'RegisterExtension', EM + ext, { session: admin })).status).toBe(200);
    const s = await sessionOf(h());
    const res = await soap(h(), 'ImpersonateUser', `${SM}<userName>com.example.impersonated</userName>`, { session: s });
    expect(text(res.body, 'userName')).toBe('com.example.impersonated');
  });

  it('answers InvalidLogin for a user without an active session, InvalidLocale, NoPermission, NotAuthenticated', async () => {
    const s = await sessionOf(h());
    expect((await soap(h(), 'ImpersonateUser', `${SM}<userName>nobody</userName>`, { session: s })).fault).toBe('InvalidLogin');
    expect((await soap(h(), 'ImpersonateUser', `${SM}<userName>viewer</userName><locale>xx</locale>`, { session: s })).fault).toBe('InvalidLocale');
    expect((await soap(h(), 'ImpersonateUser', `${SM}<userName>${h().username}</userName>`, { session: viewer })).fault).toBe('NoPermission');
    expect((await soap(h(), 'ImpersonateUser', `${SM}<userName>${h().username}</userName>`)).fault).toBe('NotAuthenticated');
    expect(await currentUser(h(), s)).toBe(h().username);
  });

  it('does not count a clone ticket as an active session', async () => {
    // A clone ticket of the viewer is in vcsim's session table; the viewer's own sessions are gone.
    const v = await sessionOf(h(), h().viewerUsername, h().viewerPassword);
    const ticket = text((await soap(h(), 'AcquireCloneTicket', SM, { session: v })).body, 'returnval')!;
    const s = await sessionOf(h());
    await soap(h(), 'Logout', SM, { session: v });
    await soap(h(), 'Logout', SM, { session: viewer });
    try {
      expect(ticket).toBeTruthy();
      expect((await soap(h(), 'ImpersonateUser', `${SM}<userName>viewer</userName>`, { session: s })).fault).toBe('InvalidLogin');
    } finally {
      viewer = await sessionOf(h(), h().viewerUsername, h().viewerPassword);
    }
  });
});

describe('TerminateSession', () => {
  it('terminates the listed sessions in order, stopping at the first unknown id with NotFound', async () => {
    const a = await sessionOf(h());
    const b = await sessionOf(h());
    const c = await sessionOf(h());
    const res = await soap(h(), 'TerminateSession', `${SM}<sessionId>${a}</sessionId><sessionId>no-such-session</sessionId><sessionId>${b}</sessionId>`, { session: admin });
    expect(res.fault).toBe('NotFound');
    expect(await currentUser(h(), a)).toBeUndefined(); // before the unknown id: terminated
    expect(await currentUser(h(), b)).toBe(h().username); // after it: left alone
    expect((await soap(h(), 'TerminateSession', `${SM}<sessionId>${b}</sessionId><sessionId>${c}</sessionId>`, { session: admin })).status).toBe(200);
    expect(await currentUser(h(), b)).toBeUndefined();
    expect(await currentUser(h(), c)).toBeUndefined();
  });

  it('answers InvalidArgument for the caller\'s own session, after terminating those before it', async () => {
    const a = await sessionOf(h());
    const res = await soap(h(), 'TerminateSession', `${SM}<sessionId>${a}</sessionId><sessionId>${admin}</sessionId>`, { session: admin });
    expect(res.fault).toBe('InvalidArgument');
    expect(await currentUser(h(), a)).toBeUndefined();
    expect(await currentUser(h(), admin)).toBe(h().username);
  });

  it('treats an unredeemed clone ticket as an unknown id', async () => {
    const a = await sessionOf(h());
    const ticket = text((await soap(h(), 'AcquireCloneTicket', SM, { session: admin })).body, 'returnval')!;
    const res = await soap(h(), 'TerminateSession', `${SM}<sessionId>${a}</sessionId><sessionId>${ticket}</sessionId>`, { session: admin });
    expect(res.fault).toBe('NotFound');
    expect(await currentUser(h(), a)).toBeUndefined();
    // The ticket still works.
    const cloned = await soap(h(), 'CloneSession', `${SM}<cloneTicket>${ticket}</cloneTicket>`);
    expect(cloned.status).toBe(200);
  });

  it('needs Sessions.TerminateSession and a session', async () => {
    const a = await sessionOf(h());
    const res = await soap(h(), 'TerminateSession', `${SM}<sessionId>${a}</sessionId>`, { session: viewer });
    expect(res.fault).toBe('NoPermission');
    expect(text(res.body, 'privilegeId')).toBe('Sessions.TerminateSession');
    expect((await soap(h(), 'TerminateSession', `${SM}<sessionId>${a}</sessionId>`)).fault).toBe('NotAuthenticated');
    expect(await currentUser(h(), a)).toBe(h().username);
  });
});

describe('SessionIsActive', () => {
  it('is true for an active session of that user, false otherwise, never a fault', async () => {
    const a = await sessionOf(h());
    const ask = (id: string, user: string, session = admin) =>
      soap(h(), 'SessionIsActive', `${SM}<sessionID>${id}</sessionID><userName>${user}</userName>`, { session });
    expect(text((await ask(a, h().username)).body, 'returnval')).toBe('true');
    expect(text((await ask(a, 'viewer')).body, 'returnval')).toBe('false');
    expect(text((await ask('no-such-session', h().username)).body, 'returnval')).toBe('false');
    const ticket = text((await soap(h(), 'AcquireCloneTicket', SM, { session: a })).body, 'returnval')!;
    expect(text((await ask(ticket, h().username)).body, 'returnval')).toBe('false');
    await soap(h(), 'Logout', SM, { session: a });
    expect(text((await ask(a, h().username)).body, 'returnval')).toBe('false');
  });

  it('needs Sessions.ValidateSession and a session', async () => {
    const ask = (session?: string) =>
      soap(h(), 'SessionIsActive', `${SM}<sessionID>${admin}</sessionID><userName>${h().username}</userName>`, session === undefined ? {} : { session });
    expect((await ask(viewer)).fault).toBe('NoPermission');
    expect((await ask()).fault).toBe('NotAuthenticated');
  });
});

describe('extension sessions', () => {
  it('are privileged: an extension logged in by certificate impersonates a user', async () => {
    const cert = clientCertificate([{ shortName: 'CN', value: 'com.example.priv' }]);
    const ext = '<extension><description><label>l</label><summary>s</summary></description><key>com.example.priv</key>' +
      '<company>Example</company><version>1.0</version><lastHeartbeatTime>2024-01-01T00:00:00Z</lastHeartbeatTime></extension>';
    expect((await soap(h(), 'RegisterExtension', EM + ext, { session: admin })).status).toBe(200);
    expect((await soap(h(), 'SetExtensionCertificate', `${EM}<extensionKey>com.example.priv</extensionKey><certificatePem>${xmlEscape(cert.cert)}</certificatePem>`, { session: admin })).status).toBe(200);
    const login = await soap(h(), 'LoginExtensionByCertificate', `${SM}<extensionKey>com.example.priv</extensionKey>`, { cert: cert.cert, key: cert.key });
    expect(login.status).toBe(200);
    const res = await soap(h(), 'ImpersonateUser', `${SM}<userName>${h().username}</userName>`, { session: login.setSession! });
    expect(text(res.body, 'userName')).toBe(h().username);
  });
});
