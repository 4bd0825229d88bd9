// vim25-soap/node-soap against the harness: genuine node-soap clients (the full WSDL, node-soap's
// calling conventions and answers) whose HTTP, session and re-authentication are a VimClient's.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import soap from 'soap';
import { afterAll, afterEach, beforeAll, describe, expect, it, inject } from 'vitest';
import { dataObject, isVimFault, TransportError, ValidationError, VimClient, type ConnectOptions } from 'vim25-soap';
import { createSoapClient, samlTokenSecurity, useSession } from 'vim25-soap/node-soap';
import { METHODS } from '../../src/generated/metadata.ts';
import { bundleDir } from '../../scripts/lib/paths.ts';
import { validateEnvelopes } from '../conformance/oracle.ts';
import { Harness, harnessStall, harnessStats, type HarnessInfo } from '../harness/vcsim.ts';
import { LegacyVsphereClient } from './legacy/vsphere-soap-style.ts';
import { extensionCertificate } from '../harness/tls-fixtures.ts';
import { SI, tempDir } from '../fixtures.ts';

const ref = (type: string, value: string) => ({ attributes: { type }, $value: value });
const SM = ref('SessionManager', 'SessionManager');
const PC = ref('PropertyCollector', 'propertyCollector');
const info = inject('harness');
const readCert = (file: string): string => readFileSync(file, 'utf8');

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function connect(h: HarnessInfo = info, options: ConnectOptions = {}): Promise<VimClient> {
  const c = await VimClient.connect(h.url, { tls: { ca: readCert(h.certFile) }, ...options });
  cleanups.push(() => c.close());
  return c;
}

/**
 * A plain node-soap client, its own serializer untouched (and its own options object): what
 * soap.createClientAsync builds once it has parsed the WSDL, here on the parse this process
 * already has (the prototype of an adapter client's WSDL, which the adapter's own overrides sit
 * on): a second 1.7 s parse of the same documents would show nothing more.
 */
async function plainClient(vim: VimClient, endpoint: string, options?: soap.IOptions): Promise<soap.Client> {
  const wsdl = Object.getPrototypeOf((await createSoapClient(vim, { wsdl: bundleDir() })).wsdl) as soap.WSDL;
  return new soap.Client(Object.create(wsdl, { options: { value: { ...wsdl.options } } }), endpoint, options);
}

/** A node-soap fault error's vim25 fault name (node-soap keeps the parsed envelope in err.root). */
function nodeSoapFault(err: unknown): string | undefined {
  const detail = (err as { root?: { Envelope?: { Body?: { Fault?: { detail?: Record<string, { attributes?: Record<string, string> }> } } } } })?.root?.Envelope?.Body?.Fault?.detail;
  const first = detail && Object.values(detail)[0];
  return first?.attributes?.['xsi:type'];
}

describe('a node-soap Client from the full vim25 WSDL', () => {
  it('describes every operation with its real input and output, and has XxxAsync methods', async () => {
    const vim = await connect();
    const s = await createSoapClient(vim, { wsdl: bundleDir() });
    expect(s).toBeInstanceOf(soap.Client);
    const port = s.describe().VimService.VimPort as Record<string, { input: Record<string, unknown>; output: Record<string, unknown> }>;
    expect(Object.keys(port)).toHaveLength(METHODS.split('\n').length);
    expect(port.Login!.input).toMatchObject({ _this: expect.anything(), userName: 'xsd:string', password: 'xsd:string', locale: 'xsd:string' });
    expect(Object.keys(port.RetrievePropertiesEx!.input)).toEqual(expect.arrayContaining(['_this', 'specSet[]', 'options']));
    expect(port.RetrievePropertiesEx!.output).toHaveProperty('returnval');
    expect(typeof s.RetrievePropertiesExAsync).toBe('function');
    expect(typeof s.VimService.VimPort.CurrentTime).toBe('function');
    // Parsed once per process and set of documents: a second client (the same file named differently) shares the parse.
    const again = await createSoapClient(vim, { wsdl: join(bundleDir(), 'vimService.wsdl'), attributesKey: 'attrs' });
    expect(Object.getPrototypeOf(again.wsdl)).toBe(Object.getPrototypeOf(s.wsdl));
    // ...with options of its own.
    expect((again.wsdl.options as { attributesKey?: string }).attributesKey).toBe('attrs');
    expect((s.wsdl.options as { attributesKey?: string }).attributesKey).toBe('attributes');
    const [content] = await again.RetrieveServiceContentAsync({ _this: { attrs: { type: 'ServiceInstance' }, $value: 'ServiceInstance' } });
    expect(content.returnval.rootFolder).toEqual({ attrs: { type: 'Folder' }, $value: 'group-d1' });
  });

  it('downloads the server\'s own WSDL by default, under the VimClient\'s TLS policy (a thumbprint pin here)', async () => {
    const vim = await VimClient.connect(info.url, { tls: { thumbprint: info.sha1 } });
    cleanups.push(() => vim.close());
    const s = await createSoapClient(vim);
    const [content] = await s.RetrieveServiceContentAsync({ _this: ref('ServiceInstance', 'ServiceInstance') });
    expect(content.returnval.about.apiType).toBe(info.apiType);
    expect(content.returnval.propertyCollector).toEqual(PC);
    // The server serves the bundle's very documents: the parse made from the bundle directory is shared.
    expect(Object.getPrototypeOf(s.wsdl)).toBe(Object.getPrototypeOf((await createSoapClient(vim, { wsdl: bundleDir() })).wsdl));
  });
});

describe('node-vsphere-soap-style code, unchanged', () => {
  it('logs in through node-soap, lists VMs through a container view, and its session is the VimClient\'s too', async () => {
    const vim = await connect();
    const legacy = new LegacyVsphereClient(await createSoapClient(vim, { wsdl: bundleDir() }), { user: info.username, password: info.password });
    await new Promise<void>((resolve, reject) => legacy.once('ready', resolve).once('error', reject));
    expect(legacy.userName).toBe(info.username);
    const names = await legacy.vmNames();

    // The node-soap Login authenticated the VimClient: the same session, calls that need one work.
    expect(vim.sessionId).toBeTruthy();
    const view = await vim.call('CreateContainerView', vim.serviceContent.viewManager!, { container: vim.serviceContent.rootFolder, type: ['VirtualMachine'], recursive: true });
    const r = await vim.call('RetrievePropertiesEx', vim.serviceContent.propertyCollector, {
      specSet: [{ propSet: [{ type: 'VirtualMachine', pathSet: ['name'] }], objectSet: [{ obj: view, skip: true, selectSet: [dataObject('TraversalSpec', { type: 'ContainerView', path: 'view', skip: false })] }] }],
      options: {},
    });
    const expected = r!.objects.map((o) => o.propSet![0]!.val as string);
    expect(names.length).toBeGreaterThan(0);
    expect(names.sort()).toEqual(expected.sort());
    await legacy.close();
    expect(isVimFault(await vim.call('AcquireCloneTicket', vim.serviceContent.sessionManager!, {}).catch((e: unknown) => e), 'NotAuthenticated')).toBe(true);
  });
});

describe('one session for both APIs', () => {
  it('a VimClient login authenticates the node-soap client', async () => {
    const vim = await connect();
    const s = await createSoapClient(vim, { wsdl: bundleDir() });
    const [anonymous] = await s.RetrievePropertiesExAsync({ _this: PC, specSet: [{ propSet: [{ type: 'SessionManager', pathSet: ['currentSession'] }], objectSet: [{ obj: SM }] }], options: {} });
    expect(anonymous?.returnval?.objects?.[0]?.propSet?.[0]?.val).toBeUndefined();
    await vim.login({ username: info.username, password: info.password });
    const [current] = await s.RetrievePropertiesExAsync({ _this: PC, specSet: [{ propSet: [{ type: 'SessionManager', pathSet: ['currentSession'] }], objectSet: [{ obj: SM }] }], options: {} });
    expect(current.returnval.objects[0].propSet[0].val.key).toBe(vim.userSession!.key);
    const [time] = await s.CurrentTimeAsync({ _this: ref('ServiceInstance', 'ServiceInstance') });
    expect(time.returnval).toBeInstanceOf(Date);
  });

  it('useSession puts a node-soap client the integration built itself on the VimClient', async () => {
    const vim = await connect();
    await vim.login({ username: info.username, password: info.password });
    const own = await plainClient(vim, 'https://localhost/sdk/vimService');
    expect(useSession(own, vim)).toBe(own);
    expect(useSession(own, vim)).toBe(own);
    const [ticket] = await own.AcquireCloneTicketAsync({ _this: SM });
    expect(typeof ticket.returnval).toBe('string');
    expect(own.lastEndpoint).toBe(vim.url);
    expect(own.lastResponse).not.toContain(ticket.returnval);
    expect(() => useSession({} as never, vim)).toThrow(TypeError);
    expect(() => useSession(own, {} as VimClient)).toThrow(TypeError);
  });
});

describe('what the client keeps', () => {
  it('no password, clone ticket or session cookie stays in lastRequest, lastMessage, lastResponse or the headers', async () => {
    const h = await Harness.start({ wsdlDir: bundleDir(), password: 'N0de-Soap-Secret-Pw' });
    cleanups.push(() => h.stop());
    const a = await connect(h.info);
    const sa = await createSoapClient(a, { wsdl: bundleDir() });
    const [login] = await sa.LoginAsync({ _this: SM, userName: h.info.username, password: 'N0de-Soap-Secret-Pw' });
    expect(login.returnval.userName).toBe(h.info.username);
    const secrets = ['N0de-Soap-Secret-Pw', a.sessionId!, login.returnval.key];
    for (const kept of [sa.lastRequest, sa.lastMessage]) expect(kept).toContain('<password>[redacted]</password>');
    const [ticket, rawAnswer] = await sa.AcquireCloneTicketAsync({ _this: SM });
    expect(rawAnswer).toContain(ticket.returnval); // what the caller asked for is not redacted
    secrets.push(ticket.returnval);

    const b = await connect(h.info);
    const sb = await createSoapClient(b, { wsdl: bundleDir() });
    await sb.CloneSessionAsync({ _this: SM, cloneTicket: ticket.returnval });
    expect(b.sessionId).toBeTruthy();
    secrets.push(b.sessionId!);
    expect(sb.lastRequest).toContain('<cloneTicket>[redacted]</cloneTicket>');
    expect(JSON.stringify(sb.lastResponseHeaders)).toContain('vmware_soap_session=[redacted]');

    const failed = await sb.LoginAsync({ _this: SM, userName: h.info.username, password: 'Wr0ng-Secret-Pw' }).catch((e: unknown) => e);
    expect(nodeSoapFault(failed)).toBe('InvalidLogin');
    secrets.push('Wr0ng-Secret-Pw');

    for (const client of [sa, sb]) {
      const kept = [client.lastRequest, client.lastMessage, client.lastResponse, JSON.stringify(client.lastResponseHeaders), JSON.stringify(client.lastRequestHeaders), inspect(client, { depth: 2 })].join('\n');
      for (const s of secrets) expect(kept).not.toContain(s);
    }
    expect(String(failed)).not.toContain('Wr0ng-Secret-Pw');
  });
});

describe('node-soap options through the VimClient', () => {
  it('stream: true parses answers from the stream; faults still reach node-soap as its own errors', async () => {
    const vim = await connect();
    await vim.login({ username: info.username, password: info.password });
    const s = await createSoapClient(vim, { wsdl: bundleDir(), stream: true });
    const [r] = await s.RetrievePropertiesExAsync({ _this: PC, specSet: [{ propSet: [{ type: 'Folder', pathSet: ['name'] }], objectSet: [{ obj: ref('Folder', 'group-d1') }] }], options: {} });
    expect(r.returnval.objects[0].propSet[0].val.$value).toBe('Datacenters');
    // A fault that changes nothing on the shared harness: a locale it does not support.
    const err = await s.SetLocaleAsync({ _this: SM, locale: 'xx_YY' }).catch((e: unknown) => e);
    expect(nodeSoapFault(err)).toBe('InvalidLocale');

    // returnSaxStream: node-soap hands the caller a SAX stream over the answer as it arrives.
    const sax = await createSoapClient(vim, { wsdl: bundleDir(), stream: true, returnSaxStream: true });
    const [raw] = await sax.CurrentTimeAsync({ _this: ref('ServiceInstance', 'ServiceInstance') });
    const texts: string[] = [];
    raw.saxStream.on('text', (t: string) => texts.push(t));
    await new Promise((resolve) => raw.saxStream.once('end', resolve));
    expect(texts.some((t) => !Number.isNaN(Date.parse(t)))).toBe(true);
  });

  it('the per-call timeout and signal, the response-size limit; options that need another HTTP stack are refused', async () => {
    const h = await Harness.start({ wsdlDir: bundleDir() });
    cleanups.push(() => h.stop());
    const vim = await connect(h.info);
    const s = await createSoapClient(vim, { wsdl: bundleDir() });
    await harnessStall(h.info, 2);
    const late = await s.CurrentTimeAsync({ _this: ref('ServiceInstance', 'ServiceInstance') }, { timeout: 200 }).catch((e: unknown) => e);
    expect(late).toBeInstanceOf(TransportError);
    expect((late as TransportError).code).toBe('ETIMEDOUT');
    const aborted = await s.CurrentTimeAsync({ _this: ref('ServiceInstance', 'ServiceInstance') }, { signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect((aborted as TransportError).code).toBe('EABORTED');
    const gz = await s.CurrentTimeAsync({ _this: ref('ServiceInstance', 'ServiceInstance') }, { forceGzip: true }).catch((e: unknown) => e);
    expect(gz).toBeInstanceOf(TypeError);

    const small = await connect(h.info, { maxResponseBytes: 16 * 1024 });
    await small.login({ username: h.info.username, password: h.info.password });
    const ss = await createSoapClient(small, { wsdl: bundleDir() });
    const [view] = await ss.CreateContainerViewAsync({ _this: ref('ViewManager', 'ViewManager'), container: ref('Folder', 'group-d1'), type: ['VirtualMachine'], recursive: true });
    const everything = { propSet: [{ type: 'VirtualMachine', all: true }], objectSet: [{ obj: view.returnval, skip: true, selectSet: [{ attributes: { 'xsi:type': 'TraversalSpec' }, type: 'ContainerView', path: 'view' }] }] };
    const big = await ss.RetrievePropertiesExAsync({ _this: PC, specSet: [everything], options: {} }).catch((e: unknown) => e);
    expect((big as TransportError).code).toBe('ERESPONSETOOLARGE');
  });

  it('arguments that do not fit the schema are refused with a ValidationError before anything is sent', async () => {
    const vim = await connect();
    const s = await createSoapClient(vim, { wsdl: bundleDir() });
    const bare = await s.CurrentTimeAsync({ _this: 'ServiceInstance' }).catch((e: unknown) => e);
    expect(bare).toBeInstanceOf(ValidationError);
    expect((bare as ValidationError).path).toBe('_this');
    const wrongType = await s.RetrievePropertiesExAsync({ _this: PC, specSet: [{ propSet: [{ type: 'Folder' }], objectSet: [{ obj: ref('Folder', 'group-d1'), selectSet: [{ attributes: { 'xsi:type': 'vim25:PropertySpec' }, type: 'Folder' }] }] }], options: {} }).catch((e: unknown) => e);
    expect((wrongType as ValidationError).path).toBe('specSet[0].objectSet[0].selectSet[0]._typeName');
    const raw = await s.CurrentTimeAsync({ $xml: '<_this type="ServiceInstance">ServiceInstance</_this>' }).catch((e: unknown) => e);
    expect(raw).toBeInstanceOf(ValidationError);
  });
});

/** A harness for one describe block: its tests kill sessions and count Logins and signatures. */
function ownHarness(): () => Harness {
  let h: Harness | undefined;
  beforeAll(async () => {
    h = await Harness.start({ wsdlDir: bundleDir() });
  });
  afterAll(() => h?.stop());
  return () => h!;
}

describe('re-authentication shared with client.call', () => {
  const own = ownHarness();

  it('a session killed under concurrent node-soap and client.call traffic costs exactly one Login', async () => {
    const vim = await connect(own().info);
    const admin = await connect(own().info);
    await vim.login({ username: own().info.username, password: own().info.password });
    await admin.login({ username: own().info.username, password: own().info.password });
    const s = await createSoapClient(vim, { wsdl: bundleDir() });
    const streamed = await createSoapClient(vim, { wsdl: bundleDir(), stream: true });
    const before = (await harnessStats(own().info)).methods.Login ?? 0;
    const reauthenticated: unknown[] = [];
    vim.on('reauthenticated', (x) => reauthenticated.push(x));

    let done = 0;
    const count = (p: Promise<unknown>) => p.then((r) => {
      done++;
      return r;
    });
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 150; i++) {
      const path = `nowhere/call-${i}`;
      if (i % 3 === 0) calls.push(count(vim.call('FindByInventoryPath', vim.serviceContent.searchIndex!, { inventoryPath: path })));
      else calls.push(count((i % 3 === 1 ? s : streamed).FindByInventoryPathAsync({ _this: ref('SearchIndex', 'SearchIndex'), inventoryPath: path })));
    }
    while (done < 15) await new Promise((r) => setImmediate(r));
    await admin.call('TerminateSession', admin.serviceContent.sessionManager!, { sessionId: [vim.userSession!.key] });
    // And after the kill, a burst on both APIs at once.
    for (let i = 0; i < 20; i++) {
      calls.push(vim.call('CurrentTime', SI));
      calls.push(s.CurrentTimeAsync({ _this: ref('ServiceInstance', 'ServiceInstance') }));
    }
    const results = await Promise.allSettled(calls);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect((await harnessStats(own().info)).methods.Login! - before).toBe(1);
    expect(reauthenticated).toHaveLength(1);
  });

  it('login methods sent through node-soap are never retried', async () => {
    const vim = await connect(own().info);
    const s = await createSoapClient(vim, { wsdl: bundleDir() });
    const before = (await harnessStats(own().info)).methods.Login ?? 0;
    const err = await s.LoginAsync({ _this: SM, userName: own().info.username, password: 'wrong' }).catch((e: unknown) => e);
    expect(nodeSoapFault(err)).toBe('InvalidLogin');
    expect((await harnessStats(own().info)).methods.Login! - before).toBe(1);
  });

  it('an extension certificate login made by the VimClient serves node-soap and is replayed for it; a cloned session is shared but not replayed', async () => {
    const mine = own().info;
    const admin = await connect(mine);
    await admin.login({ username: mine.username, password: mine.password });
    const ext = extensionCertificate({ commonName: 'com.example.nodesoap' });
    const em = admin.serviceContent.extensionManager!;
    const description = dataObject('Description', { label: 'node-soap', summary: 'extension login through the adapter' });
    await admin.call('RegisterExtension', em, { extension: dataObject('Extension', { key: 'com.example.nodesoap', version: '1.0', description, lastHeartbeatTime: new Date() }) });
    await admin.call('SetExtensionCertificate', em, { extensionKey: 'com.example.nodesoap', certificatePem: ext.cert });

    const vim = await connect(mine, { tunnel: { proxyPort: mine.tunnelPort } });
    await vim.loginByCertificate({ extensionKey: 'com.example.nodesoap', cert: ext.cert, key: ext.key });
    const s = await createSoapClient(vim, { wsdl: bundleDir() });
    expect((await s.CurrentTimeAsync({ _this: ref('ServiceInstance', 'ServiceInstance') }))[0].returnval).toBeInstanceOf(Date);
    await admin.call('TerminateSession', admin.serviceContent.sessionManager!, { sessionId: [vim.userSession!.key] });
    const before = (await harnessStats(mine)).methods.LoginExtensionByCertificate ?? 0;
    expect((await s.CurrentTimeAsync({ _this: ref('ServiceInstance', 'ServiceInstance') }))[0].returnval).toBeInstanceOf(Date);
    expect((await harnessStats(mine)).methods.LoginExtensionByCertificate! - before).toBe(1);
    expect(vim.userSession?.userName).toBe('com.example.nodesoap');

    // A clone-ticket hand-off: the worker's node-soap client runs on the cloned session...
    const worker = await connect(mine);
    await worker.cloneSession(await vim.acquireCloneTicket());
    const sw = await createSoapClient(worker, { wsdl: bundleDir() });
    const [current] = await sw.RetrievePropertiesExAsync({ _this: PC, specSet: [{ propSet: [{ type: 'SessionManager', pathSet: ['currentSession'] }], objectSet: [{ obj: SM }] }], options: {} });
    expect(current.returnval.objects[0].propSet[0].val.userName).toBe('com.example.nodesoap');
    // ...which cannot be replayed: once it is gone, node-soap gets the fault and the worker reports sessionLost.
    const lost = new Promise((resolve) => worker.once('sessionLost', resolve));
    await admin.call('TerminateSession', admin.serviceContent.sessionManager!, { sessionId: [worker.userSession!.key] });
    expect(nodeSoapFault(await sw.CurrentTimeAsync({ _this: ref('ServiceInstance', 'ServiceInstance') }).catch((e: unknown) => e))).toBe('NotAuthenticated');
    expect(isVimFault(await lost, 'NotAuthenticated')).toBe(true);
  });

  it('a session the VimClient cannot replay (a node-soap Login) reaches node-soap as its NotAuthenticated fault, with no Login', async () => {
    const vim = await connect(own().info);
    const admin = await connect(own().info);
    await admin.login({ username: own().info.username, password: own().info.password });
    const s = await createSoapClient(vim, { wsdl: bundleDir() });
    const [login] = await s.LoginAsync({ _this: SM, userName: own().info.username, password: own().info.password });
    await admin.call('TerminateSession', admin.serviceContent.sessionManager!, { sessionId: [login.returnval.key] });
    const before = (await harnessStats(own().info)).methods.Login ?? 0;
    const err = await s.CurrentTimeAsync({ _this: ref('ServiceInstance', 'ServiceInstance') }).catch((e: unknown) => e);
    expect(nodeSoapFault(err)).toBe('NotAuthenticated');
    expect((await harnessStats(own().info)).methods.Login ?? 0).toBe(before);
  });
});

describe('node-soap calls on the VimClient\'s call path', () => {
  const own = ownHarness();

  it('a Login sent through node-soap is the VimClient\'s session: userSession, the login event, the logged-in line', async () => {
    const lines: string[] = [];
    const logger = { debug: () => undefined, info: (m: string, d?: object) => lines.push(`${m} ${JSON.stringify(d)}`), warn: () => undefined, error: () => undefined };
    const vim = await connect(own().info, { logger });
    const events: string[] = [];
    vim.on('login', (session) => events.push(`login ${session.userName}`));
    const s = await createSoapClient(vim, { wsdl: bundleDir() });
    const [login] = await s.LoginAsync({ _this: SM, userName: own().info.username, password: own().info.password });
    expect(vim.userSession?.key).toBe(login.returnval.key);
    expect(events).toEqual([`login ${own().info.username}`]);
    expect(lines).toContain(`logged in {"strategy":"node-soap","user":"${own().info.username}"}`);
    // ImpersonateUser through node-soap changes the identity the VimClient reports, as client.impersonateUser does.
    const viewer = await connect(own().info);
    await viewer.login({ username: own().info.viewerUsername, password: own().info.viewerPassword });
    await s.ImpersonateUserAsync({ _this: SM, userName: own().info.viewerUsername });
    expect(vim.userSession?.userName).toBe(own().info.viewerUsername);
  });

  it('a Logout sent through node-soap ends the VimClient\'s session: the logout event, and no re-login brings it back', async () => {
    const vim = await connect(own().info);
    await vim.login({ username: own().info.username, password: own().info.password });
    const events: string[] = [];
    vim.on('logout', () => events.push('logout'));
    const s = await createSoapClient(vim, { wsdl: bundleDir() });
    await s.LogoutAsync({ _this: SM });
    expect(events).toEqual(['logout']);
    expect(vim.userSession).toBeUndefined();
    expect(vim.sessionId).toBeUndefined();
    const before = (await harnessStats(own().info)).methods.Login ?? 0;
    expect(isVimFault(await vim.call('AcquireCloneTicket', vim.serviceContent.sessionManager!, {}).catch((e: unknown) => e), 'NotAuthenticated')).toBe(true);
    expect((await harnessStats(own().info)).methods.Login ?? 0).toBe(before);
  });

  it('node-soap calls are logged as the VimClient\'s calls are, once each, secrets redacted', async () => {
    const lines: { message: string; data: string }[] = [];
    const logger = { debug: (message: string, data?: object) => lines.push({ message, data: JSON.stringify(data) }), info: () => undefined, warn: () => undefined, error: () => undefined };
    const h = await Harness.start({ wsdlDir: bundleDir(), password: 'N0de-Soap-Logged-Pw' });
    cleanups.push(() => h.stop());
    const vim = await connect(h.info, { logger, debug: true });
    const s = await createSoapClient(vim, { wsdl: bundleDir() });
    lines.length = 0; // connect's own call
    const [login] = await s.LoginAsync({ _this: SM, userName: h.info.username, password: 'N0de-Soap-Logged-Pw' });
    const [ticket] = await s.AcquireCloneTicketAsync({ _this: SM });
    await s.CurrentTimeAsync({ _this: ref('ServiceInstance', 'ServiceInstance') });
    const request = lines.find((l) => l.message === 'request' && l.data.includes('"Login"'))!;
    expect(request.data).toContain('<password>[redacted]</password>');
    expect(lines.filter((l) => l.message === 'call').map((l) => (JSON.parse(l.data) as { method: string }).method)).toEqual(['Login', 'AcquireCloneTicket', 'CurrentTime']);
    const shown = lines.map((l) => l.data).join('\n');
    for (const secret of ['N0de-Soap-Logged-Pw', login.returnval.key, ticket.returnval, vim.sessionId!]) expect(shown).not.toContain(secret);
  });

  it('a node-soap call waiting for a re-login stops when its signal aborts', async () => {
    const vim = await connect(own().info);
    const admin = await connect(own().info);
    await admin.login({ username: own().info.username, password: own().info.password });
    const token = await vim.issueToken({ stsUrl: own().info.stsUrl, username: own().info.username, password: own().info.password });
    // The provider holds the re-login until the test lets it go.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let reloginStarted!: () => void;
    const relogging = new Promise<void>((resolve) => (reloginStarted = resolve));
    let asked = 0;
    await vim.loginByToken({
      token: async () => {
        if (++asked > 1) {
          reloginStarted();
          await held;
        }
        return token;
      },
    });
    cleanups.push(release);
    const s = await createSoapClient(vim, { wsdl: bundleDir() });
    await admin.call('TerminateSession', admin.serviceContent.sessionManager!, { sessionId: [vim.userSession!.key] });
    const order: string[] = [];
    vim.on('reauthenticated', () => order.push('reauthenticated'));
    const ctrl = new AbortController();
    const call = s.CurrentTimeAsync({ _this: ref('ServiceInstance', 'ServiceInstance') }, { signal: ctrl.signal }).catch((e: unknown) => {
      order.push('call settled');
      return e;
    });
    await relogging;
    ctrl.abort();
    // The re-login goes on: a call that ignored its signal would wait for it, then fail its retry.
    release();
    expect(await call).toMatchObject({ name: 'AbortError', code: 'EABORTED' });
    await vim.call('CurrentTime', SI); // once the re-login is over
    expect(order).toEqual(['call settled', 'reauthenticated']);
  });
});

describe('SAML token logins through node-soap', () => {
  const own = ownHarness();

  it('holder-of-key: LoginByToken signed with the token\'s key, verified by the harness (xmlsec1); the session is the VimClient\'s', async () => {
    const pair = extensionCertificate({ commonName: 'hok-node-soap' });
    const vim = await connect(own().info);
    const token = await vim.issueToken({ stsUrl: own().info.stsUrl, username: own().info.username, password: own().info.password, certificate: pair.cert, privateKey: pair.key });
    const s = await createSoapClient(vim, { wsdl: bundleDir() });
    s.addSoapHeader('<x:Trace xmlns:x="urn:example:trace">node-soap</x:Trace>');
    s.setSecurity(await samlTokenSecurity(token));
    const before = (await harnessStats(own().info)).sts;
    const [session] = await s.LoginByTokenAsync({ _this: SM, locale: 'en_US' });
    expect(session.returnval.userName).toBe(own().info.username);
    const after = (await harnessStats(own().info)).sts;
    expect(after.signaturesVerified - before.signaturesVerified).toBe(1);
    expect(after.signaturesRejected).toBe(before.signaturesRejected);
    expect(vim.sessionId).toBeTruthy();
    expect(await vim.call('AcquireCloneTicket', vim.serviceContent.sessionManager!, {})).toBeTruthy();
    // The assertion and the signature do not stay on the client; other calls carry no token.
    expect(s.lastRequest).not.toContain('Assertion');
    expect(s.lastRequest).toContain('Security');
    await s.CurrentTimeAsync({ _this: ref('ServiceInstance', 'ServiceInstance') });
    expect(s.lastRequest).not.toContain('Security');
    expect(s.lastRequest).toContain('urn:example:trace');

    const other = extensionCertificate({ commonName: 'not-the-token-key' }, 'another');
    const s2 = await createSoapClient(await connect(own().info), { wsdl: bundleDir() });
    s2.setSecurity(await samlTokenSecurity({ ...token, privateKey: other.key }));
    expect(nodeSoapFault(await s2.LoginByTokenAsync({ _this: SM }).catch((e: unknown) => e))).toBe('InvalidLogin');
  });

  it('bearer: the assertion alone', async () => {
    const vim = await connect(own().info);
    const token = await vim.issueToken({ stsUrl: own().info.stsUrl, username: own().info.username, password: own().info.password });
    const s = await createSoapClient(vim, { wsdl: bundleDir() });
    s.setSecurity(await samlTokenSecurity(token));
    const [session] = await s.LoginByTokenAsync({ _this: SM });
    expect(session.returnval.userName).toBeTruthy();
    expect(vim.sessionId).toBeTruthy();
    expect(s.lastRequest).not.toContain(token.assertion.slice(0, 60));
  });
});

// Wire correctness of node-soap-style requests, measured with the xmllint oracle: the same
// typical arguments serialized by node-soap's own serializer (never sent: a stub HTTP client
// keeps the envelope) and by the adapter (sent to a harness, so the run's conformance check
// sees them too, and validated here as well).
describe('node-soap-style requests on the wire', () => {
  const dir = tempDir('vim25-node-soap-wire-');
  let wireHarness: Harness;
  let wireVim: VimClient;
  let vm: { attributes: { type: string }; $value: string };

  beforeAll(async () => {
    wireHarness = await Harness.start({ wsdlDir: bundleDir() });
    wireVim = await VimClient.connect(wireHarness.info.url, { tls: { ca: wireHarness.ca } });
    await wireVim.login({ username: wireHarness.info.username, password: wireHarness.info.password });
    const found = await wireVim.call('FindByInventoryPath', wireVim.serviceContent.searchIndex!, { inventoryPath: 'DC0/vm/DC0_H0_VM0' });
    vm = ref('VirtualMachine', found!.value);
  });
  afterAll(async () => {
    await wireVim?.close();
    await wireHarness?.stop();
  });

  /** Requests written the way node-soap users write them (keys in the order a person types them). */
  function typicalRequests(): { name: string; method: string; args: object }[] {
    const visitFolders = { attributes: { 'xsi:type': 'TraversalSpec' }, name: 'visitFolders', type: 'Folder', path: 'childEntity', skip: false, selectSet: [{ name: 'visitFolders' }, { name: 'dcToVmFolder' }] };
    const dcToVmFolder = { attributes: { 'xsi:type': 'TraversalSpec' }, name: 'dcToVmFolder', type: 'Datacenter', skip: false, path: 'vmFolder', selectSet: [{ name: 'visitFolders' }] };
    return [
      {
        name: 'PropertyFilterSpec with TraversalSpecs in selectSet',
        method: 'RetrievePropertiesEx',
        args: {
          _this: ref('PropertyCollector', 'propertyCollector'),
          specSet: [{ propSet: [{ type: 'VirtualMachine', pathSet: ['name', 'runtime.powerState'] }], objectSet: [{ obj: ref('Folder', 'group-d1'), skip: false, selectSet: [visitFolders, dcToVmFolder] }] }],
          options: { maxObjects: 100 },
        },
      },
      {
        name: 'VirtualMachineConfigSpec with a VirtualDisk device change',
        method: 'ReconfigVM_Task',
        args: {
          _this: vm,
          spec: {
            numCPUs: 2,
            memoryMB: 2048,
            deviceChange: [{
              operation: 'add',
              fileOperation: 'create',
              device: {
                attributes: { 'xsi:type': 'VirtualDisk' },
                key: -101,
                controllerKey: 1000,
                unitNumber: 1,
                capacityInKB: 1048576,
                backing: { attributes: { 'xsi:type': 'VirtualDiskFlatVer2BackingInfo' }, diskMode: 'persistent', thinProvisioned: true, fileName: '' },
              },
            }],
          },
        },
      },
      {
        name: 'an anyType value with its xsi:type (OptionValue.value)',
        method: 'UpdateOptions',
        args: { _this: ref('OptionManager', 'VpxSettings'), changedValue: [{ key: 'config.nodeSoap.typed', value: { attributes: { 'xsi:type': 'xsd:string' }, $value: 'typed' } }] },
      },
      {
        name: 'an anyType value without an xsi:type',
        method: 'UpdateOptions',
        args: { _this: ref('OptionManager', 'VpxSettings'), changedValue: [{ key: 'config.nodeSoap.plain', value: 42 }] },
      },
    ];
  }

  async function verdicts(envelopes: string[], tag: string): Promise<{ valid: boolean; messages: string[] }[]> {
    const files = envelopes.map((xml, i) => {
      const file = join(dir, `${tag}-${i}.xml`);
      writeFileSync(file, xml);
      return file;
    });
    return validateEnvelopes(files, join(dir, `${tag}-ops`));
  }

  describe('node-soap-style requests against the vim25 schema', () => {
    it('node-soap\'s own serializer: the TraversalSpec, the disk backing and the typed anyType value do not validate', async () => {
      const sent: string[] = [];
      const stub = {
        request(_url: string, data: string, callback: (err: unknown) => void) {
          sent.push(data);
          callback(new Error('not sent'));
          return Promise.resolve() as never;
        },
      };
      const plain = await plainClient(wireVim, 'https://127.0.0.1/sdk', { httpClient: stub });
      for (const r of typicalRequests()) await plain[`${r.method}Async`](r.args).catch(() => undefined);
      const results = await verdicts(sent, 'node-soap');
      expect(results.map((v) => v.valid)).toEqual([false, false, false, true]);
      // A subtype's own fields in JS order (node-soap orders by the declared type, SelectionSpec).
      expect(results[0]!.messages.join('\n')).toContain("'{urn:vim25}skip': This element is not expected. Expected is ( {urn:vim25}path )");
      // An inherited field of an intermediate base (FileBackingInfo.fileName) in JS order.
      expect(results[1]!.messages.join('\n')).toContain("'{urn:vim25}diskMode': This element is not expected. Expected is ( {urn:vim25}fileName )");
      // node-soap's envelope declares no xsd prefix.
      expect(results[2]!.messages.join('\n')).toContain("The QName value 'xsd:string' has no corresponding namespace declaration in scope");
      // Valid for the schema (anyType takes anything) but untyped: the server cannot tell what 42 is.
      expect(sent[3]).toMatch(/<vim25:value>42<\/vim25:value>/);
    });

    it('the adapter: every one validates, and the server accepts it', async () => {
      const s = await createSoapClient(wireVim, { wsdl: bundleDir() });
      const sent: string[] = [];
      for (const r of typicalRequests()) {
        const [result] = await s[`${r.method}Async`](r.args);
        sent.push(s.lastRequest!);
        if (r.method === 'ReconfigVM_Task') expect(result.returnval.attributes.type).toBe('Task');
      }
      const results = await verdicts(sent, 'adapter');
      expect(results.filter((v) => !v.valid)).toEqual([]);
      expect(sent[0]).toContain('<selectSet xsi:type="vim25:TraversalSpec"><name>dcToVmFolder</name><type>Datacenter</type><path>vmFolder</path><skip>false</skip>');
      expect(sent[1]).toContain('<backing xsi:type="vim25:VirtualDiskFlatVer2BackingInfo"><fileName></fileName><diskMode>persistent</diskMode><thinProvisioned>true</thinProvisioned></backing>');
      expect(sent[2]).toContain('<value xsi:type="xsd:string">typed</value>');
      expect(sent[3]).toContain('<value xsi:type="xsd:long">42</value>');
      const [options] = await s.QueryOptionsAsync({ _this: ref('OptionManager', 'VpxSettings'), name: 'config.nodeSoap.' });
      const values = Object.fromEntries(options.returnval.map((o: { key: string; value: { $value: unknown } }) => [o.key, String(o.value.$value)]));
      expect(values).toEqual({ 'config.nodeSoap.typed': 'typed', 'config.nodeSoap.plain': '42' });
    });
  });
});
