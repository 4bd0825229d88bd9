// The replay policy around scripted terminals: what it sends again after the server closed the
// connection before answering, on which connection, under which deadline.
import { describe, expect, it } from 'vitest';
import { TransportError } from '../../../src/errors.ts';
import { methodInfo } from '../../../src/binding/metadata.ts';
import { silentLogger } from '../../../src/logger.ts';
import { chain, type Handler, type SoapCall } from '../../../src/soap/pipeline.ts';
import { replayPolicy } from '../../../src/soap/replay-policy.ts';
import { markClosedBeforeAnswer } from '../../../src/transport/replay.ts';

const call = (method: string, args: object = {}): SoapCall => ({ info: methodInfo(method)!, _this: {}, args, options: {} });

/** An error as the transport reports a connection the server closed before answering. */
function closedBeforeAnswer(written: boolean): TransportError {
  const err = new TransportError('ECONNRESET: socket hang up', { code: 'ECONNRESET', outcomeUnknown: written });
  markClosedBeforeAnswer(err, written);
  return err;
}

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

  it('says in the debug log which call it sends again', async () => {
    const lines: unknown[] = [];
    const logger = { ...silentLogger, debug: (message: string, data?: Record<string, unknown>) => lines.push({ message, data }) };
    const failures = [closedBeforeAnswer(true)];
    await chain([replayPolicy(logger, 1000)], async () => {
      const f = failures.shift();
      if (f) throw f;
      return 'answer';
    })(call('RetrievePropertiesEx'));
    expect(lines).toEqual([{ message: 'replaying a call whose connection the server closed', data: { method: 'RetrievePropertiesEx' } }]);
  });
});

