// A file uploaded through either HTTP stack is read into a few buffers used again and again
// (source.ts's FileChunks, given back by the paths once their socket is done with a chunk: the
// `recyclable` hook of http-exchange.ts), so a large upload leaves no garbage buffers for V8 to
// pile up (issue 29: before, each read was a new buffer, ~32 MiB of them dead at a time).
// Counted in buffers allocated, not time; and a consumer that keeps the chunks (no socket gives
// them back) keeps them intact.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream';
import { CookieJar } from 'tough-cookie';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/logger.ts';
import { CHUNK_BYTES, FileChunks, lengthGuard, openSource, POOL_CHUNKS } from '../../../src/transfer/source.ts';
import { HttpTransport } from '../../../src/transport/http.ts';
import { loopbackServerCertificate } from '../../harness/tls-fixtures.ts';

const tlsPair = loopbackServerCertificate();
const dir = mkdtempSync(join(tmpdir(), 'vim25-recycle-'));
const SIZE = 16 * 1024 * 1024 + 1234;
const bytes = randomBytes(SIZE);
const sha = createHash('sha256').update(bytes).digest('hex');
const file = join(dir, 'f.bin');
writeFileSync(file, bytes);
let server: https.Server;
let base = '';

beforeAll(async () => {
  server = https.createServer({ cert: tlsPair.cert, key: tlsPair.key }, (req, res) => {
    const hash = createHash('sha256');
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      hash.update(c);
    });
    req.on('end', () => res.end(JSON.stringify({ n, sha: hash.digest('hex') })));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

describe.each(['https', 'undici'] as const)('an upload over %s', (stack) => {
  it(`reads a ${SIZE >> 20} MiB file into at most ${POOL_CHUNKS} buffers, and the server gets every byte`, async () => {
    const t = new HttpTransport({ tls: { ca: tlsPair.cert }, jar: new CookieJar(), logger: silentLogger, timeoutMs: 60_000, maxResponseBytes: 1 << 20, maxSockets: 4, idleSocketMs: 30_000, userAgent: 't', http: stack });
    try {
      const source = new FileChunks(file);
      // As request.ts sends it: through the length guard, under an idle timeout (one more stage).
      const body = pipeline(source, lengthGuard(SIZE), () => undefined);
      const res = await t.send(`${base}/folder/f.bin`, { method: 'PUT', body, headers: { 'Content-Length': String(SIZE) }, ctx: { idle: true } });
      expect(JSON.parse(await t.text(res.body))).toEqual({ n: SIZE, sha });
      expect(source.allocated).toBeGreaterThan(0);
      // One read per chunk: a reader that allocated for each, or a path that never gave a chunk back, allocates as many.
      expect(source.allocated).toBeLessThanOrEqual(POOL_CHUNKS);
    } finally {
      t.close();
    }
  });
});

describe('chunks nobody gives back', () => {
  it('are never read into again: a consumer that keeps them has the file intact', async () => {
    const source = (await openSource(file)).open();
    const chunks = (await source.toArray()) as Buffer[];
    expect(new Set(chunks.map((c) => c.buffer)).size).toBe(chunks.length);
    expect(createHash('sha256').update(Buffer.concat(chunks)).digest('hex')).toBe(sha);
    // One more for the read that found the end.
    expect((source as FileChunks).allocated).toBe(chunks.length + 1);
  });

  it('a reader destroyed midway closes its file and reads nothing more', async () => {
    const source = new FileChunks(file);
    let got = 0;
    await new Promise<void>((resolve) => {
      source.on('data', (c: Buffer) => {
        got += c.length;
        if (got >= 4 * CHUNK_BYTES) source.destroy();
      });
      source.once('close', () => resolve());
    });
    expect(got).toBe(4 * CHUNK_BYTES);
    expect(source.destroyed).toBe(true);
  });
});
