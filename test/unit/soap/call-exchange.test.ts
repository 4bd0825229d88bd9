// The exchange at the end of the pipeline, over the SOAP wire, against our small vim25 server:
// what it refuses to send, what goes on the wire, how each kind of answer becomes a value or a
// typed error, and how a pre-built request (node-soap's envelope) goes through it.
import { CookieJar } from 'tough-cookie';
import { afterAll, describe, expect, it } from 'vitest';
import { methodInfo } from '../../../src/binding/metadata.ts';
import type { DecodeLimits } from '../../../src/binding/decode.ts';
import { TransportError, ValidationError, VimFault } from '../../../src/errors.ts';
import { silentLogger } from '../../../src/logger.ts';
import { requestEnvelope } from '../../../src/soap/envelope.ts';
import { exchange as wireExchange, type WsdlOperations } from '../../../src/soap/call-exchange.ts';
import { soapPipeline, type InvokeOptions, type RawAnswer } from '../../../src/soap/pipeline.ts';
import { soapWire } from '../../../src/soap/soap-wire.ts';
import { HttpTransport } from '../../../src/transport/http.ts';
import { ENV, faultAnswer } from '../../harness/hostile-server.ts';
import { ownVimServer, SI } from '../../fixtures.ts';

const server = ownVimServer();
const SM = { type: 'SessionManager', value: 'SessionManager' };
const TIME = ENV('<CurrentTimeResponse xmlns="urn:vim25"><returnval>2026-01-01T00:00:00Z</returnval></CurrentTimeResponse>');

// One transport per response limit for the whole file: its kept-alive connection spares each test a TLS handshake.
const transports = new Map<number, HttpTransport>();
afterAll(() => transports.forEach((t) => t.close()));

function exchange(o: { version?: () => string; maxResponseBytes?: number; limits?: DecodeLimits; operations?: WsdlOperations } = {}) {
  const maxResponseBytes = o.maxResponseBytes ?? 8 << 20;
  let transport = transports.get(maxResponseBytes);
  if (!transport) {
    transport = new HttpTransport({ tls: { ca: server().cert }, jar: new CookieJar(), logger: silentLogger, timeoutMs: 60_000, maxResponseBytes, maxSockets: 2, idleSocketMs: 30_000, userAgent: 't', http: 'https' });
    transports.set(maxResponseBytes, transport);
  }
  const version = o.version ?? (() => '8.0.3.0');
  const wire = soapWire({ endpoint: server().url, transport, version, limits: o.limits ?? {} });
  const handler = wireExchange({ wire, transport, version, operations: o.operations });
  return (method: string, _this: object, args: object, options: InvokeOptions = {}, deadline?: number) =>
    handler({ info: methodInfo(method)!, _this, args, options, deadline }).catch((e: unknown) => e);
}

describe('the exchange over the SOAP wire', () => {
  it('posts the envelope with the SOAPAction of the version at call time, and decodes the answer', async () => {
    const heads: string[][] = [];
    server().answers.set('CurrentTime', {
      write: (res, req) => {
        heads.push([String(req.method), String(req.headers['content-type']), String(req.headers.soapaction)]);
        res.end(TIME);
      },
    });
    let version = '8.0.2.0';
    const call = exchange({ version: () => version });
    expect(await call('CurrentTime', SI, {})).toEqual(new Date('2026-01-01T00:00:00Z'));
    version = '8.0.3.0';
    await call('CurrentTime', SI, {});
    expect(heads).toEqual([['POST', 'text/xml; charset=utf-8', '"urn:vim25/8.0.2.0"'], ['POST', 'text/xml; charset=utf-8', '"urn:vim25/8.0.3.0"']]);
    expect(server().requests.at(-1)!.body).toContain('<vim25:CurrentTime xmlns:vim25="urn:vim25" xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this>');
  });

  it('refuses a method outside the given WSDL, or newer than the server\'s, before sending anything', async () => {
    const sent = server().requests.length;
    const operations = { names: new Set(['CurrentTime']), location: 'file:///wsdl/vimService.wsdl' };
    const outside = await exchange({ operations })('RetrieveServiceContent', SI, {});
    expect(outside).toBeInstanceOf(ValidationError);
    expect(outside).toMatchObject({ method: 'RetrieveServiceContent', path: '', message: expect.stringContaining('file:///wsdl/vimService.wsdl') });
    const newer = await exchange({ version: () => '7.0.2.0' })('FetchAuditRecords', { type: 'AuditRecordManager', value: 'a' }, { token: 't' });
    expect(newer).toMatchObject({ name: 'ValidationError', method: 'FetchAuditRecords', message: expect.stringMatching(/introduced in vim25 7\.0\.3\.0/) });
    expect(server().requests).toHaveLength(sent);
  });

  it.each([500, 200])('a SOAP fault in an HTTP %i answer is the VimFault it carries', async (status) => {
    server().answers.set('CurrentTime', { ...faultAnswer('NotAuthenticated'), status });
    const err = await exchange()('CurrentTime', SI, {});
    expect(err).toBeInstanceOf(VimFault);
    expect(err).toMatchObject({ method: 'CurrentTime', faultName: 'NotAuthenticated' });
    expect((err as VimFault).is('NoPermission')).toBe(true);
  });

  it('an answer that is not SOAP is a TransportError with its status and an excerpt, none of the request in it', async () => {
    server().answers.set('Login', { status: 503, body: '<html><body>Service Unavailable</body></html>' });
    const err = await exchange()('Login', SM, { userName: 'root', password: 'hunter2-secret' });
    expect(err).toBeInstanceOf(TransportError);
    expect(err).toMatchObject({ status: 503, code: 'HTTP_503', excerpt: expect.stringContaining('Service Unavailable') });
    expect(`${(err as Error).message} ${(err as TransportError).excerpt}`).not.toContain('hunter2');
  });

  it('reads no more than 1 MiB of an error answer (or the transport\'s limit, if lower), and says so', async () => {
    for (const [maxResponseBytes, size] of [[8 << 20, (1 << 20) + 1], [16 << 10, 20 << 10]] as const) {
      server().answers.set('CurrentTime', { status: 500, body: `Fault${'x'.repeat(size - 5)}` });
      const err = await exchange({ maxResponseBytes })('CurrentTime', SI, {});
      expect(err).toBeInstanceOf(TransportError);
      expect(err).toMatchObject({ status: 500, code: 'HTTP_500', message: expect.stringMatching(/over 1048576 bytes, not read/), cause: { code: 'ERESPONSETOOLARGE' } });
    }
  });

  it('decodes an answer under the transport\'s size limit and the caller\'s decoding limits', async () => {
    server().answers.set('CurrentTime', { body: TIME.replace('<CurrentTimeResponse', `${' '.repeat(20 << 10)}<CurrentTimeResponse`) });
    expect(await exchange({ maxResponseBytes: 16 << 10 })('CurrentTime', SI, {})).toMatchObject({ name: 'TransportError', code: 'ERESPONSETOOLARGE' });
    // The limits given win over the transport's.
    expect(await exchange({ maxResponseBytes: 16 << 10, limits: { maxBytes: 1 << 20 } })('CurrentTime', SI, {})).toBeInstanceOf(Date);
    expect(await exchange({ limits: { maxElements: 3 } })('CurrentTime', SI, {})).toMatchObject({ code: 'ERESPONSELIMIT' });
  });

  it('hands the call\'s jar, signal and deadline to the transport', { timeout: 5000 }, async () => {
    const jar = new CookieJar();
    jar.setCookieSync('vmware_soap_session="side-login"; Path=/', server().url);
    const call = exchange();
    await call('CurrentTime', SI, {}, { jar });
    expect(server().requests.at(-1)!.cookie).toBe('vmware_soap_session="side-login"');
    const sent = server().requests.length;
    expect(await call('CurrentTime', SI, {}, { signal: AbortSignal.abort() })).toMatchObject({ name: 'AbortError', code: 'EABORTED' });
    expect(server().requests).toHaveLength(sent);
    // The server never answers and the transport waits 60 s: only the call's deadline ends this.
    server().answers.set('CurrentTime', { write: () => undefined });
    expect(await call('CurrentTime', SI, {}, {}, Date.now() + 500)).toMatchObject({ code: 'ETIMEDOUT', outcomeUnknown: true });
    expect(server().requests).toHaveLength(sent + 1);
    // A deadline already past: nothing is sent (a request nobody waits for could still take effect).
    expect(await call('CurrentTime', SI, {}, {}, Date.now() - 1)).toMatchObject({ code: 'ETIMEDOUT', outcomeUnknown: false });
    await new Promise((resolve) => setTimeout(resolve, 200)); // long enough for a request on its way to arrive
    expect(server().requests).toHaveLength(sent + 1);
  });

  it('sends a pre-built request byte for byte with its headers, and hands back each answer as it came with what the wire made of it', async () => {
    const heads: string[] = [];
    server().answers.set('CurrentTime', {
      write: (res, req) => {
        heads.push(`${String(req.headers.soapaction)} ${String(req.headers['x-integration'])}`);
        res.end(TIME);
      },
    });
    const envelope = '<?xml version="1.0"?><e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><CurrentTime xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this></CurrentTime></e:Body></e:Envelope>';
    const answers: [RawAnswer, unknown][] = [];
    const prebuilt = (stream = false) => ({
      url: server().url,
      headers: { SOAPAction: '"urn:vim25/7.0.3.0"', 'X-Integration': 'node-soap' },
      body: envelope,
      stream,
      answered: (answer: RawAnswer, error?: unknown) => answers.push([answer, error]),
    });
    const call = exchange();
    // The wire read the answer: the policies see the value.
    expect(await call('CurrentTime', SI, {}, { prebuilt: prebuilt() })).toEqual(new Date('2026-01-01T00:00:00Z'));
    expect(server().requests.at(-1)!.body).toBe(envelope);
    expect(heads).toEqual(['"urn:vim25/7.0.3.0" node-soap']);
    expect(answers).toHaveLength(1);
    expect(answers[0]![0]).toMatchObject({ status: 200 });
    expect(String(answers[0]![0].body)).toBe(TIME);
    expect(answers[0]![1]).toBeUndefined();
    // A fault: the VimFault for the policies, the answer as it came for the caller, with that very error.
    server().answers.set('CurrentTime', { ...faultAnswer('NotAuthenticated'), status: 500 });
    const err = await call('CurrentTime', SI, {}, { prebuilt: prebuilt() });
    expect(err).toMatchObject({ name: 'VimFault', faultName: 'NotAuthenticated' });
    expect(answers[1]![1]).toBe(err);
    expect(answers[1]![0].status).toBe(500);
    expect(String(answers[1]![0].body)).toContain('NotAuthenticated');
    // A 200 the caller streams is handed over unread.
    server().answers.set('CurrentTime', { body: TIME });
    expect(await call('CurrentTime', SI, {}, { prebuilt: prebuilt(true) })).toBeUndefined();
    const streamed = answers[2]![0].body as NodeJS.ReadableStream;
    expect(Buffer.isBuffer(streamed)).toBe(false);
    let text = '';
    for await (const chunk of streamed) text += String(chunk);
    expect(text).toBe(TIME);
  });

  it('a pre-built request may call a method the bundle does not declare (a newer server\'s), read by its own xsi:types; a call the wire writes may not', async () => {
    server().answers.set('QueryNewerThing', { body: ENV('<QueryNewerThingResponse xmlns="urn:vim25"><returnval xsi:type="xsd:int">42</returnval></QueryNewerThingResponse>') });
    const transport = new HttpTransport({ tls: { ca: server().cert }, jar: new CookieJar(), logger: silentLogger, timeoutMs: 60_000, maxResponseBytes: 1 << 20, maxSockets: 1, idleSocketMs: 30_000, userAgent: 't', http: 'https' });
    try {
      const invoke = soapPipeline({ endpoint: server().url, transport, logger: silentLogger, version: () => '8.0.3.0', limits: {} });
      expect(await invoke('QueryNewerThing', SI, {}).catch((e: unknown) => e)).toMatchObject({ name: 'ValidationError', message: expect.stringContaining('not a vim25 method') });
      const body = requestEnvelope('QueryNewerThing', '<_this type="ServiceInstance">ServiceInstance</_this>');
      const prebuilt = { url: server().url, headers: { SOAPAction: '"urn:vim25/8.0.3.0"' }, body, answered: () => undefined };
      expect(await invoke('QueryNewerThing', SI, undefined, { prebuilt })).toBe(42);
    } finally {
      transport.close();
    }
  });

  it('a streamed pre-built request whose answer is not a 200 is read whole, and handed back with the error the wire made of it', async () => {
    server().answers.set('CurrentTime', { ...faultAnswer('NotAuthenticated'), status: 500 });
    const answers: [RawAnswer, unknown][] = [];
    const body = requestEnvelope('CurrentTime', '<_this type="ServiceInstance">ServiceInstance</_this>');
    const prebuilt = { url: server().url, headers: { SOAPAction: '"urn:vim25/8.0.3.0"' }, body, stream: true, answered: (a: RawAnswer, e?: unknown) => answers.push([a, e]) };
    const err = await exchange()('CurrentTime', SI, {}, { prebuilt });
    expect(err).toMatchObject({ name: 'VimFault', faultName: 'NotAuthenticated' });
    expect(answers).toHaveLength(1);
    expect(Buffer.isBuffer(answers[0]![0].body)).toBe(true);
    expect(String(answers[0]![0].body)).toContain('NotAuthenticated');
    expect(answers[0]![1]).toBe(err);
  });

  it('a request the wire makes a GET goes without its body; one with no method is a POST with it', async () => {
    const transport = new HttpTransport({ tls: { ca: server().cert }, jar: new CookieJar(), logger: silentLogger, timeoutMs: 60_000, maxResponseBytes: 1 << 20, maxSockets: 1, idleSocketMs: 30_000, userAgent: 't', http: 'https' });
    try {
      for (const method of ['GET', undefined] as const) {
        const wire = {
          request: () => ({ ...(method && { method }), url: `${server().url}/vimServiceVersions.xml`, headers: {}, body: 'the body' }),
          answer: async (_c: unknown, res: { body: NodeJS.ReadableStream }) => transport.text(res.body as never),
          redacted: () => '',
        };
        const handler = wireExchange({ wire, transport, version: () => '8.0.3.0' });
        expect(await handler({ info: methodInfo('CurrentTime')!, _this: SI, args: {}, options: {} })).toContain('urn:vim25');
        expect(server().requests.at(-1)).toMatchObject({ method: 'versions', body: method === 'GET' ? '' : 'the body' });
      }
    } finally {
      transport.close();
    }
  });
});

