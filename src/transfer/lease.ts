// An HttpNfcLease (ImportVApp's, ExportVm's) kept from the moment it is handed out to the moment
// it ends, and always ended: wait until it is ready (or in error), tell the server how far the
// transfer is at least every 10 s (HttpNfcLeaseProgress; a lease without news for its
// leaseTimeout, 5 min on vCenter, is taken away), HttpNfcLeaseComplete when the work succeeded
// and HttpNfcLeaseAbort, with the cause, when it failed or was aborted. A lease left open holds
// the VM being imported, or the VM being exported, until vCenter times it out.
//
// The progress timer is unref'd (it never keeps a process alive) and a plain setTimeout chain,
// so fake clocks drive it in tests. A progress call that the server refuses with a fault (the
// lease is gone: aborted, timed out) ends the lease for the transfer: `signal` fires with a
// LeaseError('lost'), so the uploads or downloads stop at once instead of running for nothing.
import { abortedOr, delay, throwIfAborted } from '../abort.ts';
import { isVimFault, VimFault } from '../errors.ts';
import type { HttpNfcLeaseInfo, LocalizedMethodFault, ManagedObjectReference } from '../generated/types.ts';
import { retrieveOne } from '../inventory/retrieve.ts';
import type { InventoryClient } from '../inventory/inventory-client.ts';
import { silentLogger, type Logger } from '../logger.ts';
import { faultFromLocalized } from '../soap/faults.ts';
import { LeaseError } from './ovf-errors.ts';

export type LeaseRef = ManagedObjectReference<'HttpNfcLease'>;

export interface LeaseOptions {
  /** How often HttpNfcLeaseProgress is sent while the lease is kept (default 5000 ms, at most 10 000). */
  progressIntervalMs?: number | undefined;
  /** How long the lease may stay `initializing` (default 10 min): LeaseError('not-ready') after. */
  readyTimeoutMs?: number | undefined;
  /** Per-call timeout of the lease's own calls (Progress, Complete, Abort); default the client's. */
  callTimeoutMs?: number | undefined;
  logger?: Logger | undefined;
}

const DEFAULT_PROGRESS_MS = 5_000;
const MAX_PROGRESS_MS = 10_000;
const DEFAULT_READY_MS = 10 * 60_000;
/** A cause's message sent with HttpNfcLeaseAbort is cut here: the server logs it, nobody else reads it. */
const MAX_ABORT_MESSAGE = 1_000;

/** The fault sent with HttpNfcLeaseAbort: a SystemError carrying the cause's message. */
export function abortFault(cause: unknown): LocalizedMethodFault {
  const text = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause ?? 'aborted');
  const message = text.length > MAX_ABORT_MESSAGE ? `${text.slice(0, MAX_ABORT_MESSAGE)}…` : text;
  return { fault: { _typeName: 'SystemError', reason: message } as LocalizedMethodFault['fault'], localizedMessage: message };
}

export class LeaseKeeper {
  readonly lease: LeaseRef;
  readonly #client: InventoryClient;
  readonly #interval: number;
  readonly #readyTimeout: number;
  readonly #callTimeout: number | undefined;
  readonly #logger: Logger;
  readonly #lost = new AbortController();
  #percent = 0;
  #sent = -1;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #ended: 'completed' | 'aborted' | undefined;
  #progressCalls = 0;

  constructor(client: InventoryClient, lease: LeaseRef, options: LeaseOptions = {}) {
    const interval = options.progressIntervalMs ?? DEFAULT_PROGRESS_MS;
    if (!(interval > 0 && interval <= MAX_PROGRESS_MS)) throw new RangeError(`progressIntervalMs is between 1 and ${MAX_PROGRESS_MS}, not ${String(interval)}`);
    const ready = options.readyTimeoutMs ?? DEFAULT_READY_MS;
    if (!(ready > 0)) throw new RangeError(`readyTimeoutMs must be positive, not ${String(ready)}`);
    this.#client = client;
    this.lease = lease;
    this.#interval = interval;
    this.#readyTimeout = ready;
    this.#callTimeout = options.callTimeoutMs;
    this.#logger = options.logger ?? client.logger ?? silentLogger;
  }

  /** Fires (with a LeaseError('lost')) when the server took the lease away while it was kept. */
  get signal(): AbortSignal {
    return this.#lost.signal;
  }

  /** 'completed' or 'aborted' once ended; undefined while open. */
  get ended(): 'completed' | 'aborted' | undefined {
    return this.#ended;
  }

  /** HttpNfcLeaseProgress calls that reached the server. */
  get progressCalls(): number {
    return this.#progressCalls;
  }

  /**
   * Waits for the lease to leave `initializing`: its info once `ready`; LeaseError('error')
   * with the lease's fault (a VimFault) as cause once `error`; LeaseError('not-ready') after
   * readyTimeoutMs. Polls with a growing pause (100 ms up to 2 s).
   */
  async ready(options: { signal?: AbortSignal | undefined } = {}): Promise<HttpNfcLeaseInfo> {
    const { signal } = options;
    let pause = 100;
    let waited = 0;
    for (;;) {
      throwIfAborted(signal);
      const row = await retrieveOne(this.#client, this.lease, ['state', 'error', 'info'], { signal });
      const state = row.state as string | undefined;
      if (state === 'ready') {
        const info = row.info as HttpNfcLeaseInfo | undefined;
        if (!info) throw new LeaseError('error', this.lease.value, `lease ${this.lease.value} is ready but has no info`);
        return info;
      }
      if (state === 'error') {
        const error = row.error as LocalizedMethodFault | undefined;
        const fault = error ? faultFromLocalized('HttpNfcLease', error) : undefined;
        throw new LeaseError('error', this.lease.value, `lease ${this.lease.value} is in error${fault ? `: ${fault.faultString || fault.faultName}` : ''}`, { cause: fault });
      }
      if (state === 'done') throw new LeaseError('error', this.lease.value, `lease ${this.lease.value} has already ended`);
      if (waited >= this.#readyTimeout) throw new LeaseError('not-ready', this.lease.value, `lease ${this.lease.value} was not ready after ${this.#readyTimeout} ms (state: ${state ?? 'unknown'})`);
      const step = Math.min(pause, this.#readyTimeout - waited);
      await delay(step, signal, 'waiting for the lease aborted');
      waited += step;
      pause = Math.min(pause * 2, 2_000);
    }
  }

  /** Starts the progress reports (the first one after progressIntervalMs). */
  start(): void {
    if (this.#ended || this.#timer) return;
    this.#schedule();
  }

  /** How far the transfer is, 0–100; the next HttpNfcLeaseProgress reports it. */
  progress(percent: number): void {
    if (!Number.isFinite(percent)) return;
    this.#percent = Math.max(this.#percent, Math.min(100, Math.max(0, Math.floor(percent))));
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#inFlight = this.#report().finally(() => {
        this.#inFlight = undefined;
        if (!this.#ended && !this.#lost.signal.aborted) this.#schedule();
      });
    }, this.#interval);
    this.#timer.unref();
  }

  async #report(): Promise<void> {
    if (this.#ended) return;
    const percent = this.#percent;
    try {
      await this.#client.call('HttpNfcLeaseProgress', this.lease, { percent }, { timeoutMs: this.#callTimeout });
      this.#progressCalls++;
      this.#sent = percent;
    } catch (err) {
      if (this.#ended) return;
      if (err instanceof VimFault) {
        // The server refused it: the lease is no more (aborted, timed out, ended elsewhere).
        this.#logger.warn('HttpNfcLeaseProgress refused: the lease is lost', { lease: this.lease.value, fault: err.faultName });
        this.#lost.abort(new LeaseError('lost', this.lease.value, `lease ${this.lease.value} was lost: HttpNfcLeaseProgress answered ${err.faultName}`, { cause: err }));
        return;
      }
      // A network hiccup: the next report tries again, well within the lease's timeout.
      this.#logger.warn('HttpNfcLeaseProgress failed; trying again at the next report', { lease: this.lease.value, error: err instanceof Error ? err.name : 'error' });
    }
  }

  async #stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#inFlight?.catch(() => undefined);
  }

  /** HttpNfcLeaseComplete (with a last progress report of 100 first). Throws its failure, after aborting the lease. */
  async complete(): Promise<void> {
    if (this.#ended) return;
    await this.#stop();
    if (this.#lost.signal.aborted) {
      const reason: unknown = this.#lost.signal.reason;
      await this.abort(reason);
      throw reason;
    }
    this.#ended = 'completed';
    try {
      if (this.#sent !== 100) {
        await this.#client.call('HttpNfcLeaseProgress', this.lease, { percent: 100 }, { timeoutMs: this.#callTimeout });
        this.#progressCalls++;
        this.#sent = 100;
      }
      await this.#client.call('HttpNfcLeaseComplete', this.lease, { timeoutMs: this.#callTimeout });
    } catch (err) {
      this.#ended = undefined;
      await this.abort(err);
      throw err;
    }
  }

  /**
   * HttpNfcLeaseAbort with `cause`'s message. Never throws: a lease the server already ended
   * (aborted, timed out) has nothing left to abort, and the caller's own failure is what matters.
   */
  async abort(cause: unknown): Promise<void> {
    if (this.#ended) return;
    this.#ended = 'aborted';
    await this.#stop();
    try {
      await this.#client.call('HttpNfcLeaseAbort', this.lease, { fault: abortFault(cause) }, { timeoutMs: this.#callTimeout });
    } catch (err) {
      this.#logger.warn('HttpNfcLeaseAbort failed', { lease: this.lease.value, ...(isVimFault(err) ? { fault: err.faultName } : { error: err instanceof Error ? err.name : 'error' }) });
    }
  }
}

/**
 * Runs `work` on a ready lease and ends the lease however it goes: HttpNfcLeaseComplete when
 * `work` resolves, HttpNfcLeaseAbort with the cause when waiting, `work` or Complete fails, or
 * `signal` fires. `work` gets the lease's info, the keeper (to report progress) and a signal that
 * fires when the caller's does or the lease is lost.
 */
export async function withLease<T>(
  client: InventoryClient,
  lease: LeaseRef,
  options: LeaseOptions & { signal?: AbortSignal | undefined },
  work: (info: HttpNfcLeaseInfo, keeper: LeaseKeeper, signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const keeper = new LeaseKeeper(client, lease, options);
  const signals = [keeper.signal, ...(options.signal ? [options.signal] : [])];
  const signal = AbortSignal.any(signals);
  try {
    const info = await keeper.ready({ signal: options.signal });
    keeper.start();
    const result = await work(info, keeper, signal);
    throwIfAborted(signal);
    await keeper.complete();
    return result;
  } catch (err) {
    // The lease's loss, or the caller's abort, is what the work's own failure came from.
    const cause = keeper.signal.aborted ? keeper.signal.reason : abortedOr(options.signal, err);
    await keeper.abort(cause);
    throw cause;
  }
}
