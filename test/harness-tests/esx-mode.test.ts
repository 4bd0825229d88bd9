// ESX mode (vcsim's ESX model, about.apiType HostAgent) with the harness's additions kept:
// WSDL serving, control routes, observability, capture, ExtensionManager and the direct
// mutual-TLS extension login; and -instance-uuid.
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../fixtures.ts';
import { harnessReset, harnessStats, harnessUiToken } from '../harness/vcsim.ts';
import { clientCertificate, ownHarness, rawRequest, ref, rest, SI, soap, text, xmlEscape } from './raw.ts';
import { postEnvelope } from './wssec.ts';
import { smallWsdl } from '../harness/wsdl-docs.ts';

const SM = ref('SessionManager', 'ha-sessionmgr');
const EM = ref('ExtensionManager', 'ExtensionManager');
const captureDir = tempDir('vim25-esx-capture-');
// What the harness serves under /sdk/: a small WSDL of its own (the VMware bundle is not needed to test the serving).
const wsdlDir = tempDir('vim25-esx-wsdl-');
for (const [name, text] of Object.entries(smallWsdl(['RetrieveServiceContent', 'Login']))) writeFileSync(join(wsdlDir, name), text);

describe('ESX mode', () => {
  const harness = ownHarness({ esx: true, wsdlDir, captureDir, instanceUuid: '52a3c7ab-0000-4000-8000-00000000e5c1' });
  const h = () => harness().info;
  // raw.ts's helpers address vCenter's SessionManager; a host's is ha-sessionmgr.
  const sessionOf = async (): Promise<string> => {
    const res = await soap(h(), 'Login', `${SM}<userName>${h().username}</userName><password>${h().password}</password>`);
    expect(res.status, res.body).toBe(200);
    return res.setSession!;
  };

  it('reports apiType HostAgent, in the ready line and in about', async () => {
    expect(h().apiType).toBe('HostAgent');
    const content = await soap(h(), 'RetrieveServiceContent', SI);
    expect(text(content.body, 'apiType')).toBe('HostAgent');
    expect(text(content.body, 'apiVersion')).toBe(h().apiVersion);
    expect(text(content.body, 'instanceUuid')).toBe('52a3c7ab-0000-4000-8000-00000000e5c1');
    expect(h().instanceUuid).toBe('52a3c7ab-0000-4000-8000-00000000e5c1');
    expect(content.body).toContain('<sessionManager type="SessionManager">ha-sessionmgr</sessionManager>');
    expect(content.body).toContain('<extensionManager type="ExtensionManager">ExtensionManager</extensionManager>');
    expect(h().stsUrl).toBe('');
  });

  it('serves the WSDL files and the version file', async () => {
    const wsdl = await rawRequest(h(), '/sdk/vimService.wsdl');
    expect(wsdl.status).toBe(200);
    expect(wsdl.body).toContain('definitions');
    expect((await rawRequest(h(), '/sdk/vimServiceVersions.xml')).body).toContain(`<version>${h().apiVersion}</version>`);
  });

  it('logs in, counts and captures the requests', async () => {
    await harnessReset(h());
    const s = await sessionOf();
    const cur = await soap(h(), 'RetrievePropertiesEx',
      `${ref('PropertyCollector', 'ha-property-collector')}<specSet><propSet><type>SessionManager</type><pathSet>currentSession</pathSet></propSet>` +
      `<objectSet>${ref('SessionManager', 'ha-sessionmgr', 'obj')}</objectSet></specSet><options/>`, { session: s });
    expect(text(cur.body, 'userName')).toBe(h().username);
    const stats = await harnessStats(h());
    expect(stats.methods.Login).toBe(1);
    expect(stats.sessions).toBeGreaterThanOrEqual(1);
    expect(readdirSync(captureDir).some((f) => f.endsWith('-Login.xml'))).toBe(true);
  });

  it('keeps the ExtensionManager and the certificate login guards, for the direct mutual-TLS path', async () => {
    const admin = await sessionOf();
    const cert = clientCertificate([{ shortName: 'CN', value: 'com.example.esx' }]);
    const wrong = clientCertificate([{ shortName: 'CN', value: 'com.example.other' }]);
    const ext = '<extension><description><label>l</label><summary>s</summary></description><key>com.example.esx</key>' +
      '<company>Example</company><version>1.0</version><subjectName>CN=com.example.esx</subjectName><lastHeartbeatTime>2024-01-01T00:00:00Z</lastHeartbeatTime></extension>';
    expect((await soap(h(), 'RegisterExtension', EM + ext, { session: admin })).status).toBe(200);
    expect((await soap(h(), 'SetExtensionCertificate', `${EM}<extensionKey>com.example.esx</extensionKey><certificatePem>${xmlEscape(cert.cert)}</certificatePem>`, { session: admin })).status).toBe(200);
    const byCert = (c?: { cert: string; key: string }) => soap(h(), 'LoginExtensionByCertificate', `${SM}<extensionKey>com.example.esx</extensionKey>`, c ? { cert: c.cert, key: c.key } : {});
    const ok = await byCert(cert);
    expect(ok.status).toBe(200);
    expect(text(ok.body, 'userName')).toBe('com.example.esx');
    expect((await byCert(wrong)).fault).toBe('InvalidLogin');
    expect((await byCert()).fault).toBe('NoClientCertificate');
    const bySubject = await soap(h(), 'LoginExtensionBySubjectName', `${SM}<extensionKey>com.example.esx</extensionKey>`, { cert: cert.cert, key: cert.key });
    expect(text(bySubject.body, 'userName')).toBe('com.example.esx');
  });

  it('serves the SessionManager additions on ha-sessionmgr', async () => {
    const s = await sessionOf();
    const res = await soap(h(), 'SetLocale', `${SM}<locale>xx</locale>`, { session: s });
    expect(res.fault).toBe('InvalidLocale');
    const anonymous = await soap(h(), 'ImpersonateUser', `${SM}<userName>x</userName>`);
    expect(anonymous.fault).toBe('NotAuthenticated');
    expect(anonymous.body).toContain('<object type="SessionManager">ha-sessionmgr</object>');
    const ticket = await soap(h(), 'AcquireGenericServiceTicket',
      `${SM}<spec xsi:type="SessionManagerHttpServiceRequestSpec"><url>${xmlEscape('/folder/x.txt?dcPath=ha-datacenter&dsName=LocalDS_0')}</url></spec>`, { session: s });
    expect(text(ticket.body, 'id')).toBeTruthy();
    // No STS on a host: LoginByToken stays vcsim's.
    expect((await postEnvelope(h(), '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>' +
      `<LoginByToken xmlns="urn:vim25">${SM}</LoginByToken></soapenv:Body></soapenv:Envelope>`)).fault).toBe('InvalidLogin');
  });
});

describe('-instance-uuid in vCenter mode', () => {
  const harness = ownHarness({ instanceUuid: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee' });
  it('sets about.instanceUuid and the ready line', async () => {
    const h = harness().info;
    expect(h.apiType).toBe('VirtualCenter');
    expect(h.instanceUuid).toBe('aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee');
    expect(text((await soap(h, 'RetrieveServiceContent', SI)).body, 'instanceUuid')).toBe('aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee');
  });

  it('is the vc_guid the plug-in clone-ticket endpoint accepts', async () => {
    const h = harness().info;
    const { token } = await harnessUiToken(h);
    const ask = (vcGuid: string) => rest(h, 'POST', '/api/ui/vcenter/session/clone-ticket', { headers: { 'vmware-api-session-id': token }, json: { vc_guid: vcGuid } });
    expect((await ask('dbed6e0c-bd88-4ef6-b594-21283e1c677f')).status).toBe(404); // the model's default
    expect((await ask('aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee')).status).toBe(200);
  });
});
