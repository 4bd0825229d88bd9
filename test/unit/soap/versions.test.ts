import http, { type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CookieJar } from 'tough-cookie';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { silentLogger } from '../../../src/logger.ts';
import { fetchServerVersion, vim25Version } from '../../../src/soap/versions.ts';
import { HttpTransport } from '../../../src/transport/http.ts';

const FILE = `<?xml version="1.0" encoding="UTF-8" ?>
<namespaces version="1.0">
  <namespace><name>urn:vim25</name><version>8.0.3.0</version>
    <priorVersions><version>8.0.2.0</version><version>8.0.1.0</version></priorVersions>
  </namespace>
  <namespace><name>urn:vim2</name><version>2.0</version></namespace>
</namespaces>`;

describe('vim25Version', () => {
  it('reads the urn:vim25 version, not a prior one or another namespace\'s', () => {
    expect(vim25Version(FILE)).toBe('8.0.3.0');
    expect(vim25Version(FILE.replace('<name>urn:vim25</name>', '<name>urn:other</name>'))).toBeUndefined();
  });

  it.each([
    ['not XML', 'hello'],
    ['HTML', '<html><body>404</body></html>'],
    ['a DOCTYPE', `<!DOCTYPE x [<!ENTITY e "9.9">]>${FILE.replace(/^<\?xml[^>]*\?>/, '')}`],
    ['an unclosed namespace repeated 40 000 times', `<namespaces>${'<namespace><name>urn:vim25</name><version>1</version>'.repeat(40_000)}`],
    ['a version with spaces inside', FILE.replace('8.0.3.0', '8.0 3.0')],
  ])('says nothing for %s', (_what, xml) => {
    expect(vim25Version(xml)).toBeUndefined();
  });
});

describe('vim25Version, the file\'s shape', () => {
  it('trims the name and the version', () => {
    expect(vim25Version('<namespaces><namespace><name>\n  urn:vim25 </name><version>\n 8.0.2.0\n</version></namespace></namespaces>')).toBe('8.0.2.0');
  });

  it('takes the first urn:vim25 namespace, and nothing of one namespace into the next', () => {
    expect(vim25Version('<namespaces><namespace><name>urn:vim25</name><version>8.0.3.0</version></namespace>'
      + '<namespace><name>urn:vim25</name><version>7.0</version></namespace></namespaces>')).toBe('8.0.3.0');
    // A urn:vim25 without a version, then a version without a name: no urn:vim25 version.
    expect(vim25Version('<namespaces><namespace><name>urn:vim25</name></namespace><namespace><version>9.9</version></namespace></namespaces>')).toBeUndefined();
  });

  it('a file that breaks off after the namespace, or is larger than such a file can be, says nothing', () => {
    expect(vim25Version(FILE.replace('</namespaces>', ''))).toBeUndefined();
    const big = `<namespaces><namespace><name>urn:vim25</name><version>8.0.3.0</version></namespace>${'<x/>'.repeat(10_001)}</namespaces>`;
    expect(vim25Version(big)).toBeUndefined();
    expect(vim25Version(big.replace('<x/>'.repeat(10_001), '<x/>'.repeat(100)))).toBe('8.0.3.0');
  });
});

describe('fetchServerVersion', () => {
  let handler: (res: ServerResponse) => void = (res) => res.end(FILE);
  const paths: string[] = [];
  let base = '';
  const server = http.createServer((req, res) => {
    paths.push(req.url!);
    handler(res);
  });
  beforeAll(() => new Promise<void>((r) => server.listen(0, '127.0.0.1', () => {
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    r();
  })));
  afterAll(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  const transport = () => {
    const t = new HttpTransport({ tls: {}, jar: new CookieJar(), logger: silentLogger, timeoutMs: 5000, maxResponseBytes: 1 << 20, maxSockets: 2, idleSocketMs: 30_000, userAgent: 't', http: 'https' });
    onTestFinished(() => t.close());
    return t;
  };

  it('reads <sdk>/vimServiceVersions.xml', async () => {
    handler = (res) => res.end(FILE);
    expect(await fetchServerVersion(transport(), `${base}/sdk`)).toBe('8.0.3.0');
    expect(paths.at(-1)).toBe('/sdk/vimServiceVersions.xml');
  });

  it('says nothing for an answer that is not a 200, or larger than 64 KiB', async () => {
    handler = (res) => {
      res.statusCode = 404;
      res.end(FILE);
    };
    expect(await fetchServerVersion(transport(), `${base}/sdk`)).toBeUndefined();
    handler = (res) => res.end(FILE.replace('<namespace>', `<!--${'x'.repeat(65 * 1024)}--><namespace>`));
    expect(await fetchServerVersion(transport(), `${base}/sdk`)).toBeUndefined();
  });

  it('a server that cannot be reached is an error, not an unknown version', async () => {
    handler = (res) => res.socket?.destroy();
    await expect(fetchServerVersion(transport(), `${base}/sdk`)).rejects.toMatchObject({ name: 'TransportError' });
  });
});

