// The back-off after a refused re-login (1 s, doubling to 60 s), on a fake clock: only Date is
// faked, so the whole schedule is walked through in milliseconds while every call is a real
// exchange with our small in-process vim25 server.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isVimFault, TransportError, VimClient } from '../../../src/index.ts';
import { faultAnswer, type Answer } from '../../harness/hostile-server.ts';
import { ownVimServer, SI } from '../../fixtures.ts';

const server = ownVimServer();
afterEach(() => {
  vi.useRealTimers();
});

const logins = (): number => server().requests.filter((r) => r.method === 'Login').length;
const advance = (ms: number): void => {
  vi.setSystemTime(Date.now() + ms);
};

/** Answers the next CurrentTime with NotAuthenticated, and the ones after it normally. */
function notAuthenticatedOnce(): Answer {
  const fault = faultAnswer('NotAuthenticated') as { status: number; body: string };
  return {
    write: (res) => {
      server().answers.delete('CurrentTime');
      res.writeHead(fault.status, { 'Content-Type': 'text/xml' });
      res.end(fault.body);
    },
  };
}

const refusals: [string, Answer, (err: unknown) => boolean][] = [
  ['InvalidLogin', faultAnswer('InvalidLogin'), (err) => isVimFault(err, 'InvalidLogin')],
  ['a 503 page', { status: 503, headers: { 'Content-Type': 'text/html' }, body: '<html>Service Unavailable</html>' }, (err) => err instanceof TransportError && err.status === 503],
];

describe.each(refusals)('a re-login refused with %s', (_what, refusal, isRefusal) => {
  it('is not tried again before the back-off ends; the back-off doubles from 1 s to 60 s, and a success resets it', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const c = await VimClient.connect(server().url, { tls: { ca: server().cert } });
    try {
      await c.login({ username: 'root', password: 'the-Passw0rd' });
      server().answers.set('CurrentTime', faultAnswer('NotAuthenticated'));
      server().answers.set('Login', refusal);

      /** One call: its error, and whether it made the client try Login. */
      const attempt = async (): Promise<{ err: unknown; tried: boolean }> => {
        const before = logins();
        const err = await c.call('CurrentTime', SI).then(() => undefined, (e: unknown) => e);
        return { err, tried: logins() > before };
      };

      const first = await attempt();
      expect(first.tried).toBe(true);
      expect(isRefusal(first.err)).toBe(true);
      let refused = first.err;
      for (const backoff of [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]) {
        advance(backoff - 1);
        const within = await attempt();
        expect(within.tried, `a Login ${backoff - 1} ms into a ${backoff} ms back-off`).toBe(false);
        expect(within.err).toBe(refused); // the same refusal, as is
        advance(1);
        const after = await attempt();
        expect(after.tried, `no Login after a ${backoff} ms back-off`).toBe(true);
        expect(isRefusal(after.err)).toBe(true);
        refused = after.err;
      }

      // The server takes logins again: after the back-off the client recovers by itself...
      server().answers.delete('Login');
      server().answers.set('CurrentTime', notAuthenticatedOnce());
      advance(60_000);
      const before = logins();
      expect(await c.call('CurrentTime', SI)).toBeInstanceOf(Date);
      expect(logins()).toBe(before + 1);
      // ...and the next refusal backs off from 1 s again.
      server().answers.set('CurrentTime', faultAnswer('NotAuthenticated'));
      server().answers.set('Login', refusal);
      expect((await attempt()).tried).toBe(true);
      advance(999);
      expect((await attempt()).tried).toBe(false);
      advance(1);
      expect((await attempt()).tried).toBe(true);
    } finally {
      await c.close();
    }
  });
});
