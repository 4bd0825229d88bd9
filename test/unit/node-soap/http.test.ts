// node-soap's IHttpClient on our transport, against a small local TLS server: the parts of
// node-soap's HttpClient contract a vim25 server never exercises (multipart answers), and the
// headers the transport owns.
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { CookieJar } from 'tough-cookie';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/logger.ts';
import { VimHttpClient, operationOf, type SoapHttpResponse } from '../../../src/node-soap/http.ts';
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

function client(options: ConstructorParameters<typeof VimHttpClient>[1] = {}): { http: VimHttpClient; jar: CookieJar; close: () => void } {
  const jar = new CookieJar();
  const transport = new HttpTransport({ tls: { ca: tlsPair.cert }, jar, logger: silentLogger, timeoutMs: 5000, maxResponseBytes: 1 << 20, maxSockets: 2, idleSocketMs: 30_000, userAgent: 't' });
  // Requests here are no vim25 calls the session would guard; guard runs the attempt as it is.
  const http = new VimHttpClient({ transport, url: `${base}/sdk`, apiVersion: '8.0.2.0', guard: (attempt) => attempt() }, options);
  return { http, jar, close: () => transport.close() };
}

function request(http: VimHttpClient, data: string | null, headers: Record<string, string> = {}, exoptions: object = {}): Promise<SoapHttpResponse> {
  return new Promise((resolve, reject) => {
    http.request(`${base}/sdk`, data, (err, res) => (err ? reject(err) : resolve(res as SoapHttpResponse)), headers, exoptions);
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
    const { http, close } = client({ parseResponseAttachments: true });
    try {
      const res = await request(http, '<soap:Envelope><soap:Body><CurrentTime/></soap:Body></soap:Envelope>');
      expect(res.data).toBe(ENVELOPE);
      expect(res.mtomResponseAttachments?.parts).toHaveLength(1);
      expect([...res.mtomResponseAttachments!.parts[0]!.body]).toEqual([0, 1, 2, 255]);
      // Without the option, as node-soap's own HttpClient: the envelope cut out of the text, no attachments.
      const { http: plain, close: closePlain } = client();
      const bare = await request(plain, '<soap:Envelope/>');
      expect(bare.data).toBe(ENVELOPE);
      expect(bare.mtomResponseAttachments).toBeUndefined();
      closePlain();
    } finally {
      close();
    }
  });

  it('sends the jar\'s cookie, never the caller\'s, and GETs when there is no body (WSDL files)', async () => {
    answer = { status: 200, headers: { 'content-type': 'text/xml' }, body: Buffer.from(ENVELOPE) };
    seen = [];
    const { http, jar, close } = client();
    try {
      jar.setCookieSync('vmware_soap_session="from-the-jar"; Path=/', base);
      await request(http, ENVELOPE, { Cookie: 'vmware_soap_session="stale"', SOAPAction: '"urn:vim25/8.0.2.0"', 'Content-Length': '1' });
      await request(http, null);
      expect(seen.map((s) => s.method)).toEqual(['POST', 'GET']);
      expect(seen[0]!.headers.cookie).toBe('vmware_soap_session="from-the-jar"');
      expect(seen[0]!.headers.soapaction).toBe('"urn:vim25/8.0.2.0"');
      expect(seen[0]!.body).toBe(ENVELOPE);
    } finally {
      close();
    }
  });

  it('names the operation of a request envelope, whatever the prefixes', () => {
    expect(operationOf('<soap:Envelope><soap:Header/><soap:Body><vim25:Login xmlns:vim25="urn:vim25">')).toBe('Login');
    expect(operationOf('<Envelope><Body wsu:Id="x"><!-- c --><RetrievePropertiesEx>')).toBe('RetrievePropertiesEx');
    expect(operationOf('<Envelope><Body/></Envelope>')).toBeUndefined();
  });
});
