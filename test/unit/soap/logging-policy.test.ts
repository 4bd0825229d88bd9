// The logging policy around scripted terminals: one line per call, secrets redacted.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { VimFault } from '../../../src/errors.ts';
import { TransportError } from '../../../src/errors.ts';
import { methodInfo } from '../../../src/binding/metadata.ts';
import { silentLogger, type Logger } from '../../../src/logger.ts';
import { loggingPolicy } from '../../../src/soap/logging-policy.ts';
import { chain, type Policy, type SoapCall } from '../../../src/soap/pipeline.ts';

const call = (method: string, args: object = {}): SoapCall => ({ info: methodInfo(method)!, _this: {}, args, options: {} });

describe('loggingPolicy', () => {
  it('logs a call once, however often the policies inside send it, with secrets redacted', async () => {
    const lines: { message: string; data: string }[] = [];
    const logger: Logger = { ...silentLogger, debug: (message, data) => lines.push({ message, data: JSON.stringify(data) }) };
    let attempts = 0;
    const resend: Policy = { name: 'session', handle: async (c, next) => { await next(c).catch(() => undefined); return next(c); } };
    const result = await chain([loggingPolicy(logger), resend], async () => {
      if (++attempts === 1) throw new Error('first');
      return 'ok';
    })(call('Login', { userName: 'u', password: 'Sup3r-secret' }));
    expect(result).toBe('ok');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.message).toBe('call');
    expect(lines[0]!.data).toContain('"method":"Login"');
    expect(lines[0]!.data).toContain('"password":"[redacted]"');
    expect(lines[0]!.data).not.toContain('Sup3r-secret');
  });

  it('logs a failure by name and code only', async () => {
    const lines: string[] = [];
    const logger: Logger = { ...silentLogger, debug: (message, data) => lines.push(`${message} ${JSON.stringify(data)}`) };
    await chain([loggingPolicy(logger)], async () => {
      throw new TransportError('secret detail', { code: 'ETIMEDOUT' });
    })(call('CurrentTime')).catch(() => undefined);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^call failed .*"code":"ETIMEDOUT"/);
    expect(lines[0]).not.toContain('secret detail');
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  /** A terminal that takes `ms` of the (fake) clock before it answers. */
  const taking = (ms: number, outcome: () => unknown) => async () => {
    vi.setSystemTime(Date.now() + ms);
    return outcome();
  };

  it('says how long the call took, answered or failed', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const lines: { message: string; data: Record<string, unknown> }[] = [];
    const logger: Logger = { ...silentLogger, debug: (message, data) => lines.push({ message, data: data as Record<string, unknown> }) };
    await chain([loggingPolicy(logger)], taking(250, () => 'ok'))(call('CurrentTime'));
    await chain([loggingPolicy(logger)], taking(40, () => {
      throw new TransportError('x', { code: 'ETIMEDOUT', status: 504 });
    }))(call('CurrentTime')).catch(() => undefined);
    expect(lines.map((l) => [l.message, l.data.ms])).toEqual([['call', 250], ['call failed', 40]]);
    expect(lines[1]!.data).toEqual({ method: 'CurrentTime', ms: 40, error: 'TransportError', fault: undefined, code: 'ETIMEDOUT', status: 504 });
  });

  it('names a fault by its type; an error that is no object passes through as it is', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger: Logger = { ...silentLogger, debug: (_m, data) => lines.push(data as Record<string, unknown>) };
    await chain([loggingPolicy(logger)], async () => {
      throw new VimFault('CurrentTime', { _typeName: 'NotAuthenticated' }, 'secret session detail');
    })(call('CurrentTime')).catch(() => undefined);
    expect(lines[0]).toMatchObject({ error: 'VimFault', fault: 'NotAuthenticated' });
    expect(JSON.stringify(lines[0])).not.toContain('secret session detail');
    await expect(chain([loggingPolicy(logger)], async () => {
      throw undefined;
    })(call('CurrentTime'))).rejects.toBeUndefined();
    expect(lines[1]).toMatchObject({ method: 'CurrentTime', error: undefined, fault: undefined, code: undefined, status: undefined });
  });

  it('wire mode: the request as the wire sends it, then the decoded answer, secrets redacted', async () => {
    const lines: { message: string; data: unknown }[] = [];
    const logger: Logger = { ...silentLogger, debug: (message, data) => lines.push({ message, data }) };
    const shown = (c: SoapCall) => `<${c.info.name}>envelope</${c.info.name}>`;
    await chain([loggingPolicy(logger, shown)], async () => ({ _typeName: 'UserSession', key: 'secret-key-1', userName: 'u' }))(call('Login', { userName: 'u', password: 'pw' }));
    expect(lines.map((l) => l.message)).toEqual(['request', 'call']);
    expect(lines[0]!.data).toEqual({ method: 'Login', envelope: '<Login>envelope</Login>' });
    expect(lines[1]!.data).toMatchObject({ method: 'Login', ms: expect.any(Number), result: { userName: 'u' } });
    expect(JSON.stringify(lines)).not.toContain('secret-key-1');
    expect(lines[1]!.data).not.toHaveProperty('args');
  });
});

