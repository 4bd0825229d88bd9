// The wire-conformance oracle: a SOAP request is conformant when the operation element in its
// Body validates against the bundle's own schema with xmllint. That schema is the <schema>
// inside vim.wsdl's <types> (the operation elements: <Login>, <RetrievePropertiesEx>, ...) and
// the XSDs it includes; it is extracted once per bundle into a standalone .xsd whose
// schemaLocations point back into the bundle directory.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { bundleDir } from '../../scripts/lib/paths.ts';
import { CONFORMANCE_CACHE } from '../harness/capture.ts';

export interface Verdict {
  /** The file validated (for envelopes: the captured request). */
  file: string;
  valid: boolean;
  /** xmllint's messages for this file (empty when valid). */
  messages: string[];
}

/** Path of the extracted request schema for a bundle, written on first use and kept in .cache/. */
export function requestSchema(bundle: string = bundleDir()): string {
  const dir = resolve(bundle);
  const wsdl = readFileSync(join(dir, 'vim.wsdl'), 'utf8');
  const key = createHash('sha256').update(dir).update('\0').update(wsdl).digest('hex').slice(0, 16);
  const file = join(CONFORMANCE_CACHE, 'schema', `vim-request-${key}.xsd`);
  if (existsSync(file)) return file;
  const start = wsdl.indexOf('<types>');
  const end = wsdl.indexOf('</types>');
  if (start < 0 || end < start) throw new Error(`${join(dir, 'vim.wsdl')}: no <types> section`);
  const schema = wsdl
    .slice(start + '<types>'.length, end)
    .trim()
    .replace(/schemaLocation="([^"]+)"/g, (_m, loc: string) => `schemaLocation="${pathToFileUri(join(dir, loc))}"`);
  mkdirSync(join(CONFORMANCE_CACHE, 'schema'), { recursive: true });
  // Written under a temporary name and renamed: parallel runs may race to create it.
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `<?xml version="1.0" encoding="UTF-8"?>\n${schema}\n`);
  renameSync(tmp, file);
  return file;
}

function pathToFileUri(path: string): string {
  return `file://${path.split('/').map(encodeURIComponent).join('/')}`;
}

const NS_DECL = /\sxmlns(?::([\w.-]+))?\s*=\s*("[^"]*"|'[^']*')/g;

/** Finds the end of the start tag that begins at `from` ('<'), honouring quoted attribute values. */
function startTagEnd(xml: string, from: number): number {
  let quote = '';
  for (let i = from + 1; i < xml.length; i++) {
    const c = xml[i];
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '>') return i;
  }
  return -1;
}

function findStartTag(xml: string, localName: string, from = 0): { start: number; end: number; prefix: string; tag: string } | undefined {
  const re = new RegExp(`<(?:([\\w.-]+):)?${localName}(?=[\\s/>])`, 'g');
  re.lastIndex = from;
  const m = re.exec(xml);
  if (!m) return undefined;
  const end = startTagEnd(xml, m.index);
  if (end < 0) return undefined;
  return { start: m.index, end, prefix: m[1] ?? '', tag: xml.slice(m.index, end + 1) };
}

/**
 * The Body's first child element of a SOAP envelope as a standalone document, with the
 * namespace declarations it inherits from Envelope and Body (urn:vim25 as default or prefix,
 * xsi, xsd, ...) copied onto it unless it redeclares them itself.
 */
export function extractOperation(envelope: string): string {
  const env = findStartTag(envelope, 'Envelope');
  if (!env) throw new Error('no SOAP Envelope');
  const body = findStartTag(envelope, 'Body', env.end);
  if (!body) throw new Error('no SOAP Body');
  if (body.tag.endsWith('/>')) throw new Error('empty SOAP Body');
  const close = envelope.lastIndexOf(`</${body.prefix ? `${body.prefix}:` : ''}Body`);
  if (close < body.end) throw new Error('unterminated SOAP Body');
  const inner = envelope.slice(body.end + 1, close);

  let i = 0;
  for (;;) {
    const lt = inner.indexOf('<', i);
    if (lt < 0) throw new Error('no operation element in the SOAP Body');
    if (inner.startsWith('<!--', lt)) i = inner.indexOf('-->', lt) + 3;
    else if (inner.startsWith('<?', lt)) i = inner.indexOf('?>', lt) + 2;
    else {
      i = lt;
      break;
    }
    if (i < 3) throw new Error('unterminated comment in the SOAP Body');
  }
  const opEnd = startTagEnd(inner, i);
  if (opEnd < 0) throw new Error('unterminated operation element');
  const opTag = inner.slice(i, opEnd + 1);
  const nameEnd = opTag.search(/[\s/>]/);

  const declared = new Set([...opTag.matchAll(NS_DECL)].map((m) => m[1] ?? ''));
  const inherited = new Map<string, string>();
  for (const tag of [env.tag, body.tag]) {
    for (const m of tag.matchAll(NS_DECL)) inherited.set(m[1] ?? '', m[0]);
  }
  const extra = [...inherited].filter(([prefix]) => !declared.has(prefix)).map(([, decl]) => decl).join('');
  const rest = inner.slice(opEnd + 1).replace(/\s+$/, '');
  return `<?xml version="1.0" encoding="UTF-8"?>\n${opTag.slice(0, nameEnd)}${extra}${opTag.slice(nameEnd)}${rest}\n`;
}

interface RunResult {
  code: number;
  output: string;
}

function xmllint(args: string[], cwd: string): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    execFile('xmllint', args, { cwd, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        reject(new Error(`xmllint could not run (${err.message}); install libxml2-utils (scripts/setup.sh)`));
        return;
      }
      resolvePromise({ code: typeof err?.code === 'number' ? err.code : 0, output: `${stdout}${stderr}` });
    });
  });
}

/**
 * Validates standalone operation documents (as extractOperation writes them) against the
 * bundle's schema. Files go to xmllint in batches, several batches at once; xmllint's output
 * is split per file ("<file> validates" / "<file> fails to validate" and "<file>:<line>: ..."
 * error lines).
 */
export async function validateOperations(files: string[], bundle: string = bundleDir()): Promise<Verdict[]> {
  if (files.length === 0) return [];
  const schema = requestSchema(bundle);
  const workers = Math.max(1, Math.min(availableParallelism(), 8));
  const size = Math.max(25, Math.ceil(files.length / workers));
  const batches: string[][] = [];
  for (let i = 0; i < files.length; i += size) batches.push(files.slice(i, i + size));
  const results = await Promise.all(batches.map((batch) => validateBatch(batch, schema)));
  return results.flat();
}

async function validateBatch(files: string[], schema: string): Promise<Verdict[]> {
  const { code, output } = await xmllint(['--noout', '--nonet', '--schema', schema, ...files], process.cwd());
  if (code !== 0 && code !== 3 && code !== 4 && code !== 1) {
    throw new Error(`xmllint --schema ${schema} failed (exit ${code}):\n${output}`);
  }
  const verdicts = new Map(files.map((f) => [f, { file: f, valid: false, messages: [] as string[], seen: false }]));
  // Longest names first, so "a.xml" never claims the lines of "a.xml.bak".
  const names = [...verdicts.keys()].sort((a, b) => b.length - a.length);
  const orphans: string[] = [];
  for (const line of output.split('\n')) {
    if (!line.trim()) continue;
    const file = names.find((f) => line.startsWith(`${f}:`) || line.startsWith(`${f} `));
    const v = file === undefined ? undefined : verdicts.get(file);
    if (!v) {
      orphans.push(line);
      continue;
    }
    if (line === `${v.file} validates`) {
      v.valid = true;
      v.seen = true;
    } else if (line === `${v.file} fails to validate`) v.seen = true;
    else v.messages.push(line.slice(v.file.length).replace(/^:\s*/, ''));
  }
  return [...verdicts.values()].map(({ file, valid, messages, seen }) => ({
    file,
    valid: valid && seen,
    messages: seen ? messages : [...messages, ...orphans, `xmllint gave no verdict for ${file}`],
  }));
}

/**
 * Validates captured SOAP request envelopes: extracts each operation into `workDir`, validates
 * identical operations once, and reports per envelope.
 */
export async function validateEnvelopes(envelopes: string[], workDir: string, bundle: string = bundleDir()): Promise<Verdict[]> {
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  const byHash = new Map<string, string>(); // operation hash -> extracted file
  const plan: { envelope: string; extracted?: string; error?: string }[] = [];
  for (const envelope of envelopes) {
    try {
      const op = extractOperation(readFileSync(envelope, 'utf8'));
      const hash = createHash('sha256').update(op).digest('hex').slice(0, 20);
      let file = byHash.get(hash);
      if (!file) {
        file = join(workDir, `${hash}-${basename(envelope)}`);
        writeFileSync(file, op);
        byHash.set(hash, file);
      }
      plan.push({ envelope, extracted: file });
    } catch (err) {
      plan.push({ envelope, error: (err as Error).message });
    }
  }
  const verdicts = new Map((await validateOperations([...byHash.values()], bundle)).map((v) => [v.file, v]));
  return plan.map(({ envelope, extracted, error }) => {
    if (error !== undefined || extracted === undefined) return { file: envelope, valid: false, messages: [error ?? 'not extracted'] };
    const v = verdicts.get(extracted);
    return { file: envelope, valid: v?.valid ?? false, messages: v?.messages ?? ['not validated'] };
  });
}
