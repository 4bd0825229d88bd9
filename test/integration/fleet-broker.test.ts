// SessionBroker: an owner's session handed to workers as clone tickets, in the plug-in
// clone-ticket endpoint's shape; the worker re-authenticates through the broker by itself.
import { request } from 'node:http';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionBroker, SessionBrokerError, VimClient, type Logger } from 'vim25-soap';
import { bundleIfPresent } from '../../scripts/lib/paths.ts';
import { FleetProcess, terminateOthers } from '../harness/fleet.ts';
import { loopbackServerCertificate } from '../harness/tls-fixtures.ts';
import { Harness, harnessStats } from '../harness/vcsim.ts';

const SI = { type: 'ServiceInstance' as const, value: 'ServiceInstance' };
const TOKEN = 'broker-token-5b8e2c71d0a94f36';
let h: Harness;
let owner: VimClient;
let admin: VimClient;
let broker: SessionBroker;
const logged: string[] = [];
const logger: Logger = {
  debug: (m, d) => logged.push(m + JSON.stringify(d ?? {})),
  info: (m, d) => logged.push(m + JSON.stringify(d ?? {})),
  warn: (m, d) => logged.push(m + JSON.stringify(d ?? {})),
  error: (m, d) => logged.push(m + JSON.stringify(d ?? {})),
};

beforeAll(async () => {
  h = await Harness.start({ wsdlDir: bundleIfPresent() });
  owner = await VimClient.connect(h.info.url, { tls: { ca: h.ca }, logger });
  await owner.login({ username: h.info.username, password: h.info.password });
  admin = await VimClient.connect(h.info.url, { tls: { ca: h.ca } });
  await admin.login({ username: h.info.username, password: h.info.password });
  broker = await SessionBroker.listen({ client: owner, token: TOKEN, host: '127.0.0.1', port: 0, logger });
});
afterAll(async () => {
  await broker?.close();
  await owner?.close();
  await admin?.close();
  await h?.stop();
});

const count = async (method: string): Promise<number> => (await harnessStats(h.info)).methods[method] ?? 0;

function post(path: string, headers: Record<string, string>, body = '{}'): Promise<{ status: number; body: string }> {
  const u = new URL(path, broker.url);
  return new Promise((resolve, reject) => {
    const req = request(u, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('SessionBroker', () => {
  it('a worker process logs in through the broker, and after its session dies re-authenticates through the broker by itself', async () => {
    const logins = await count('Login');
    const clones = await count('CloneSession');
    const [worker] = [FleetProcess.spawn()];
    try {
      const ready = await worker!.start({ url: h.info.url, ca: h.ca.toString(), username: '', password: '', store: { kind: 'none' }, broker: { url: broker.url, token: TOKEN } });
      expect(ready.session).not.toBe('none');
      expect(await count('CloneSession')).toBe(clones + 1);
      worker!.send({ cmd: 'load', concurrency: 3 });
      await worker!.next('progress');
      await terminateOthers(admin, [owner.userSession!.key, admin.userSession!.key]);
      await worker!.next('reauthenticated');
      await worker!.next('progress', (m) => m.ok >= 40);
      const r = await worker!.stop();
      expect(r.errors).toEqual([]);
      expect(r.failed).toBe(0);
      expect(await count('CloneSession')).toBe(clones + 2);
      expect(await count('Login')).toBe(logins); // the worker never logs in with a password
      await worker!.close();
    } finally {
      await worker!.kill();
    }
  });

  it('a wrong or missing token gets a bare 401 and nothing else happens', async () => {
    const tickets = await count('AcquireCloneTicket');
    const refused = broker.stats.refused;
    for (const headers of [{}, { 'vmware-api-session-id': 'wrong' }, { 'vmware-api-session-id': `${TOKEN}x` }, { 'vmware-api-session-id': TOKEN.slice(0, -1) }]) {
      const r = await post('/vcenter/session/clone-ticket', headers);
      expect(r).toEqual({ status: 401, body: '' });
    }
    expect((await post('/anything/else', { 'vmware-api-session-id': 'wrong' })).status).toBe(401);
    expect(await count('AcquireCloneTicket')).toBe(tickets);
    expect(broker.stats.refused).toBe(refused + 5);

    const c = await VimClient.connect(h.info.url, { tls: { ca: h.ca } });
    try {
      const err = await c.loginByBroker({ url: broker.url, token: 'not-the-broker-token' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SessionBrokerError);
      expect((err as SessionBrokerError).reason).toBe('unauthorized');
      expect((err as Error).message).not.toContain('not-the-broker-token');
      expect(c.sessionId).toBeUndefined();
    } finally {
      await c.close();
    }
    expect(await count('AcquireCloneTicket')).toBe(tickets);
  });

  it('answers in the plug-in endpoint shape; another vCenter GUID is refused', async () => {
    const ok = await post('/vcenter/session/clone-ticket', { 'vmware-api-session-id': TOKEN }, JSON.stringify({ vc_guid: owner.about.instanceUuid }));
    expect(ok.status).toBe(200);
    expect(typeof JSON.parse(ok.body).session_clone_ticket).toBe('string');
    const other = await post('/vcenter/session/clone-ticket', { 'vmware-api-session-id': TOKEN }, JSON.stringify({ vc_guid: 'another-vcenter' }));
    expect(other.status).toBe(404);
  });

  it('keeps serving when its own session dies: the owner re-authenticates (one Login)', async () => {
    const logins = await count('Login');
    await admin.sessionManager.terminateSessions([owner.userSession!.key]);
    const c = await VimClient.connect(h.info.url, { tls: { ca: h.ca } });
    try {
      await c.loginByBroker({ url: broker.url, token: TOKEN });
      expect(await c.call('CurrentTime', SI)).toBeInstanceOf(Date);
      expect(await count('Login')).toBe(logins + 1);
    } finally {
      await c.close();
    }
  });

  it('serves HTTPS with tls; the worker verifies the broker with its client\'s TLS policy; http:// to a non-loopback host is refused', async () => {
    const { cert, key } = loopbackServerCertificate();
    const secure = await SessionBroker.listen({ client: owner, token: TOKEN, tls: { cert, key } });
    try {
      expect(secure.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const trusting = await VimClient.connect(h.info.url, { tls: { ca: [h.ca, cert] } });
      const untrusting = await VimClient.connect(h.info.url, { tls: { ca: h.ca } });
      try {
        await trusting.loginByBroker({ url: secure.url, token: TOKEN });
        expect(await trusting.call('CurrentTime', SI)).toBeInstanceOf(Date);
        const served = secure.stats.served;
        expect(await untrusting.loginByBroker({ url: secure.url, token: TOKEN }).catch((e: unknown) => e)).toBeInstanceOf(Error);
        expect(untrusting.sessionId).toBeUndefined();
        expect(secure.stats.served).toBe(served); // no ticket went to a connection that did not verify the broker
        const plain = await untrusting.loginByBroker({ url: 'http://broker.example.com:8080', token: TOKEN }).catch((e: unknown) => e);
        expect(plain).toBeInstanceOf(SessionBrokerError);
        expect((plain as SessionBrokerError).reason).toBe('insecureUrl');
      } finally {
        await Promise.all([trusting.close(), untrusting.close()]);
      }
    } finally {
      await secure.close();
    }
  });

  it('never shows or logs the token or a ticket', async () => {
    const shown = inspect(broker, { depth: 5, showHidden: true }) + JSON.stringify(broker) + logged.join('\n');
    expect(shown).not.toContain(TOKEN);
    expect(shown).not.toMatch(/cst-|session_clone_ticket/);
  });
});
