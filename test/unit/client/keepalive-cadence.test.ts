// The keepalive VimClient starts for keepAliveIntervalMs, on a fake clock: the interval is a
// realistic 10 minutes and no test waits for it. The server is our small in-process vim25
// server, so every tick is a real call through the client's wiring. With maxSockets 1 every
// request travels one connection in order, so a call the test makes after advancing the clock
// is answered only after any tick the advance started: what the server counted by then is all
// there is.
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { VimClient } from '../../../src/index.ts';
import { ENV, faultAnswer } from '../../harness/hostile-server.ts';
import { ownVimServer } from '../../fixtures.ts';

const INTERVAL = 10 * 60_000;
const server = ownVimServer();
afterEach(() => {
  vi.useRealTimers();
});

const count = (method: string): number => server().requests.filter((r) => r.method === method).length;

/**
 * A client whose keepalive runs on the fake clock (only the interval timers are faked: sockets
 * and deadlines keep real time), closed when the test finishes.
 */
async function client(options: { login?: boolean; keepAlive?: boolean } = {}): Promise<VimClient> {
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
  const c = await VimClient.connect(server().url, { tls: { ca: server().cert }, maxSockets: 1, ...(options.keepAlive ?? true ? { keepAliveIntervalMs: INTERVAL } : {}) });
  onTestFinished(() => c.close());
  if (options.login ?? true) await c.login({ username: 'root', password: 'the-Passw0rd' });
  return c;
}

/** A call behind every request sent so far on the client's one connection. */
const barrier = (c: VimClient): Promise<unknown> => c.call('AcquireCloneTicket', c.serviceContent.sessionManager!);

describe('keepalive cadence', () => {
  it('calls CurrentTime once per interval, not before', async () => {
    const c = await client();
    const start = count('CurrentTime');
    await vi.advanceTimersByTimeAsync(INTERVAL - 1);
    await barrier(c);
    expect(count('CurrentTime')).toBe(start);
    await vi.advanceTimersByTimeAsync(1);
    await barrier(c);
    expect(count('CurrentTime')).toBe(start + 1);
    for (let tick = 2; tick <= 4; tick++) {
      await vi.advanceTimersByTimeAsync(INTERVAL);
      await barrier(c);
      expect(count('CurrentTime')).toBe(start + tick);
    }
  });

  it('sends nothing while the client has no session', async () => {
    const c = await client({ login: false });
    const start = server().requests.length;
    await vi.advanceTimersByTimeAsync(5 * INTERVAL);
    await barrier(c);
    expect(server().requests.slice(start).map((r) => r.method)).toEqual(['AcquireCloneTicket']);
  });

  it('never overlaps ticks: while one is unanswered, the intervals that pass send nothing', async () => {
    const c = await client();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let arrived!: () => void;
    const tickArrived = new Promise<void>((r) => (arrived = r));
    server().answers.set('CurrentTime', {
      write: (res) => {
        arrived();
        void held.then(() => {
          res.writeHead(200, { 'Content-Type': 'text/xml' });
          res.end(ENV('<CurrentTimeResponse xmlns="urn:vim25"><returnval>2026-01-01T00:00:00Z</returnval></CurrentTimeResponse>'));
        });
      },
    });
    const start = count('CurrentTime');
    await vi.advanceTimersByTimeAsync(INTERVAL);
    await tickArrived;
    await vi.advanceTimersByTimeAsync(5 * INTERVAL);
    release();
    await barrier(c);
    expect(count('CurrentTime')).toBe(start + 1);
    // Once answered, the next interval ticks again.
    await vi.advanceTimersByTimeAsync(INTERVAL);
    await barrier(c);
    expect(count('CurrentTime')).toBe(start + 2);
  });

  it('a tick that fails is dropped and the next interval tries again', async () => {
    const c = await client();
    server().answers.set('CurrentTime', { status: 503, headers: { 'Content-Type': 'text/html' }, body: '<html>busy</html>' });
    const start = count('CurrentTime');
    const logins = count('Login');
    await vi.advanceTimersByTimeAsync(INTERVAL);
    await barrier(c);
    server().answers.delete('CurrentTime');
    await vi.advanceTimersByTimeAsync(INTERVAL);
    await barrier(c);
    expect(count('CurrentTime')).toBe(start + 2);
    expect(count('Login')).toBe(logins); // a 503 is not a dead session
  });

  it('a tick that finds the session dead logs in again once', async () => {
    const c = await client();
    const reauthenticated = new Promise((resolve) => c.once('reauthenticated', resolve));
    const logins = count('Login');
    server().answers.set('CurrentTime', faultAnswer('NotAuthenticated'));
    await vi.advanceTimersByTimeAsync(INTERVAL);
    // The tick's retry after the re-login meets the same fault; the session is new all the same.
    await reauthenticated;
    server().answers.delete('CurrentTime');
    await vi.advanceTimersByTimeAsync(INTERVAL);
    await barrier(c);
    expect(count('Login')).toBe(logins + 1);
  });

  it('close() stops the timer: no tick afterwards, nothing left to keep the process alive', async () => {
    const c = await client();
    expect(vi.getTimerCount()).toBe(1);
    await c.close();
    expect(vi.getTimerCount()).toBe(0);
    const sent = server().requests.length;
    await vi.advanceTimersByTimeAsync(5 * INTERVAL);
    expect(server().requests.length).toBe(sent);
  });

  it('starts no timer without keepAliveIntervalMs', async () => {
    await client({ keepAlive: false });
    expect(vi.getTimerCount()).toBe(0);
  });
});
