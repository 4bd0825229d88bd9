// scripts/lib/wsdl-bundle.ts: copying and downloading the vim25 bundle, and verifying it against
// wsdl/manifest.json. Uses the development bundle (bundleDir()) and a local https server.
import { cpSync, existsSync, lstatSync, readdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  BundleError, checkXml, installBundle, manifestJson, readManifest, resolveReference, verifyBundle, readBundle, directorySource,
  type Manifest,
} from '../../scripts/lib/wsdl-bundle.ts';
import { bundleDir } from '../../scripts/lib/paths.ts';
import { loopbackServerCertificate } from '../harness/tls-fixtures.ts';
import { tempDir } from '../fixtures.ts';

const SRC = bundleDir();
const manifest = readManifest();
const NAMES = manifest.files.map((f) => f.name).sort();
const HTML_404 = '<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>\n';


/** A writable copy of the bundle, in which `edit` may change files. */
function copyOfBundle(edit?: (dir: string) => void): string {
  const dir = join(tempDir('vim25-wsdl-test-'), 'src');
  // Dereferenced: a bundle directory that is a symbolic link (wsdl/vim25 → ../shared/…) would
  // otherwise be copied as the link, and the edits below would go to the only copy of the bundle.
  cpSync(SRC, dir, { recursive: true, dereference: true });
  if (!lstatSync(dir).isDirectory()) throw new Error(`${dir} is not a copy of the bundle`);
  for (const name of readdirSync(dir)) chmodSync(join(dir, name), 0o644);
  edit?.(dir);
  return dir;
}

describe('manifest', () => {
  it('lists the 9 files of the development bundle, sorted, and round-trips deterministically', () => {
    expect(manifest.entry).toBe('vimService.wsdl');
    expect(NAMES).toHaveLength(9);
    expect(manifest.files.map((f) => f.name)).toEqual(NAMES);
    expect(manifest.wsdlSoapActionVersion).toMatch(/^\d+(\.\d+)+$/);
    expect(readFileSync(join(SRC, 'vim.wsdl'), 'utf8')).toContain(`soapAction="urn:vim25/${manifest.wsdlSoapActionVersion}"`);
    const text = readFileSync(new URL('../../wsdl/manifest.json', import.meta.url), 'utf8');
    expect(manifestJson(manifest)).toBe(text);
  });
});

describe('installBundle from a directory', () => {
  it('copies and verifies all 9 files', async () => {
    const out = join(tempDir('vim25-wsdl-test-'), 'out', 'vim25');
    const result = await installBundle({ from: SRC, out });
    expect(result.files.map((f) => f.name)).toEqual(NAMES);
    expect(readdirSync(out).sort()).toEqual(NAMES);
    for (const name of NAMES) expect(readFileSync(join(out, name)).equals(readFileSync(join(SRC, name)))).toBe(true);
    // No temporary directory is left next to the output.
    expect(readdirSync(join(out, '..'))).toEqual(['vim25']);
    // Running again replaces the bundle in place.
    await installBundle({ from: SRC, out });
    expect(readdirSync(out).sort()).toEqual(NAMES);
  });

  it('rejects a tampered file, naming it with expected and actual sha256, and writes nothing', async () => {
    const src = copyOfBundle((dir) => {
      const path = join(dir, 'vim-types.xsd');
      const data = readFileSync(path);
      const at = Math.floor(data.length / 2);
      data[at] = data[at] === 0x41 ? 0x42 : 0x41;
      writeFileSync(path, data);
    });
    const out = join(tempDir('vim25-wsdl-test-'), 'vim25');
    const want = manifest.files.find((f) => f.name === 'vim-types.xsd')!;
    const err = await installBundle({ from: src, out }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BundleError);
    expect((err as Error).message).toMatch(new RegExp(`^vim-types\\.xsd: .*expected sha256 ${want.sha256}.*got sha256 [0-9a-f]{64}`));
    expect((err as Error).message).not.toContain('vim.wsdl');
    expect(existsSync(out)).toBe(false);
  });

  it('rejects an HTML page in place of vim.wsdl', async () => {
    const src = copyOfBundle((dir) => writeFileSync(join(dir, 'vim.wsdl'), HTML_404));
    const out = join(tempDir('vim25-wsdl-test-'), 'vim25');
    await expect(installBundle({ from: src, out })).rejects.toThrow('vim.wsdl: expected XML (WSDL/XSD), got an HTML page');
    expect(existsSync(out)).toBe(false);
  });

  it('rejects a referenced file that is absent from the directory', async () => {
    const src = copyOfBundle((dir) => rmSync(join(dir, 'query-types.xsd')));
    await expect(installBundle({ from: src, out: join(tempDir('vim25-wsdl-test-'), 'vim25') })).rejects.toThrow(/^query-types\.xsd: not found in /);
  });

  it('rejects a file the manifest does not list (extra) and one it lists but the bundle lacks (missing)', async () => {
    const extra: Manifest = { ...manifest, files: manifest.files.filter((f) => f.name !== 'reflect-types.xsd') };
    await expect(installBundle({ from: SRC, out: join(tempDir('vim25-wsdl-test-'), 'vim25'), manifest: extra })).rejects.toThrow(/reflect-types\.xsd: extra file, not in the manifest/);

    const missing: Manifest = { ...manifest, files: [...manifest.files, { name: 'sms-types.xsd', size: 1, sha256: '0'.repeat(64) }] };
    const out = join(tempDir('vim25-wsdl-test-'), 'vim25');
    await expect(installBundle({ from: SRC, out, manifest: missing })).rejects.toThrow(/sms-types\.xsd: missing/);
    expect(existsSync(out)).toBe(false);
  });

  it('rejects references that leave the bundle directory', async () => {
    const src = copyOfBundle((dir) => {
      const path = join(dir, 'vimService.wsdl');
      writeFileSync(path, readFileSync(path, 'utf8').replace('location="vim.wsdl"', 'location="../secret/vim.wsdl"'));
    });
    await expect(readBundle(directorySource(src))).rejects.toThrow(/^vimService\.wsdl: reference "\.\.\/secret\/vim\.wsdl" escapes the bundle directory/);
    expect(() => resolveReference('vim.wsdl', '/etc/passwd')).toThrow(/vim\.wsdl: .*absolute path/);
    expect(() => resolveReference('vim.wsdl', 'https://evil.example.com/x.xsd')).toThrow(/vim\.wsdl: .*another host/);
    expect(resolveReference('vim.wsdl', './core-types.xsd')).toBe('core-types.xsd');
  });

  it('does not replace an output directory holding files that are not part of the bundle', async () => {
    const out = tempDir('vim25-wsdl-test-');
    writeFileSync(join(out, 'notes.txt'), 'mine');
    await expect(installBundle({ from: SRC, out })).rejects.toThrow(/notes\.txt, which is not part of the bundle/);
    expect(readdirSync(out)).toEqual(['notes.txt']);
  });
});

describe('checkXml and verifyBundle', () => {
  it('accepts WSDL and XSD roots, rejects other documents', () => {
    expect(() => checkXml('a.xsd', Buffer.from('<?xml version="1.0"?>\n<!-- c -->\n<xs:schema xmlns:xs="x"/>'))).not.toThrow();
    expect(() => checkXml('a.wsdl', Buffer.from('\uFEFF<definitions xmlns="x"></definitions>'))).not.toThrow();
    expect(() => checkXml('a.wsdl', Buffer.from('<html><body>login</body></html>'))).toThrow('a.wsdl: expected XML (WSDL/XSD), got an HTML page');
    expect(() => checkXml('a.wsdl', Buffer.from('{"error":"nope"}'))).toThrow(/a\.wsdl: expected XML \(WSDL\/XSD\), got something that is not XML/);
    expect(() => checkXml('a.wsdl', Buffer.from('<?xml version="1.0"?><soapenv:Envelope/>'))).toThrow(/root element <soapenv:Envelope>/);
    expect(() => checkXml('a.wsdl', Buffer.alloc(0))).toThrow(/empty file/);
  });

  it('reports a size mismatch with expected and actual sha256', () => {
    const data = Buffer.from('<schema/>');
    const m: Manifest = { ...manifest, entry: 'a.xsd', files: [{ name: 'a.xsd', size: 3, sha256: 'f'.repeat(64) }] };
    expect(() => verifyBundle([{ name: 'a.xsd', data }], m)).toThrow(/^a\.xsd: does not match the manifest: expected sha256 f{64} \(3 bytes\), got sha256 [0-9a-f]{64} \(9 bytes\)$/);
  });
});

describe('installBundle from https://host/sdk', () => {
  let server: https.Server;
  let base: string;
  let caPem: string;
  /** Per-file overrides of what the server answers. */
  const overrides = new Map<string, (res: import('node:http').ServerResponse) => void>();

  beforeAll(async () => {
    const pair = loopbackServerCertificate('127.0.0.1');
    caPem = pair.cert;

    server = https.createServer({ key: pair.key, cert: caPem }, (req, res) => {
      const name = decodeURIComponent((req.url ?? '').replace(/^\/sdk\//, ''));
      const override = overrides.get(name);
      if (override) return override(res);
      if (!req.url?.startsWith('/sdk/') || !NAMES.includes(name)) {
        res.writeHead(404, { 'content-type': 'text/html' }).end(HTML_404);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/xml' }).end(readFileSync(join(SRC, name)));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `https://127.0.0.1:${(server.address() as AddressInfo).port}/sdk`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  afterEach(() => overrides.clear());

  it('downloads and verifies the bundle when given the CA', async () => {
    const out = join(tempDir('vim25-wsdl-test-'), 'vim25');
    const result = await installBundle({ from: base, out, ca: caPem });
    expect(result.source).toBe(`${base}/`);
    expect(readdirSync(out).sort()).toEqual(NAMES);
    for (const name of NAMES) expect(readFileSync(join(out, name)).equals(readFileSync(join(SRC, name)))).toBe(true);
  });

  it('fails certificate verification without the CA (verification is on by default)', async () => {
    const out = join(tempDir('vim25-wsdl-test-'), 'vim25');
    await expect(installBundle({ from: base, out })).rejects.toThrow(/^vimService\.wsdl: cannot fetch .*self[- ]signed.*--ca FILE/);
    expect(existsSync(out)).toBe(false);
  });

  it('downloads with verification off when insecure', async () => {
    const out = join(tempDir('vim25-wsdl-test-'), 'vim25');
    await installBundle({ from: base, out, insecure: true });
    expect(readdirSync(out).sort()).toEqual(NAMES);
  });

  it('fails when the server answers one file with an HTML 404 page', async () => {
    overrides.set('vim-types.xsd', (res) => res.writeHead(404, { 'content-type': 'text/html' }).end(HTML_404));
    const out = join(tempDir('vim25-wsdl-test-'), 'vim25');
    await expect(installBundle({ from: base, out, ca: caPem })).rejects.toThrow(/^vim-types\.xsd: HTTP 404 Not Found from https:\/\/127\.0\.0\.1:\d+\/sdk\/vim-types\.xsd$/);
    expect(existsSync(out)).toBe(false);
  });

  it('fails when the server answers 200 with an HTML page in place of vim.wsdl', async () => {
    overrides.set('vim.wsdl', (res) => res.writeHead(200, { 'content-type': 'text/html' }).end(HTML_404));
    await expect(installBundle({ from: base, out: join(tempDir('vim25-wsdl-test-'), 'vim25'), ca: caPem })).rejects.toThrow('vim.wsdl: expected XML (WSDL/XSD), got an HTML page');
  });

  it('refuses a redirect to another host', async () => {
    overrides.set('vim.wsdl', (res) => res.writeHead(302, { location: 'https://evil.example.com/sdk/vim.wsdl' }).end());
    await expect(installBundle({ from: base, out: join(tempDir('vim25-wsdl-test-'), 'vim25'), ca: caPem })).rejects.toThrow(/^vim\.wsdl: .*redirected to another host \(https:\/\/evil\.example\.com\)/);
  });
});
