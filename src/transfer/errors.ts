// What a file transfer (datastore, guest, lease URLs) is refused or fails with, beyond the
// transport's own errors (TransportError: HTTP statuses, network, deadline, abort).
import { VimError } from '../errors.ts';

/**
 * - `not-rereadable`: the session had expired (401) and the source was a one-shot stream, already
 *   partly consumed; the session was re-established, so a new stream can be sent.
 * - `length-mismatch`: the source gave more or fewer bytes than the length it was sent with.
 * - `bad-source`: a source that is none of a file path, a Readable, a Uint8Array or a web ReadableStream, or a file that cannot be read.
 * - `bad-path`: a datastore or guest path with `..`, a NUL, a control character or no name.
 * - `no-such-datastore` / `no-such-datacenter`: nothing of that name on the server (checked before any transfer).
 * - `not-found`: the file is not there.
 */
export type TransferErrorReason = 'not-rereadable' | 'length-mismatch' | 'bad-source' | 'bad-path' | 'no-such-datastore' | 'no-such-datacenter' | 'not-found';

export class TransferError extends VimError {
  override name = 'TransferError';
  readonly reason: TransferErrorReason;

  constructor(reason: TransferErrorReason, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.reason = reason;
  }
}
