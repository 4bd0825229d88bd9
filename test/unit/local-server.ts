// A loopback HTTP server for a unit test file (listening before its tests, closed after them),
// and a transport whose jar holds a session cookie for it: what the session modules' unit tests
// send their requests through.
import type { Server } from 'node:http';
import { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { CookieJar } from 'tough-cookie';
import { afterAll, beforeAll, onTestFinished } from 'vitest';
import { silentLogger } from '../../src/logger.ts';
import { HttpTransport } from '../../src/transport/http.ts';

/**
 * Listens on a free loopback port for the file's tests; the function gives the server's base URL.
 * After them, every connection is closed first: a request left half-sent (a test of a body that
 * fails) keeps its connection busy, and `close` alone waited for it (30 s, on Node 24).
 */
export function serveLocally(server: Server | HttpsServer): () => string {
  let base = '';
  beforeAll(() => new Promise<void>((r) => server.listen(0, '127.0.0.1', () => {
    base = `${server instanceof HttpsServer ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
    r();
  })));
  afterAll(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return () => base;
}

/** A transport on Node's stack whose jar holds `vmware_soap_session=<session>` for `base`; closed after the test. */
export function sessionTransport(base: string, session: string): HttpTransport {
  const jar = new CookieJar();
  jar.setCookieSync(`vmware_soap_session="${session}"; Path=/`, base);
  const t = new HttpTransport({ tls: {}, jar, logger: silentLogger, timeoutMs: 5000, maxResponseBytes: 1 << 20, maxSockets: 2, idleSocketMs: 30_000, userAgent: 't', http: 'https' });
  onTestFinished(() => t.close());
  return t;
}
