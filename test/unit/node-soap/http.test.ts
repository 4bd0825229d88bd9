// node-soap's IHttpClient on a VimClient's pipeline, against a small local TLS server: the parts of
// node-soap's HttpClient contract a vim25 server never exercises (multipart answers), the headers
// the transport owns, and what is not sent at all.
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { CookieJar } from 'tough-cookie';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { methodInfo } from '../../../src/binding/metadata.ts';
import { silentLogger } from '../../../src/logger.ts';
import { VimHttpClient, type SoapHttpResponse, type WrittenRequests } from '../../../src/node-soap/http.ts';
import { operationOf } from '../../../src/node-soap/security.ts';
import { soapPipeline } from '../../../src/soap/pipeline.ts';
import { HttpTransport } from '../../../src/transport/http.ts';
import { loopbackServerCertificate } from '../../harness/tls-fixtures.ts';

const tlsPair = loopbackServerCertificate();
let server: https.Server;
let base = '';
let seen: { method: string; headers: Record<string, string | string[] | undefined>; body: string }[] = [];
let answer: { status: number; headers: Record<string, string>; body: Buffer } = { status: 200, headers: {}, body: Buffer.from('') };

beforeAll(async () => {
  server = https.createServer({ cert: tlsPair.cert, key: tlsPair.key }, (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method!, headers: req.headers, body });
      res.writeHead(answer.status, answer.headers).end(answer.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const SI = { type: 'ServiceInstance', value: 'ServiceInstance' };

function client(options: ConstructorParameters<typeof VimHttpClient>[2] = {}): { http: VimHttpClient; jar: CookieJar; written: WrittenRequests; close: () => void } {
  const jar = new CookieJar();
  const transport = new HttpTransport({ tls: { ca: tlsPair.cert }, jar, logger: silentLogger, timeoutMs: 5000, maxResponseBytes: 1 << 20, maxSockets: 2, idleSocketMs: 30_000, userAgent: 't' });
  const url = `${base}/sdk`;
  // The client's pipeline without a session: these calls need none.
  const call = soapPipeline({ endpoint: url, transport, logger: silentLogger, version: () => '8.0.2.0', limits: {} });
  const written: WrittenRequests = new WeakMap();
  const http = new VimHttpClient({ transport, url, apiVersion: '8.0.2.0', call, session: undefined as never }, written, options);
  return { http, jar, written, close: () => transport.close() };
}

/** node-soap's request: the serializer wrote CurrentTime for this options object, then node-soap hands both to the HTTP client. */
function request(c: { http: VimHttpClient; written: WrittenRequests }, data: string | null, headers: Record<string, string> = {}, exoptions: object = {}): Promise<SoapHttpResponse> {
  if (data !== null) c.written.set(exoptions, { info: methodInfo('CurrentTime')!, _this: SI, args: {}, secrets: new Set() });
  return new Promise((resolve, reject) => {
    c.http.request(`${base}/sdk`, data, (err, res) => (err ? reject(err) : resolve(res as SoapHttpResponse)), headers, exoptions);
  });
}

const ENVELOPE = '<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><CurrentTimeResponse xmlns="urn:vim25"><returnval>2026-01-01T00:00:00Z</returnval></CurrentTimeResponse></soapenv:Body></soapenv:Envelope>';

describe('VimHttpClient', () => {
  it('reads a multipart/related (MTOM) answer into attachments when parseResponseAttachments is on', async () => {
    const boundary = 'b0undary';
    answer = {
      status: 200,
      headers: { 'content-type': `multipart/related; type="application/xop+xml"; boundary="${boundary}"` },
      body: Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Type: application/xop+xml\r\nContent-ID: <root>\r\n\r\n${ENVELOPE}\r\n`),
        Buffer.from(`--${boundary}\r\nContent-Type: application/octet-stream\r\nContent-ID: <att>\r\n\r\n`),
        Buffer.from([0, 1, 2, 255]),
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]),
    };
    const c = client({ parseResponseAttachments: true });
    try {
      const res = await request(c, '<soap:Envelope><soap:Body><CurrentTime/></soap:Body></soap:Envelope>');
      expect(res.data).toBe(ENVELOPE);
      expect(res.mtomResponseAttachments?.parts).toHaveLength(1);
      expect([...res.mtomResponseAttachments!.parts[0]!.body]).toEqual([0, 1, 2, 255]);
      // Without the option, as node-soap's own HttpClient: the envelope cut out of the text, no attachments.
      const plain = client();
      const bare = await request(plain, '<soap:Envelope/>');
      expect(bare.data).toBe(ENVELOPE);
      expect(bare.mtomResponseAttachments).toBeUndefined();
      plain.close();
    } finally {
      c.close();
    }
  });

  it('sends the jar\'s cookie, never the caller\'s, and GETs when there is no body (WSDL files)', async () => {
    answer = { status: 200, headers: { 'content-type': 'text/xml' }, body: Buffer.from(ENVELOPE) };
    seen = [];
    const c = client();
    try {
      c.jar.setCookieSync('vmware_soap_session="from-the-jar"; Path=/', base);
      await request(c, ENVELOPE, { Cookie: 'vmware_soap_session="stale"', SOAPAction: '"urn:vim25/8.0.2.0"', 'Content-Length': '1' });
      await request(c, null);
      expect(seen.map((s) => s.method)).toEqual(['POST', 'GET']);
      expect(seen[0]!.headers.cookie).toBe('vmware_soap_session="from-the-jar"');
      expect(seen[0]!.headers.soapaction).toBe('"urn:vim25/8.0.2.0"');
      expect(seen[0]!.body).toBe(ENVELOPE);
    } finally {
      c.close();
    }
  });

  it('sends no request the adapter\'s serializer did not write (its secrets would be unknown to the logs)', async () => {
    seen = [];
    const c = client();
    try {
      const err = await new Promise((resolve) => {
        c.http.request(`${base}/sdk`, '<soap:Envelope><soap:Body><Login><password>hunter2</password></Login></soap:Body></soap:Envelope>', resolve, {}, {});
      });
      expect(err).toBeInstanceOf(TypeError);
      expect(seen).toEqual([]);
    } finally {
      c.close();
    }
  });

  it('names the operation of a request envelope, whatever the prefixes', () => {
    expect(operationOf('<soap:Envelope><soap:Header/><soap:Body><vim25:Login xmlns:vim25="urn:vim25">')).toBe('Login');
    expect(operationOf('<Envelope><Body wsu:Id="x"><!-- c --><RetrievePropertiesEx>')).toBe('RetrievePropertiesEx');
    expect(operationOf('<Envelope><Body/></Envelope>')).toBeUndefined();
  });
});
