// What a transfer sends: a file path, a Node Readable, a Uint8Array or a web ReadableStream, made
// one kind of thing, a Node stream of known length where it can be known, and whether it can be
// read again from the start (a file or a buffer: a request the session refused is sent again; a
// one-shot stream cannot be). Nothing here holds more than a chunk: files are read as the
// connection takes them, buffers are handed on as views of themselves.
import { close as fsClose, createReadStream, open as fsOpen, read as fsRead } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { recyclable } from '../transport/http-exchange.ts';
import { TransferError } from './errors.ts';

/** A file path, a Node Readable, bytes in memory, or a web ReadableStream (fetch's body, say). */
export type TransferSource = string | Readable | Uint8Array | ReadableStream<Uint8Array> | WebReadableStream<Uint8Array>;

/** How far a transfer is: bytes sent (an upload) or received (a download), of `total` when known. */
export interface TransferProgress {
  bytes: number;
  total?: number | undefined;
}

/**
 * Chunks of a file or a buffer: large enough for throughput, small enough that memory stays flat.
 * 256 KiB: a 1 GiB upload took 4.2 and 3.9 s against 5.6 and 5.2 s with 64 KiB (bench/transfer.ts's
 * child, machine at load ~9), its memory the same (a file is read into a few reused buffers).
 */
export const CHUNK_BYTES = 256 * 1024;

/**
 * Buffers a file reader keeps to read into again once the connection gave them back (see
 * recyclable): more than the chunks a request holds on the way (the reader's, each stream
 * stage's and the socket's), so that a steady upload allocates none.
 */
export const POOL_CHUNKS = 16;

/**
 * A regular file, read into a few buffers used again and again: each chunk is registered as
 * recyclable, and read into again only once the connection is done with it (Node's HTTP path
 * says so); one never given back is left to the collector and replaced. fs.createReadStream
 * allocates a buffer per read instead, which is what made a 1 GiB upload's peak RSS rise with
 * the garbage V8 lets pile up (issue 29).
 */
export class FileChunks extends Readable {
  readonly #path: string;
  #fd: number | undefined;
  #position = 0;
  #reading = false;
  #afterRead: (() => void) | undefined;
  readonly #free: Buffer[] = [];
  /** Buffers this reader allocated: at most POOL_CHUNKS (and one) when every chunk comes back. */
  allocated = 0;
  /** Buffers all readers allocated, a count the tests read around an import or an upload. */
  static allocatedBuffers = 0;

  constructor(path: string) {
    super({ highWaterMark: CHUNK_BYTES });
    this.#path = path;
  }

  override _construct(callback: (err?: Error | null) => void): void {
    fsOpen(this.#path, 'r', (err, fd) => {
      this.#fd = fd;
      callback(err);
    });
  }

  override _read(): void {
    let buffer = this.#free.pop();
    if (!buffer) {
      buffer = Buffer.allocUnsafeSlow(CHUNK_BYTES);
      this.allocated++;
      FileChunks.allocatedBuffers++;
    }
    const own = buffer;
    this.#reading = true;
    fsRead(this.#fd!, own, 0, CHUNK_BYTES, this.#position, (err, read) => {
      this.#reading = false;
      if (this.#afterRead) {
        this.#afterRead();
        return;
      }
      if (err) {
        this.destroy(err);
        return;
      }
      if (read === 0) {
        this.#free.push(own);
        this.push(null);
        return;
      }
      this.#position += read;
      const chunk = read === own.length ? own : own.subarray(0, read);
      recyclable.set(chunk, () => {
        if (this.#free.length < POOL_CHUNKS) this.#free.push(own);
      });
      this.push(chunk);
    });
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.#free.length = 0;
    const fd = this.#fd;
    if (fd === undefined) {
      callback(err);
      return;
    }
    const close = (): void => fsClose(fd, (closeErr) => callback(err ?? closeErr));
    // Not while a read is running: the descriptor's number could be another file's by then.
    if (this.#reading) this.#afterRead = close;
    else close();
  }
}

export interface OpenedSource {
  /** The bytes the source gives, when known before reading it (a regular file, a buffer, or the length the caller gave). */
  readonly length: number | undefined;
  /** open() can be called again and gives the same bytes from the start. */
  readonly rereadable: boolean;
  /** Whether open() was called: a one-shot source is then spent. */
  readonly opened: boolean;
  /** The bytes, from the start. A one-shot source gives its stream once; after that, TransferError('not-rereadable'). */
  open(): Readable;
  /** Releases a stream never opened (a one-shot source the transfer did not get to send). */
  discard(): void;
}

function isWebStream(s: unknown): s is WebReadableStream<Uint8Array> {
  return typeof s === 'object' && s !== null && typeof (s as { getReader?: unknown }).getReader === 'function' && typeof (s as { pipeTo?: unknown }).pipeTo === 'function';
}

function checkLength(length: number | undefined): void {
  if (length !== undefined && !(Number.isSafeInteger(length) && length >= 0)) throw new TypeError(`a transfer length is a non-negative integer, not ${String(length)}`);
}

function* slices(bytes: Uint8Array): Generator<Buffer> {
  for (let at = 0; at < bytes.byteLength; at += CHUNK_BYTES) {
    yield Buffer.from(bytes.buffer, bytes.byteOffset + at, Math.min(CHUNK_BYTES, bytes.byteLength - at));
  }
}

/**
 * Makes `source` an OpenedSource. A file path is checked here (it exists and can be read; a
 * regular file's size is its length), so a transfer of a missing file is refused before any
 * request. `length`, when given, must match what a file or a buffer holds, and is what a stream
 * must give (lengthGuard enforces it as it is sent).
 */
export async function openSource(source: TransferSource, length?: number): Promise<OpenedSource> {
  checkLength(length);
  if (typeof source === 'string') {
    if (source === '' || source.includes('\0')) throw new TransferError('bad-source', 'a source file path is a non-empty string without NUL');
    let info;
    try {
      info = await stat(source);
    } catch (err) {
      throw new TransferError('bad-source', `cannot read the source file ${JSON.stringify(source)}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
    }
    if (info.isDirectory()) throw new TransferError('bad-source', `the source ${JSON.stringify(source)} is a directory`);
    // A FIFO or a device is read once, like a stream.
    const regular = info.isFile();
    const size = regular ? info.size : length;
    if (regular && length !== undefined && length !== info.size) throw new TransferError('length-mismatch', `the source file has ${info.size} bytes, not ${length}`);
    if (regular) return rereadable(size, () => new FileChunks(source));
    return oneShot(size, () => createReadStream(source, { highWaterMark: CHUNK_BYTES }));
  }
  if (source instanceof Uint8Array) {
    if (length !== undefined && length !== source.byteLength) throw new TransferError('length-mismatch', `the source buffer has ${source.byteLength} bytes, not ${length}`);
    return rereadable(source.byteLength, () => Readable.from(slices(source), { objectMode: false }));
  }
  if (source instanceof Readable) return oneShot(length, () => source, () => source.destroy());
  if (isWebStream(source)) return oneShot(length, () => Readable.fromWeb(source, { highWaterMark: CHUNK_BYTES }), () => void source.cancel().catch(() => undefined));
  throw new TransferError('bad-source', 'a transfer source is a file path, a Readable, a Uint8Array or a web ReadableStream');
}

function rereadable(length: number | undefined, make: () => Readable): OpenedSource {
  let opened = false;
  return {
    length,
    rereadable: true,
    get opened() {
      return opened;
    },
    open() {
      opened = true;
      return make();
    },
    discard: () => undefined,
  };
}

function oneShot(length: number | undefined, make: () => Readable, release: () => void = () => undefined): OpenedSource {
  let opened = false;
  return {
    length,
    rereadable: false,
    get opened() {
      return opened;
    },
    open() {
      if (opened) throw new TransferError('not-rereadable', 'the source is a one-shot stream, already (partly) sent: it cannot be sent again');
      opened = true;
      return make();
    },
    discard() {
      if (!opened) {
        opened = true;
        release();
      }
    },
  };
}

/**
 * A pass-through that counts the bytes going by, reports them, and fails the transfer with
 * TransferError('length-mismatch') as soon as they pass `length`, or at the end when they fall
 * short: a server told one Content-Length and sent another would keep a truncated file.
 */
export function lengthGuard(length: number | undefined, onProgress?: (p: TransferProgress) => void): Transform & { readonly bytes: number } {
  let bytes = 0;
  const guard = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      if (length !== undefined && bytes > length) {
        callback(new TransferError('length-mismatch', `the source gave more than the ${length} bytes it was sent as`));
        return;
      }
      onProgress?.({ bytes, total: length });
      callback(null, chunk);
    },
    flush(callback) {
      if (length !== undefined && bytes !== length) callback(new TransferError('length-mismatch', `the source ended after ${bytes} of the ${length} bytes it was sent as`));
      else callback();
    },
  });
  Object.defineProperty(guard, 'bytes', { get: () => bytes });
  return guard as Transform & { readonly bytes: number };
}
