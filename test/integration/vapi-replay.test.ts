// A vAPI request whose connection the server closed before answering, under the same replay
// policy as a vim25 call (src/transport/replay.ts): sent once more, on a connection of its own,
// when that is safe (an idempotent verb, or a request that was never written), and otherwise a
// TransportError EOUTCOMEUNKNOWN. The harness drops the connection of one /api/ request named
// "VAPI <VERB> <path>", after reading it ('request': not executed) or instead of answering it
// ('answer': executed).
import { readFileSync } from 'node:fs';
import { describe, expect, it, onTestFinished } from 'vitest';
import { harnessDrop, harnessStats, type Harness } from '../harness/vcsim.ts';
import { startHarness, withBundle } from '../fixtures.ts';
import { type Logger, TransportError, VimClient } from 'vim25-soap';

const CATEGORIES = '/api/cis/tagging/category';

async function client(h: Harness, logger?: Logger): Promise<VimClient> {
  const c = await VimClient.connect(h.info.url, { ...withBundle(), tls: { ca: readFileSync(h.info.certFile) }, ...(logger && { logger }) });
  onTestFinished(() => c.close());
  await c.login({ username: h.info.username, password: h.info.password });
  return c;
}

const body = (name: string) => ({ body: { name, description: '', cardinality: 'SINGLE', associable_types: [] } });

describe('a vAPI request whose connection closed before the answer', () => {
  it('a GET is replayed once on a connection of its own, and answers', async () => {
    const h = await startHarness();
    const lines: string[] = [];
    const logger: Logger = { debug: (m) => lines.push(m), info: () => undefined, warn: () => undefined, error: () => undefined };
    const c = await client(h, logger);
    await c.tags.createCategory({ name: 'zone' });
    const before = await harnessStats(h.info);
    await harnessDrop(h.info, 1, 'request', `VAPI GET ${CATEGORIES}`);
    const ids = await c.rest.get<string[]>(CATEGORIES);
    expect(ids).toHaveLength(1);
    const after = await harnessStats(h.info);
    expect(after.vapi.requests - before.vapi.requests).toBe(2);
    expect(after.pending.drop).toBe(0);
    expect(lines).toContain('replaying a request whose connection the server closed');
  });

  it('a GET is replayed only once: a second close fails it with the transport\'s error', async () => {
    const h = await startHarness();
    const c = await client(h);
    await c.rest.get(CATEGORIES);
    const before = await harnessStats(h.info);
    await harnessDrop(h.info, 2, 'request', `VAPI GET ${CATEGORIES}`);
    const err = await c.rest.get(CATEGORIES).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((await harnessStats(h.info)).vapi.requests - before.vapi.requests).toBe(2);
  });

  it('a POST that was written is not replayed: EOUTCOMEUNKNOWN, whether or not it took effect', async () => {
    const h = await startHarness();
    const c = await client(h);
    await c.rest.get(CATEGORIES);

    // Read and dropped before it ran: nothing was made, and the client cannot know that.
    let before = await harnessStats(h.info);
    await harnessDrop(h.info, 1, 'request', `VAPI POST ${CATEGORIES}`);
    const unrun = await c.rest.post(CATEGORIES, body('first')).catch((e: unknown) => e);
    expect(unrun).toBeInstanceOf(TransportError);
    expect(unrun).toMatchObject({ code: 'EOUTCOMEUNKNOWN', outcomeUnknown: true });
    expect((await harnessStats(h.info)).vapi.requests - before.vapi.requests).toBe(1);
    expect(await c.tags.categories()).toEqual([]);

    // Run, and its answer dropped: made once, not twice (a replay would answer ALREADY_EXISTS or make a second).
    before = await harnessStats(h.info);
    await harnessDrop(h.info, 1, 'answer', `VAPI POST ${CATEGORIES}`);
    const run = await c.rest.post(CATEGORIES, body('second')).catch((e: unknown) => e);
    expect(run).toMatchObject({ name: 'TransportError', code: 'EOUTCOMEUNKNOWN', outcomeUnknown: true });
    expect((await harnessStats(h.info)).vapi.requests - before.vapi.requests).toBe(1);
    expect((await c.tags.categories()).map((x) => x.name)).toEqual(['second']);

    // The typed helpers go the same way.
    await harnessDrop(h.info, 1, 'answer', `VAPI POST ${CATEGORIES}`);
    expect(await c.tags.createCategory({ name: 'third' }).catch((e: unknown) => e)).toMatchObject({ code: 'EOUTCOMEUNKNOWN' });
    expect((await c.tags.categories()).map((x) => x.name).sort()).toEqual(['second', 'third']);
  });

  it('a DELETE (idempotent by its verb) is replayed', async () => {
    const h = await startHarness();
    const c = await client(h);
    const zone = await c.tags.createCategory({ name: 'zone' });
    const path = `${CATEGORIES}/${encodeURIComponent(zone.id)}`;
    const before = await harnessStats(h.info);
    // The harness names a request by its decoded path.
    await harnessDrop(h.info, 1, 'request', `VAPI DELETE ${CATEGORIES}/${zone.id}`);
    expect(await c.rest.delete(path)).toBeUndefined();
    expect((await harnessStats(h.info)).vapi.requests - before.vapi.requests).toBe(2);
    expect(await c.tags.categories()).toEqual([]);
  });

  it('a POST whose connection was reset before it was written fails as not sent: outcome known, nothing made', async () => {
    const h = await startHarness();
    const c = await client(h);
    await c.rest.get(CATEGORIES);
    const before = await harnessStats(h.info);
    // The next new connection is reset at accept, before TLS. The client holds one or two idle
    // connections from its login and that GET; eight POSTs at once need new ones.
    await harnessDrop(h.info, 1, 'accept');
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => c.rest.post(CATEGORIES, body(`c${i}`))));
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ i, reason: r.reason as unknown }] : []));
    // The transport does not replay a connection reset during its TLS handshake (for vim25
    // calls neither); it says the request was never sent, so a caller may send it again.
    expect(failed).toHaveLength(1);
    expect(failed[0]!.reason).toBeInstanceOf(TransportError);
    expect(failed[0]!.reason).toMatchObject({ code: 'ECONNRESET', outcomeUnknown: false });
    const after = await harnessStats(h.info);
    expect(after.dropped - before.dropped).toBe(1);
    expect(after.vapi.requests - before.vapi.requests).toBe(7);
    const made = (await c.tags.categories()).map((x) => x.name);
    expect(made).toHaveLength(7);
    expect(made).not.toContain(`c${failed[0]!.i}`);
  });
});
