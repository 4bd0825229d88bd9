// plainRequest against a small local HTTP server: what it sends, how much of an answer it
// reads, and which requests it sends again when the server closes a connection under them.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { CookieJar } from 'tough-cookie';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { TransportError } from '../../../src/errors.ts';
import { silentLogger } from '../../../src/logger.ts';
import { HttpTransport } from '../../../src/transport/http.ts';
import { plainRequest } from '../../../src/transport/plain.ts';

type Seen = { method: string; body: string; cookie: string | undefined; thing: string | undefined };
let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end('ok');
let seen: Seen[] = [];
let base = '';
const server = http.createServer((req, res) => {
  // Recorded at once: a request whose connection dies right after it arrived was still seen.
  const s: Seen = { method: req.method!, body: '', cookie: req.headers.cookie, thing: req.headers['x-thing'] as string | undefined };
  seen.push(s);
  req.on('data', (c: Buffer) => (s.body += c));
  req.on('end', () => handler(req, res));
});

beforeAll(() => new Promise<void>((r) => server.listen(0, '127.0.0.1', () => {
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  r();
})));
beforeEach(() => {
  seen = [];
});
afterAll(() => {
  server.closeAllConnections();
  return new Promise<void>((r) => server.close(() => r()));
});

function transport(maxResponseBytes = 1 << 20): HttpTransport {
  const t = new HttpTransport({ tls: {}, jar: new CookieJar(), logger: silentLogger, timeoutMs: 5000, maxResponseBytes, maxSockets: 2, idleSocketMs: 30_000, userAgent: 't', http: 'https' });
  onTestFinished(() => t.close());
  return t;
}

/** The next connection the server accepts dies as soon as a request arrives on it, unanswered. */
function dropNextConnection(): void {
  server.once('connection', (socket: Socket) => socket.once('data', () => socket.destroy()));
}

describe('plainRequest', () => {
  it('GET by default; the whole answer; the jar\'s cookies unless told not to', async () => {
    handler = (_req, res) => res.writeHead(203, { 'Set-Cookie': `vmware_soap_session="s${seen.length}"; Path=/`, 'X-Answer': 'yes' }).end('körper');
    const t = transport();
    const answer = await plainRequest(t, `${base}/a`);
    expect(answer.status).toBe(203);
    expect(answer.headers['x-answer']).toBe('yes');
    expect(answer.body).toEqual(Buffer.from('körper'));
    expect(answer.text()).toBe('körper');
    await plainRequest(t, `${base}/b`);
    // Another service's request: the session cookie not sent, and the one it sets not stored.
    await plainRequest(t, `${base}/c`, { cookies: false });
    await plainRequest(t, `${base}/d`);
    expect(seen.map((s) => [s.method, s.cookie])).toEqual([['GET', undefined], ['GET', 'vmware_soap_session="s1"'], ['GET', undefined], ['GET', 'vmware_soap_session="s2"']]);
  });

  it('sends a POST with its body and headers', async () => {
    handler = (_req, res) => res.end();
    await plainRequest(transport(), `${base}/sts`, { method: 'POST', body: '<x/>', headers: { 'X-Thing': 'v' } });
    expect(seen).toMatchObject([{ method: 'POST', body: '<x/>', thing: 'v' }]);
  });

  it('reads no more than maxBytes, by default the transport\'s response limit', async () => {
    handler = (_req, res) => res.end('x'.repeat(2000));
    await expect(plainRequest(transport(), base, { maxBytes: 1999 })).rejects.toMatchObject({ name: 'TransportError', code: 'ERESPONSETOOLARGE' });
    expect((await plainRequest(transport(), base, { maxBytes: 2000 })).body).toHaveLength(2000);
    await expect(plainRequest(transport(1000), base)).rejects.toMatchObject({ code: 'ERESPONSETOOLARGE' });
    // A caller may allow a larger answer than the SOAP limit (a file), or a smaller one (the STS).
    expect((await plainRequest(transport(1000), base, { maxBytes: 4000 })).body).toHaveLength(2000);
  });

  it('sends a GET, or a request said to be idempotent, once more when the server closed the connection under it', async () => {
    handler = (_req, res) => res.end('second');
    for (const r of [{}, { method: 'POST', body: '<x/>', idempotent: true }] as const) {
      dropNextConnection();
      expect((await plainRequest(transport(), base, r)).text()).toBe('second');
    }
    expect(seen.map((s) => s.method)).toEqual(['GET', 'GET', 'POST', 'POST']);
  });

  it('never sends a written POST again unless told it is idempotent: EOUTCOMEUNKNOWN', async () => {
    handler = (_req, res) => res.end('second');
    const t = transport();
    dropNextConnection();
    const err = await plainRequest(t, base, { method: 'POST', body: '<PowerOn/>' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect(err).toMatchObject({ code: 'EOUTCOMEUNKNOWN', outcomeUnknown: true });
    expect(seen).toHaveLength(1);
  });

  it('an aborted signal sends nothing', async () => {
    const t = transport();
    await expect(plainRequest(t, base, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError', code: 'EABORTED' });
    expect(seen).toHaveLength(0);
  });
});
