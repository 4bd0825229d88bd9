// ExtensionManager and the extension logins, over raw SOAP with client certificates from node-forge.
import { beforeAll, describe, expect, it } from 'vitest';
import { harnessStats } from '../harness/vcsim.ts';
import { clientCertificate, currentTime, currentUser, EM, ownHarness, ref, sessionOf, SM, soap, text, tunnelSocket, xmlEscape, type ClientCertificate } from './raw.ts';

const harness = ownHarness();
let admin: string;
const h = () => harness().info;

const extension = (key: string, opts: { version?: string; subjectName?: string } = {}): string =>
  '<extension><description><label>vim25-soap harness test</label><summary>test extension</summary></description>' +
  `<key>${key}</key><company>Example</company><version>${opts.version ?? '1.0'}</version>` +
  (opts.subjectName === undefined ? '' : `<subjectName>${xmlEscape(opts.subjectName)}</subjectName>`) +
  '<lastHeartbeatTime>2024-01-01T00:00:00Z</lastHeartbeatTime></extension>';

const register = (key: string, opts: { version?: string; subjectName?: string } = {}, session = admin) =>
  soap(h(), 'RegisterExtension', EM + extension(key, opts), { session });
const find = (key: string) => soap(h(), 'FindExtension', `${EM}<extensionKey>${key}</extensionKey>`, { session: admin });
const setCertificate = (key: string, pem: string | undefined, client: Partial<ClientCertificate> = {}) =>
  soap(h(), 'SetExtensionCertificate', `${EM}<extensionKey>${key}</extensionKey>${pem === undefined ? '' : `<certificatePem>${xmlEscape(pem)}</certificatePem>`}`,
    { session: admin, ...(client.cert ? { cert: client.cert, key: client.key! } : {}) });
const loginByCertificate = (key: string, client?: ClientCertificate, socket?: Awaited<ReturnType<typeof tunnelSocket>>) =>
  soap(h(), 'LoginExtensionByCertificate', `${SM}<extensionKey>${key}</extensionKey>`,
    { ...(client ? { cert: client.cert, key: client.key } : {}), ...(socket ? { socket } : {}) });
const loginBySubjectName = (key: string, client?: ClientCertificate) =>
  soap(h(), 'LoginExtensionBySubjectName', `${SM}<extensionKey>${key}</extensionKey>`, client ? { cert: client.cert, key: client.key } : {});

// Subject attributes in conventional DER order (C first), so the RFC 4514 string starts with CN.
const subject = (cn: string) => [
  { shortName: 'C', value: 'US' },
  { shortName: 'O', value: 'Example' },
  { shortName: 'OU', value: 'Plugins' },
  { shortName: 'CN', value: cn },
];
let certA: ClientCertificate;
let certB: ClientCertificate;
let certSubject: ClientCertificate;

beforeAll(async () => {
  admin = await sessionOf(h());
  certA = clientCertificate(subject('ext-a'));
  certB = clientCertificate(subject('ext-b'));
  certSubject = clientCertificate(subject('com.example.subject'));
});

describe('ExtensionManager', () => {
  it('is in ServiceContent and needs a session', async () => {
    const content = await soap(h(), 'RetrieveServiceContent', ref('ServiceInstance', 'ServiceInstance'));
    expect(content.body).toContain('<extensionManager type="ExtensionManager">ExtensionManager</extensionManager>');
    const anonymous = await soap(h(), 'RegisterExtension', EM + extension('com.example.anon'));
    expect(anonymous.fault).toBe('NotAuthenticated');
  });

  it('registers, finds, lists, updates and unregisters extensions', async () => {
    expect((await register('com.example.crud')).status).toBe(200);
    expect((await register('com.example.crud')).fault).toBe('InvalidArgument');
    expect((await register('')).fault).toBe('InvalidArgument');

    const found = await find('com.example.crud');
    expect(found.status).toBe(200);
    expect(text(found.body, 'key')).toBe('com.example.crud');
    expect(text(found.body, 'version')).toBe('1.0');
    expect(text((await find('com.example.nobody')).body, 'key')).toBeUndefined();

    const list = await soap(h(), 'RetrievePropertiesEx',
      `${ref('PropertyCollector', 'propertyCollector')}<specSet><propSet><type>ExtensionManager</type><pathSet>extensionList</pathSet></propSet>` +
      `<objectSet>${ref('ExtensionManager', 'ExtensionManager', 'obj')}</objectSet></specSet><options/>`, { session: admin });
    expect(list.status).toBe(200);
    expect(list.body).toContain('<key>com.example.crud</key>');

    expect((await soap(h(), 'UpdateExtension', EM + extension('com.example.crud', { version: '2.0' }), { session: admin })).status).toBe(200);
    expect(text((await find('com.example.crud')).body, 'version')).toBe('2.0');
    expect((await soap(h(), 'UpdateExtension', EM + extension('com.example.nobody'), { session: admin })).fault).toBe('NotFound');

    expect((await soap(h(), 'UnregisterExtension', `${EM}<extensionKey>com.example.nobody</extensionKey>`, { session: admin })).fault).toBe('NotFound');
    expect((await soap(h(), 'UnregisterExtension', `${EM}<extensionKey>com.example.crud</extensionKey>`, { session: admin })).status).toBe(200);
    expect(text((await find('com.example.crud')).body, 'key')).toBeUndefined();
  });
});

describe('LoginExtensionByCertificate', () => {
  beforeAll(async () => {
    expect((await register('com.example.cert')).status).toBe(200);
    expect((await setCertificate('com.example.cert', certA.cert)).status).toBe(200);
    expect((await register('com.example.nocert')).status).toBe(200);
  });

  it('logs in with the certificate set by SetExtensionCertificate, as a real vcsim session', async () => {
    const before = await harnessStats(h());
    const res = await loginByCertificate('com.example.cert', certA);
    expect(res.status).toBe(200);
    expect(text(res.body, 'userName')).toBe('com.example.cert');
    expect(res.setSession).toBeTruthy();
    expect(await currentUser(h(), res.setSession!)).toBe('com.example.cert');
    expect((await currentTime(h(), res.setSession!)).status).toBe(200);
    expect((await harnessStats(h())).sessions).toBe(before.sessions + 1);
  });

  it('answers NoClientCertificate without a client certificate', async () => {
    expect((await loginByCertificate('com.example.cert')).fault).toBe('NoClientCertificate');
  });

  it('answers InvalidLogin for another certificate, an unknown key, or a key without a certificate', async () => {
    const wrong = await loginByCertificate('com.example.cert', certB);
    expect(wrong.fault).toBe('InvalidLogin');
    expect(wrong.setSession).toBeUndefined();
    expect((await loginByCertificate('com.example.nobody', certA)).fault).toBe('InvalidLogin');
    expect((await loginByCertificate('com.example.nocert', certA)).fault).toBe('InvalidLogin');
  });

  it('works inside the sdkTunnel, where the client certificate reaches the simulator', async () => {
    const socket = await tunnelSocket(h(), certA);
    const res = await loginByCertificate('com.example.cert', undefined, socket);
    expect(res.status, res.body).toBe(200);
    expect(text(res.body, 'userName')).toBe('com.example.cert');
  });

  it('SetExtensionCertificate refuses unknown keys and non-certificates', async () => {
    expect((await setCertificate('com.example.nobody', certA.cert)).fault).toBe('NotFound');
    expect((await setCertificate('com.example.cert', 'not a certificate')).fault).toBe('InvalidArgument');
    expect((await setCertificate('com.example.cert', certA.key)).fault).toBe('InvalidArgument');
  });

  it('SetExtensionCertificate without a PEM takes the certificate the caller connected with', async () => {
    expect((await register('com.example.conncert')).status).toBe(200);
    expect((await setCertificate('com.example.conncert', undefined)).fault).toBe('NoClientCertificate');
    expect((await setCertificate('com.example.conncert', undefined, certB)).status).toBe(200);
    expect((await loginByCertificate('com.example.conncert', certB)).status).toBe(200);
    expect((await loginByCertificate('com.example.conncert', certA)).fault).toBe('InvalidLogin');
  });
});

describe('LoginExtensionBySubjectName', () => {
  beforeAll(async () => {
    // The format compared: RFC 4514, most specific RDN first (reverse DER order).
    expect((await register('com.example.subject', { subjectName: 'CN=com.example.subject,OU=Plugins,O=Example,C=US' })).status).toBe(200);
    expect((await register('com.example.spaced', { subjectName: 'cn=com.example.subject, OU=Plugins, O=Example, C=US' })).status).toBe(200);
    expect((await register('com.example.nosubject')).status).toBe(200);
  });

  it('logs in with a certificate whose subject is the registered subjectName', async () => {
    const res = await loginBySubjectName('com.example.subject', certSubject);
    expect(res.status).toBe(200);
    expect(res.body).toContain('<LoginExtensionBySubjectNameResponse xmlns="urn:vim25">');
    expect(text(res.body, 'userName')).toBe('com.example.subject');
    expect(await currentUser(h(), res.setSession!)).toBe('com.example.subject');
  });

  it('ignores blanks after commas and the case of attribute types', async () => {
    expect((await loginBySubjectName('com.example.spaced', certSubject)).status).toBe(200);
  });

  it('answers InvalidLogin for another subject or an unknown key', async () => {
    expect((await loginBySubjectName('com.example.subject', certA)).fault).toBe('InvalidLogin');
    expect((await loginBySubjectName('com.example.nobody', certSubject)).fault).toBe('InvalidLogin');
  });

  it('answers NoClientCertificate without a certificate and NoSubjectName for an extension without one', async () => {
    expect((await loginBySubjectName('com.example.subject')).fault).toBe('NoClientCertificate');
    expect((await loginBySubjectName('com.example.nosubject', certSubject)).fault).toBe('NoSubjectName');
  });
});
