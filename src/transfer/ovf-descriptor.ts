// What the importer reads of an OVF package itself, before and while the server sees it: that the
// descriptor is an OVF envelope and which files it references (with their sizes), its networks
// and default name; the manifest's digests; and a pass-through that hashes a file as it streams
// and fails it at its end when the digest or the size is not the expected one.
//
// The descriptor is untrusted input: it is read by our XML reader (linear time, no DOCTYPE, so no
// entity tricks), and only after its size was bounded by whoever read it.
import { createHash, type Hash } from 'node:crypto';
import { Transform } from 'node:stream';
import { localName } from '../binding/xml.ts';
import { readElements } from '../binding/xml-elements.ts';
import { XmlLimitError, XmlSyntaxError } from '../binding/xml-reader.ts';
import { OvfPackageError } from './ovf-errors.ts';

/** OVF 1.x and 2.x envelope namespaces. */
const OVF_NAMESPACES: ReadonlySet<string> = new Set(['http://schemas.dmtf.org/ovf/envelope/1', 'http://schemas.dmtf.org/ovf/envelope/2']);

/** A descriptor past this is refused: real ones are kilobytes, with long EULAs a few hundred. */
export const MAX_DESCRIPTOR_BYTES = 8 * 1024 * 1024;
/** A manifest past this is refused: one line per file. */
export const MAX_MANIFEST_BYTES = 1024 * 1024;

export interface OvfFileReference {
  id: string;
  href: string;
  /** ovf:size, when the descriptor gives it. */
  size: number | undefined;
  compression: string | undefined;
  chunkSize: number | undefined;
}

export interface OvfDescriptorInfo {
  /** The VirtualSystem's Name (else its ovf:id): the default name of what is imported. */
  name: string | undefined;
  files: OvfFileReference[];
  /** NetworkSection's network names, which networkMapping maps to the server's networks. */
  networks: string[];
}

const prefix = (qname: string): string => (qname.includes(':') ? qname.slice(0, qname.indexOf(':')) : '');

function sizeOf(value: string | undefined, what: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d{1,16}$/.test(value.trim())) throw new OvfPackageError('not-ovf', `the descriptor's ${what} is not a size: ${JSON.stringify(value.slice(0, 40))}`);
  return Number(value.trim());
}

/**
 * Checks that `xml` is an OVF envelope (root element Envelope in the OVF 1 or 2 namespace) and
 * reads what the importer needs of it; OvfPackageError('not-ovf') otherwise.
 */
export function readDescriptor(xml: string): OvfDescriptorInfo {
  const files: OvfFileReference[] = [];
  const networks: string[] = [];
  let name: string | undefined;
  let systemId: string | undefined;
  let rootChecked = false;
  let nameText: string | undefined;
  try {
    readElements(xml, {
      open(el, attributes, parents, qname) {
        if (!rootChecked) {
          rootChecked = true;
          const p = prefix(qname);
          const ns = attributes[p ? `xmlns:${p}` : 'xmlns'];
          if (el !== 'Envelope' || ns === undefined || !OVF_NAMESPACES.has(ns)) {
            throw new OvfPackageError('not-ovf', `the descriptor is not an OVF envelope (its root is ${JSON.stringify(qname.slice(0, 60))}${ns ? ` in ${JSON.stringify(ns.slice(0, 80))}` : ''})`);
          }
        }
        const attr = (n: string): string | undefined => {
          for (const [k, v] of Object.entries(attributes)) if (localName(k) === n && !k.startsWith('xmlns')) return v;
          return undefined;
        };
        const parent = parents[parents.length - 1];
        if (el === 'File' && parent === 'References') {
          const href = attr('href');
          const id = attr('id');
          if (!href || !id) throw new OvfPackageError('not-ovf', 'a File in the descriptor\'s References has no ovf:href or ovf:id');
          files.push({ id, href, size: sizeOf(attr('size'), `size of ${href}`), compression: attr('compression'), chunkSize: sizeOf(attr('chunkSize'), `chunkSize of ${href}`) });
        } else if (el === 'Network' && parent === 'NetworkSection') {
          const n = attr('name');
          if (n !== undefined) networks.push(n);
        } else if ((el === 'VirtualSystem' || el === 'VirtualSystemCollection') && parents.length === 1 && systemId === undefined) {
          systemId = attr('id');
        } else if (el === 'Name' && (parent === 'VirtualSystem' || parent === 'VirtualSystemCollection') && parents.length === 2 && name === undefined) {
          nameText = '';
        }
      },
      text(t) {
        if (nameText !== undefined) nameText += t;
      },
      close(el) {
        if (el === 'Name' && nameText !== undefined) {
          name = nameText.trim() || undefined;
          nameText = undefined;
        }
      },
    }, { maxElements: 200_000 });
  } catch (err) {
    if (err instanceof OvfPackageError) throw err;
    if (err instanceof XmlSyntaxError || err instanceof XmlLimitError) throw new OvfPackageError('not-ovf', `the descriptor is not readable XML: ${err.message}`, { cause: err });
    throw err;
  }
  if (!rootChecked) throw new OvfPackageError('not-ovf', 'the descriptor is empty');
  return { name: name ?? systemId, files, networks };
}

export type DigestAlgorithm = 'sha1' | 'sha256' | 'sha512';
const ALGORITHMS: Record<string, DigestAlgorithm> = { SHA1: 'sha1', SHA256: 'sha256', SHA512: 'sha512' };
const DIGEST_HEX: Record<DigestAlgorithm, number> = { sha1: 40, sha256: 64, sha512: 128 };

export interface ManifestEntry {
  algorithm: DigestAlgorithm;
  digest: string;
}

/**
 * A manifest's lines, `SHA256(disk1.vmdk)= <hex>` (SHA1 and SHA512 too), by file name. Blank
 * lines are skipped; anything else is OvfPackageError('bad-manifest').
 */
export function readManifest(text: string, name = 'the manifest'): Map<string, ManifestEntry> {
  const out = new Map<string, ManifestEntry>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const open = line.indexOf('(');
    const close = line.lastIndexOf(')=');
    const algorithm = open > 0 ? ALGORITHMS[line.slice(0, open).toUpperCase()] : undefined;
    const file = close > open ? line.slice(open + 1, close) : '';
    const digest = line.slice(close + 2).trim().toLowerCase();
    if (!algorithm || file === '' || digest.length !== DIGEST_HEX[algorithm] || !/^[0-9a-f]+$/.test(digest)) {
      throw new OvfPackageError('bad-manifest', `${name}: not a SHA1, SHA256 or SHA512 line: ${JSON.stringify(line.slice(0, 120))}`, { file: name });
    }
    out.set(file, { algorithm, digest });
  }
  return out;
}

/** A file in memory (the descriptor) against its manifest line, when it has one. */
export function checkDigest(name: string, bytes: Uint8Array, manifest: ReadonlyMap<string, ManifestEntry> | undefined): void {
  const want = manifest?.get(name);
  if (!want) return;
  const got = createHash(want.algorithm).update(bytes).digest('hex');
  if (got !== want.digest) {
    throw new OvfPackageError('checksum-mismatch', `${name}: checksum mismatch: its ${want.algorithm.toUpperCase()} is ${got}, the manifest says ${want.digest}`, { file: name, expected: want.digest, actual: got });
  }
}

/** The text of a descriptor or manifest: UTF-8, a byte order mark dropped. */
export function textOf(bytes: Uint8Array): string {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** What a file must be: its size (from the descriptor or the archive) and its digest (from the manifest), when known. */
export interface FileExpectation {
  name: string;
  size?: number | undefined;
  digest?: ManifestEntry | undefined;
}

/**
 * A pass-through that hashes what goes by and, at its end, fails the stream with
 * OvfPackageError('size-mismatch' | 'checksum-mismatch') when the bytes are not what `expect`
 * says; the consumer (an upload) then never sees a clean end. `digests()` gives the hex digests
 * computed (each algorithm asked for in `algorithms`, plus the manifest's).
 */
export function verifying(expect: FileExpectation, algorithms: readonly DigestAlgorithm[] = []): Transform & { digests(): Partial<Record<DigestAlgorithm, string>>; readonly bytes: number } {
  const wanted = new Set<DigestAlgorithm>(algorithms);
  if (expect.digest) wanted.add(expect.digest.algorithm);
  const hashes = new Map<DigestAlgorithm, Hash>([...wanted].map((a) => [a, createHash(a)]));
  const done: Partial<Record<DigestAlgorithm, string>> = {};
  let bytes = 0;
  const t = new Transform({
    transform(chunk: Buffer, _enc, callback) {
      bytes += chunk.length;
      if (expect.size !== undefined && bytes > expect.size) {
        callback(new OvfPackageError('size-mismatch', `${expect.name} has more than the ${expect.size} bytes the descriptor gives`, { file: expect.name, expected: String(expect.size), actual: `>${expect.size}` }));
        return;
      }
      for (const h of hashes.values()) h.update(chunk);
      callback(null, chunk);
    },
    flush(callback) {
      if (expect.size !== undefined && bytes !== expect.size) {
        callback(new OvfPackageError('size-mismatch', `${expect.name} has ${bytes} bytes, not the ${expect.size} the descriptor gives`, { file: expect.name, expected: String(expect.size), actual: String(bytes) }));
        return;
      }
      for (const [a, h] of hashes) done[a] = h.digest('hex');
      const want = expect.digest;
      if (want && done[want.algorithm] !== want.digest) {
        callback(new OvfPackageError('checksum-mismatch', `${expect.name}: checksum mismatch: its ${want.algorithm.toUpperCase()} is ${done[want.algorithm]}, the manifest says ${want.digest}`, {
          file: expect.name, expected: want.digest, actual: done[want.algorithm],
        }));
        return;
      }
      callback();
    },
  });
  Object.defineProperty(t, 'bytes', { get: () => bytes });
  return Object.assign(t, { digests: () => ({ ...done }) }) as Transform & { digests(): Partial<Record<DigestAlgorithm, string>>; readonly bytes: number };
}
