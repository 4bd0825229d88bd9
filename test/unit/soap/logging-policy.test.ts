// The logging policy around scripted terminals: one line per call, secrets redacted.
import { describe, expect, it } from 'vitest';
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
});
