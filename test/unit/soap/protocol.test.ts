// Which wire a client speaks, against a small local HTTP server: SOAP unless asked, VI/JSON when
// the probe (the ServiceContent over VI/JSON) answers with one, and what 'json' and 'auto' do
// when it does not.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { CookieJar } from 'tough-cookie';
import { beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { TransportError } from '../../../src/errors.ts';
import { silentLogger, type Logger } from '../../../src/logger.ts';
import { jsonWire } from '../../../src/soap/json-wire.ts';
import { checkProtocol, chooseWire, type ChooseOptions } from '../../../src/soap/protocol.ts';
import { soapWire } from '../../../src/soap/soap-wire.ts';
import { HttpTransport } from '../../../src/transport/http.ts';
import { serveLocally } from '../local-server.ts';

type Seen = { method: string; url: string; accept: string | undefined };
let handler: (req: IncomingMessage, res: ServerResponse) => void;
let seen: Seen[] = [];
const server = http.createServer((req, res) => {
  seen.push({ method: req.method!, url: req.url!, accept: req.headers.accept });
  req.resume();
  req.on('end', () => handler(req, res));
});
const base = serveLocally(server);

const CONTENT = {
  _typeName: 'ServiceContent',
  rootFolder: { _typeName: 'ManagedObjectReference', type: 'Folder', value: 'group-d1' },
  propertyCollector: { _typeName: 'ManagedObjectReference', type: 'PropertyCollector', value: 'propertyCollector' },
  about: { _typeName: 'AboutInfo', name: 'VMware vCenter Server', fullName: 'VMware vCenter Server 8.0.3', vendor: 'VMware, Inc.', version: '8.0.3', build: '1', osType: 'linux-x64', productLineId: 'vpx', apiType: 'VirtualCenter', apiVersion: '8.0.3.0' },
};
const answer = (status: number, body: string, type: string | undefined = 'application/json') => (_req: IncomingMessage, res: ServerResponse) => {
  res.writeHead(status, type === undefined ? {} : { 'content-type': type });
  res.end(body);
};

beforeEach(() => {
  seen = [];
  handler = answer(200, JSON.stringify(CONTENT));
});

function options(lines: unknown[] = []): ChooseOptions {
  const transport = new HttpTransport({ tls: {}, jar: new CookieJar(), logger: silentLogger, timeoutMs: 5000, maxResponseBytes: 1 << 20, maxSockets: 2, idleSocketMs: 30_000, userAgent: 't', http: 'https' });
  onTestFinished(() => transport.close());
  const logger: Logger = { ...silentLogger, debug: (message, data) => lines.push({ message, data }) };
  return { endpoint: `${base()}/sdk`, transport, release: '8.0.3.0', limits: {}, logger };
}

describe('checkProtocol', () => {
  it('soap by default; soap, json and auto as given; anything else a TypeError naming it', () => {
    expect(checkProtocol(undefined)).toBe('soap');
    for (const p of ['soap', 'json', 'auto']) expect(checkProtocol(p)).toBe(p);
    for (const bad of ['SOAP', 'xml', '', null, 1]) {
      expect(() => checkProtocol(bad)).toThrow(new TypeError(`protocol must be 'soap', 'json' or 'auto', not ${JSON.stringify(bad)}`));
    }
  });
});

describe('chooseWire', () => {
  it('soap: SOAP without asking the server anything', async () => {
    expect(await chooseWire('soap', options())).toEqual({ protocol: 'soap', wire: soapWire });
    expect(seen).toEqual([]);
  });

  it('json and auto: VI/JSON, decided by a GET of the ServiceContent, which is handed over', async () => {
    for (const wanted of ['json', 'auto'] as const) {
      seen = [];
      const lines: unknown[] = [];
      const chosen = await chooseWire(wanted, options(lines));
      expect(chosen.protocol).toBe('json');
      expect(chosen.wire).toBe(jsonWire);
      expect(chosen.content?.about.apiVersion).toBe('8.0.3.0');
      expect(chosen.content?.rootFolder).toEqual({ type: 'Folder', value: 'group-d1' });
      expect(seen).toEqual([{ method: 'GET', url: '/sdk/vim25/8.0.3.0/ServiceInstance/ServiceInstance/content', accept: 'application/json' }]);
      expect(lines).toEqual([{ message: 'protocol', data: { protocol: 'json', release: '8.0.3.0', asked: wanted } }]);
    }
  });

  it('a server without the VI/JSON API: json fails with ENOJSON saying what is needed; auto falls back to SOAP and says why', async () => {
    const cases: [string, (req: IncomingMessage, res: ServerResponse) => void][] = [
      ['404', answer(404, 'not found', 'text/plain')],
      ['a 200 that is not JSON', answer(200, '<html/>', 'text/html')],
      ['a 200 without a content type', answer(200, '{}', undefined)],
      ['JSON without an about', answer(200, JSON.stringify({ ...CONTENT, about: undefined }))],
      ['a JSON fault', answer(200, JSON.stringify({ _typeName: 'NotAuthenticated', faultstring: 'no' }))],
    ];
    for (const [what, h] of cases) {
      handler = h;
      const err = await chooseWire('json', options()).catch((e: unknown) => e);
      expect(err, what).toBeInstanceOf(TransportError);
      expect(err, what).toMatchObject({
        code: 'ENOJSON',
        message: `${base()}/sdk serves no VI/JSON API for release 8.0.3.0: it needs vCenter 8.0 Update 1 or later. Connect with protocol 'soap' (or 'auto', which falls back to SOAP)`,
      });
      const lines: unknown[] = [];
      expect(await chooseWire('auto', options(lines)), what).toEqual({ protocol: 'soap', wire: soapWire });
      expect(lines, what).toEqual([{ message: 'protocol', data: { protocol: 'soap', release: '8.0.3.0', asked: 'auto', why: 'no VI/JSON API' } }]);
    }
  });

  it('takes a JSON content type in any case, with parameters', async () => {
    handler = answer(200, JSON.stringify(CONTENT), 'Application/JSON; charset=utf-8');
    expect((await chooseWire('auto', options())).protocol).toBe('json');
  });
});
