// The pipeline's order: policies run in one fixed order whatever order they are given in.
import { tracingChannel } from 'node:diagnostics_channel';
import { CookieJar } from 'tough-cookie';
import { describe, expect, it, onTestFinished } from 'vitest';
import { methodInfo } from '../../../src/binding/metadata.ts';
import { silentLogger } from '../../../src/logger.ts';
import { CALL_CHANNEL, type CallMessage } from '../../../src/soap/diagnostics.ts';
import { chain, soapPipeline, type Policy, type SoapCall } from '../../../src/soap/pipeline.ts';
import type { Wire } from '../../../src/soap/wire.ts';
import { HttpTransport } from '../../../src/transport/http.ts';

const call = (method: string, args: object = {}): SoapCall => ({ info: methodInfo(method)!, _this: {}, args, options: {} });

function tracing(name: Policy['name'], trace: string[]): Policy {
  return { name, handle: async (c, next) => { trace.push(`>${name}`); const v = await next(c); trace.push(`<${name}`); return v; } };
}

describe('chain', () => {
  it('runs the policies in the pipeline order, whatever order they are given in', async () => {
    const trace: string[] = [];
    const run = chain([tracing('replay', trace), tracing('logging', trace), tracing('session', trace)], async () => trace.push('exchange'));
    await run(call('CurrentTime'));
    expect(trace).toEqual(['>logging', '>session', '>replay', 'exchange', '<replay', '<session', '<logging']);
  });

  it('takes a subset (logins run without the session policy), and each policy once', async () => {
    const trace: string[] = [];
    await chain([tracing('replay', trace), tracing('logging', trace)], async () => trace.push('exchange'))(call('Login'));
    expect(trace).toEqual(['>logging', '>replay', 'exchange', '<replay', '<logging']);
    expect(() => chain([tracing('replay', trace), tracing('replay', trace)], async () => 0)).toThrow(/once/);
  });
});

describe('soapPipeline', () => {
  function pipeline(wire: Wire) {
    const transport = new HttpTransport({ tls: {}, jar: new CookieJar(), logger: silentLogger, timeoutMs: 5000, maxResponseBytes: 1 << 20, maxSockets: 1, idleSocketMs: 30_000, userAgent: 't', http: 'https' });
    onTestFinished(() => transport.close());
    return soapPipeline({ endpoint: 'https://vc.example.com/sdk', transport, logger: silentLogger, version: () => '8.0.3.0', limits: {}, wire: () => wire });
  }

  it('refuses a method vim25 does not have, before anything is sent', async () => {
    const invoke = pipeline({ request: () => expect.unreachable(), answer: async () => undefined, redacted: () => '' });
    await expect(invoke('NoSuchMethod', {}, {})).rejects.toMatchObject({ name: 'ValidationError', method: 'NoSuchMethod', message: expect.stringContaining('not a vim25 method') });
  });

  it('traces a call on the wire the wire names, soap when it names none', async () => {
    const seen: string[] = [];
    const handlers = { start: (m: CallMessage) => seen.push(m.wire), end() {}, asyncStart() {}, asyncEnd() {}, error() {} };
    const calls = tracingChannel<unknown, CallMessage>(CALL_CHANNEL);
    calls.subscribe(handlers);
    onTestFinished(() => calls.unsubscribe(handlers));
    // A wire whose request fails at once: the call is traced all the same.
    const failing = { request: () => { throw new Error('not sent'); }, answer: async () => undefined, redacted: () => '' };
    await pipeline(failing)('CurrentTime', { type: 'ServiceInstance', value: 'ServiceInstance' }, {}).catch(() => undefined);
    await pipeline({ ...failing, protocol: 'json' })('CurrentTime', { type: 'ServiceInstance', value: 'ServiceInstance' }, {}).catch(() => undefined);
    expect(seen).toEqual(['soap', 'json']);
  });
});

