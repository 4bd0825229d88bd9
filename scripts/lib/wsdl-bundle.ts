// Fetching, verifying and installing the vim25 WSDL bundle (vimService.wsdl, vim.wsdl and the
// XSDs they import/include). The bundle is VMware's and never committed: wsdl/manifest.json pins
// the exact files (name, size, sha256) the generated code was built from, and a copy or download
// is accepted only if it matches that manifest file for file.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { basename, dirname, join, posix, resolve } from 'node:path';
import tls from 'node:tls';
import { referencedFiles } from './schema.ts';
import { ROOT } from './paths.ts';

export const ENTRY = 'vimService.wsdl';
export const MANIFEST_PATH = join(ROOT, 'wsdl/manifest.json');
export const DEFAULT_OUT = join(ROOT, 'wsdl/vim25');

export const DEFAULT_DESCRIPTION =
  'The vim25 WSDL bundle (vimService.wsdl, vim.wsdl and the XSDs they import/include) the generated code is built from. ' +
  'The bundle itself is VMware-copyrighted and not committed; `npm run wsdl` copies or downloads it and checks it against these sizes and sha256 digests.';
export const DEFAULT_SOURCE = 'ESXi 8.0 host, https://HOST/sdk/';

/** Largest file accepted from a server (vim.wsdl and vim-types.xsd are about 1.5 MB). */
const MAX_FILE_BYTES = 64 * 1024 * 1024;
const MAX_REDIRECTS = 5;

export interface ManifestFile {
  name: string;
  size: number;
  sha256: string;
}

export interface Manifest {
  description: string;
  source: string;
  /** The version in the binding's soapAction, e.g. `7.0.3.0` for `urn:vim25/7.0.3.0`. */
  wsdlSoapActionVersion: string;
  entry: string;
  files: ManifestFile[];
}

export interface BundleFile {
  /** Path relative to the bundle directory, `/`-separated. */
  name: string;
  data: Buffer;
}

/** Any failure of fetching, checking or installing the bundle; the message names the file. */
export class BundleError extends Error {
  override name = 'BundleError';
}

/** Reads one bundle file by its bundle-relative name. */
export type Reader = (name: string) => Promise<Buffer>;

export interface Source {
  /** Human-readable origin, for messages (the directory or the base URL). */
  location: string;
  read: Reader;
  /** Frees sockets and the like; called once the bundle is read. */
  close?: () => void;
}

export interface HttpsOptions {
  /** Extra CA certificate(s) (PEM), trusted in addition to Node's default store. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Turn certificate verification off. Never the default. */
  insecure?: boolean;
  /** Per-request timeout. */
  timeoutMs?: number;
}

// ---------------------------------------------------------------------------------------------
// Sources

/** Reads the bundle from a local directory. */
export function directorySource(dir: string): Source {
  const root = resolve(dir);
  return {
    location: root,
    read: async (name) => {
      const path = join(root, ...name.split('/'));
      if (!existsSync(path) || !statSync(path).isFile()) throw new BundleError(`${name}: not found in ${root}`);
      return readFileSync(path);
    },
  };
}

/** `https://host/sdk`, `https://host/sdk/` or `https://host/sdk/vimService.wsdl` -> `https://host/sdk/`. */
export function sdkBaseUrl(from: string): URL {
  let url: URL;
  try {
    url = new URL(from);
  } catch {
    throw new BundleError(`${from}: not a valid URL`);
  }
  if (url.protocol !== 'https:') throw new BundleError(`${from}: only https:// URLs are supported`);
  if (url.username || url.password) throw new BundleError(`${from}: credentials in the URL are not supported (the WSDL needs no login)`);
  url.search = '';
  url.hash = '';
  let path = url.pathname;
  if (path.endsWith(`/${ENTRY}`)) path = path.slice(0, -ENTRY.length);
  if (!path.endsWith('/')) path += '/';
  url.pathname = path;
  return url;
}

const TLS_HINT_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_UNTRUSTED', 'CERT_SIGNATURE_FAILURE',
]);

/** Downloads the bundle from `https://host/sdk/`, each file relative to that base. */
export function httpsSource(from: string, options: HttpsOptions = {}): Source {
  const base = sdkBaseUrl(from);
  const extraCa = options.ca === undefined ? [] : Array.isArray(options.ca) ? options.ca : [options.ca];
  const agent = new https.Agent({
    keepAlive: true,
    maxSockets: 1,
    rejectUnauthorized: !options.insecure,
    ...(extraCa.length > 0 && { ca: [...tls.rootCertificates, ...extraCa] }),
  });
  const timeoutMs = options.timeoutMs ?? 60_000;

  const get = (name: string, url: URL, redirects: number): Promise<Buffer> =>
    new Promise<Buffer>((resolvePromise, reject) => {
      const fail = (message: string): void => reject(new BundleError(`${name}: ${message}`));
      const req = https.get(url, { agent, timeout: timeoutMs, headers: { accept: 'text/xml, application/xml;q=0.9, */*;q=0.1' } }, (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400 && res.headers.location) {
          res.resume();
          let target: URL;
          try {
            target = new URL(res.headers.location, url);
          } catch {
            fail(`redirected to an invalid location ${JSON.stringify(res.headers.location)}`);
            return;
          }
          if (target.origin !== base.origin) {
            fail(`${url.href} redirected to another host (${target.origin}); refusing to follow`);
          } else if (redirects >= MAX_REDIRECTS) {
            fail(`too many redirects fetching ${base.href}${name}`);
          } else {
            get(name, target, redirects + 1).then(resolvePromise, reject);
          }
          return;
        }
        if (status !== 200) {
          res.resume();
          fail(`HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''} from ${url.href}`);
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_FILE_BYTES) {
            req.destroy();
            fail(`larger than ${MAX_FILE_BYTES} bytes at ${url.href}`);
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => resolvePromise(Buffer.concat(chunks)));
        res.on('error', (err) => fail(`reading ${url.href}: ${err.message}`));
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', (err: NodeJS.ErrnoException) => {
        const hint = err.code && TLS_HINT_CODES.has(err.code) ? ' (pass the server\'s CA with --ca FILE, or --insecure to skip verification)' : '';
        fail(`cannot fetch ${url.href}: ${err.message}${hint}`);
      });
    });

  return {
    location: base.href,
    read: (name) => get(name, new URL(name, base), 0),
    close: () => agent.destroy(),
  };
}

/** A directory path or an https URL. */
export function openSource(from: string, options: HttpsOptions = {}): Source {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(from)) return httpsSource(from, options);
  const dir = resolve(from);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new BundleError(`${from}: not a directory or https URL`);
  if (!existsSync(join(dir, ENTRY))) throw new BundleError(`${ENTRY}: not found in ${dir}`);
  return directorySource(dir);
}

// ---------------------------------------------------------------------------------------------
// Reading and checking

/**
 * The bundle-relative name a reference in `from` points to. References must stay inside the
 * bundle: no absolute paths, no other hosts or schemes, no `..` above the bundle directory.
 */
export function resolveReference(from: string, ref: string): string {
  const bad = (why: string): never => {
    throw new BundleError(`${from}: reference ${JSON.stringify(ref)} ${why}`);
  };
  if (/^[a-z][a-z0-9+.-]*:/i.test(ref) || ref.startsWith('//')) bad('points to another host or scheme; only relative references inside the bundle are allowed');
  if (ref.startsWith('/') || ref.includes('\\')) bad('is an absolute path; only relative references inside the bundle are allowed');
  if (/[?#]/.test(ref)) bad('has a query or fragment');
  if (ref === '') bad('is empty');
  const name = posix.normalize(posix.join(posix.dirname(from), ref));
  if (name === '..' || name.startsWith('../') || name === '.' || name.startsWith('/')) bad('escapes the bundle directory');
  return name;
}

/** Throws unless `data` is an XML document whose root element is `definitions` or `schema`. */
export function checkXml(name: string, data: Buffer): void {
  const expected = `${name}: expected XML (WSDL/XSD)`;
  if (data.length === 0) throw new BundleError(`${expected}, got an empty file`);
  let text = data.subarray(0, 64 * 1024).toString('utf8').replace(/^\uFEFF/, '');
  // Skip the prolog: XML declaration, processing instructions, comments, whitespace, DOCTYPE.
  for (;;) {
    const before = text;
    text = text.replace(/^\s+/, '').replace(/^<\?[\s\S]*?\?>/, '').replace(/^<!--[\s\S]*?-->/, '');
    if (/^<!DOCTYPE\s+html\b/i.test(text)) throw new BundleError(`${expected}, got an HTML page`);
    text = text.replace(/^<!DOCTYPE[^>[]*(\[[\s\S]*?\])?\s*>/i, '');
    if (text === before) break;
  }
  const root = /^<([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)[\s/>]/.exec(text);
  if (!root) {
    if (/<html[\s>]/i.test(text) || /<body[\s>]/i.test(text)) throw new BundleError(`${expected}, got an HTML page`);
    throw new BundleError(`${expected}, got something that is not XML`);
  }
  const local = root[2]!;
  if (local.toLowerCase() === 'html') throw new BundleError(`${expected}, got an HTML page`);
  if (local !== 'definitions' && local !== 'schema') throw new BundleError(`${expected}, got an XML document with root element <${root[0].slice(1, -1).trim()}>`);
}

/**
 * Reads the bundle from `source`: the entry file, then every file it imports or includes,
 * recursively. Each file must be a WSDL or XSD document. Returns the files in reading order.
 */
export async function readBundle(source: Source, entry = ENTRY): Promise<BundleFile[]> {
  const files: BundleFile[] = [];
  const seen = new Set<string>([entry]);
  const queue = [entry];
  try {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      const data = await source.read(name);
      checkXml(name, data);
      files.push({ name, data });
      for (const ref of referencedFiles(data.toString('utf8'))) {
        const target = resolveReference(name, ref);
        if (!seen.has(target)) {
          seen.add(target);
          queue.push(target);
        }
      }
    }
  } finally {
    source.close?.();
  }
  return files;
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Throws naming every file that is missing, extra, or differs from the manifest. */
export function verifyBundle(files: BundleFile[], manifest: Manifest): void {
  const problems: string[] = [];
  const expected = new Map(manifest.files.map((f) => [f.name, f]));
  const actual = new Map(files.map((f) => [f.name, f]));
  if (!actual.has(manifest.entry)) problems.push(`${manifest.entry}: the manifest's entry file is missing`);
  for (const file of files) {
    const want = expected.get(file.name);
    if (!want) {
      problems.push(`${file.name}: extra file, not in the manifest (sha256 ${sha256(file.data)}, ${file.data.length} bytes)`);
      continue;
    }
    const got = sha256(file.data);
    if (got !== want.sha256 || file.data.length !== want.size) {
      problems.push(`${file.name}: does not match the manifest: expected sha256 ${want.sha256} (${want.size} bytes), got sha256 ${got} (${file.data.length} bytes)`);
    }
  }
  for (const want of manifest.files) {
    if (!actual.has(want.name) && want.name !== manifest.entry) {
      problems.push(`${want.name}: missing (the manifest lists it, but no file of the bundle references it)`);
    }
  }
  if (problems.length) throw new BundleError(problems.join('; '));
}

/** The version of the bundle's soapAction (`urn:vim25/7.0.3.0` -> `7.0.3.0`); all bindings must agree. */
export function soapActionVersion(files: BundleFile[]): string {
  const versions = new Set<string>();
  for (const file of files) {
    if (!file.name.endsWith('.wsdl')) continue;
    const re = /\bsoapAction\s*=\s*"urn:vim25\/([^"]+)"/g;
    const text = file.data.toString('utf8');
    for (let m = re.exec(text); m; m = re.exec(text)) versions.add(m[1]!);
  }
  if (versions.size === 0) throw new BundleError('no soapAction="urn:vim25/<version>" found in the bundle\'s WSDL files');
  if (versions.size > 1) throw new BundleError(`the bundle's soapAction versions disagree: ${[...versions].sort().join(', ')}`);
  return [...versions][0]!;
}

// ---------------------------------------------------------------------------------------------
// Manifest

export function buildManifest(files: BundleFile[], meta: { description?: string; source?: string; entry?: string } = {}): Manifest {
  return {
    description: meta.description ?? DEFAULT_DESCRIPTION,
    source: meta.source ?? DEFAULT_SOURCE,
    wsdlSoapActionVersion: soapActionVersion(files),
    entry: meta.entry ?? ENTRY,
    files: manifestFiles(files),
  };
}

/** Name, size and sha256 of each file, sorted by name. */
export function manifestFiles(files: BundleFile[]): ManifestFile[] {
  return files
    .map((f) => ({ name: f.name, size: f.data.length, sha256: sha256(f.data) }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Deterministic text of a manifest: fixed key order, 2-space indent, trailing newline. */
export function manifestJson(manifest: Manifest): string {
  const ordered: Manifest = {
    description: manifest.description,
    source: manifest.source,
    wsdlSoapActionVersion: manifest.wsdlSoapActionVersion,
    entry: manifest.entry,
    files: manifest.files.map((f) => ({ name: f.name, size: f.size, sha256: f.sha256 })),
  };
  return `${JSON.stringify(ordered, null, 2)}\n`;
}

export function readManifest(path = MANIFEST_PATH): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new BundleError(`${path}: cannot read the manifest: ${err instanceof Error ? err.message : String(err)}`);
  }
  const m = raw as Partial<Manifest>;
  const fileOk = (f: unknown): f is ManifestFile => {
    const x = f as Partial<ManifestFile> | null;
    return !!x && typeof x.name === 'string' && typeof x.size === 'number' && typeof x.sha256 === 'string' && /^[0-9a-f]{64}$/.test(x.sha256);
  };
  if (!m || typeof m !== 'object' || typeof m.entry !== 'string' || typeof m.wsdlSoapActionVersion !== 'string' ||
      !Array.isArray(m.files) || m.files.length === 0 || !m.files.every(fileOk)) {
    throw new BundleError(`${path}: not a valid manifest (needs entry, wsdlSoapActionVersion and files[{ name, size, sha256 }])`);
  }
  return { description: m.description ?? '', source: m.source ?? '', wsdlSoapActionVersion: m.wsdlSoapActionVersion, entry: m.entry, files: m.files };
}

/** (Re)writes the manifest from the bundle at `from`, keeping the old description and source. */
export async function writeManifest(from: string, path = MANIFEST_PATH, options: HttpsOptions = {}): Promise<Manifest> {
  const files = await readBundle(openSource(from, options));
  let meta: { description?: string; source?: string } = {};
  if (existsSync(path)) {
    try {
      const old = JSON.parse(readFileSync(path, 'utf8')) as Partial<Manifest>;
      meta = {
        ...(typeof old.description === 'string' && old.description && { description: old.description }),
        ...(typeof old.source === 'string' && old.source && { source: old.source }),
      };
    } catch {
      // An unreadable old manifest is simply replaced.
    }
  }
  const manifest = buildManifest(files, meta);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, manifestJson(manifest));
  return manifest;
}

// ---------------------------------------------------------------------------------------------
// Installing

/**
 * Writes the files to `outDir` all at once: they go to a temporary sibling directory that then
 * replaces `outDir`, so a failure leaves either the old bundle or none, never half of one.
 * An existing `outDir` is replaced only if everything in it belongs to the bundle.
 */
export function writeBundle(files: BundleFile[], outDir: string): void {
  const out = resolve(outDir);
  const parent = dirname(out);
  const tops = new Set(files.map((f) => f.name.split('/')[0]!));
  if (existsSync(out)) {
    if (!statSync(out).isDirectory()) throw new BundleError(`${out}: exists and is not a directory`);
    const foreign = readdirSync(out).filter((e) => !tops.has(e));
    if (foreign.length) {
      throw new BundleError(`${out}: contains ${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', ...' : ''}, which is not part of the bundle; refusing to replace it`);
    }
  }
  mkdirSync(parent, { recursive: true });
  const tmp = mkdtempSync(join(parent, `.${basename(out)}.tmp-`));
  let old: string | undefined;
  try {
    for (const file of files) {
      const path = join(tmp, ...file.name.split('/'));
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, file.data);
    }
    if (existsSync(out)) {
      old = `${tmp}.old`;
      renameSync(out, old);
    }
    try {
      renameSync(tmp, out);
    } catch (err) {
      if (old) renameSync(old, out);
      old = undefined;
      throw err;
    }
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    if (err instanceof BundleError) throw err;
    throw new BundleError(`${out}: cannot write the bundle: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (old) rmSync(old, { recursive: true, force: true });
}

export interface InstallOptions extends HttpsOptions {
  /** A directory or `https://host/sdk`. */
  from: string;
  /** Default: `<repo>/wsdl/vim25`. */
  out?: string;
  /** Default: wsdl/manifest.json. */
  manifest?: Manifest;
}

export interface InstallResult {
  source: string;
  out: string;
  files: ManifestFile[];
  bytes: number;
  soapActionVersion: string;
}

/** Reads the bundle from `from`, verifies it against the manifest, and only then writes it to `out`. */
export async function installBundle(options: InstallOptions): Promise<InstallResult> {
  const manifest = options.manifest ?? readManifest();
  const source = openSource(options.from, options);
  const files = await readBundle(source, manifest.entry);
  verifyBundle(files, manifest);
  const out = resolve(options.out ?? DEFAULT_OUT);
  writeBundle(files, out);
  return {
    source: source.location,
    out,
    files: manifestFiles(files),
    bytes: files.reduce((n, f) => n + f.data.length, 0),
    soapActionVersion: manifest.wsdlSoapActionVersion,
  };
}
