// What the library publishes on node:diagnostics_channel: a traced call per vim25 call (never a
// reference's value), its retries, session events; nothing built while nobody subscribes.
import { channel, tracingChannel } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import type { MethodInfo } from '../../../src/binding/metadata.ts';
import { CALL_CHANNEL, publishSession, retried, serverAddress, SESSION_CHANNEL, tracingPolicy, type CallMessage } from '../../../src/soap/diagnostics.ts';
import type { SoapCall } from '../../../src/soap/pipeline.ts';

const calls = tracingChannel<unknown, CallMessage>(CALL_CHANNEL);
const unsubscribe: (() => void)[] = [];
afterEach(() => {
  while (unsubscribe.length > 0) unsubscribe.pop()!();
});

/** Subscribes to vim25-soap:call for the test: each start, and each end with its result or error. */
function traced() {
  const seen: { event: string; message: CallMessage }[] = [];
  const handlers = {
    start: (m: CallMessage) => seen.push({ event: 'start', message: structuredClone({ ...m }) }),
    end: () => undefined,
    asyncStart: () => undefined,
    asyncEnd: (m: CallMessage) => seen.push({ event: 'asyncEnd', message: m }),
    error: (m: CallMessage) => seen.push({ event: 'error', message: m }),
  };
  calls.subscribe(handlers);
  unsubscribe.push(() => calls.unsubscribe(handlers));
  return seen;
}

const call = (name: string, _this: unknown): SoapCall => ({ info: { name } as MethodInfo, _this, args: {}, options: {} });
const server = { address: 'vc.example.com', port: 443 };

describe('serverAddress', () => {
  it('the host and port, the scheme\'s port when the URL names none, an IPv6 host without brackets', () => {
    expect(serverAddress('https://vc.example.com/sdk')).toEqual({ address: 'vc.example.com', port: 443 });
    expect(serverAddress('http://vc.example.com/sdk')).toEqual({ address: 'vc.example.com', port: 80 });
    expect(serverAddress('https://vc.example.com:8443/sdk')).toEqual({ address: 'vc.example.com', port: 8443 });
    expect(serverAddress('http://10.0.0.1:8080/sdk')).toEqual({ address: '10.0.0.1', port: 8080 });
    expect(serverAddress('https://[fe80::1]/sdk')).toEqual({ address: 'fe80::1', port: 443 });
  });
});

describe('tracingPolicy', () => {
  it('while nobody subscribes, the call passes through as it is', async () => {
    const c = call('CurrentTime', { type: 'ServiceInstance', value: 'ServiceInstance' });
    let got: SoapCall | undefined;
    expect(await tracingPolicy('soap', server).handle(c, async (x) => {
      got = x;
      return 'now';
    })).toBe('now');
    expect(got).toBe(c);
  });

  it('traces each call once: method, the managed type (never the value), wire, server, attempts; then the result', async () => {
    const seen = traced();
    const c = call('PowerOnVM_Task', { type: 'VirtualMachine', value: 'vm-secret-42' });
    const result = await tracingPolicy('json', server).handle(c, async (x) => {
      expect(x.traced).toBeDefined();
      retried(x, 'replay');
      return 'task-1';
    });
    expect(result).toBe('task-1');
    expect(seen.map((s) => s.event)).toEqual(['start', 'asyncEnd']);
    expect(seen[0]!.message).toEqual({ method: 'PowerOnVM_Task', this: { type: 'VirtualMachine' }, wire: 'json', server, attempt: 1, retries: [] });
    const end = seen[1]!.message;
    expect(end).toMatchObject({ method: 'PowerOnVM_Task', attempt: 2, result: 'task-1' });
    expect(end.retries).toEqual([{ reason: 'replay', at: expect.any(Number) }]);
    expect(JSON.stringify(end)).not.toContain('vm-secret-42');
  });

  it('a call on no managed object (or one without a type) is traced without one; a failed call with its error', async () => {
    const seen = traced();
    const failure = new Error('no');
    for (const _this of [undefined, {}, { type: 7 }]) {
      await expect(tracingPolicy('soap', server).handle(call('X', _this), async () => {
        throw failure;
      })).rejects.toBe(failure);
    }
    expect(seen.filter((s) => s.event === 'start').map((s) => s.message.this)).toEqual([undefined, undefined, undefined]);
    expect(seen.filter((s) => s.event === 'error').map((s) => s.message.error)).toEqual([failure, failure, failure]);
  });
});

describe('retried', () => {
  it('is a no-op for a call nobody traces, and counts each retry with its reason for a traced one', () => {
    const plain = call('X', undefined);
    retried(plain, 'reauthenticated');
    expect(plain.traced).toBeUndefined();
    const message: CallMessage = { method: 'X', this: undefined, wire: 'soap', server, attempt: 1, retries: [] };
    const c = { ...plain, traced: message };
    retried(c, 'reauthenticated');
    retried(c, 'replay');
    expect(message.attempt).toBe(3);
    expect(message.retries.map((r) => r.reason)).toEqual(['reauthenticated', 'replay']);
  });
});

describe('publishSession', () => {
  it('publishes the event, the strategy and the server while anybody subscribes; asks for the server only then', () => {
    let asked = 0;
    const where = () => {
      asked++;
      return server;
    };
    publishSession('login', 'password', where);
    expect(asked).toBe(0);
    const got: unknown[] = [];
    const listener = (m: unknown) => got.push(m);
    channel(SESSION_CHANNEL).subscribe(listener);
    unsubscribe.push(() => channel(SESSION_CHANNEL).unsubscribe(listener));
    publishSession('lost', undefined, where);
    expect(got).toEqual([{ event: 'lost', strategy: undefined, server }]);
    expect(asked).toBe(1);
  });
});
