// An answer's body fed to a decoder as its chunks arrive, the same for SOAP and VI/JSON: bounded
// by maxBytes, the event loop given a turn every 256 KiB (a socket can deliver many chunks in one
// go; decoding them back to back would hold the loop for the whole answer), and a body cut off
// mid-answer reported as EOUTCOMEUNKNOWN (the request was answered, so it may have taken effect,
// as with a connection that died before the answer: the same code for the same meaning).
import type { Readable } from 'node:stream';
import { TransportError } from '../errors.ts';

const YIELD_EVERY_BYTES = 256 * 1024;

/** What reads the chunks: throws what it refuses; `end` gives the decoded answer. */
export interface ChunkDecoder<T> {
  write(chunk: Buffer): void;
  end(): T;
}

export function decodeAnswerStream<T>(method: string, body: Readable, status: number, maxBytes: number, decoder: ChunkDecoder<T>, asError: (err: unknown) => unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    let failed = false;
    const fail = (err: unknown): void => {
      if (failed) return;
      failed = true;
      body.destroy();
      reject(asError(err));
    };
    let slice = 0;
    let total = 0;
    body.on('data', (chunk: Buffer) => {
      if (failed) return;
      total += chunk.length;
      if (total > maxBytes) {
        fail(new TransportError(`${method}: response larger than ${maxBytes} bytes`, { code: 'ERESPONSETOOLARGE', status }));
        return;
      }
      try {
        decoder.write(chunk);
      } catch (err) {
        fail(err);
        return;
      }
      slice += chunk.length;
      if (slice >= YIELD_EVERY_BYTES) {
        slice = 0;
        body.pause();
        setImmediate(() => body.resume());
      }
    });
    body.on('error', (e: NodeJS.ErrnoException) => {
      fail(e instanceof TransportError ? e : new TransportError(`${method}: answer cut off (${e.code ?? e.message}): its outcome is unknown`, { code: 'EOUTCOMEUNKNOWN', status, outcomeUnknown: true, cause: e }));
    });
    body.on('end', () => {
      if (failed) return;
      try {
        resolve(decoder.end());
      } catch (err) {
        fail(err);
      }
    });
  });
}
