// The VI/JSON wire's property reads: a RetrievePropertiesEx of one top-level property of one
// object goes out as GET /sdk/vim25/{release}/{Type}/{moId}/{property} and comes back as the
// RetrieveResult the collector would have answered, through the one pipeline (tracing, logging,
// session, replay) as client.ts assembles it; everything else stays a POST. Against a toy server
// that answers each GET from a table.
import { tracingChannel } from 'node:diagnostics_channel';
import { beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { isVimFault, TransportError, VimFault } from '../../../src/errors.ts';
import type { CallMessage } from '../../../src/soap/diagnostics.ts';
import { jsonWire } from '../../../src/soap/json-wire.ts';
import { toyClient, toyViJsonServer } from './toy-vi-json.ts';

const PC = { type: 'PropertyCollector', value: 'propertyCollector' } as const;
const VM = { type: 'VirtualMachine', value: 'vm-1' } as const;
const BASE = '/sdk/vim25/8.0.1.0';

interface GetAnswer {
  status: number;
  body?: unknown;
  /** The body as written (a long beyond 2^53 that JSON.stringify would round), and its type. */
  raw?: string;
  type?: string;
}

/** GET answers by path below BASE. */
const gets = new Map<string, GetAnswer>();
beforeEach(() => gets.clear());

/** The toy server (toy-vi-json.ts): a GET answered from `gets`, a POSTed RetrievePropertiesEx with one object's name. */
const server = toyViJsonServer((req, answer, res) => {
  if (req.method === 'GET') {
    const a = gets.get(req.path.slice(BASE.length));
    if (a?.raw !== undefined) return res.writeHead(a.status, { 'Content-Type': a.type ?? 'application/json' }).end(a.raw);
    return a ? answer(a.status, a.body) : answer(404, { error_type: 'NOT_FOUND' });
  }
  answer(200, { _typeName: 'RetrieveResult', objects: [{ _typeName: 'ObjectContent', obj: { _typeName: 'ManagedObjectReference', ...VM }, propSet: [{ _typeName: 'DynamicProperty', name: 'name', val: { _typeName: 'string', _value: 'web-1' } }] }] });
});

/** A client's pieces as client.ts wires them, on the VI/JSON wire, logged in; the requests logged from here on. */
async function loggedIn(options: { debug?: boolean } = {}) {
  const c = await toyClient(server, jsonWire, options);
  server.requests = [];
  return c;
}

/** The arguments of a RetrievePropertiesEx of `paths` of `obj`, with extra parts where given. */
function spec(paths: string[], obj: { type: string; value: string } = VM, more: { spec?: object; objectSpec?: object; propSpec?: object; options?: object } = {}) {
  return {
    specSet: [{ propSet: [{ type: obj.type, pathSet: paths, ...more.propSpec }], objectSet: [{ obj, ...more.objectSpec }], ...more.spec }],
    options: more.options ?? {},
  };
}

const content = (rest: object) => ({ _typeName: 'RetrieveResult', objects: [{ _typeName: 'ObjectContent', obj: { type: 'VirtualMachine', value: 'vm-1' }, ...rest }] });

describe('a read of one top-level property is a GET', () => {
  it('sends GET …/{Type}/{moId}/{property} with the session header and no body, and gives the RetrieveResult of the collector, typed by the property', async () => {
    const c = await loggedIn();
    gets.set('/VirtualMachine/vm-1/summary', { status: 200, raw: JSON.stringify({
      _typeName: 'VirtualMachineSummary',
      vm: { _typeName: 'ManagedObjectReference', type: 'VirtualMachine', value: 'vm-1' },
      runtime: { _typeName: 'VirtualMachineRuntimeInfo', powerState: 'poweredOn', bootTime: '2026-01-02T03:04:05Z', connectionState: 'connected' },
      storage: { _typeName: 'VirtualMachineStorageSummary', committed: 'LONG', uncommitted: 5, unshared: 0, timestamp: '2026-01-02T03:04:05Z' },
    }).replace('"LONG"', '9223372036854775807') });
    const result = await c.call('RetrievePropertiesEx', PC, spec(['summary']));
    expect(server.requests).toEqual([{ method: 'GET', path: `${BASE}/VirtualMachine/vm-1/summary`, session: 's1', body: '', accept: 'application/json' }]);
    expect(result).toEqual(content({ propSet: [{ _typeName: 'DynamicProperty', name: 'summary', val: {
      _typeName: 'VirtualMachineSummary',
      vm: { type: 'VirtualMachine', value: 'vm-1' },
      runtime: { _typeName: 'VirtualMachineRuntimeInfo', powerState: 'poweredOn', bootTime: new Date('2026-01-02T03:04:05Z'), connectionState: 'connected' },
      storage: { _typeName: 'VirtualMachineStorageSummary', committed: 9223372036854775807n, uncommitted: 5, unshared: 0, timestamp: new Date('2026-01-02T03:04:05Z') },
    } }] }));
  });

  it('decodes by the declared type: an array of references, one element, a managed-type reference', async () => {
    const c = await loggedIn();
    const ds = { _typeName: 'ManagedObjectReference', type: 'Datastore', value: 'ds-1' };
    gets.set('/VirtualMachine/vm-1/datastore', { status: 200, body: [ds] });
    gets.set('/VirtualMachine/vm-1/resourcePool', { status: 200, body: { _typeName: 'ManagedObjectReference', type: 'ResourcePool', value: 'rp-1' } });
    gets.set('/VirtualMachine/vm-1/network', { status: 200, body: [] });
    expect(await c.call('RetrievePropertiesEx', PC, spec(['datastore']))).toEqual(content({ propSet: [{ _typeName: 'DynamicProperty', name: 'datastore', val: [{ type: 'Datastore', value: 'ds-1' }] }] }));
    expect(await c.call('RetrievePropertiesEx', PC, spec(['resourcePool']))).toEqual(content({ propSet: [{ _typeName: 'DynamicProperty', name: 'resourcePool', val: { type: 'ResourcePool', value: 'rp-1' } }] }));
    // An empty array is a value, as the collector's empty ArrayOf is.
    expect(await c.call('RetrievePropertiesEx', PC, spec(['network']))).toEqual(content({ propSet: [{ _typeName: 'DynamicProperty', name: 'network', val: [] }] }));
  });

  it('an unset property (204): the object without a propSet', async () => {
    const c = await loggedIn();
    gets.set('/VirtualMachine/vm-1/snapshot', { status: 204 });
    const result = await c.call('RetrievePropertiesEx', PC, spec(['snapshot'])) as { objects: object[] };
    expect(result).toEqual(content({}));
    expect(Object.keys(result.objects[0]!)).toEqual(['_typeName', 'obj']);
  });

  it('a fault of the call (ManagedObjectNotFound) is thrown; one of the property (NoPermission, SystemError, InvalidProperty) is its missingSet', async () => {
    const c = await loggedIn();
    gets.set('/VirtualMachine/vm-1/name', { status: 500, body: { _typeName: 'ManagedObjectNotFound', faultstring: 'The object has already been deleted or has not been completely created', obj: { _typeName: 'ManagedObjectReference', ...VM } } });
    const err = await c.call('RetrievePropertiesEx', PC, spec(['name'])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VimFault);
    expect(err).toMatchObject({ faultName: 'ManagedObjectNotFound', method: 'RetrievePropertiesEx', fault: { obj: { type: 'VirtualMachine', value: 'vm-1' } } });

    for (const [fault, extra] of [['NoPermission', { object: { _typeName: 'ManagedObjectReference', ...VM }, privilegeId: 'System.Read' }], ['SystemError', { reason: 'oops' }], ['InvalidProperty', { name: 'guest' }]] as const) {
      gets.set('/VirtualMachine/vm-1/guest', { status: 500, body: { _typeName: fault, faultstring: `cannot read guest (${fault})`, ...extra } });
      const result = await c.call('RetrievePropertiesEx', PC, spec(['guest'])) as { objects: { missingSet: { fault: { fault: { _typeName: string } } }[] }[] };
      expect(result).toMatchObject(content({ missingSet: [{ _typeName: 'MissingProperty', path: 'guest', fault: { _typeName: 'LocalizedMethodFault', localizedMessage: `cannot read guest (${fault})`, fault: { _typeName: fault } } }] }));
      expect(result.objects[0]!.missingSet[0]!.fault.fault).not.toHaveProperty('faultstring');
    }
  });

  it('NotAuthenticated goes to the session policy: one re-login, the GET again', async () => {
    const c = await loggedIn();
    gets.set('/VirtualMachine/vm-1/name', { status: 200, body: 'web-1' });
    server.sessions.clear();
    const result = await c.call('RetrievePropertiesEx', PC, spec(['name']));
    expect(result).toEqual(content({ propSet: [{ _typeName: 'DynamicProperty', name: 'name', val: 'web-1' }] }));
    expect(c.events).toEqual(['login', 'reauthenticated']);
    expect(server.requests.map((r) => [r.method, r.path.split('/').at(-1), r.session])).toEqual([['GET', 'name', 's1'], ['POST', 'Login', undefined], ['GET', 'name', 's2']]);
  });

  it('is replayed when the server closes the connection (a read), and traced and logged as the RetrievePropertiesEx it is', async () => {
    const c = await loggedIn({ debug: true });
    gets.set('/VirtualMachine/vm-1/name', { status: 200, body: 'web-1' });
    const traced: CallMessage[] = [];
    const channel = tracingChannel<unknown, CallMessage>('vim25-soap:call');
    const handlers = { start: (m: CallMessage) => void traced.push(m), end: () => {}, asyncStart: () => {}, asyncEnd: () => {}, error: () => {} };
    channel.subscribe(handlers);
    onTestFinished(() => channel.unsubscribe(handlers));
    server.dropNext = true;
    await c.call('RetrievePropertiesEx', PC, spec(['name']));
    expect(server.requests.map((r) => r.method)).toEqual(['GET', 'GET']);
    expect(traced).toHaveLength(1);
    expect(traced[0]).toMatchObject({ method: 'RetrievePropertiesEx', this: { type: 'PropertyCollector' }, wire: 'json', attempt: 2, retries: [{ reason: 'replay' }] });
    const request = c.lines.find((l) => l.message === 'request' && l.data.includes('RetrievePropertiesEx'))!;
    expect(JSON.parse(request.data)).toEqual({ method: 'RetrievePropertiesEx', envelope: `GET ${server.endpoint()}/vim25/8.0.1.0/VirtualMachine/vm-1/name` });
    expect(c.lines.some((l) => l.message.startsWith('replaying'))).toBe(true);
  });

  it('reads through a base type the object derives from, and escapes the path segments', async () => {
    const c = await loggedIn();
    const odd = { type: 'VirtualMachine', value: 'vm/1 x' };
    gets.set('/VirtualMachine/vm%2F1%20x/name', { status: 200, body: 'odd' });
    const result = await c.call('RetrievePropertiesEx', PC, { specSet: [{ propSet: [{ type: 'ManagedEntity', pathSet: ['name'] }], objectSet: [{ obj: odd }] }], options: { maxObjects: 10 } });
    expect(server.requests.map((r) => [r.method, r.path])).toEqual([['GET', `${BASE}/VirtualMachine/vm%2F1%20x/name`]]);
    expect(result).toMatchObject({ objects: [{ obj: odd, propSet: [{ name: 'name', val: 'odd' }] }] });
  });
});

describe("a property read's answer has the JSON decoder's bounds and typed errors", () => {
  it.each([
    ['larger than maxResponseBytes', { status: 200, raw: `"${'x'.repeat(2 << 20)}"` }, 'ERESPONSETOOLARGE'],
    ['nested deeper than the limit', { status: 200, raw: `${'['.repeat(10_000)}${']'.repeat(10_000)}` }, 'ERESPONSELIMIT'],
    ['not JSON', { status: 200, raw: '{"_typeName": ' }, 'EBADJSON'],
    ['an HTML page with 200', { status: 200, raw: '<html>login</html>', type: 'text/html' }, 'EBADJSON'],
    ['a 404 page (no property GET there)', { status: 404, raw: '<html>Not Found</html>', type: 'text/html' }, 'HTTP_404'],
    ['a 500 JSON body that is no fault', { status: 500, raw: '{"error":"internal"}' }, 'HTTP_500'],
  ])('%s: a TransportError, never a value or a missingSet', async (_what, answer, code) => {
    const c = await loggedIn();
    gets.set('/VirtualMachine/vm-1/guest', answer);
    const err = await c.call('RetrievePropertiesEx', PC, spec(['guest'])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect(err).toMatchObject({ code });
  });
});

describe('everything else stays a RetrievePropertiesEx POST', () => {
  it.each([
    ['a nested path', spec(['runtime.powerState'])],
    ['a keyed path', spec(['config.extraConfig["x"]'])],
    ['two paths', spec(['name', 'runtime'])],
    ['no path', spec([])],
    ['a property the model does not know', spec(['noSuchProperty'])],
    ['all properties', spec(['name'], VM, { propSpec: { all: true } })],
    ['a skipped object', spec(['name'], VM, { objectSpec: { skip: true } })],
    ['a traversal', spec(['name'], VM, { objectSpec: { selectSet: [{ _typeName: 'TraversalSpec', type: 'VirtualMachine', path: 'datastore', skip: false }] } })],
    ['missing objects reported in the result', spec(['name'], VM, { spec: { reportMissingObjectsInResults: true } })],
    ['maxObjects 0', spec(['name'], VM, { options: { maxObjects: 0 } })],
    ['a type the object is no subtype of', { specSet: [{ propSet: [{ type: 'HostSystem', pathSet: ['name'] }], objectSet: [{ obj: VM }] }], options: {} }],
    ['two objects', { specSet: [{ propSet: [{ type: 'VirtualMachine', pathSet: ['name'] }], objectSet: [{ obj: VM }, { obj: { type: 'VirtualMachine', value: 'vm-2' } }] }], options: {} }],
    ['two filter specs', { specSet: [spec(['name']).specSet[0], spec(['name']).specSet[0]], options: {} }],
  ])('%s', async (_what, args) => {
    const c = await loggedIn();
    await c.call('RetrievePropertiesEx', PC, args).catch((e: unknown) => {
      if (!isVimFault(e)) throw e; // the toy server's answer does not matter, only the request
    });
    expect(server.requests.map((r) => [r.method, r.path])).toEqual([['POST', `${BASE}/PropertyCollector/propertyCollector/RetrievePropertiesEx`]]);
  });

  it('as do RetrieveProperties and ContinueRetrievePropertiesEx', async () => {
    const c = await loggedIn();
    await c.call('RetrieveProperties', PC, { specSet: spec(['name']).specSet });
    expect(server.requests.map((r) => [r.method, r.path.split('/').at(-1)])).toEqual([['POST', 'RetrieveProperties']]);
  });
});
