// The exchange at the end of the pipeline, against our small vim25 server: what it refuses to
// send, what goes on the wire, and how each kind of answer becomes a value or a typed error.
import { CookieJar } from 'tough-cookie';
import { afterAll, describe, expect, it } from 'vitest';
import { methodInfo } from '../../../src/binding/metadata.ts';
import type { DecodeLimits } from '../../../src/binding/decode.ts';
import { TransportError, ValidationError, VimFault } from '../../../src/errors.ts';
import { silentLogger } from '../../../src/logger.ts';
import { soapExchange, type WsdlOperations } from '../../../src/soap/exchange.ts';
import type { InvokeOptions } from '../../../src/soap/pipeline.ts';
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
  const handler = soapExchange({ endpoint: server().url, transport, version: o.version ?? (() => '8.0.3.0'), limits: o.limits ?? {}, operations: o.operations });
  return (method: string, _this: object, args: object, options: InvokeOptions = {}, deadline?: number) =>
    handler({ info: methodInfo(method)!, _this, args, options, deadline }).catch((e: unknown) => e);
}

describe('soapExchange', () => {
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
});
