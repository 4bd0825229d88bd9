// Reading a given WSDL: the operations of its portType, through vimService.wsdl's import, in one
// linear pass, and clear errors for what is not a vim25 WSDL.
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { CookieJar } from 'tough-cookie';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/logger.ts';
import { HttpTransport } from '../../../src/transport/http.ts';
import { cacheKey, loadServiceDescription, wsdlLocation } from '../../../src/wsdl/load.ts';
import { tempDir } from '../../fixtures.ts';
import { interfaceWsdl, SERVICE_WSDL } from '../../harness/wsdl-docs.ts';

const transport = new HttpTransport({ tls: {}, jar: new CookieJar(), logger: silentLogger, timeoutMs: 1000, maxResponseBytes: 1 << 20, maxSockets: 1, idleSocketMs: 1000, userAgent: 't' });

const SERVICE = SERVICE_WSDL;
const iface = interfaceWsdl;

function bundle(files: Record<string, string>): string {
  const dir = tempDir('vim25-wsdl-unit-');
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe('loadServiceDescription', () => {
  it('reads the operations of the imported interface WSDL, its namespace and soapAction', async () => {
    const dir = bundle({ 'vimService.wsdl': SERVICE, 'vim.wsdl': iface(['CurrentTime', 'Login']) });
    const d = await loadServiceDescription(wsdlLocation(dir), transport);
    expect([...d.operations]).toEqual(['CurrentTime', 'Login']);
    expect(d).toMatchObject({ targetNamespace: 'urn:vim25', soapAction: 'urn:vim25/8.0.3.0', location: join(dir, 'vimService.wsdl') });
  });

  it.each([
    ['an HTML page', '<html><body>Not Found</body></html>', /HTML page/],
    ['not XML at all', 'Service Unavailable', /not a WSDL document/],
    ['a DOCTYPE', `<!DOCTYPE definitions [<!ENTITY x "y">]>${iface(['A'])}`, /DOCTYPE/],
    ['no portType', '<definitions targetNamespace="urn:vim25" xmlns="http://schemas.xmlsoap.org/wsdl/"/>', /no vim25 portType/],
    ['an operation name that is no XML name', iface(['Bad"Name', 'A']).replaceAll('Bad"Name', 'Bad&quot;Name'), /not an XML name/],
  ])('refuses %s with EWSDL', async (_what, text, message) => {
    const dir = bundle({ 'vimService.wsdl': text });
    await expect(loadServiceDescription(wsdlLocation(dir), transport)).rejects.toMatchObject({ code: 'EWSDL', message: expect.stringMatching(message) });
  });

  it('reads 200 000 unclosed comments and portTypes in linear time (no regex over the document)', async () => {
    const hostile = `<definitions targetNamespace="urn:vim25" xmlns="http://schemas.xmlsoap.org/wsdl/">${'<portType><!-- x -->'.repeat(200_000)}`;
    const dir = bundle({ 'vimService.wsdl': hostile });
    await expect(loadServiceDescription(wsdlLocation(dir), transport)).rejects.toMatchObject({ code: 'EWSDL' });
  });

  it('names a missing file', () => {
    expect(() => wsdlLocation('/nonexistent/dir')).toThrow(/not found/);
  });

  it('reads a URL once per TLS policy: what a client without verification read is not another client\'s', async () => {
    const asked: string[] = [];
    const server = createServer((req, res) => {
      asked.push(req.url!);
      res.end(req.url === '/sdk/vimService.wsdl' ? SERVICE : iface(['CurrentTime']));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/sdk/vimService.wsdl`;
    const under = (tls: ConstructorParameters<typeof HttpTransport>[0]['tls']) => new HttpTransport({ ...transport.options, tls });
    try {
      const verifying = under({ ca: 'a CA certificate' });
      await loadServiceDescription(url, verifying);
      await loadServiceDescription(url, verifying);
      expect(asked).toHaveLength(2); // vimService.wsdl and vim.wsdl, once
      await loadServiceDescription(url, under({ insecure: true }));
      expect(asked).toHaveLength(4);
    } finally {
      server.close();
    }
    // The key: a file is everyone's; a URL is per trust (CA, pin, verification, server name), not per client certificate.
    expect(cacheKey('/a/vimService.wsdl', { insecure: true })).toBe(cacheKey('/a/vimService.wsdl', {}));
    expect(cacheKey(url, { thumbprint: 'ab'.repeat(20) })).toBe(cacheKey(url, { thumbprint: 'AB:'.repeat(19) + 'AB' }));
    expect(cacheKey(url, { ca: 'x' })).toBe(cacheKey(url, { ca: 'x', cert: 'c', key: 'k' }));
    expect(new Set([{}, { insecure: true }, { ca: 'x' }, { ca: 'y' }, { servername: 'vc' }].map((tls) => cacheKey(url, tls))).size).toBe(5);
  });
});
