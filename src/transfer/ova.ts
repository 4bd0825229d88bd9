// An OVA read as the tar stream it is, never extracted to disk: the OVF descriptor first (size
// bounded, checked to be OVF), the manifest (.mf) whenever it comes, then each file handed on as
// a stream that is hashed as it goes and fails at its end when its size or digest is not the
// descriptor's or the manifest's. Memory holds the descriptor, the manifest and a chunk or two of
// the file moving; what the consumer does not read is skipped, not buffered.
//
// tar-stream does the tar format (ustar, pax and GNU long names, header checksums) and says when
// the archive ends mid-entry; its errors become OvfPackageError('truncated' | 'bad-archive').
import { pipeline, Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Entry as TarEntry, Extract as TarExtract } from 'tar-stream';
import { checkDigest, readDescriptor, readManifest, textOf, verifying, MAX_DESCRIPTOR_BYTES, MAX_MANIFEST_BYTES, type DigestAlgorithm, type ManifestEntry, type OvfDescriptorInfo } from './ovf-descriptor.ts';
import { OvfPackageError } from './ovf-errors.ts';

export interface OvaFile {
  /** The entry's name in the archive (the descriptor's href). */
  name: string;
  /** Its size from the tar header (checked against the descriptor's ovf:size). */
  size: number;
  /**
   * The bytes, verified as they go: the stream fails with OvfPackageError('size-mismatch' |
   * 'checksum-mismatch' | 'truncated') instead of ending when they are not what they must be.
   * Read it to its end (or destroy it) before asking for the next file.
   */
  body: Readable;
}

export interface OvaReaderOptions {
  /** Largest descriptor accepted (default 8 MiB). */
  maxDescriptorBytes?: number | undefined;
}

const ALL: readonly DigestAlgorithm[] = ['sha1', 'sha256', 'sha512'];

/** tar-stream's failures as the package error they mean. */
function archiveError(err: unknown): unknown {
  if (err instanceof OvfPackageError || !(err instanceof Error)) return err;
  if (/unexpected end/i.test(err.message)) return new OvfPackageError('truncated', 'the OVA ends in the middle of an entry (a truncated tar)', { cause: err });
  if (/invalid tar header|checksum|not a tar|unknown/i.test(err.message)) return new OvfPackageError('bad-archive', `the OVA is not a readable tar archive: ${err.message}`, { cause: err });
  return err;
}

const entryName = (name: string): string => name.replace(/^(\.\/)+/, '');

/** An entry's failure as what it means: the archive's own failure, which comes a tick later. */
type FailureOf = (err: unknown) => Promise<unknown>;

function failureOf(extract: TarExtract): FailureOf {
  let failure: unknown;
  extract.on('error', (err: unknown) => (failure ??= err));
  return async (err) => {
    if (failure === undefined) await new Promise((resolve) => setImmediate(resolve));
    return archiveError(failure ?? err);
  };
}

async function readSmall(entry: TarEntry, limit: number, what: string, failure: FailureOf): Promise<Buffer> {
  if (entry.header.size !== undefined && entry.header.size > limit) {
    throw new OvfPackageError('descriptor-too-large', `${what} ${JSON.stringify(entry.header.name)} has ${entry.header.size} bytes, more than the ${limit} accepted`, { file: entry.header.name });
  }
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of entry as AsyncIterable<Buffer>) {
      length += chunk.length;
      if (length > limit) throw new OvfPackageError('descriptor-too-large', `${what} is larger than the ${limit} bytes accepted`, { file: entry.header.name });
      chunks.push(chunk);
    }
  } catch (err) {
    throw err instanceof OvfPackageError ? err : await failure(err);
  }
  return Buffer.concat(chunks);
}

export class OvaReader {
  readonly descriptorName: string;
  readonly descriptor: string;
  readonly info: OvfDescriptorInfo;
  #extract: TarExtract;
  #iterator: AsyncIterator<TarEntry>;
  #source: Readable;
  #manifest: Map<string, ManifestEntry> | undefined;
  #manifestName: string | undefined;
  /** Digests of files that went by before the manifest did, checked once it comes. */
  #unchecked = new Map<string, Partial<Record<DigestAlgorithm, string>>>();
  #seen = new Set<string>();
  #failure: FailureOf;
  #descriptorBytes: Buffer | undefined;

  private constructor(source: Readable, extract: TarExtract, iterator: AsyncIterator<TarEntry>, failure: FailureOf, name: string, descriptor: string, info: OvfDescriptorInfo, descriptorBytes: Buffer) {
    this.#source = source;
    this.#extract = extract;
    this.#iterator = iterator;
    this.descriptorName = name;
    this.descriptor = descriptor;
    this.info = info;
    this.#failure = failure;
    // The manifest comes after the descriptor: the descriptor is checked against it then.
    this.#descriptorBytes = descriptorBytes;
  }

  /**
   * Reads the OVA up to and including its descriptor, which must be its first file (OVF 1.1,
   * section 5.3), and checks it is OVF. The rest is read through files().
   */
  static async open(source: Readable, options: OvaReaderOptions = {}): Promise<OvaReader> {
    // The source's failure while tar-stream loads is kept for the archive, not left unhandled.
    let early: unknown;
    const keep = (err: unknown): void => void (early ??= err);
    source.once('error', keep);
    // Loaded by the first OVA read: a process that never reads one never loads tar-stream.
    const { extract: createExtract } = await import('tar-stream');
    const extract = createExtract();
    const failure = failureOf(extract);
    source.off('error', keep);
    source.once('error', (err) => extract.destroy(err));
    if (early !== undefined) extract.destroy(early as Error);
    source.pipe(extract as unknown as NodeJS.WritableStream);
    const iterator = (extract as AsyncIterable<TarEntry>)[Symbol.asyncIterator]();
    try {
      let first: TarEntry | undefined;
      for (;;) {
        const next = await iterator.next().catch(async (err: unknown) => {
          throw await failure(err);
        });
        if (next.done) break;
        if (next.value.header.type === 'directory') {
          next.value.resume();
          continue;
        }
        first = next.value;
        break;
      }
      if (!first) throw new OvfPackageError('not-ovf', 'the OVA holds no file: there is no OVF descriptor');
      const name = entryName(first.header.name);
      if (!/\.ovf$/i.test(name) || first.header.type !== 'file') {
        throw new OvfPackageError('not-ovf', `the OVA's first file is ${JSON.stringify(name.slice(0, 200))}, not an OVF descriptor (.ovf)`, { file: name });
      }
      const bytes = await readSmall(first, options.maxDescriptorBytes ?? MAX_DESCRIPTOR_BYTES, 'the descriptor', failure);
      const descriptor = textOf(bytes);
      return new OvaReader(source, extract, iterator, failure, name, descriptor, readDescriptor(descriptor), bytes);
    } catch (err) {
      source.destroy();
      extract.destroy();
      throw err;
    }
  }

  /** The manifest's entries, once it was read (undefined when the OVA has none, or not yet). */
  get manifest(): ReadonlyMap<string, ManifestEntry> | undefined {
    return this.#manifest;
  }

  /** Names of the files handed out by files() so far. */
  get seen(): ReadonlySet<string> {
    return this.#seen;
  }

  /**
   * The OVA's files after the descriptor, the manifest and certificate left out (the manifest
   * is read and applied; the certificate is not checked). Each must be consumed before the next
   * is asked for. Ends when the archive does; then checks that every file named in the manifest
   * that went by matched it.
   */
  async *files(): AsyncGenerator<OvaFile, void, undefined> {
    const sizes = new Map(this.info.files.map((f) => [f.href, f.size]));
    for (;;) {
      const next = await this.#iterator.next().catch(async (err: unknown) => {
        throw await this.#failure(err);
      });
      if (next.done) break;
      const entry = next.value;
      const name = entryName(entry.header.name);
      if (entry.header.type === 'directory') {
        entry.resume();
        continue;
      }
      if (entry.header.type !== 'file') throw new OvfPackageError('bad-archive', `the OVA's entry ${JSON.stringify(name.slice(0, 200))} is a ${entry.header.type}, not a file`, { file: name });
      if (/\.mf$/i.test(name) && this.#manifest === undefined) {
        this.#readManifest(name, textOf(await readSmall(entry, MAX_MANIFEST_BYTES, 'the manifest', this.#failure)));
        continue;
      }
      if (/\.cert$/i.test(name)) {
        await readSmall(entry, MAX_MANIFEST_BYTES, 'the certificate', this.#failure);
        continue;
      }
      const size = entry.header.size ?? 0;
      const declared = sizes.get(name);
      if (declared !== undefined && declared !== size) {
        throw new OvfPackageError('size-mismatch', `${name} has ${size} bytes in the OVA, not the ${declared} the descriptor gives`, { file: name, expected: String(declared), actual: String(size) });
      }
      this.#seen.add(name);
      const digest = this.#manifest?.get(name);
      const check = verifying({ name, size, digest }, this.#manifest ? [] : ALL);
      const failure = this.#failure;
      const bytes = (async function* (): AsyncGenerator<Buffer> {
        try {
          for await (const chunk of entry as AsyncIterable<Buffer>) yield chunk;
        } catch (err) {
          throw await failure(err);
        }
      })();
      // pipeline, not pipe: the archive's own failure (truncation) must reach the consumer.
      const body = pipeline(Readable.from(bytes, { objectMode: false }), check, () => undefined);
      check.once('finish', () => {
        if (!this.#manifest) this.#unchecked.set(name, check.digests());
      });
      yield { name, size, body };
      // A file the consumer left unread ends the archive (tar-stream cannot skip a destroyed
      // entry), so it is read through here; the consumer decided it did not need the bytes.
      if (!body.readableEnded && !body.destroyed) {
        body.resume();
        await finished(body).catch(async (err: unknown) => {
          throw await this.#failure(err);
        });
      }
    }
    this.#checkLate();
  }

  #readManifest(name: string, text: string): void {
    this.#manifest = readManifest(text, name);
    this.#manifestName = name;
    checkDigest(this.descriptorName, this.#descriptorBytes!, this.#manifest);
    this.#descriptorBytes = undefined;
    this.#checkLate();
  }

  /** Files that went by before the manifest: checked against it now. */
  #checkLate(): void {
    const manifest = this.#manifest;
    if (!manifest) return;
    for (const [file, digests] of this.#unchecked) {
      const want = manifest.get(file);
      const got = want ? digests[want.algorithm] : undefined;
      if (want && got !== undefined && got !== want.digest) {
        throw new OvfPackageError('checksum-mismatch', `${file}: checksum mismatch: its ${want.algorithm.toUpperCase()} is ${got}, the manifest (${this.#manifestName}) says ${want.digest}`, { file, expected: want.digest, actual: got });
      }
    }
    this.#unchecked.clear();
  }

  /** Stops reading: the source is destroyed, nothing more is read. */
  close(): void {
    this.#source.destroy();
    this.#extract.destroy();
  }
}
