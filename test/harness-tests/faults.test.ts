// Observability and fault switches: session counts, dropped connections and requests, stalled
// answers, 503 pages, restart, and reset.
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { beforeEach, describe, expect, it } from 'vitest';
import { harnessDrop, harnessRequest, harnessReset, harnessRestart, harnessStall, harnessStats, harnessUiToken, harnessUnavailable } from '../harness/vcsim.ts';
import { currentTime, ownHarness, PC, rawRequest, rest, sessionOf, SI, SM, soap } from './raw.ts';

const harness = ownHarness();
const h = () => harness().info;
// A SOAP call that needs no session.
const probe = () => soap(h(), 'RetrieveServiceContent', SI);
beforeEach(() => harnessReset(h()));

function connectTls(): Promise<tls.TLSSocket> {
  const url = new URL(h().url);
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: url.hostname, port: Number(url.port), ca: readFileSync(h().certFile) }, () => resolve(s));
    s.on('error', reject);
  });
}

describe('stats', () => {
  it('counts vcsim\'s live sessions', async () => {
    const base = (await harnessStats(h())).sessions;
    const a = await sessionOf(h());
    await sessionOf(h());
    expect((await harnessStats(h())).sessions).toBe(base + 2);
    await soap(h(), 'Logout', SM, { session: a });
    expect((await harnessStats(h())).sessions).toBe(base + 1);
  });

  it('counts methods and SOAPAction values, and reset clears them', async () => {
    await probe();
    await soap(h(), 'RetrieveServiceContent', SI, { headers: { soapaction: '"urn:vim25/8.0.1.0"' } });
    const stats = await harnessStats(h());
    expect(stats.methods.RetrieveServiceContent).toBe(2);
    expect(stats.soapActions).toEqual({ [`"urn:vim25/${h().apiVersion}"`]: 1, '"urn:vim25/8.0.1.0"': 1 });
    await harnessReset(h());
    const cleared = await harnessStats(h());
    expect(cleared.methods).toEqual({});
    expect(cleared.soapActions).toEqual({});
  });
});

describe('drop', () => {
  it('closes the next connection right after accept, then serves again', async () => {
    await harnessDrop(h(), 1);
    expect((await harnessStats(h())).pending).toMatchObject({ drop: 1, dropStage: 'accept' });
    const err = await probe().catch((e: NodeJS.ErrnoException) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as NodeJS.ErrnoException).code).toMatch(/ECONNRESET|EPIPE/);
    expect((await probe()).status).toBe(200);
    const stats = await harnessStats(h());
    expect(stats.dropped).toBe(1);
    expect(stats.pending.drop).toBe(0);
    // Nothing reached the SOAP endpoint.
    expect(stats.methods.RetrieveServiceContent).toBe(1);
  });

  it('with stage "request", reads the SOAP request and closes without answering', async () => {
    await harnessDrop(h(), 2, 'request');
    for (let i = 0; i < 2; i++) {
      const err = await probe().catch((e: NodeJS.ErrnoException) => e);
      expect((err as NodeJS.ErrnoException).code).toBe('ECONNRESET');
    }
    expect((await probe()).status).toBe(200);
    const stats = await harnessStats(h());
    expect(stats.methods.RetrieveServiceContent).toBe(3);
    expect(stats.dropped).toBe(2);
  });

  it('with stage "request" and a method, drops only requests of that method, unexecuted', async () => {
    const session = await sessionOf(h());
    await harnessDrop(h(), 1, 'request', 'Logout');
    expect((await harnessStats(h())).pending).toMatchObject({ drop: 1, dropStage: 'request', dropMethod: 'Logout' });
    expect((await currentTime(h(), session)).status).toBe(200);
    const err = await soap(h(), 'Logout', SM, { session }).catch((e: NodeJS.ErrnoException) => e);
    expect((err as NodeJS.ErrnoException).code).toBe('ECONNRESET');
    // Never executed: the session is still there.
    expect((await currentTime(h(), session)).status).toBe(200);
    expect((await harnessStats(h())).dropped).toBe(1);
  });

  it('with stage "answer", executes the call, then closes instead of answering', async () => {
    const session = await sessionOf(h());
    await harnessDrop(h(), 1, 'answer', 'Logout');
    expect((await probe()).status).toBe(200);
    const err = await soap(h(), 'Logout', SM, { session }).catch((e: NodeJS.ErrnoException) => e);
    expect((err as NodeJS.ErrnoException).code).toBe('ECONNRESET');
    expect((await currentTime(h(), session)).fault).toBe('NotAuthenticated');
    const stats = await harnessStats(h());
    expect(stats.dropped).toBe(1);
    expect(stats.pending.drop).toBe(0);
    expect(stats.methods.Logout).toBe(1);
  });

  it('with stage "answer", catches a call already in flight when armed', async () => {
    const session = await sessionOf(h());
    // Blocks until cancelled: vcsim waits for changes to any version but "".
    const waiting = soap(h(), 'WaitForUpdatesEx', `${PC}<version>1</version><options><maxWaitSeconds>60</maxWaitSeconds></options>`, { session })
      .catch((e: NodeJS.ErrnoException) => e);
    while (((await harnessStats(h())).methods.WaitForUpdatesEx ?? 0) === 0) await new Promise((r) => setImmediate(r));
    await harnessDrop(h(), 1, 'answer', 'WaitForUpdatesEx');
    expect((await soap(h(), 'CancelWaitForUpdates', PC, { session })).status).toBe(200);
    expect(((await waiting) as NodeJS.ErrnoException).code).toBe('ECONNRESET');
    expect((await harnessStats(h())).dropped).toBe(1);
  });

  it('rejects a bad stage or count, and a method for stage "accept"', async () => {
    await expect(harnessRequest(h(), 'POST', '/_harness/drop', { count: 1, stage: 'handshake' })).rejects.toThrow(/HTTP 400/);
    await expect(harnessRequest(h(), 'POST', '/_harness/drop', { count: -1 })).rejects.toThrow(/HTTP 400/);
    await expect(harnessRequest(h(), 'POST', '/_harness/drop', { count: 1, stage: 'accept', method: 'Logout' })).rejects.toThrow(/HTTP 400/);
    expect((await probe()).status).toBe(200);
  });
});

describe('stall', () => {
  it('answers the next SOAP request late, having executed it at once', async () => {
    const session = await sessionOf(h());
    await harnessStall(h(), 0.5);
    const t0 = Date.now();
    const logout = await soap(h(), 'Logout', SM, { session });
    expect(logout.status).toBe(200);
    // A lower bound only: a stall cannot end early, and a busy machine only makes it later.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(450);
    // The next request is not held: the stall was spent on the Logout, and none came after it
    // (counted by the harness where it holds an answer, not timed by a client a busy machine slows).
    expect((await harnessStats(h())).pending.stallSeconds).toBe(0);
    expect((await probe()).status).toBe(200);
    expect((await harnessStats(h())).stalled).toBe(1);
  });

  it('leaves a client that gives up unsure: its call took effect', async () => {
    const session = await sessionOf(h());
    await harnessStall(h(), 5);
    const err = await soap(h(), 'Logout', SM, { session, timeoutMs: 200 }).catch((e: NodeJS.ErrnoException) => e);
    expect((err as NodeJS.ErrnoException).code).toBe('ETIMEDOUT');
    expect((await currentTime(h(), session)).fault).toBe('NotAuthenticated');
  });

  it('is released by reset, and refuses a negative duration', async () => {
    // Far longer than the test may run: only the reset can let this answer go.
    await harnessStall(h(), 600);
    const pending = probe();
    // Reset once the harness holds the request, not after a delay that a busy machine outlasts.
    while ((await harnessStats(h())).stalled === 0) await new Promise((r) => setImmediate(r));
    await harnessReset(h());
    expect((await pending).status).toBe(200);
    await expect(harnessStall(h(), -1)).rejects.toThrow(/HTTP 400/);
  });
});

describe('unavailable', () => {
  it('answers the next N SOAP requests with a 503 HTML page, and nothing else', async () => {
    await harnessUnavailable(h(), 2);
    // The WSDL files and the REST routes are not SOAP requests.
    expect((await rawRequest(h(), '/sdk/vimServiceVersions.xml')).status).toBe(200);
    expect((await rest(h(), 'GET', '/api/session')).status).toBe(401);
    for (let i = 0; i < 2; i++) {
      const res = await probe();
      expect(res.status).toBe(503);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.body).toContain('503 Service Unavailable');
    }
    expect((await probe()).status).toBe(200);
    expect((await harnessStats(h())).unavailableAnswers).toBe(2);
    await expect(harnessUnavailable(h(), -3)).rejects.toThrow(/HTTP 400/);
  });
});

describe('restart', () => {
  it('ends every session and cuts every connection; URL, port and certificate stay', async () => {
    const session = await sessionOf(h());
    const { token } = await harnessUiToken(h());
    const idle = await connectTls();
    const closed = new Promise<void>((resolve) => idle.once('close', () => resolve()));
    expect((await harnessStats(h())).sessions).toBeGreaterThanOrEqual(2);

    const res = await harnessRestart(h());
    expect(res.sessionsEnded).toBeGreaterThanOrEqual(2);
    expect(res.connectionsClosed).toBeGreaterThanOrEqual(1);
    await closed;

    expect((await currentTime(h(), session)).fault).toBe('NotAuthenticated');
    expect((await harnessStats(h())).sessions).toBe(0);
    const clone = await rest(h(), 'POST', '/api/ui/vcenter/session/clone-ticket', { headers: { 'vmware-api-session-id': token }, json: { vc_guid: h().instanceUuid } });
    expect(clone.status).toBe(401);

    const again = await connectTls();
    expect(again.getPeerCertificate().fingerprint256).toBe(h().sha256);
    again.end();
    expect((await sessionOf(h()))).toBeTruthy();
  });

  it('answers over the main URL too, closing that connection after the answer', async () => {
    await sessionOf(h());
    const res = await rawRequest(h(), '/_harness/restart', { method: 'POST' });
    expect(res.status).toBe(200);
    expect(res.headers.connection).toBe('close');
    expect((await harnessStats(h())).sessions).toBe(0);
  });
});

describe('reset', () => {
  it('disarms every switch', async () => {
    await harnessDrop(h(), 3);
    await harnessUnavailable(h(), 3);
    await harnessStall(h(), 10);
    expect((await harnessStats(h())).pending).toEqual({ drop: 3, dropStage: 'accept', dropMethod: '', stallSeconds: 10, unavailable: 3 });
    await harnessDrop(h(), 2, 'answer', 'Logout');
    await harnessReset(h());
    expect((await harnessStats(h())).pending).toEqual({ drop: 0, dropStage: 'accept', dropMethod: '', stallSeconds: 0, unavailable: 0 });
    // Off, not only hidden from the stats: the next request is neither dropped, refused nor held.
    expect((await probe()).status).toBe(200);
    expect(await harnessStats(h())).toMatchObject({ dropped: 0, unavailableAnswers: 0, stalled: 0 });
  });

  it('must be POSTed', async () => {
    await expect(harnessRequest(h(), 'GET', '/_harness/reset')).rejects.toThrow(/HTTP 405/);
  });
});
