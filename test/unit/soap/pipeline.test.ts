// The pipeline's order and its two soap-level policies, around scripted terminals.
import { describe, expect, it } from 'vitest';
import { TransportError } from '../../../src/errors.ts';
import { methodInfo } from '../../../src/binding/metadata.ts';
import { silentLogger, type Logger } from '../../../src/logger.ts';
import { loggingPolicy } from '../../../src/soap/logging-policy.ts';
import { chain, type Handler, type Policy, type SoapCall } from '../../../src/soap/pipeline.ts';
import { replayPolicy } from '../../../src/soap/replay-policy.ts';
import { markClosedBeforeAnswer } from '../../../src/transport/replay.ts';

const call = (method: string, args: object = {}): SoapCall => ({ info: methodInfo(method)!, _this: {}, args, options: {} });

function tracing(name: Policy['name'], trace: string[]): Policy {
  return { name, handle: async (c, next) => { trace.push(`>${name}`); const v = await next(c); trace.push(`<${name}`); return v; } };
}

/** An error as the transport reports a connection the server closed before answering. */
function closedBeforeAnswer(written: boolean): TransportError {
  const err = new TransportError('ECONNRESET: socket hang up', { code: 'ECONNRESET', outcomeUnknown: written });
  markClosedBeforeAnswer(err, written);
  return err;
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

describe('replayPolicy', () => {
  async function run(method: string, failures: TransportError[]): Promise<{ result: unknown; attempts: (boolean | undefined)[] }> {
    const attempts: (boolean | undefined)[] = [];
    const terminal: Handler = async (c) => {
      attempts.push(c.freshConnection);
      const f = failures.shift();
      if (f) throw f;
      return 'answer';
    };
    const result = await chain([replayPolicy(silentLogger, 1000)], terminal)(call(method)).catch((e: unknown) => e);
    return { result, attempts };
  }

  it('sends a read again once, on a fresh connection, when the server closed the connection after it was written', async () => {
    expect(await run('RetrievePropertiesEx', [closedBeforeAnswer(true)])).toEqual({ result: 'answer', attempts: [undefined, true] });
  });

  it('sends anything again when it was not written', async () => {
    expect(await run('PowerOnVM_Task', [closedBeforeAnswer(false)])).toEqual({ result: 'answer', attempts: [undefined, true] });
  });

  it.each(['PowerOnVM_Task', 'ReadNextEvents', 'CreateContainerView'])('never sends %s again once written: EOUTCOMEUNKNOWN', async (method) => {
    const { result, attempts } = await run(method, [closedBeforeAnswer(true)]);
    expect(result).toMatchObject({ code: 'EOUTCOMEUNKNOWN', outcomeUnknown: true });
    expect(attempts).toEqual([undefined]);
  });

  it('gives the attempt and its replay one deadline, a new call a new one', async () => {
    const deadlines: (number | undefined)[] = [];
    const failures = [closedBeforeAnswer(true)];
    const run = chain([replayPolicy(silentLogger, 60_000)], async (c) => {
      deadlines.push(c.deadline);
      const f = failures.shift();
      if (f) throw f;
      return 'ok';
    });
    const before = Date.now();
    await run(call('CurrentTime'));
    expect(deadlines).toHaveLength(2);
    expect(deadlines[0]).toBe(deadlines[1]);
    expect(deadlines[0]!).toBeGreaterThanOrEqual(before + 60_000);
    await run({ ...call('CurrentTime'), options: { timeoutMs: 5 } });
    expect(deadlines[2]!).toBeLessThan(deadlines[0]!);
  });

  it('replays once only, and leaves other errors alone', async () => {
    expect((await run('CurrentTime', [closedBeforeAnswer(true), closedBeforeAnswer(true)])).result).toMatchObject({ code: 'ECONNRESET' });
    const other = new TransportError('x', { code: 'ETIMEDOUT', outcomeUnknown: true });
    expect(await run('CurrentTime', [other])).toEqual({ result: other, attempts: [undefined] });
  });
});

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
