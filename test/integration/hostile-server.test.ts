// A man in the middle that forwards to the harness but answers CurrentTime with hostile or
// broken content: every case must end in a TransportError, never a crash or an expansion.
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TransportError, VimClient, type ManagedObjectReference } from '../../src/index.ts';
import { readFileSync } from 'node:fs';
import { loopbackServerCertificate } from '../harness/tls-fixtures.ts';
import { bundleDir } from '../../scripts/lib/paths.ts';

const h = inject('harness');
const SI: ManagedObjectReference<'ServiceInstance'> = { type: 'ServiceInstance', value: 'ServiceInstance' };
type Answer = { status: number; type?: string; body: string | Buffer };
let answer: Answer | undefined;
let server: https.Server;
let client: VimClient;

const ENV = (body: string) => `<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`;

beforeAll(async () => {
  const ca = readFileSync(h.certFile);
  const upstream = new URL(h.url);
  // The proxy has a certificate of its own, which the client trusts.
  const mitm = loopbackServerCertificate('mitm');
  const mitmCert = mitm.cert;
  server = https.createServer({ cert: mitm.cert, key: mitm.key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (answer && body.includes('CurrentTime')) {
        res.writeHead(answer.status, { 'Content-Type': answer.type ?? 'text/xml' });
        res.end(answer.body);
        return;
      }
      const up = https.request(new URL(req.url!, upstream), { method: req.method, headers: { ...req.headers, host: upstream.host }, ca }, (ur) => {
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        ur.pipe(res);
      });
      up.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/sdk`;
  client = await VimClient.connect(url, { tls: { ca: mitmCert }, wsdl: bundleDir() });
  await client.login({ username: h.username, password: h.password });
});
afterAll(async () => {
  answer = undefined;
  await client?.close();
  server?.close();
});

const cases: [string, Answer, string][] = [
  ['an XXE payload', { status: 200, body: `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${ENV('<CurrentTimeResponse xmlns="urn:vim25"><returnval>&xxe;</returnval></CurrentTimeResponse>').replace(/^<\?xml version="1.0"\?>/, '')}` }, 'EDOCTYPE'],
  ['entity expansion (billion laughs)', { status: 200, body: `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>` }, 'EDOCTYPE'],
  ['a 502 HTML page', { status: 502, type: 'text/html', body: '<html><body><h1>502 Bad Gateway</h1></body></html>' }, 'HTTP_502'],
  ['a 504 HTML page', { status: 504, type: 'text/html', body: '<html><body>Gateway Timeout</body></html>' }, 'HTTP_504'],
  ['an empty 200', { status: 200, body: '' }, 'EBADXML'],
  ['a truncated answer', { status: 200, body: ENV('<CurrentTimeResponse xmlns="urn:vim25"><returnval>2024-01-01T00:00:00Z</returnval></CurrentTimeResponse>').slice(0, 120) }, 'EBADXML'],
  ['plain text', { status: 200, type: 'text/plain', body: 'hello, I am not SOAP' }, 'EBADXML'],
  ['an HTML 200 page', { status: 200, type: 'text/html', body: '<html><body>Login</body></html>' }, 'ENOTSOAP'],
  ['a 500 without a SOAP fault', { status: 500, type: 'text/html', body: '<html>Internal error</html>' }, 'HTTP_500'],
];

describe('hostile and broken answers', () => {
  it.each(cases)('%s -> TransportError', async (_what, a, code) => {
    answer = a;
    const err = await client.call('CurrentTime', SI).catch((e: unknown) => e);
    answer = undefined;
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).code).toBe(code);
    expect(String((err as Error).message)).not.toMatch(/root:x:0:0/);
    if (a.status !== 200) {
      expect((err as TransportError).status).toBe(a.status);
      expect((err as TransportError).excerpt).toBeTruthy();
    }
    expect(await client.call('CurrentTime', SI)).toBeInstanceOf(Date);
  });
});
