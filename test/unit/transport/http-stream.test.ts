// Streamed request bodies and the methods beyond GET and POST (file transfers), on both HTTP
// stacks: bodies paced by the connection, an idle timeout that progress keeps from firing, an
// answer that comes before the body was all sent, abort, and the cookie jar.
import { createHash, randomBytes } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { CookieJar } from 'tough-cookie';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortError, TransportError } from '../../../src/errors.ts';
import { silentLogger } from '../../../src/logger.ts';
import { HttpTransport, type HttpTransportOptions } from '../../../src/transport/http.ts';
import { loopbackServerCertificate } from '../../harness/tls-fixtures.ts';

type Handler = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void;
const tlsPair = loopbackServerCertificate();
let server: https.Server;
let base = '';
let handler: Handler = (_req, res) => res.end('ok');

beforeAll(async () => {
  server = https.createServer({ cert: tlsPair.cert, key: tlsPair.key }, (req, res) => handler(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** Reads the request body, answers with its length and hash. */
const hashing: Handler = (req, res) => {
  const hash = createHash('sha256');
  let n = 0;
  req.on('data', (c: Buffer) => {
    n += c.length;
    hash.update(c);
  });
  req.on('end', () => res.end(JSON.stringify({ method: req.method, n, sha: hash.digest('hex'), length: req.headers['content-length'] ?? null, chunked: req.headers['transfer-encoding'] ?? null, cookie: req.headers.cookie ?? null })));
};

/** A stream of `count` chunks of `size` bytes, made as they are read, counting what was read. */
function counted(count: number, size: number, pause?: number): Readable & { produced: number } {
  let i = 0;
  const s = new Readable({
    read() {
      if (i === count) {
        this.push(null);
        return;
      }
      i++;
      s.produced += size;
      if (pause) setTimeout(() => this.push(Buffer.alloc(size, i)), pause);
      else this.push(Buffer.alloc(size, i));
    },
  }) as Readable & { produced: number };
  s.produced = 0;
  return s;
}

/** Settles once the body was released (a test that never sees it fails on its timeout). */
async function closed(body: Readable): Promise<void> {
  body.on('error', () => undefined);
  if (!body.closed) await new Promise((r) => body.once('close', r));
  expect(body.destroyed).toBe(true);
}

describe.each(['https', 'undici'] as const)('over %s', (stack) => {
  const transport = (extra: Partial<HttpTransportOptions> = {}): HttpTransport =>
    new HttpTransport({ tls: { ca: tlsPair.cert }, jar: new CookieJar(), logger: silentLogger, timeoutMs: 5000, maxResponseBytes: 1 << 20, maxSockets: 4, idleSocketMs: 30_000, userAgent: 't', http: stack, ...extra });

  it('PUT sends a stream body as it is read, with its Content-Length, or chunked without one; cookies go along', async () => {
    handler = hashing;
    const t = transport();
    t.options.jar.setCookieSync('vmware_soap_session="abc"; Path=/', base);
    const bytes = randomBytes(3 * 1024 * 1024 + 7);
    const sha = createHash('sha256').update(bytes).digest('hex');
    const res = await t.send(`${base}/folder/x`, { method: 'PUT', body: Readable.from([bytes.subarray(0, 100), bytes.subarray(100)]), headers: { 'Content-Length': String(bytes.length) } });
    expect(res.via).toBe(stack);
    expect(JSON.parse(await t.text(res.body))).toEqual({ method: 'PUT', n: bytes.length, sha, length: String(bytes.length), chunked: null, cookie: 'vmware_soap_session="abc"' });
    const res2 = await t.send(`${base}/folder/y`, { method: 'POST', body: Readable.from([bytes]), cookies: false });
    expect(JSON.parse(await t.text(res2.body))).toMatchObject({ method: 'POST', n: bytes.length, sha, length: null, chunked: 'chunked', cookie: null });
    t.close();
  });

  it('DELETE and HEAD go as such', async () => {
    handler = (req, res) => {
      res.setHeader('x-method', req.method ?? '');
      res.end(req.method === 'HEAD' ? undefined : 'gone');
    };
    const t = transport();
    const del = await t.send(`${base}/x`, { method: 'DELETE' });
    expect(await t.text(del.body)).toBe('gone');
    const head = await t.send(`${base}/x`, { method: 'HEAD' });
    expect(head.headers['x-method']).toBe('HEAD');
    expect(await t.text(head.body)).toBe('');
    t.close();
  });

  it('idle: a body that keeps moving outlasts timeoutMs in all; one that stalls fails with ETIMEDOUT', async () => {
    handler = hashing;
    const t = transport({ timeoutMs: 1000 });
    // 30 chunks 100 ms apart: three times the timeout in all, never idle for a third of it.
    const moving = counted(30, 1000, 100);
    const res = await t.send(`${base}/slow`, { method: 'PUT', body: moving, ctx: { idle: true } });
    expect(JSON.parse(await t.text(res.body)).n).toBe(30_000);
    const stalled = new Readable({ read() {} });
    stalled.push(Buffer.alloc(10));
    const err = await t.send(`${base}/stalled`, { method: 'PUT', body: stalled, ctx: { idle: true, timeoutMs: 300 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).code).toBe('ETIMEDOUT');
    expect((err as Error).message).toMatch(/no byte sent or received/);
    await closed(stalled);
    t.close();
  });

  it('idle: an answer that keeps coming outlasts timeoutMs in all; one that stalls midway errors its stream with ETIMEDOUT', async () => {
    handler = (req, res) => {
      let i = 0;
      res.write('x'.repeat(1000));
      if (req.url === '/stall') return; // the head and a first chunk, then nothing
      const timer = setInterval(() => {
        if (++i === 30) {
          clearInterval(timer);
          res.end();
        } else res.write('x'.repeat(1000));
      }, 100);
    };
    const t = transport({ timeoutMs: 1000 });
    const slow = await t.send(`${base}/slow`, { method: 'GET', ctx: { idle: true } });
    expect((await t.readAll(slow.body)).length).toBe(30_000);
    const stalled = await t.send(`${base}/stall`, { method: 'GET', ctx: { idle: true, timeoutMs: 300 } });
    const err = await t.readAll(stalled.body).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).code).toBe('ETIMEDOUT');
    // Without idle, the same deadline is the whole exchange's.
    const whole = await t.send(`${base}/slow`, { method: 'GET', ctx: { timeoutMs: 1000 } });
    expect(((await t.readAll(whole.body).catch((e: unknown) => e)) as TransportError).code).toBe('ETIMEDOUT');
    t.close();
  });

  it('an answer before the body was all read (a 401) is handed over, and cancel() stops sending the rest', async () => {
    handler = (_req, res) => {
      res.statusCode = 401;
      res.end('who are you');
    };
    const t = transport();
    // 64 MiB made on demand; the server reads none of it.
    const body = counted(1024, 64 * 1024);
    const res = await t.send(`${base}/folder/x`, { method: 'PUT', body, headers: { 'Content-Length': String(64 * 1024 * 1024) }, ctx: { idle: true } });
    expect(res.status).toBe(401);
    expect(await t.text(res.body)).toBe('who are you');
    res.cancel?.();
    await closed(body);
    expect(body.produced).toBeLessThan(64 * 1024 * 1024);
    t.close();
  });

  it('an abort midway fails the request with AbortError and destroys the body', async () => {
    handler = hashing;
    const t = transport();
    const ctrl = new AbortController();
    const body = counted(1000, 1000, 5);
    const sent = t.send(`${base}/abort`, { method: 'PUT', body, ctx: { signal: ctrl.signal, idle: true } });
    setTimeout(() => ctrl.abort(), 50);
    const err = await sent.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AbortError);
    await closed(body);
    expect(body.produced).toBeLessThan(1000 * 1000);
    t.close();
  });

  it('a body that fails fails the request, with the body\'s error as the cause', async () => {
    handler = hashing;
    const t = transport();
    const boom = new Error('disk on fire');
    let sentOnce = false;
    const body = new Readable({
      read() {
        if (!sentOnce) {
          sentOnce = true;
          this.push(Buffer.alloc(100));
        } else this.destroy(boom);
      },
    });
    const err = await t.send(`${base}/fail`, { method: 'PUT', body, headers: { 'Content-Length': '1000' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    let cause: unknown = err;
    while (cause instanceof Error && cause !== boom && cause.cause) cause = cause.cause;
    expect(cause).toBe(boom);
    t.close();
  });
});
