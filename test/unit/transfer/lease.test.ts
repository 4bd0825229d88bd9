// The lease keeper on a scripted client and fake clocks: waits for ready (or error), reports
// progress at least every 10 s of (fake) time, completes on success, and aborts, with the cause,
// on every failure: the work's, the caller's abort, the lease's loss, a failed Complete.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AbortError, TransportError, VimFault } from '../../../src/errors.ts';
import type { HttpNfcLeaseInfo, ManagedObjectReference } from '../../../src/generated/types.ts';
import type { InventoryClient } from '../../../src/inventory/inventory-client.ts';
import { LeaseKeeper, withLease } from '../../../src/transfer/lease.ts';
import { LeaseError } from '../../../src/transfer/ovf-errors.ts';
import { ref, ScriptedInventoryClient } from '../inventory/scripted-client.ts';

const LEASE = ref('HttpNfcLease', 'lease-1');
const INFO = { _typeName: 'HttpNfcLeaseInfo', lease: LEASE, entity: ref('VirtualMachine', 'vm-9'), deviceUrl: [], totalDiskCapacityInKB: 0, leaseTimeout: 300 } as unknown as HttpNfcLeaseInfo;

interface State {
  state: 'initializing' | 'ready' | 'error' | 'done';
  error?: unknown;
}

/** A server holding one lease: its states in turn (the last one stays), and how its methods answer. */
class LeaseServer extends ScriptedInventoryClient {
  states: State[] = [{ state: 'ready' }];
  /** Each call with the fake clock's time. */
  readonly log: Array<{ method: string; at: number; args: Record<string, unknown> | undefined }> = [];
  progress: 'ok' | 'fault' | 'network' = 'ok';
  completeFails = false;
  abortFails = false;

  async call(method: string, _this: ManagedObjectReference, args?: Record<string, unknown>): Promise<unknown> {
    this.log.push({ method, at: Date.now(), args });
    this.calls.push(`${method} ${_this.value}`);
    switch (method) {
      case 'RetrievePropertiesEx': {
        const s = this.states.length > 1 ? this.states.shift()! : this.states[0]!;
        const propSet = [{ name: 'state', val: s.state }, ...(s.error ? [{ name: 'error', val: s.error }] : []), ...(s.state === 'ready' ? [{ name: 'info', val: INFO }] : [])];
        return { objects: [{ obj: LEASE, propSet }] };
      }
      case 'HttpNfcLeaseProgress':
        if (this.progress === 'fault') throw new VimFault('HttpNfcLeaseProgress', { _typeName: 'ManagedObjectNotFound' }, 'gone');
        if (this.progress === 'network') throw new TransportError('reset', { code: 'ECONNRESET' });
        return undefined;
      case 'HttpNfcLeaseComplete':
        if (this.completeFails) throw new VimFault('HttpNfcLeaseComplete', { _typeName: 'Timedout' }, 'lease timed out');
        return undefined;
      case 'HttpNfcLeaseAbort':
        if (this.abortFails) throw new VimFault('HttpNfcLeaseAbort', { _typeName: 'ManagedObjectNotFound' }, 'gone');
        return undefined;
      default:
        throw new Error(`unexpected ${method}`);
    }
  }

  /** This server as the client the keeper talks to. */
  get client(): InventoryClient {
    return this as unknown as InventoryClient;
  }

  methods(): string[] {
    return this.log.map((l) => l.method).filter((m) => m !== 'RetrievePropertiesEx');
  }

  aborts(): Array<Record<string, unknown> | undefined> {
    return this.log.filter((l) => l.method === 'HttpNfcLeaseAbort').map((l) => l.args);
  }
}

afterEach(() => {
  vi.useRealTimers();
});

describe('ready()', () => {
  it('polls while the lease initializes and gives its info once ready', async () => {
    vi.useFakeTimers();
    const server = new LeaseServer();
    server.states = [{ state: 'initializing' }, { state: 'initializing' }, { state: 'ready' }];
    const ready = new LeaseKeeper(server.client, LEASE).ready();
    await vi.runAllTimersAsync();
    expect(await ready).toBe(INFO);
    expect(server.log.filter((l) => l.method === 'RetrievePropertiesEx')).toHaveLength(3);
  });

  it('an error state is a LeaseError whose cause is the lease\'s fault', async () => {
    const server = new LeaseServer();
    server.states = [{ state: 'error', error: { fault: { _typeName: 'InsufficientResourcesFault' }, localizedMessage: 'no room' } }];
    const err = await new LeaseKeeper(server.client, LEASE).ready().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LeaseError);
    expect(err).toMatchObject({ reason: 'error', lease: 'lease-1' });
    expect((err as LeaseError).cause).toBeInstanceOf(VimFault);
    expect(((err as LeaseError).cause as VimFault).faultName).toBe('InsufficientResourcesFault');
  });

  it('gives up after readyTimeoutMs of initializing', async () => {
    vi.useFakeTimers();
    const server = new LeaseServer();
    server.states = [{ state: 'initializing' }];
    const ready = new LeaseKeeper(server.client, LEASE, { readyTimeoutMs: 30_000 }).ready().catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(29_000);
    expect(server.log.at(-1)?.method).toBe('RetrievePropertiesEx');
    await vi.advanceTimersByTimeAsync(2_000);
    expect(await ready).toMatchObject({ name: 'LeaseError', reason: 'not-ready' });
  });
});

describe('progress', () => {
  it('reports at least every 10 s of a long transfer, with the latest percent', async () => {
    vi.useFakeTimers();
    const server = new LeaseServer();
    const keeper = new LeaseKeeper(server.client, LEASE);
    keeper.start();
    const start = Date.now();
    for (let t = 1; t <= 120; t++) {
      keeper.progress(Math.floor((t * 100) / 120));
      await vi.advanceTimersByTimeAsync(1_000);
    }
    const reports = server.log.filter((l) => l.method === 'HttpNfcLeaseProgress');
    const times = [start, ...reports.map((r) => r.at)];
    expect(reports.length).toBeGreaterThanOrEqual(12);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeLessThanOrEqual(10_000);
    const percents = reports.map((r) => r.args!.percent as number);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(percents.at(-1)).toBeGreaterThanOrEqual(95);
    await keeper.complete();
  });

  it('never reports a percent below one already reported, nor outside 0–100', async () => {
    vi.useFakeTimers();
    const server = new LeaseServer();
    const keeper = new LeaseKeeper(server.client, LEASE, { progressIntervalMs: 1_000 });
    keeper.start();
    keeper.progress(40);
    await vi.advanceTimersByTimeAsync(1_000);
    keeper.progress(20);
    keeper.progress(Number.NaN);
    await vi.advanceTimersByTimeAsync(1_000);
    keeper.progress(250);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(server.log.filter((l) => l.method === 'HttpNfcLeaseProgress').map((l) => l.args!.percent)).toEqual([40, 40, 100]);
    await keeper.abort(new Error('done with it'));
  });

  it('its timer does not keep the process alive', () => {
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const keeper = new LeaseKeeper(new LeaseServer().client, LEASE, { progressIntervalMs: 10_000 });
    keeper.start();
    const ref = setTimeout(() => undefined, 10_000);
    try {
      expect(timers()).toBe(before + 1); // the ref'd control timer only
    } finally {
      clearTimeout(ref);
      void keeper.abort('test over');
    }
  });

  it('a network failure is tried again at the next report; a fault means the lease is lost', async () => {
    vi.useFakeTimers();
    const server = new LeaseServer();
    const keeper = new LeaseKeeper(server.client, LEASE, { progressIntervalMs: 1_000 });
    keeper.start();
    server.progress = 'network';
    await vi.advanceTimersByTimeAsync(1_000);
    expect(keeper.signal.aborted).toBe(false);
    server.progress = 'fault';
    await vi.advanceTimersByTimeAsync(1_000);
    expect(keeper.signal.aborted).toBe(true);
    expect(keeper.signal.reason).toMatchObject({ name: 'LeaseError', reason: 'lost' });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(server.log.filter((l) => l.method === 'HttpNfcLeaseProgress')).toHaveLength(2); // no more after the loss
    expect(server.warnings.map((w) => w.message)).toEqual([expect.stringContaining('trying again'), expect.stringContaining('lost')]);
  });

  it('refuses an interval above 10 s', () => {
    expect(() => new LeaseKeeper(new LeaseServer().client, LEASE, { progressIntervalMs: 10_001 })).toThrow(RangeError);
  });
});

describe('ending the lease', () => {
  it('complete(): a last report of 100, then HttpNfcLeaseComplete, and no report after', async () => {
    vi.useFakeTimers();
    const server = new LeaseServer();
    const keeper = new LeaseKeeper(server.client, LEASE);
    keeper.start();
    keeper.progress(60);
    await keeper.complete();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.methods()).toEqual(['HttpNfcLeaseProgress', 'HttpNfcLeaseComplete']);
    expect(server.log.find((l) => l.method === 'HttpNfcLeaseProgress')!.args).toEqual({ percent: 100 });
    expect(keeper.ended).toBe('completed');
  });

  it('abort(): HttpNfcLeaseAbort with a SystemError carrying the cause, once, and never throws', async () => {
    const server = new LeaseServer();
    server.abortFails = true;
    const keeper = new LeaseKeeper(server.client, LEASE);
    await keeper.abort(new Error('disk upload failed'));
    await keeper.abort(new Error('again'));
    expect(server.aborts()).toEqual([{ fault: { fault: { _typeName: 'SystemError', reason: 'Error: disk upload failed' }, localizedMessage: 'Error: disk upload failed' } }]);
    expect(server.warnings.map((w) => w.message)).toEqual(['HttpNfcLeaseAbort failed']);
  });
});

describe('withLease', () => {
  it('completes when the work succeeds', async () => {
    const server = new LeaseServer();
    const result = await withLease(server.client, LEASE, {}, async (info) => info.entity.value);
    expect(result).toBe('vm-9');
    expect(server.methods()).toEqual(['HttpNfcLeaseProgress', 'HttpNfcLeaseComplete']);
  });

  it('aborts with the cause when the work fails, and rethrows it', async () => {
    const server = new LeaseServer();
    const boom = new TransportError('POST /nfc/x: HTTP 500', { status: 500, code: 'HTTP_500' });
    await expect(withLease(server.client, LEASE, {}, async () => {
      throw boom;
    })).rejects.toBe(boom);
    expect(server.methods()).toEqual(['HttpNfcLeaseAbort']);
    expect(server.aborts()[0]).toMatchObject({ fault: { localizedMessage: 'TransportError: POST /nfc/x: HTTP 500' } });
  });

  it('aborts when the caller aborts, and rejects as an aborted call does', async () => {
    const server = new LeaseServer();
    const ctrl = new AbortController();
    const run = withLease(server.client, LEASE, { signal: ctrl.signal }, (_info, _keeper, signal) => new Promise((_, reject) => {
      signal.addEventListener('abort', () => reject(new Error('transfer stopped')), { once: true });
      ctrl.abort();
    }));
    const err = await run.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AbortError);
    expect(server.methods()).toEqual(['HttpNfcLeaseAbort']);
    expect(server.aborts()[0]).toMatchObject({ fault: { localizedMessage: expect.stringContaining('AbortError') } });
  });

  it('aborts when the lease was lost during the work, with the loss as the error', async () => {
    vi.useFakeTimers();
    const server = new LeaseServer();
    server.progress = 'fault';
    const run = withLease(server.client, LEASE, { progressIntervalMs: 1_000 }, (_info, _keeper, signal) => new Promise((_, reject) => {
      signal.addEventListener('abort', () => reject(new Error('upload cut')), { once: true });
    })).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await run).toMatchObject({ name: 'LeaseError', reason: 'lost' });
    expect(server.methods()).toEqual(['HttpNfcLeaseProgress', 'HttpNfcLeaseAbort']);
  });

  it('aborts when the lease is in error, and when Complete fails', async () => {
    const inError = new LeaseServer();
    inError.states = [{ state: 'error', error: { fault: { _typeName: 'InvalidState' } } }];
    await expect(withLease(inError.client, LEASE, {}, async () => 1)).rejects.toMatchObject({ name: 'LeaseError', reason: 'error' });
    expect(inError.methods()).toEqual(['HttpNfcLeaseAbort']);

    const failing = new LeaseServer();
    failing.completeFails = true;
    await expect(withLease(failing.client, LEASE, {}, async () => 1)).rejects.toMatchObject({ faultName: 'Timedout' });
    expect(failing.methods()).toEqual(['HttpNfcLeaseProgress', 'HttpNfcLeaseComplete', 'HttpNfcLeaseAbort']);
  });
});
