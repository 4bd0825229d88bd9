// SessionBroker with a stand-in owner: keepalive cadence on a fake clock, the token rules, and
// what a failing owner or an odd request gets.
import { request } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SessionBroker } from '../../../src/index.ts';

const TOKEN = 'unit-broker-token-0123456789';

function owner(fail = false) {
  const calls = { currentTime: 0, tickets: 0 };
  return {
    calls,
    about: { instanceUuid: 'vc-1' },
    acquireCloneTicket: async () => {
      calls.tickets++;
      if (fail) throw new Error('NotAuthenticated with a secret-ish detail');
      return `ticket-${calls.tickets}`;
    },
    call: async () => {
      calls.currentTime++;
      return new Date();
    },
  };
}

function post(url: string, headers: Record<string, string>, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/vcenter/session/clone-ticket`, { method: 'POST', headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const brokers: SessionBroker[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const b of brokers.splice(0)) await b.close();
});

describe('SessionBroker', () => {
  it('keeps its owner\'s session alive at its interval, and stops when closed', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const o = owner();
    const b = await SessionBroker.listen({ client: o, token: TOKEN, keepAliveIntervalMs: 1000 });
    vi.advanceTimersByTime(3500);
    expect(o.calls.currentTime).toBe(3);
    await b.close();
    vi.advanceTimersByTime(5000);
    expect(o.calls.currentTime).toBe(3);
  });

  it('refuses a short token, and serves the right one; an owner that cannot give a ticket gives a bare 503', async () => {
    await expect(SessionBroker.listen({ client: owner(), token: 'short' })).rejects.toThrow(TypeError);
    const good = await SessionBroker.listen({ client: owner(), token: TOKEN, keepAliveIntervalMs: 0 });
    const bad = await SessionBroker.listen({ client: owner(true), token: TOKEN, keepAliveIntervalMs: 0 });
    brokers.push(good, bad);
    expect(await post(good.url, { 'vmware-api-session-id': TOKEN }, '{"vc_guid":"vc-1"}')).toEqual({ status: 200, body: '{"session_clone_ticket":"ticket-1"}' });
    const failed = await post(bad.url, { 'vmware-api-session-id': TOKEN }, '{}');
    expect(failed).toEqual({ status: 503, body: '{"error":"unavailable"}' });
    expect(await post(good.url, { 'vmware-api-session-id': TOKEN }, 'x'.repeat(5000))).toMatchObject({ status: 413 });
    expect(await post(good.url, { 'vmware-api-session-id': TOKEN }, '{not json')).toMatchObject({ status: 400 });
    expect(good.stats).toEqual({ served: 1, refused: 0 });
  });
});
