// The VI/JSON wire's method calls (POST …/{Type}/{moId}/{method}) through the exchange, against a
// small local HTTP server: the URL and headers, the session id both ways, each kind of answer,
// what a call without a target or with a WS-Security header does, and what a debug log shows.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CookieJar } from 'tough-cookie';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { methodInfo } from '../../../src/binding/metadata.ts';
import { silentLogger } from '../../../src/logger.ts';
import { exchange } from '../../../src/soap/call-exchange.ts';
import { jsonBase, jsonWire } from '../../../src/soap/json-wire.ts';
import type { InvokeOptions, SoapCall } from '../../../src/soap/pipeline.ts';
import { HttpTransport } from '../../../src/transport/http.ts';
import { sessionIdIn, setSessionCookie } from '../../../src/transport/session-cookie.ts';

type Seen = { method: string; url: string; body: string; headers: IncomingMessage['headers'] };
let handler: (req: IncomingMessage, res: ServerResponse) => void;
let seen: Seen[] = [];
let base = '';
const server = http.createServer((req, res) => {
  const s: Seen = { method: req.method!, url: req.url!, body: '', headers: req.headers };
  seen.push(s);
  req.on('data', (c: Buffer) => (s.body += c));
  req.on('end', () => handler(req, res));
});
const answer = (status: number, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) => (_req: IncomingMessage, res: ServerResponse) => {
  res.writeHead(status, headers);
  res.end(body);
};

let transport: HttpTransport;
beforeAll(() => new Promise<void>((r) => server.listen(0, '127.0.0.1', () => {
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  transport = new HttpTransport({ tls: {}, jar: new CookieJar(), logger: silentLogger, timeoutMs: 5000, maxResponseBytes: 64 << 10, maxSockets: 2, idleSocketMs: 30_000, userAgent: 't', http: 'https' });
  r();
})));
beforeEach(() => {
  seen = [];
  handler = answer(200, '"2026-01-01T00:00:00Z"');
});
afterAll(() => {
  transport.close();
  server.closeAllConnections();
  return new Promise<void>((r) => server.close(() => r()));
});

const SI = { type: 'ServiceInstance', value: 'ServiceInstance' };
const SM = { type: 'SessionManager', value: 'SessionManager' };
const endpoint = () => `${base}/sdk`;

function wire(at = endpoint()) {
  return jsonWire({ endpoint: at, transport, version: () => '8.0.1.0', limits: {} });
}
function call(method: string, _this: unknown, args: object, options: InvokeOptions = {}): SoapCall {
  return { info: methodInfo(method)!, _this, args, options };
}
function send(c: SoapCall, at = endpoint()): Promise<unknown> {
  return exchange({ wire: wire(at), transport, version: () => '8.0.1.0' })(c).catch((e: unknown) => e);
}

describe('jsonBase', () => {
  it('the release path below the endpoint, however many slashes end it', () => {
    expect(jsonBase('https://vc/sdk', '8.0.1.0')).toBe('https://vc/sdk/vim25/8.0.1.0');
    expect(jsonBase('https://vc/sdk//', '8.0.1.0')).toBe('https://vc/sdk/vim25/8.0.1.0');
    expect(jsonBase('https://vc/sdk', 'a/b')).toBe('https://vc/sdk/vim25/a%2Fb');
  });
});

describe('the VI/JSON wire, a method call', () => {
  it('POSTs the JSON arguments to …/{Type}/{moId}/{method}, its segments escaped, and decodes the answer by the method', async () => {
    expect(await send(call('CurrentTime', { type: 'ServiceInstance', value: 'a/b c' }, {}), `${endpoint()}/`)).toEqual(new Date('2026-01-01T00:00:00Z'));
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/sdk/vim25/8.0.1.0/ServiceInstance/a%2Fb%20c/CurrentTime' });
    expect(seen[0]!.headers['content-type']).toBe('application/json');
    expect(seen[0]!.headers.accept).toBe('application/json');
    expect(seen[0]!.headers['vmware-api-session-id']).toBeUndefined();
  });

  it('sends the session the call\'s jar holds, and keeps the one an answer names in that jar', async () => {
    const jar = new CookieJar();
    setSessionCookie(jar, endpoint(), 'sess-1');
    handler = answer(200, '{"_typeName":"UserSession","key":"k","userName":"u"}', { 'content-type': 'application/json', 'vmware-api-session-id': 'sess-2' });
    await send(call('Login', SM, { userName: 'u', password: 'p' }, { jar }));
    expect(seen[0]!.headers['vmware-api-session-id']).toBe('sess-1');
    expect(sessionIdIn(jar, endpoint())).toBe('sess-2');
    await send(call('CurrentTime', SI, {}, { jar }));
    expect(seen[1]!.headers['vmware-api-session-id']).toBe('sess-2');
    // An empty header names no session: the jar keeps its own.
    handler = answer(200, '"2026-01-01T00:00:00Z"', { 'content-type': 'application/json', 'vmware-api-session-id': '' });
    await send(call('CurrentTime', SI, {}, { jar }));
    expect(sessionIdIn(jar, endpoint())).toBe('sess-2');
  });

  it('a 204 is a call without a value', async () => {
    handler = answer(204, '', {});
    expect(await send(call('Logout', SM, {}))).toBeUndefined();
  });

  it('a JSON fault is the VimFault it names; a JSON content type may carry a suffix and parameters', async () => {
    for (const type of ['application/json', 'application/vnd.vmware.vim+json; charset=utf-8', 'APPLICATION/JSON']) {
      handler = answer(500, '{"_typeName":"InvalidLogin","faultstring":"Cannot complete login"}', { 'content-type': type });
      expect(await send(call('Login', SM, { userName: 'u', password: 'p' })), type).toMatchObject({ name: 'VimFault', faultName: 'InvalidLogin', method: 'Login' });
    }
  });

  it('an error answer that is not a JSON fault is an HTTP failure with an excerpt', async () => {
    const cases: [string, Record<string, string>][] = [
      ['<html>Bad Gateway</html>', { 'content-type': 'text/html' }],
      ['{"message":"not a fault"}', { 'content-type': 'application/json' }],
      ['{"_typeName":"InvalidLogin"', { 'content-type': 'application/json' }],
      ['{"_typeName":"InvalidLogin"}', { 'content-type': 'text/json' }],
    ];
    for (const [body, headers] of cases) {
      handler = answer(502, body, headers);
      expect(await send(call('CurrentTime', SI, {})), body).toMatchObject({ name: 'TransportError', status: 502, code: 'HTTP_502', excerpt: expect.stringContaining(body.slice(0, 10)) });
    }
  });

  it('a 200 that is not JSON is EBADJSON, naming what came instead', async () => {
    handler = answer(200, '<html>portal</html>', { 'content-type': 'text/html' });
    expect(await send(call('CurrentTime', SI, {}))).toMatchObject({
      name: 'TransportError', code: 'EBADJSON', status: 200, message: 'CurrentTime: HTTP 200 without a VI/JSON answer (text/html)', excerpt: expect.stringContaining('portal'),
    });
    handler = answer(200, 'x', {});
    expect(await send(call('CurrentTime', SI, {}))).toMatchObject({ code: 'EBADJSON', message: 'CurrentTime: HTTP 200 without a VI/JSON answer (no content type)' });
  });

  it('reads an answer no larger than the transport allows', async () => {
    handler = answer(200, `"${'x'.repeat(70 << 10)}"`);
    expect(await send(call('CurrentTime', SI, {}))).toMatchObject({ code: 'ERESPONSETOOLARGE' });
  });

  it('a call without a managed object to put in the URL is refused before anything is sent', async () => {
    for (const _this of [undefined, null, {}, { type: 'ServiceInstance' }, { value: 'x' }, { type: '', value: 'x' }, { type: 'X', value: '' }, { type: 1, value: 'x' }]) {
      const err = await send(call('CurrentTime', _this, {}));
      expect(err, JSON.stringify(_this)).toMatchObject({ name: 'ValidationError', method: 'CurrentTime', path: '_this', message: expect.stringContaining('VI/JSON puts it in the URL') });
    }
    expect(seen).toEqual([]);
  });

  it('a call with a WS-Security header (a token login) goes over SOAP, to the SDK endpoint', async () => {
    handler = answer(200, '<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
      + '<LoginByTokenResponse xmlns="urn:vim25"><returnval><key>k</key><userName>u</userName></returnval></LoginByTokenResponse></soapenv:Body></soapenv:Envelope>', { 'content-type': 'text/xml' });
    const c = call('LoginByToken', SM, {}, { header: { security: '<saml2:Assertion>secret-token</saml2:Assertion>' } });
    expect(await send(c)).toMatchObject({ key: 'k', userName: 'u' });
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/sdk' });
    expect(seen[0]!.headers.soapaction).toBe('"urn:vim25/8.0.1.0"');
    expect(wire().redacted(c)).toContain('<vim25:LoginByToken');
    expect(wire().redacted(c)).not.toContain('secret-token');
  });

  it('a debug log shows the arguments as JSON, secrets redacted', () => {
    const shown = wire().redacted(call('Login', SM, { userName: 'u', password: 'Sup3r-secret' }));
    expect(JSON.parse(shown)).toEqual({ userName: 'u', password: '[redacted]' });
  });
});
