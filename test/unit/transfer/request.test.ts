// transferRequest (src/transfer/request.ts) on a transport of its own against a small local
// server: a connection the server closed before answering is sent again on a fresh one only
// when the body can be read again; error answers; the source's own failure is what the caller
// sees. The session's part (401) is tested against the harness (test/integration/transfer-datastore.test.ts).
import { createHash } from 'node:crypto';
import https from 'node:https';
import { Readable } from 'node:stream';
import { CookieJar } from 'tough-cookie';
import { describe, expect, it } from 'vitest';
import { TransportError } from '../../../src/errors.ts';
import { setInternals, type ClientInternals } from '../../../src/internals.ts';
import { silentLogger } from '../../../src/logger.ts';
import { TransferError } from '../../../src/transfer/errors.ts';
import { transferRequest } from '../../../src/transfer/request.ts';
import { HttpTransport } from '../../../src/transport/http.ts';
import { loopbackServerCertificate } from '../../harness/tls-fixtures.ts';
import { serveLocally } from '../local-server.ts';

type Handler = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void;
const tlsPair = loopbackServerCertificate();
let handler: Handler = (_req, res) => res.end('ok');
let requests = 0;

const base = serveLocally(
  https.createServer({ cert: tlsPair.cert, key: tlsPair.key }, (req, res) => {
    requests++;
    handler(req, res);
  }),
);

function client(): object {
  const transport = new HttpTransport({ tls: { ca: tlsPair.cert }, jar: new CookieJar(), logger: silentLogger, timeoutMs: 5000, maxResponseBytes: 1 << 20, maxSockets: 4, idleSocketMs: 30_000, userAgent: 't', http: 'https' });
  const c = {};
  // A session that lets everything through: its re-login is tested against the harness.
  setInternals(c, { transport, url: `${base()}/sdk`, apiVersion: '8.0.3.0', call: () => Promise.reject(new Error('no calls here')), session: { policy: { name: 'session', handle: (call: never, next: (c: never) => Promise<unknown>) => next(call) } } as never } as ClientInternals);
  return c;
}

const hashing: Handler = (req, res) => {
  const hash = createHash('sha256');
  req.on('data', (c: Buffer) => hash.update(c));
  req.on('end', () => res.end(hash.digest('hex')));
};

/** Closes the first request's connection once its head arrived, without answering; then `next`. */
function dropFirst(next: Handler): Handler {
  let first = true;
  return (req, res) => {
    if (first) {
      first = false;
      req.socket.destroy();
      return;
    }
    next(req, res);
  };
}

const text = async (r: Readable): Promise<string> => Buffer.concat(await r.toArray()).toString();

describe('transferRequest', () => {
  it('a PUT of a buffer whose connection the server closed before answering is sent again on a fresh one', async () => {
    handler = dropFirst(hashing);
    requests = 0;
    const bytes = Buffer.alloc(200_000, 5);
    const res = await transferRequest(client(), { method: 'PUT', url: '/folder/x', body: bytes, cookies: false });
    expect(await text(res.body)).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(requests).toBe(2);
  });

  it('a one-shot stream is not sent again: the outcome is unknown', async () => {
    handler = dropFirst(hashing);
    requests = 0;
    const err = await transferRequest(client(), { method: 'PUT', url: '/folder/x', body: Readable.from([Buffer.alloc(1000)]), length: 1000, cookies: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).code).toBe('EOUTCOMEUNKNOWN');
    expect(requests).toBe(1);
  });

  it('an error answer is a TransportError with its status and an excerpt; a * host is the client\'s server', async () => {
    handler = (req, res) => {
      res.statusCode = 404;
      res.end(`nothing at ${req.url}`);
    };
    const err = await transferRequest(client(), { method: 'GET', url: 'https://*/guestFile?id=1&token=t' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect(err).toMatchObject({ status: 404, code: 'HTTP_404', excerpt: 'nothing at /guestFile?id=1&token=t' });
    // The message names the path, not the query (a ticket).
    expect((err as Error).message).toBe('GET /guestFile: HTTP 404');
  });

  it("the source's own failure is what the caller sees, not the request it brought down", async () => {
    handler = hashing;
    const boom = new Error('disk on fire');
    let sent = false;
    const body = new Readable({
      read() {
        if (sent) this.destroy(boom);
        else {
          sent = true;
          this.push(Buffer.alloc(10));
        }
      },
    });
    const err = await transferRequest(client(), { method: 'PUT', url: '/x', body, length: 100, cookies: false }).catch((e: unknown) => e);
    expect(err).toBe(boom);
    const short = await transferRequest(client(), { method: 'PUT', url: '/x', body: Readable.from([Buffer.alloc(10)]), length: 100, cookies: false }).catch((e: unknown) => e);
    expect((short as TransferError).reason).toBe('length-mismatch');
  });

  it('download progress counts the answer against its Content-Length; bad input is refused before anything is sent', async () => {
    handler = (_req, res) => {
      res.setHeader('content-length', '300000');
      res.end(Buffer.alloc(300_000));
    };
    const seen: { bytes: number; total?: number | undefined }[] = [];
    const res = await transferRequest(client(), { method: 'GET', url: '/d', onProgress: (p) => seen.push(p) });
    expect((await res.body.toArray()).reduce((n, c: Buffer) => n + c.length, 0)).toBe(300_000);
    expect(seen.at(-1)).toEqual({ bytes: 300_000, total: 300_000 });
    requests = 0;
    await expect(transferRequest(client(), { method: 'PATCH' as never, url: '/x' })).rejects.toThrow(TypeError);
    await expect(transferRequest(client(), { method: 'GET', url: '/x', body: Buffer.alloc(1) })).rejects.toThrow(TypeError);
    await expect(transferRequest(client(), { method: 'GET', url: 'ftp://x/y' })).rejects.toThrow(TypeError);
    await expect(transferRequest(client(), { method: 'GET', url: '/x', timeoutMs: 0 })).rejects.toThrow(TypeError);
    await expect(transferRequest({}, { method: 'GET', url: '/x' })).rejects.toThrow(/VimClient/);
    expect(requests).toBe(0);
  });
});
