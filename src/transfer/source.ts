// What a transfer sends: a file path, a Node Readable, a Uint8Array or a web ReadableStream, made
// one kind of thing, a Node stream of known length where it can be known, and whether it can be
// read again from the start (a file or a buffer: a request the session refused is sent again; a
// one-shot stream cannot be). Nothing here holds more than a chunk: files are read as the
// connection takes them, buffers are handed on as views of themselves.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { TransferError } from './errors.ts';

/** A file path, a Node Readable, bytes in memory, or a web ReadableStream (fetch's body, say). */
export type TransferSource = string | Readable | Uint8Array | ReadableStream<Uint8Array> | WebReadableStream<Uint8Array>;

/** How far a transfer is: bytes sent (an upload) or received (a download), of `total` when known. */
export interface TransferProgress {
  bytes: number;
  total?: number | undefined;
}

/** Chunks of a file or a buffer: large enough for throughput, small enough that memory stays flat. */
export const CHUNK_BYTES = 64 * 1024;

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
    if (regular) return rereadable(size, () => createReadStream(source, { highWaterMark: CHUNK_BYTES }));
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
