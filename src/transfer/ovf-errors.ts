// What an OVF package (an .ova, or a descriptor with its files) is refused with, and what the
// server's OvfManager refused of it: errors with the data a caller branches on.
import { VimError, type VimFault } from '../errors.ts';

/**
 * - `not-ovf`: the descriptor (an OVA's first entry) is not an OVF envelope, or cannot be read as XML.
 * - `descriptor-too-large`: the descriptor (or the manifest) is past its size limit; nothing more is read.
 * - `missing-file`: a file the import needs (a disk) is not in the OVA, or not beside the descriptor.
 * - `size-mismatch`: a file's size is not the one the descriptor gives.
 * - `checksum-mismatch`: a file's digest is not the one the manifest (.mf) gives.
 * - `bad-manifest`: a manifest line that is no `ALGO(name)= hex` of SHA1, SHA256 or SHA512.
 * - `truncated`: the OVA (a tar stream) ended in the middle of an entry or a header.
 * - `bad-archive`: the OVA is no tar stream (a header's checksum is wrong, say), or an entry is not a plain file.
 * - `unsupported`: something the importer does not do (chunked or compressed files).
 */
export type OvfPackageErrorReason =
  | 'not-ovf'
  | 'descriptor-too-large'
  | 'missing-file'
  | 'size-mismatch'
  | 'checksum-mismatch'
  | 'bad-manifest'
  | 'truncated'
  | 'bad-archive'
  | 'unsupported';

export class OvfPackageError extends VimError {
  override name = 'OvfPackageError';
  readonly reason: OvfPackageErrorReason;
  /** The file the problem is about (an OVA entry's name, a descriptor's href), when there is one. */
  readonly file: string | undefined;
  /** For `size-mismatch` and `checksum-mismatch`: what the descriptor or manifest says, and what the file has. */
  readonly expected: string | undefined;
  readonly actual: string | undefined;

  constructor(reason: OvfPackageErrorReason, message: string, details: { file?: string | undefined; expected?: string | undefined; actual?: string | undefined; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.reason = reason;
    this.file = details.file;
    this.expected = details.expected;
    this.actual = details.actual;
  }
}

/** OvfManager.CreateImportSpec (or CreateDescriptor) answered with errors: each one as the VimFault it is. */
export class OvfSpecError extends VimError {
  override name = 'OvfSpecError';
  readonly method: 'CreateImportSpec' | 'CreateDescriptor';
  readonly faults: readonly VimFault[];

  constructor(method: 'CreateImportSpec' | 'CreateDescriptor', faults: readonly VimFault[]) {
    super(`${method} refused the OVF: ${faults.map((f) => f.faultString || f.faultName).join('; ')}`);
    this.method = method;
    this.faults = faults;
  }
}

/**
 * The HttpNfcLease did not become ready (its state went to `error`, whose fault is `cause`, or it
 * stayed `initializing` past readyTimeoutMs), or it was lost while the files were moving (a
 * HttpNfcLeaseProgress failed: the server ended it).
 */
export class LeaseError extends VimError {
  override name = 'LeaseError';
  readonly reason: 'error' | 'not-ready' | 'lost';
  readonly lease: string;

  constructor(reason: 'error' | 'not-ready' | 'lost', lease: string, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.reason = reason;
    this.lease = lease;
  }
}
