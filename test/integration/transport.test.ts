// Hostile and broken answers from a real server: 503 pages, dropped connections, stalls.
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TransportError, VimClient, type Logger } from 'vim25-soap';
import { bundleIfPresent } from '../../scripts/lib/paths.ts';
import { Harness, harnessDrop, harnessReset, harnessStall, harnessStats, harnessUnavailable } from '../harness/vcsim.ts';
import { SI, withBundle } from '../fixtures.ts';
// This one test watches a client's transport, which nothing in the bundle exposes: that client is
// made from src, whose module-private wiring (internals.ts) a test of src may read.
import { VimClient as SourceClient } from '../../src/client.ts';
import { internalsOf } from '../../src/internals.ts';
import type { HttpPath } from '../../src/transport/http.ts';

let h: Harness;
let c: VimClient;
const lines: string[] = [];
const log = (level: string) => (m: string, d?: Record<string, unknown>) => lines.push(`${level} ${m} ${JSON.stringify(d ?? {}, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`);
const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
const unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => unhandled.push(e);

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  h = await Harness.start({ wsdlDir: bundleIfPresent(), password: 'S3cret-Pa55word!' });
  c = await VimClient.connect(h.info.url, { tls: { ca: h.ca }, ...withBundle(), logger, timeoutMs: 3000 });
  await c.login({ username: h.info.username, password: h.info.password });
});
afterAll(async () => {
  await c?.close();
  await h?.stop();
  process.off('unhandledRejection', onUnhandled);
});

describe('hostile answers', () => {
  it('turns an HTTP 503 HTML page into a TransportError with status, code and excerpt', async () => {
    await harnessUnavailable(h.info, 1);
    const err = await c.call('CurrentTime', SI).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    const te = err as TransportError;
    expect(te.status).toBe(503);
    expect(te.code).toBe('HTTP_503');
    expect(te.excerpt).toMatch(/503|Unavailable/i);
    // ...and the next call works.
    expect(await c.call('CurrentTime', SI)).toBeInstanceOf(Date);
  });

  it.each(['https', 'undici'] as const)('times out a stalled answer at timeoutMs, not a moment before or after, over %s', async (http) => {
    // A client of its own, logged in before the clock is faked: a stack's first requests arm
    // timers of its own (undici's), which must stay on the real clock.
    const own = await VimClient.connect(h.info.url, { tls: { ca: h.ca }, ...withBundle(), http });
    try {
      await own.login({ username: h.info.username, password: h.info.password });
      // Held far longer than the test may run: only the call's deadline can end it.
      const before = (await harnessStats(h.info)).stalled;
      await harnessStall(h.info, 600);
      // The deadline is watched on a fake clock (its timer and Date; sockets run as they do),
      // advanced once the harness holds the request: however long a busy machine took to get
      // it there, the call has 1000 ms of its own.
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
      let settled = false;
      const call = own.call('CurrentTime', SI, {}, { timeoutMs: 1000 }).catch((e: unknown) => e).finally(() => (settled = true));
      while ((await harnessStats(h.info)).stalled === before) await new Promise((r) => setImmediate(r));
      await vi.advanceTimersByTimeAsync(999);
      expect(settled).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect(settled).toBe(true);
      expect(await call).toMatchObject({ code: 'ETIMEDOUT', outcomeUnknown: true });
    } finally {
      vi.useRealTimers();
      await harnessReset(h.info);
      await own.close();
    }
  });

  it('leaves process-wide TLS settings and the global agent alone', async () => {
    const before = { env: process.env.NODE_TLS_REJECT_UNAUTHORIZED, agent: https.globalAgent, options: { ...https.globalAgent.options } };
    const insecure = await VimClient.connect(h.info.url, { tls: { insecure: true }, ...withBundle() });
    await insecure.call('CurrentTime', SI).catch(() => undefined);
    await insecure.close();
    const pinned = await VimClient.connect(h.info.url, { tls: { thumbprint: h.info.sha1 }, ...withBundle() });
    await pinned.close();
    expect(process.env.NODE_TLS_REJECT_UNAUTHORIZED).toBe(before.env);
    expect(https.globalAgent).toBe(before.agent);
    expect(https.globalAgent.options).toEqual(before.options);
  });

  it('aborts a call with an AbortSignal', async () => {
    await harnessStall(h.info, 2);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const err = await c.call('CurrentTime', SI, {}, { signal: ac.signal }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'EABORTED' });
    await harnessReset(h.info);
  });

  it('replays a read that met a connection dropped before the answer, once', async () => {
    await c.call('CurrentTime', SI); // leaves a keep-alive socket in the pool
    await harnessDrop(h.info, 1, 'request');
    const before = await harnessStats(h.info);
    expect(await c.call('CurrentTime', SI)).toBeInstanceOf(Date);
    const after = await harnessStats(h.info);
    expect((after.methods.CurrentTime ?? 0) - (before.methods.CurrentTime ?? 0)).toBe(2);
  });

  it('does not replay a task whose outcome is unknown', async () => {
    const vm = await c.call('FindByInventoryPath', c.serviceContent.searchIndex!, { inventoryPath: 'DC0/vm/DC0_H0_VM0' });
    expect(vm).toBeDefined();
    await harnessDrop(h.info, 1, 'request');
    const before = await harnessStats(h.info);
    const err = await c.call('PowerOffVM_Task', c.ref(vm!, 'VirtualMachine')).catch((e: unknown) => e);
    const after = await harnessStats(h.info);
    expect((after.methods.PowerOffVM_Task ?? 0) - (before.methods.PowerOffVM_Task ?? 0)).toBe(1);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).outcomeUnknown).toBe(true);
    expect((err as TransportError).code).toBe('EOUTCOMEUNKNOWN');
  });

  it('a new client moves from Node\'s HTTP stack to undici\'s pools when 16 callers appear, without a failed call', async () => {
    const fresh = await SourceClient.connect(h.info.url, { tls: { ca: h.ca }, ...withBundle(), logger });
    try {
      const transport = internalsOf(fresh)!.transport;
      const vias: HttpPath[] = [];
      const send = transport.send.bind(transport);
      transport.send = async (...args) => {
        const res = await send(...args);
        vias.push(res.via);
        return res;
      };
      await fresh.login({ username: h.info.username, password: h.info.password });
      expect(new Set(vias)).toEqual(new Set(['https']));
      const results = await Promise.allSettled(Array.from({ length: 16 }, async () => {
        for (let i = 0; i < 10; i++) expect(await fresh.call('CurrentTime', SI)).toBeInstanceOf(Date);
      }));
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      const burst = vias.slice(-160);
      expect(burst.filter((v) => v === 'https')).toHaveLength(1);
      expect(burst.filter((v) => v === 'undici')).toHaveLength(159);
      expect(lines.some((l) => l.includes('switching to undici'))).toBe(true);
    } finally {
      await fresh.close();
    }
  });

  it('raised no unhandled rejections and logged no secrets', () => {
    expect(unhandled).toEqual([]);
    const all = lines.join('\n');
    expect(all).not.toContain(h.info.password);
    expect(all).not.toContain(c.sessionId!);
  });
});
