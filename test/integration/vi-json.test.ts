// The VI/JSON wire against the harness (which serves vCenter 8.0U1's JSON API beside SOAP): how
// connect chooses it, a server without it, unified sessions across the wires, and the same
// inventory read through both wires, value for value. The rest of the integration suite runs on
// this wire too (the 'json' project, test/harness/json-default.ts).
import { describe, expect, inject, it } from 'vitest';
import { TransportError, VimClient, type Logger } from 'vim25-soap';
import { createSoapClient } from 'vim25-soap/node-soap';
import { harnessSetViJson, harnessStats } from '../harness/vcsim.ts';
import { connect, loggedIn, SI, startHarness } from '../fixtures.ts';

const shared = inject('harness');

function debugLog(): Logger & { lines: { message: string; data: unknown }[] } {
  const lines: { message: string; data: unknown }[] = [];
  const keep = (message: string, data?: unknown): void => void lines.push({ message, data });
  return { lines, debug: keep, info: keep, warn: keep, error: keep };
}

describe('choosing the wire', () => {
  it("'auto' speaks VI/JSON where the server serves it, SOAP where it does not, and says which in the debug log", async () => {
    const h = await startHarness();
    const onJson = debugLog();
    const a = await connect(h, { protocol: 'auto', logger: onJson });
    expect(a.protocol).toBe('json');
    expect(onJson.lines.find((l) => l.message === 'protocol')?.data).toMatchObject({ protocol: 'json', asked: 'auto' });
    await a.login({ username: h.info.username, password: h.info.password });
    const before = (await harnessStats(h.info)).viJson.requests;
    expect(await a.call('CurrentTime', SI)).toBeInstanceOf(Date);
    expect((await harnessStats(h.info)).viJson.requests).toBeGreaterThan(before);

    await harnessSetViJson(h.info, false); // an older vCenter
    const onSoap = debugLog();
    const b = await connect(h, { protocol: 'auto', logger: onSoap });
    expect(b.protocol).toBe('soap');
    expect(onSoap.lines.find((l) => l.message === 'protocol')?.data).toMatchObject({ protocol: 'soap', asked: 'auto' });
    await b.login({ username: h.info.username, password: h.info.password });
    expect(await b.call('CurrentTime', SI)).toBeInstanceOf(Date);
  });

  it("'json' against a server without VI/JSON fails at connect, naming the requirement and the option, never a bare 404", async () => {
    const h = await startHarness({ viJson: false });
    const err = await VimClient.connect(h.info.url, { tls: { ca: h.ca }, protocol: 'json' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).code).toBe('ENOJSON');
    expect((err as Error).message).toMatch(/vCenter 8\.0 Update 1/);
    expect((err as Error).message).toMatch(/protocol 'soap'/);
  });

  it('soap is the default, and a protocol that is not one is a TypeError before anything is sent', async () => {
    const c = await connect(shared, { protocol: 'soap' });
    expect(c.protocol).toBe('soap');
    await expect(VimClient.connect(shared.url, { protocol: 'xml' as never })).rejects.toThrow(TypeError);
  });
});

describe('unified sessions', () => {
  it('a session made over SOAP serves VI/JSON calls, and the reverse; client.sessionId is the one id', async () => {
    const soap = await loggedIn(shared, { protocol: 'soap' });
    const json = await connect(shared, { protocol: 'json' });
    const adopted = await json.attachSession(soap.sessionId!);
    expect(adopted.key).toBe(soap.userSession!.key);
    expect(json.sessionId).toBe(soap.sessionId);
    expect(await json.call('CurrentTime', SI)).toBeInstanceOf(Date);

    const json2 = await loggedIn(shared, { protocol: 'json' });
    const soap2 = await connect(shared, { protocol: 'soap' });
    expect((await soap2.attachSession(json2.sessionId!)).key).toBe(json2.userSession!.key);
    expect(await soap2.call('CurrentTime', SI)).toBeInstanceOf(Date);
  });
});

describe('the same answers on both wires', () => {
  it('retrieve of every VM with its devices, datastores with their capacity (long), hosts with dates: deep-equal, value for value', async () => {
    const soap = await loggedIn(shared, { protocol: 'soap' });
    const json = await loggedIn(shared, { protocol: 'json' });
    const read = (c: VimClient) => Promise.all([
      c.retrieve('VirtualMachine', ['name', 'config.hardware.device', 'runtime.bootTime', 'config.uuid', 'summary.storage.committed']),
      c.retrieve('Datastore', ['summary.capacity', 'summary.freeSpace', 'info']),
      c.retrieve('HostSystem', ['runtime.bootTime', 'hardware.systemInfo', 'config.network.pnic']),
      c.call('RetrieveServiceContent', SI),
    ]);
    const [a, b] = await Promise.all([read(soap), read(json)]);
    expect(b).toEqual(a);
    expect(a[0].length).toBeGreaterThan(0);
  });

  it('a fault is the same VimFault on both wires: its name, its hierarchy and its fault object', async () => {
    const [soap, json] = await Promise.all([loggedIn(shared, { protocol: 'soap' }), loggedIn(shared, { protocol: 'json' })]);
    // Read-only: the shared harness is every file's.
    const ask = (c: VimClient) => c.call('RetrieveProperties', c.serviceContent.propertyCollector, {
      specSet: [{ propSet: [{ type: 'Folder', pathSet: ['name'] }], objectSet: [{ obj: { type: 'Folder', value: 'group-nope' } }] }],
    }).catch((e: unknown) => e);
    const [a, b] = await Promise.all([ask(soap), ask(json)]);
    expect((a as Error).name).toBe('VimFault');
    expect((b as Error).name).toBe((a as Error).name);
    expect((b as Error).message).toBe((a as Error).message);
    expect((b as { fault: unknown }).fault).toEqual((a as { fault: unknown }).fault);
  });
});

describe('node-soap stays SOAP', () => {
  it('createSoapClient on a VI/JSON client says so, and how to get a SOAP client on the same session', async () => {
    const json = await loggedIn(shared, { protocol: 'json' });
    await expect(createSoapClient(json)).rejects.toThrow(/node-soap speaks SOAP, and this VimClient speaks json: connect it with protocol 'soap'.*attachSession/);
  });
});
