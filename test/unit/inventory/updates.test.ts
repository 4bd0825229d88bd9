// The WaitForUpdatesEx loop (updates.ts) against a scripted client, on a fake clock: which
// failures it rides out and how (the same version again, or everything built again), how long
// it pauses between tries, and what it leaves behind.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { abortedBy, TransportError, VimFault } from '../../../src/errors.ts';
import type { ManagedObjectReference, UpdateSet } from '../../../src/generated/types.ts';
import type { InventoryClient } from '../../../src/inventory/inventory-client.ts';
import { BACKOFF_MAX_MS, BACKOFF_MIN_MS, isTransient, updateSets, type UpdateBatch } from '../../../src/inventory/updates.ts';
import { ref, ScriptedInventoryClient } from './scripted-client.ts';

const set = (version: string): UpdateSet => ({ version, filterSet: [{ filter: ref('PropertyFilter', 'f'), objectSet: [] }] });
/** A 503 page from a proxy in front of vpxd: the request never reached it. */
const unavailable = (): TransportError => new TransportError('WaitForUpdatesEx: HTTP 503 without a SOAP answer', { status: 503, code: 'HTTP_503' });
/** A connection closed after the request was written: it may have been executed, its answer is lost. */
const lost = (): TransportError => new TransportError('the connection closed after the request was sent', { code: 'EOUTCOMEUNKNOWN', outcomeUnknown: true });

/**
 * Answers each method from its script, in order (an Error is thrown). Unscripted:
 * CreatePropertyCollector makes a new collector, a wait hangs until its signal fires, anything
 * else answers nothing. Records each call with the (fake) time it reached the server.
 */
class ScriptedClient extends ScriptedInventoryClient {
  readonly script = new Map<string, Array<unknown>>();
  /** WaitForUpdatesEx: the version sent and when. */
  readonly waits: Array<{ version: string; at: number }> = [];
  #collectors = 0;

  call = (async (method: string, _this: ManagedObjectReference, args: { version?: string } | undefined, options?: { signal?: AbortSignal }) => {
    this.calls.push(`${method} ${_this.value}`);
    if (method === 'WaitForUpdatesEx') this.waits.push({ version: args?.version ?? '', at: Date.now() });
    const step = this.script.get(method)?.shift();
    if (step instanceof Error) throw step;
    if (step !== undefined) return step;
    switch (method) {
      case 'CreatePropertyCollector':
        return ref('PropertyCollector', `pc${++this.#collectors}`);
      case 'WaitForUpdatesEx': {
        const signal = options?.signal;
        return new Promise((_, reject) => signal?.addEventListener('abort', () => reject(abortedBy(signal, 'request aborted')), { once: true }));
      }
      default:
        return undefined;
    }
  }) as unknown as InventoryClient['call'];

  /** The pauses between waits, in ms. */
  gaps(): number[] {
    return this.waits.slice(1).map((w, i) => w.at - this.waits[i]!.at);
  }
}

function loop(client: ScriptedClient, signal?: AbortSignal): AsyncGenerator<UpdateBatch, never, undefined> {
  return updateSets(client, async (collector) => {
    await client.call('CreateFilter', collector, { spec: { objectSet: [], propSet: [] }, partialUpdates: false });
    return [];
  }, signal, 30);
}

/** `promise`, once the fake clock has run every pause it waits for. */
async function settle<T>(promise: Promise<T>): Promise<T> {
  await vi.runAllTimersAsync();
  return promise;
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('updateSets after a transient failure', () => {
  it('sends a wait the server never saw again, with the same version, on the same collector', async () => {
    const client = new ScriptedClient();
    client.script.set('WaitForUpdatesEx', [set('1'), unavailable(), set('2')]);
    const updates = loop(client);
    expect((await updates.next()).value).toMatchObject({ set: { version: '1' }, fresh: true });
    expect((await settle(updates.next())).value).toMatchObject({ set: { version: '2' }, fresh: false });
    expect(client.waits.map((w) => w.version)).toEqual(['', '1', '1']);
    expect(client.gaps()).toEqual([0, BACKOFF_MIN_MS]);
    await updates.return(undefined as never);
    expect(client.calls.filter((c) => c.startsWith('CreatePropertyCollector'))).toHaveLength(1);
  });

  it('builds everything again after a lost answer, never sending its version again, and reports a fresh full state', async () => {
    const client = new ScriptedClient();
    client.script.set('WaitForUpdatesEx', [set('1'), lost(), set('1')]);
    const updates = loop(client);
    expect((await updates.next()).value).toMatchObject({ set: { version: '1' }, fresh: true, collector: { value: 'pc1' } });
    expect((await settle(updates.next())).value).toMatchObject({ set: { version: '1' }, fresh: true, collector: { value: 'pc2' } });
    expect(client.waits.map((w) => w.version)).toEqual(['', '1', '']);
    expect(client.calls).toEqual([
      'CreatePropertyCollector propertyCollector',
      'CreateFilter pc1',
      'WaitForUpdatesEx pc1',
      'WaitForUpdatesEx pc1',
      // The lost wait may still run on the server.
      'CancelWaitForUpdates pc1',
      'DestroyPropertyCollector pc1',
      'CreatePropertyCollector propertyCollector',
      'CreateFilter pc2',
      'WaitForUpdatesEx pc2',
    ]);
    expect(client.gaps()).toEqual([0, BACKOFF_MIN_MS]);
    await updates.return(undefined as never);
    expect(client.warnings).toEqual([]);
  });

  it('pauses twice as long after each failure in a row, at most BACKOFF_MAX_MS, and starts over after an answer', async () => {
    const client = new ScriptedClient();
    client.script.set('WaitForUpdatesEx', [set('1'), ...Array.from({ length: 9 }, unavailable), set('2'), unavailable(), set('3')]);
    const updates = loop(client);
    await updates.next();
    expect((await settle(updates.next())).value).toMatchObject({ set: { version: '2' } });
    expect((await settle(updates.next())).value).toMatchObject({ set: { version: '3' } });
    expect(BACKOFF_MAX_MS).toBe(15_000);
    expect(client.gaps()).toEqual([0, 250, 500, 1000, 2000, 4000, 8000, 15_000, 15_000, 15_000, 0, 250]);
    await updates.return(undefined as never);
  });

  it('rides out failures of the setup too, building again on a new collector; a lost CreatePropertyCollector answer is logged', async () => {
    const client = new ScriptedClient();
    client.script.set('CreatePropertyCollector', [lost()]);
    client.script.set('CreateFilter', [unavailable()]);
    client.script.set('WaitForUpdatesEx', [set('1')]);
    const updates = loop(client);
    expect((await settle(updates.next())).value).toMatchObject({ set: { version: '1' }, fresh: true, collector: { value: 'pc2' } });
    expect(client.calls).toEqual([
      'CreatePropertyCollector propertyCollector',
      'CreatePropertyCollector propertyCollector',
      'CreateFilter pc1',
      'DestroyPropertyCollector pc1',
      'CreatePropertyCollector propertyCollector',
      'CreateFilter pc2',
      'WaitForUpdatesEx pc2',
    ]);
    // Nobody can name the collector it may have made: it stays until the session ends.
    expect(client.warnings).toEqual([{
      message: "CreatePropertyCollector's answer was lost: a PropertyCollector it may have made is left on the server until the session ends",
      data: { method: 'CreatePropertyCollector', type: 'PropertyCollector', error: 'TransportError', fault: undefined, code: 'EOUTCOMEUNKNOWN', status: undefined },
    }]);
    await updates.return(undefined as never);
  });

  it('logs a clean-up that failed, and goes on', async () => {
    const client = new ScriptedClient();
    client.script.set('WaitForUpdatesEx', [lost(), set('1')]);
    client.script.set('DestroyPropertyCollector', [unavailable()]);
    const updates = loop(client);
    expect((await settle(updates.next())).value).toMatchObject({ collector: { value: 'pc2' } });
    expect(client.warnings.map((w) => w.message)).toEqual(['DestroyPropertyCollector failed: the PropertyCollector is left on the server until the session ends']);
    await updates.return(undefined as never);
  });

  it('ends at once on a permanent error, cleaning up', async () => {
    const permanent = [
      new TransportError('client is closed', { code: 'ECLOSED' }),
      new TransportError('the server certificate is not trusted', { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }),
      new TransportError('WaitForUpdatesEx: the HTTP 200 answer is not SOAP', { code: 'ENOTSOAP', status: 200 }),
      new VimFault('WaitForUpdatesEx', { _typeName: 'InvalidArgument' }, 'A specified parameter was not correct', ['InvalidRequest', 'RuntimeFault', 'MethodFault']),
    ];
    for (const err of permanent) {
      const client = new ScriptedClient();
      client.script.set('WaitForUpdatesEx', [err]);
      await expect(loop(client).next()).rejects.toBe(err);
      expect(client.cleanup()).toEqual(['CancelWaitForUpdates pc1', 'DestroyPropertyCollector pc1']);
      expect(client.listenerCount('reauthenticated')).toBe(0);
    }
  });

  it('stops at an abort during a pause, rejecting as a call does', async () => {
    const client = new ScriptedClient();
    client.script.set('WaitForUpdatesEx', [unavailable()]);
    const ctrl = new AbortController();
    const next = loop(client, ctrl.signal).next();
    await vi.advanceTimersByTimeAsync(BACKOFF_MIN_MS / 2);
    ctrl.abort();
    await expect(next).rejects.toMatchObject({ name: 'AbortError', code: 'EABORTED' });
    // The wait never reached the server: nothing to cancel.
    expect(client.cleanup()).toEqual(['DestroyPropertyCollector pc1']);
    expect(client.waits).toHaveLength(1);
  });
});

describe('isTransient', () => {
  it('takes lost connections, timeouts and 502/503/504 for transient; faults, aborts, TLS refusals and a closed client not', () => {
    const transient = [
      lost(),
      unavailable(),
      new TransportError('ECONNRESET: socket hang up', { code: 'ECONNRESET' }),
      new TransportError('ECONNREFUSED: connect ECONNREFUSED', { code: 'ECONNREFUSED' }),
      new TransportError('no complete answer within the deadline', { code: 'ETIMEDOUT', outcomeUnknown: true }),
      new TransportError('HTTP 502', { code: 'HTTP_502', status: 502 }),
      new TransportError('the HTTP 504 answer is not SOAP', { code: 'ENOTSOAP', status: 504 }),
      ...['EPIPE', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EAI_AGAIN'].map((code) => new TransportError(code, { code: code as never })),
    ];
    const permanent = [
      new TransportError('client is closed', { code: 'ECLOSED' }),
      new TransportError('thumbprint does not match', { code: 'ECERTPIN' }),
      new TransportError('not trusted', { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }),
      new TransportError('HTTP 404 without a SOAP answer', { code: 'HTTP_404', status: 404 }),
      new TransportError('HTTP 500', { code: 'HTTP_500', status: 500 }),
      new TransportError('no status', { code: 'ENOTSOAP' }),
      abortedBy(AbortSignal.abort(), 'request aborted', true),
      new VimFault('WaitForUpdatesEx', { _typeName: 'NotAuthenticated' }, '', ['NoPermission', 'SecurityError', 'RuntimeFault', 'MethodFault']),
      new Error('ECONNRESET'),
    ];
    expect(transient.filter((e) => !isTransient(e))).toEqual([]);
    expect(permanent.filter((e) => isTransient(e))).toEqual([]);
  });
});
