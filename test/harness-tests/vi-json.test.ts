// The harness's VI/JSON API (vCenter 8.0 U1+, test/vcsim/vi_json.go), driven with raw HTTP: the
// JSON wire beside SOAP, unified sessions across both, the conformance capture of the SOAP each
// JSON request becomes, and the seed's JSON logins (LoginExtensionByCertificate over mutual TLS,
// LoginBySSPI's challenge loop).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type tls from 'node:tls';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { validateEnvelopes } from '../conformance/oracle.ts';
import { tempDir } from '../fixtures.ts';
import {
  Harness, harnessDrop, harnessReset, harnessSetSspi, harnessSetViJson, harnessStats, harnessUnavailable, sspiFirstToken, sspiResponseToken,
  type HarnessInfo,
} from '../harness/vcsim.ts';
import { harnessDeny } from '../harness/inventory.ts';
import { clientCertificate, currentUser, ownHarness, rawRequest, rest, sessionOf, soap, text, tunnelSocket, type ClientCertificate, type RawResponse } from './raw.ts';

/** A JSON answer, checked field by field. */
type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

interface JsonResponse extends RawResponse {
  json: Json;
  /** The vmware-api-session-id response header, when the server sent one. */
  sessionId?: string;
}

interface JsonOptions {
  session?: string;
  json?: unknown;
  body?: string;
  contentType?: string;
  release?: string;
  cert?: string;
  key?: string;
  socket?: tls.TLSSocket;
}

/** One request to the JSON API: `path` is {Type}/{moId}/{method or property}. */
async function vj(h: HarnessInfo, method: string, path: string, options: JsonOptions = {}): Promise<JsonResponse> {
  const body = options.json === undefined ? options.body : JSON.stringify(options.json);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  if (options.session !== undefined) headers['vmware-api-session-id'] = options.session;
  const res = await rawRequest(h, `/sdk/vim25/${options.release ?? h.apiVersion}/${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
    ...(options.cert === undefined ? {} : { cert: options.cert, key: options.key! }),
    ...(options.socket === undefined ? {} : { socket: options.socket }),
  });
  let json: Json;
  try {
    json = res.body ? JSON.parse(res.body) : undefined;
  } catch {
    json = undefined;
  }
  const sessionId = res.headers['vmware-api-session-id'];
  return { ...res, json, ...(typeof sessionId === 'string' ? { sessionId } : {}) };
}

const moref = (type: string, value: string) => ({ _typeName: 'ManagedObjectReference', type, value });
const get = (h: HarnessInfo, path: string, session?: string) => vj(h, 'GET', path, session === undefined ? {} : { session });
const post = (h: HarnessInfo, path: string, json: unknown, session?: string) => vj(h, 'POST', path, { json, ...(session === undefined ? {} : { session }) });
const jsonLogin = (h: HarnessInfo, userName = h.username, password = h.password) => post(h, 'SessionManager/SessionManager/Login', { userName, password });

async function sessionByJson(h: HarnessInfo): Promise<string> {
  const res = await jsonLogin(h);
  expect(res.status, res.body).toBe(200);
  return res.sessionId!;
}

/** The JSON a fault answer must be: HTTP 500, application/json, the fault object with faultstring. */
function expectFault(res: JsonResponse, typeName: string): Json {
  expect(res.status, res.body).toBe(500);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.json._typeName).toBe(typeName);
  expect(typeof res.json.faultstring).toBe('string');
  return res.json;
}

// One harness for the calls, sessions and seed flows; the switch and the capture have their own.
const harness = ownHarness();
const h = () => harness().info;

describe('the JSON API', () => {
  let session: string;
  beforeAll(async () => {
    session = await sessionByJson(h());
  });

  it('serves ServiceContent by GET without a session', async () => {
    expect(h().viJsonReleases).toEqual(['8.0.1.0', '8.0.2.0']);
    for (const release of h().viJsonReleases) {
      const res = await vj(h(), 'GET', 'ServiceInstance/ServiceInstance/content', { release });
      expect(res.status, release).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.json._typeName).toBe('ServiceContent');
      expect(res.json.about).toMatchObject({ _typeName: 'AboutInfo', apiVersion: h().apiVersion, apiType: 'VirtualCenter' });
      expect(res.json.sessionManager).toEqual(moref('SessionManager', 'SessionManager'));
      expect(res.json.rootFolder).toEqual(moref('Folder', 'group-d1'));
    }
  });

  it('logs in by POST and answers the session id in vmware-api-session-id', async () => {
    const res = await jsonLogin(h());
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ _typeName: 'UserSession', userName: h().username, extensionSession: false });
    expect(res.sessionId).toBe(res.json.key);
    expect(Date.parse(res.json.loginTime)).toBeGreaterThan(Date.now() - 60_000);
    expect(res.headers['set-cookie']).toBeUndefined();

    const wrong = await jsonLogin(h(), h().username, 'wrong');
    expectFault(wrong, 'InvalidLogin');
    expect(wrong.sessionId).toBeUndefined();
  });

  it('reads properties by GET: the value itself, 204 when unset, a fault without a session', async () => {
    const children = await get(h(), 'Folder/group-d1/childEntity', session);
    expect(children.status).toBe(200);
    expect(children.json).toEqual([expect.objectContaining({ _typeName: 'ManagedObjectReference', type: 'Datacenter' })]);
    expect((await get(h(), 'Folder/group-d1/name', session)).json).toBe('Datacenters');
    const unset = await get(h(), 'SessionManager/SessionManager/message', session);
    expect(unset.status).toBe(204);
    expect(unset.body).toBe('');
    expect((await get(h(), 'SessionManager/SessionManager/currentSession', session)).json).toMatchObject({ _typeName: 'UserSession', key: session });

    expect(expectFault(await get(h(), 'Folder/group-d1/name', undefined), 'NotAuthenticated').object).toEqual(moref('Folder', 'group-d1'));
    expect(expectFault(await get(h(), 'Folder/group-d1/noSuchProperty', session), 'InvalidProperty').name).toBe('noSuchProperty');
    expect(expectFault(await get(h(), 'Folder/group-nope/name', session), 'ManagedObjectNotFound').obj).toEqual(moref('Folder', 'group-nope'));
  });

  it('runs RetrievePropertiesEx with a TraversalSpec, a subtype named by _typeName, in the spec', async () => {
    const res = await post(h(), 'PropertyCollector/propertyCollector/RetrievePropertiesEx', {
      specSet: [{
        propSet: [{ type: 'Datacenter', pathSet: ['name', 'vmFolder'] }],
        objectSet: [{
          obj: moref('Folder', 'group-d1'),
          skip: true,
          selectSet: [{ _typeName: 'TraversalSpec', name: 'children', type: 'Folder', path: 'childEntity', skip: false }],
        }],
      }],
      options: { _typeName: 'RetrieveOptions' },
    }, session);
    expect(res.status, res.body).toBe(200);
    expect(res.json._typeName).toBe('RetrieveResult');
    const [dc] = res.json.objects;
    expect(dc.obj.type).toBe('Datacenter');
    const props = Object.fromEntries(dc.propSet.map((p: Json) => [p.name, p.val]));
    expect(props.name).toEqual({ _typeName: 'string', _value: 'DC0' });
    expect(props.vmFolder).toMatchObject({ _typeName: 'ManagedObjectReference', type: 'Folder' });
  });

  it('calls a task method and reads the task\'s info', async () => {
    const dc = (await get(h(), 'Folder/group-d1/childEntity', session)).json[0];
    const vmFolder = (await get(h(), `Datacenter/${dc.value}/vmFolder`, session)).json;
    const vm = (await get(h(), `Folder/${vmFolder.value}/childEntity`, session)).json.find((r: Json) => r.type === 'VirtualMachine');
    const started = await post(h(), `VirtualMachine/${vm.value}/PowerOffVM_Task`, {}, session);
    expect(started.status, started.body).toBe(200);
    expect(started.json).toMatchObject({ _typeName: 'ManagedObjectReference', type: 'Task' });
    const info = await get(h(), `Task/${started.json.value}/info`, session);
    expect(info.status).toBe(200);
    expect(info.json).toMatchObject({ _typeName: 'TaskInfo', key: started.json.value, state: 'success', entity: moref('VirtualMachine', vm.value), descriptionId: 'VirtualMachine.powerOff' });
    expect(info.json.completeTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    expect((await get(h(), `VirtualMachine/${vm.value}/runtime`, session)).json).toMatchObject({ _typeName: 'VirtualMachineRuntimeInfo', powerState: 'poweredOff' });
    // A task that fails: its info carries the fault, with _typeName, as the error's fault.
    const again = await post(h(), `VirtualMachine/${vm.value}/PowerOffVM_Task`, {}, session);
    const failed = (await get(h(), `Task/${again.json.value}/info`, session)).json;
    expect(failed).toMatchObject({ state: 'error', error: { _typeName: 'LocalizedMethodFault', fault: { _typeName: 'InvalidPowerState' } } });
  });

  it('answers a fault as HTTP 500 JSON with the fault\'s _typeName and fields', async () => {
    const setting = (await get(h(), 'ServiceInstance/ServiceInstance/content')).json.setting;
    const res = await post(h(), `OptionManager/${setting.value}/QueryOptions`, { name: 'no.such.option.' }, session);
    expect(expectFault(res, 'InvalidName')).toMatchObject({ name: 'no.such.option.' });
    const anonymous = await post(h(), `OptionManager/${setting.value}/QueryOptions`, { name: 'config.' });
    expect(expectFault(anonymous, 'NotAuthenticated')).toMatchObject({ object: moref('OptionManager', setting.value), privilegeId: 'System.View' });
  });

  it('boxes anyType values both ways: OptionValue values through UpdateOptions and QueryOptions, and as SOAP sees them', async () => {
    const setting = (await get(h(), 'ServiceInstance/ServiceInstance/content')).json.setting;
    const values = [
      { _typeName: 'OptionValue', key: 'config.harness.box.int', value: { _typeName: 'int', _value: 5 } },
      { key: 'config.harness.box.bool', value: { _typeName: 'boolean', _value: true } },
      { key: 'config.harness.box.str', value: { _typeName: 'string', _value: 'a<b' } },
      { key: 'config.harness.box.strs', value: { _typeName: 'ArrayOfString', _value: ['x', 'y'] } },
      { key: 'config.harness.box.ref', value: moref('Folder', 'group-d1') },
    ];
    const updated = await post(h(), `OptionManager/${setting.value}/UpdateOptions`, { changedValue: values }, session);
    expect(updated.status, updated.body).toBe(204);
    expect(updated.body).toBe('');
    const read = await post(h(), `OptionManager/${setting.value}/QueryOptions`, { name: 'config.harness.box.' }, session);
    expect(read.status).toBe(200);
    expect(read.json).toEqual(values.map((v) => ({ ...v, _typeName: 'OptionValue' })));

    const bySoap = await soap(h(), 'QueryOptions', `<_this type="OptionManager">${setting.value}</_this><name>config.harness.box.int</name>`, { session });
    expect(bySoap.body).toMatch(/<value [\w-]+:type="xsd:int">5<\/value>/);

    // An anyType value without _typeName, or one of a type that does not fit, is refused.
    const untyped = await post(h(), `OptionManager/${setting.value}/UpdateOptions`, { changedValue: [{ key: 'config.harness.box.bad', value: 5 }] }, session);
    expect(untyped.status).toBe(400);
    expect(untyped.json).toMatchObject({ _typeName: 'InvalidRequest' });
    const overflow = await post(h(), `OptionManager/${setting.value}/UpdateOptions`, { changedValue: [{ key: 'k', value: { _typeName: 'int', _value: 2 ** 31 } }] }, session);
    expect(overflow.status).toBe(400);
  });

  it('emits a long beyond 2^53 exactly, as an integer', async () => {
    const setting = (await get(h(), 'ServiceInstance/ServiceInstance/content')).json.setting;
    const big = '9007199254740993'; // 2^53 + 1: a float64 would make it ...992
    const body = `{"changedValue":[{"_typeName":"OptionValue","key":"config.harness.json.long","value":{"_typeName":"long","_value":${big}}}]}`;
    expect((await vj(h(), 'POST', `OptionManager/${setting.value}/UpdateOptions`, { body, session })).status).toBe(204);
    const read = await post(h(), `OptionManager/${setting.value}/QueryOptions`, { name: 'config.harness.json.long' }, session);
    expect(read.body).toContain(`"value":{"_typeName":"long","_value":${big}}`);
    const bySoap = await soap(h(), 'QueryOptions', `<_this type="OptionManager">${setting.value}</_this><name>config.harness.json.long</name>`, { session });
    expect(bySoap.body).toMatch(new RegExp(`<value [\\w-]+:type="xsd:long">${big}</value>`));
  });

  it('refuses what it cannot turn into SOAP, before the simulator sees it', async () => {
    const before = (await harnessStats(h())).viJson.refused;
    const login = 'SessionManager/SessionManager/Login';
    const badJson = await vj(h(), 'POST', login, { body: '{"userName":' });
    expect(badJson.status).toBe(400);
    expect(badJson.json).toMatchObject({ _typeName: 'InvalidRequest' });
    expect((await post(h(), login, { userName: 'u', password: 'p', passwd: 'p' })).json.faultstring).toMatch(/unknown property "passwd"/);
    expect((await post(h(), login, { userName: 5, password: 'p' })).status).toBe(400);
    expect((await post(h(), login, ['u', 'p'])).status).toBe(400);
    const wrongSubtype = await post(h(), 'PropertyCollector/propertyCollector/RetrievePropertiesEx', {
      specSet: [{ propSet: [{ type: 'Folder' }], objectSet: [{ obj: moref('Folder', 'group-d1'), selectSet: [{ _typeName: 'ObjectSpec' }] }] }],
      options: {},
    }, session);
    expect(wrongSubtype.status).toBe(400);
    expect(wrongSubtype.json.faultstring).toMatch(/ObjectSpec.*not SelectionSpec or a subtype/);
    expect((await vj(h(), 'POST', login, { body: 'userName=u', contentType: 'application/x-www-form-urlencoded' })).status).toBe(415);
    expect((await post(h(), 'SessionManager/SessionManager/NoSuchMethod', {})).status).toBe(404);
    const unknownRelease = await vj(h(), 'GET', 'ServiceInstance/ServiceInstance/content', { release: '7.0.3.0' });
    expect(unknownRelease.status).toBe(404);
    expect(unknownRelease.json).toMatchObject({ error_type: 'NOT_FOUND' });
    expect((await vj(h(), 'GET', 'ServiceInstance/ServiceInstance/content', { release: '9.0.0.0' })).status).toBe(404);
    const del = await vj(h(), 'DELETE', 'ServiceInstance/ServiceInstance/content');
    expect(del.status).toBe(405);
    expect(del.headers.allow).toBe('GET, POST');
    expect((await harnessStats(h())).viJson.refused - before).toBe(10);
  });

  it('lets the fault switches hit JSON requests as they hit SOAP ones', async () => {
    await harnessUnavailable(h(), 1);
    const page = await get(h(), 'Folder/group-d1/name', session);
    expect(page.status).toBe(503);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    await harnessDrop(h(), 1, 'request', 'RetrievePropertiesEx');
    await expect(get(h(), 'Folder/group-d1/name', session)).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect((await get(h(), 'Folder/group-d1/name', session)).status).toBe(200);
    await harnessReset(h());
  });
});

describe('unified sessions: one session on both wires', () => {

  it('takes a SOAP session as vmware-api-session-id', async () => {
    const soapSession = await sessionOf(h());
    const res = await get(h(), 'SessionManager/SessionManager/currentSession', soapSession);
    expect(res.json).toMatchObject({ _typeName: 'UserSession', key: soapSession, userName: h().username });
  });

  it('takes a JSON session as the vmware_soap_session cookie, and a JSON Logout ends it on both', async () => {
    const jsonSession = await sessionByJson(h());
    expect(await currentUser(h(), jsonSession)).toBe(h().username);
    expect((await soap(h(), 'CurrentTime', '<_this type="ServiceInstance">ServiceInstance</_this>', { session: jsonSession })).status).toBe(200);
    const out = await post(h(), 'SessionManager/SessionManager/Logout', {}, jsonSession);
    expect(out.status).toBe(204);
    expect((await soap(h(), 'CurrentTime', '<_this type="ServiceInstance">ServiceInstance</_this>', { session: jsonSession })).fault).toBe('NotAuthenticated');
    expectFault(await post(h(), 'ServiceInstance/ServiceInstance/CurrentTime', {}, jsonSession), 'NotAuthenticated');
  });

  it('takes a vAPI session (/api/session) too, and ignores a cookie sent to the JSON API', async () => {
    const basic = { authorization: `Basic ${Buffer.from(`${h().username}:${h().password}`).toString('base64')}` };
    const vapi = (await rest(h(), 'POST', '/api/session', { headers: basic })).json as string;
    expect((await post(h(), 'ServiceInstance/ServiceInstance/CurrentTime', {}, vapi)).status).toBe(200);
    const time = await post(h(), 'ServiceInstance/ServiceInstance/CurrentTime', {}, vapi);
    expect(typeof time.json).toBe('string');
    const byCookie = await rawRequest(h(), `/sdk/vim25/${h().apiVersion}/ServiceInstance/ServiceInstance/CurrentTime`, { method: 'POST', headers: { cookie: `vmware_soap_session=${vapi}` } });
    expect(byCookie.status).toBe(500);
    expect(JSON.parse(byCookie.body)._typeName).toBe('NotAuthenticated');
  });

  it('CloneSession over JSON answers the new session in the header', async () => {
    const session = await sessionByJson(h());
    const ticket = await post(h(), 'SessionManager/SessionManager/AcquireCloneTicket', {}, session);
    expect(typeof ticket.json).toBe('string');
    const cloned = await post(h(), 'SessionManager/SessionManager/CloneSession', { cloneTicket: ticket.json });
    expect(cloned.status).toBe(200);
    expect(cloned.sessionId).toBeTruthy();
    expect(cloned.sessionId).not.toBe(session);
    expect(await currentUser(h(), cloned.sessionId!)).toBe(h().username);
  });
});

describe('the switch', () => {
  const harness = ownHarness({ viJson: false });
  const h = () => harness().info;

  it('off: every /sdk/vim25/ path answers 404, as a vCenter without the JSON API; SOAP is unaffected', async () => {
    expect((await harnessStats(h())).viJson.enabled).toBe(false);
    expect((await get(h(), 'ServiceInstance/ServiceInstance/content')).status).toBe(404);
    expect((await jsonLogin(h())).status).toBe(404);
    expect((await rawRequest(h(), '/sdk/vim25/')).status).toBe(404);
    expect((await rawRequest(h(), `/sdk/vim25/${h().apiVersion}/SessionManager/SessionManager/Login`, { method: 'POST', body: '{}' })).status).toBe(404);
    expect((await sessionOf(h())).length).toBeGreaterThan(0);
  });

  it('switches at run time through the control API, and reset restores the startup value', async () => {
    await harnessSetViJson(h(), true);
    expect((await get(h(), 'ServiceInstance/ServiceInstance/content')).status).toBe(200);
    expect((await harnessStats(h())).viJson.enabled).toBe(true);
    await harnessReset(h());
    expect((await get(h(), 'ServiceInstance/ServiceInstance/content')).status).toBe(404);
  });

  it('is off by default in ESX mode (the JSON API is vCenter\'s), and works there when switched on', async () => {
    const esx = await Harness.start({ esx: true, captureDir: '', inventory: { vms: 1 } });
    try {
      expect((await harnessStats(esx.info)).viJson.enabled).toBe(false);
      expect((await get(esx.info, 'ServiceInstance/ServiceInstance/content')).status).toBe(404);
      await harnessSetViJson(esx.info, true);
      const content = await get(esx.info, 'ServiceInstance/ServiceInstance/content');
      expect(content.json.about.apiType).toBe('HostAgent');
      const login = await post(esx.info, `SessionManager/${content.json.sessionManager.value}/Login`, { userName: esx.info.username, password: esx.info.password });
      expect(content.json.sessionManager.value).toBe('ha-sessionmgr');
      const session = login.sessionId!;
      const root = await get(esx.info, `Folder/${content.json.rootFolder.value}/childEntity`, session);
      expect(root.json).toEqual([moref('Datacenter', 'ha-datacenter')]);
    } finally {
      await esx.stop();
    }
  });

  it('serves no release below 8.0.1.0', async () => {
    const old = await Harness.start({ apiVersion: '7.0.3.0', captureDir: '' });
    try {
      expect(old.info.viJsonReleases).toEqual([]);
      expect((await vj(old.info, 'GET', 'ServiceInstance/ServiceInstance/content', { release: '8.0.1.0' })).status).toBe(404);
    } finally {
      await old.stop();
    }
  });
});

describe('conformance: the SOAP each JSON request becomes is captured for xmllint', () => {
  const captureDir = tempDir('vi-json-capture-');
  const harness = ownHarness({ captureDir });
  const h = () => harness().info;
  const captured = () => readdirSync(captureDir).filter((n) => n.endsWith('.xml')).sort();

  it('captures well-formed SOAP that validates against the vim25 schema', async () => {
    const before = new Set(captured());
    const session = await sessionByJson(h());
    const traversal = await post(h(), 'PropertyCollector/propertyCollector/RetrievePropertiesEx', {
      specSet: [{
        propSet: [{ type: 'Datacenter', pathSet: ['name'] }],
        objectSet: [{ obj: moref('Folder', 'group-d1'), skip: true, selectSet: [{ _typeName: 'TraversalSpec', type: 'Folder', path: 'childEntity', skip: false }] }],
      }],
      options: {},
    }, session);
    expect(traversal.status).toBe(200);
    const setting = (await get(h(), 'ServiceInstance/ServiceInstance/content')).json.setting;
    expect((await post(h(), `OptionManager/${setting.value}/UpdateOptions`, {
      changedValue: [{ key: 'config.harness.capture', value: { _typeName: 'long', _value: 1 } }],
    }, session)).status).toBe(204);
    expect((await get(h(), 'Folder/group-d1/name', session)).status).toBe(200);

    const names = captured().filter((n) => !before.has(n));
    expect(names.map((n) => n.replace(/^\d+-\d+-/, ''))).toEqual(
      ['Login.xml', 'RetrievePropertiesEx.xml', 'RetrieveServiceContent.xml', 'UpdateOptions.xml', 'RetrievePropertiesEx.xml'],
    );
    const login = readFileSync(join(captureDir, names.find((n) => n.endsWith('-Login.xml'))!), 'utf8');
    expect(login).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<soapenv:Envelope [^>]*><soapenv:Body><Login xmlns="urn:vim25"><_this type="SessionManager">SessionManager<\/_this><userName>/);
    const traversalXml = names.map((n) => readFileSync(join(captureDir, n), 'utf8')).find((x) => x.includes('TraversalSpec'))!;
    expect(traversalXml).toContain('<selectSet xsi:type="TraversalSpec"><type>Folder</type><path>childEntity</path><skip>false</skip></selectSet>');

    const verdicts = await validateEnvelopes(names.map((n) => join(captureDir, n)), tempDir('vi-json-operations-'));
    expect(verdicts.filter((v) => !v.valid)).toEqual([]);
  });

  it('a request missing a required parameter reaches the simulator as over SOAP, and its capture fails validation', async () => {
    const before = new Set(captured());
    const res = await post(h(), 'SessionManager/SessionManager/Login', { userName: h().username });
    expectFault(res, 'InvalidLogin');
    const added = captured().filter((n) => !before.has(n));
    expect(added).toHaveLength(1);
    const [verdict] = await validateEnvelopes(added.map((n) => join(captureDir, n)), tempDir('vi-json-operations-'));
    expect(verdict!.valid).toBe(false);
    expect(verdict!.messages.join('\n')).toMatch(/password/);
  });

  it('a request with a wrong type or field is refused and never captured', async () => {
    const before = captured().length;
    expect((await post(h(), 'SessionManager/SessionManager/Login', { userName: h().username, password: h().password, user: 'x' })).status).toBe(400);
    expect((await post(h(), 'SessionManager/SessionManager/Login', { userName: h().username, password: 7 })).status).toBe(400);
    expect(captured()).toHaveLength(before);
    expect(existsSync(captureDir)).toBe(true);
  });
});

describe('the seed flows in JSON form', () => {
  let admin: string;
  let cert: ClientCertificate;
  let other: ClientCertificate;
  const key = 'com.example.json.cert';
  const loginByCertificate = (options: JsonOptions = {}) =>
    vj(h(), 'POST', 'SessionManager/SessionManager/LoginExtensionByCertificate', { json: { extensionKey: key, locale: 'en' }, ...options });

  beforeAll(async () => {
    admin = await sessionByJson(h());
    cert = clientCertificate([{ shortName: 'CN', value: 'json-ext' }]);
    other = clientCertificate([{ shortName: 'CN', value: 'json-other' }]);
    const registered = await post(h(), 'ExtensionManager/ExtensionManager/RegisterExtension', {
      extension: {
        _typeName: 'Extension',
        description: { _typeName: 'Description', label: 'JSON test', summary: 'registered over VI/JSON' },
        key,
        company: 'Example',
        version: '1.0',
        lastHeartbeatTime: '2024-01-01T00:00:00Z',
      },
    }, admin);
    expect(registered.status, registered.body).toBe(204);
    const set = await post(h(), 'ExtensionManager/ExtensionManager/SetExtensionCertificate', { extensionKey: key, certificatePem: cert.cert }, admin);
    expect(set.status, set.body).toBe(204);
  });

  it('LoginExtensionByCertificate over mutual TLS answers a session, usable on both wires', async () => {
    const res = await loginByCertificate({ cert: cert.cert, key: cert.key });
    expect(res.status, res.body).toBe(200);
    expect(res.json).toMatchObject({ _typeName: 'UserSession', userName: key });
    expect(res.sessionId).toBe(res.json.key);
    expect(await currentUser(h(), res.sessionId!)).toBe(key);
    expect((await get(h(), 'SessionManager/SessionManager/currentSession', res.sessionId!)).json.userName).toBe(key);
  });

  it('LoginExtensionByCertificate inside the sdkTunnel', async () => {
    const socket = await tunnelSocket(h(), cert);
    const res = await loginByCertificate({ socket });
    expect(res.status, res.body).toBe(200);
    expect(res.json.userName).toBe(key);
    expect(res.sessionId).toBeTruthy();
  });

  it('LoginExtensionByCertificate without a certificate or with another: NoClientCertificate, InvalidLogin', async () => {
    expectFault(await loginByCertificate(), 'NoClientCertificate');
    expectFault(await loginByCertificate({ cert: other.cert, key: other.key }), 'InvalidLogin');
  });

  describe('LoginBySSPI', () => {
    afterEach(() => harnessReset(h()));
    const sspi = (base64Token: string) => post(h(), 'SessionManager/SessionManager/LoginBySSPI', { base64Token });

    it('answers SSPIChallenge with the token as a 500 fault, then the session in the header', async () => {
      const first = await sspi(sspiFirstToken(h().username));
      const challenge = expectFault(first, 'SSPIChallenge');
      expect(first.sessionId).toBeUndefined();
      expect(Buffer.from(challenge.base64Token, 'base64').toString()).toMatch(/^challenge:[0-9a-f]{32}$/);
      const second = await sspi(sspiResponseToken(challenge.base64Token, h().username));
      expect(second.status, second.body).toBe(200);
      expect(second.json).toMatchObject({ _typeName: 'UserSession', userName: h().username });
      expect(second.sessionId).toBe(second.json.key);
      expect(await currentUser(h(), second.sessionId!)).toBe(h().username);
      expect((await harnessStats(h())).sspiLogins).toBe(1);
    });

    it('refuses a wrong answer with InvalidLogin, and answers NotSupported when SSPI is off', async () => {
      const challenge = expectFault(await sspi(sspiFirstToken(h().username)), 'SSPIChallenge').base64Token as string;
      expectFault(await sspi(sspiResponseToken(challenge, h().viewerUsername)), 'InvalidLogin');
      await harnessSetSspi(h(), false);
      expectFault(await sspi(sspiFirstToken(h().username)), 'NotSupported');
    });
  });

  it('LoginByToken cannot carry a token in JSON (the programming guide: SAML logins use SOAP): InvalidLogin', async () => {
    expectFault(await post(h(), 'SessionManager/SessionManager/LoginByToken', {}), 'InvalidLogin');
  });

  it('the SOAP view of what the JSON calls did agrees', async () => {
    const found = await soap(h(), 'FindExtension', `<_this type="ExtensionManager">ExtensionManager</_this><extensionKey>${key}</extensionKey>`, { session: admin });
    expect(text(found.body, 'label')).toBe('JSON test');
  });
});

describe('property reads by GET: the RetrievePropertiesEx of that one property', () => {
  // Its own harness: the GETs are counted, and a property is denied.
  const harness = ownHarness({ inventory: { vms: 2 } });
  const h = () => harness().info;
  let session: string;
  let vms: string[];
  beforeAll(async () => {
    session = await sessionByJson(h());
    const found = await post(h(), 'PropertyCollector/propertyCollector/RetrievePropertiesEx', {
      specSet: [{
        propSet: [{ type: 'VirtualMachine', pathSet: [] }],
        objectSet: [{ obj: moref('Folder', 'group-d1'), skip: true, selectSet: [
          { _typeName: 'TraversalSpec', name: 'f', type: 'Folder', path: 'childEntity', skip: false, selectSet: [{ name: 'f' }, { name: 'd' }] },
          { _typeName: 'TraversalSpec', name: 'd', type: 'Datacenter', path: 'vmFolder', skip: false, selectSet: [{ name: 'f' }] },
        ] }],
      }],
      options: {},
    }, session);
    vms = (found.json.objects as { obj: { value: string } }[]).map((o) => o.obj.value);
    expect(vms.length).toBeGreaterThanOrEqual(2);
  });
  const reads = async () => (await harnessStats(h())).viJson.propertyReads;

  it('counts each GET it hands on in viJson.propertyReads; a POST or a refused GET is not one', async () => {
    const before = await harnessStats(h());
    expect((await get(h(), `VirtualMachine/${vms[0]}/name`, session)).status).toBe(200);
    expect((await get(h(), `VirtualMachine/${vms[0]}/runtime`, session)).status).toBe(200);
    expect((await post(h(), 'ServiceInstance/ServiceInstance/CurrentTime', {}, session)).status).toBe(200);
    expect((await vj(h(), 'GET', `VirtualMachine/${vms[0]}/name`, { session, release: '7.0.3.0' })).status).toBe(404);
    const after = await harnessStats(h());
    expect(after.viJson.propertyReads - before.viJson.propertyReads).toBe(2);
    expect(after.viJson.requests - before.viJson.requests).toBe(3);
  });

  it('answers an empty array as [] and an unset property as 204, as the collector tells them apart', async () => {
    const empty = await get(h(), `VirtualMachine/${vms[0]}/rootSnapshot`, session);
    expect(empty.status).toBe(200);
    expect(empty.json).toEqual([]);
    const unset = await get(h(), `VirtualMachine/${vms[0]}/snapshot`, session);
    expect(unset.status).toBe(204);
    expect(unset.body).toBe('');
    const runtime = await get(h(), `VirtualMachine/${vms[0]}/runtime`, session);
    expect(runtime.json).toMatchObject({ _typeName: 'VirtualMachineRuntimeInfo', host: { _typeName: 'ManagedObjectReference', type: 'HostSystem' } });
  });

  it("answers the collector's missingSet fault as HTTP 500: a denied property NoPermission, a property the object lacks InvalidProperty", async () => {
    await harnessDeny(h(), { type: 'VirtualMachine', value: vms[1]! }, 'guest');
    const denied = expectFault(await get(h(), `VirtualMachine/${vms[1]}/guest`, session), 'NoPermission');
    expect(denied.faultstring).not.toBe('');
    expect((await get(h(), `VirtualMachine/${vms[0]}/guest`, session)).status).toBe(200);
    const cr = (await get(h(), `VirtualMachine/${vms[0]}/resourcePool`, session)).json;
    const owner = (await get(h(), `ResourcePool/${cr.value}/owner`, session)).json;
    expect(expectFault(await get(h(), `${owner.type}/${owner.value}/configManagerEnabled`, session), 'InvalidProperty').name).toBe('configManagerEnabled');
  });

  it('is turned off with the rest of the JSON API, as on an older vCenter, and back on by reset', async () => {
    const before = await reads();
    await harnessSetViJson(h(), false);
    try {
      expect((await get(h(), `VirtualMachine/${vms[0]}/name`, session)).status).toBe(404);
      expect(await reads()).toBe(before);
    } finally {
      await harnessReset(h());
    }
    expect((await get(h(), `VirtualMachine/${vms[0]}/name`, session)).status).toBe(200);
    expect(await reads()).toBe(1); // reset counts from zero
  });
});
