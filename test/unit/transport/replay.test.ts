// The replay rule on its own, with scripted attempts: the transport only marks an error whose
// connection the server closed before answering; replayOnce decides from that mark alone.
import { describe, expect, it } from 'vitest';
import { TransportError } from '../../../src/errors.ts';
import { closedBeforeAnswerOf, markClosedBeforeAnswer, replayOnce } from '../../../src/transport/replay.ts';

function closed(written: boolean): TransportError {
  const err = new TransportError('ECONNRESET: socket hang up', { code: 'ECONNRESET', outcomeUnknown: written });
  markClosedBeforeAnswer(err, written);
  return err;
}

/** An attempt that throws `failures` in turn, then answers; it records each freshConnection and every mayReplay question. */
function scripted(...failures: Error[]) {
  const attempts: boolean[] = [];
  const asked: boolean[] = [];
  let replays = 0;
  const attempt = async (fresh: boolean): Promise<string> => {
    attempts.push(fresh);
    const f = failures.shift();
    if (f) throw f;
    return `answer-${attempts.length}`;
  };
  const run = (allow: boolean) => replayOnce(attempt, (written) => (asked.push(written), allow), () => replays++).catch((e: unknown) => e);
  return { run, attempts, asked, replays: () => replays };
}

describe('closedBeforeAnswerOf', () => {
  it('knows only the errors the transport marked, by identity', () => {
    expect(closedBeforeAnswerOf(closed(true))).toEqual({ written: true });
    expect(closedBeforeAnswerOf(closed(false))).toEqual({ written: false });
    // The same code and message unmarked: a reset after the answer began is no candidate.
    expect(closedBeforeAnswerOf(new TransportError('ECONNRESET: socket hang up', { code: 'ECONNRESET' }))).toBeUndefined();
    expect(closedBeforeAnswerOf(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBeUndefined();
    expect(closedBeforeAnswerOf(undefined)).toBeUndefined();
  });
});

describe('replayOnce', () => {
  it('answers from the pooled connection without asking anything', async () => {
    const s = scripted();
    expect(await s.run(false)).toBe('answer-1');
    expect(s).toMatchObject({ attempts: [false], asked: [] });
    expect(s.replays()).toBe(0);
  });

  it.each([true, false])('sends again once on a fresh connection when allowed (written: %s)', async (written) => {
    const s = scripted(closed(written));
    expect(await s.run(true)).toBe('answer-2');
    expect(s).toMatchObject({ attempts: [false, true], asked: [written] });
    expect(s.replays()).toBe(1);
  });

  it('refused a replay: EOUTCOMEUNKNOWN with the reset as its cause, nothing sent again', async () => {
    const reset = closed(true);
    const s = scripted(reset);
    const err = await s.run(false);
    expect(err).toBeInstanceOf(TransportError);
    expect(err).toMatchObject({ code: 'EOUTCOMEUNKNOWN', outcomeUnknown: true, cause: reset });
    expect(s.attempts).toEqual([false]);
    expect(s.replays()).toBe(0);
  });

  it('leaves other errors as they are, and replays once only', async () => {
    const timeout = new TransportError('no complete answer within the deadline', { code: 'ETIMEDOUT', outcomeUnknown: true });
    const first = scripted(timeout);
    expect(await first.run(true)).toBe(timeout);
    expect(first).toMatchObject({ attempts: [false], asked: [] });
    const second = closed(true);
    const twice = scripted(closed(true), second);
    expect(await twice.run(true)).toBe(second);
    expect(twice.attempts).toEqual([false, true]);
  });
});
