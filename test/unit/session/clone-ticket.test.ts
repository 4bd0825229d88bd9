// The clone-ticket flows against a small local HTTP server playing the vsphere-ui service (or a
// session broker): requestCloneTicket, pluginSession with a scripted client, and brokerLogin.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { beforeEach, describe, expect, it } from 'vitest';
import { PluginSessionError, pluginSession, requestCloneTicket, type PluginSessionClient } from '../../../src/session/plugin.ts';
import { brokerLogin, SessionBrokerError, type LoginContext } from '../../../src/session/strategies.ts';
import type { HttpTransport } from '../../../src/transport/http.ts';
import { serveLocally, sessionTransport } from '../local-server.ts';

type Seen = { method: string; url: string; body: string; headers: IncomingMessage['headers'] };
let handler: (req: IncomingMessage, res: ServerResponse) => void;
let seen: Seen[] = [];
const server = http.createServer((req, res) => {
  const s: Seen = { method: req.method!, url: req.url!, body: '', headers: req.headers };
  seen.push(s);
  req.on('data', (c: Buffer) => (s.body += c));
  req.on('end', () => handler(req, res));
});
const base = serveLocally(server);

const answer = (status: number, body: string, type = 'application/json') => (_req: IncomingMessage, res: ServerResponse) => {
  res.writeHead(status, { 'content-type': type });
  res.end(body);
};

beforeEach(() => {
  seen = [];
  handler = answer(201, JSON.stringify({ session_clone_ticket: 'cst-42' }));
});

const transport = (): HttpTransport => sessionTransport(base(), 'client-session');

async function failure(p: Promise<unknown>): Promise<PluginSessionError> {
  const err = await p.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(PluginSessionError);
  return err as PluginSessionError;
}

describe('requestCloneTicket', () => {
  it('POSTs the GUID with the token in vmware-api-session-id, no cookie, and returns the ticket', async () => {
    expect(await requestCloneTicket(transport(), new URL(`${base()}/ui/api`), 'plugin-token', 'guid-1')).toBe('cst-42');
    expect(seen).toHaveLength(1);
    const [s] = seen;
    expect(s!.method).toBe('POST');
    expect(s!.url).toBe('/ui/api/vcenter/session/clone-ticket');
    expect(JSON.parse(s!.body)).toEqual({ vc_guid: 'guid-1' });
    expect(s!.headers['vmware-api-session-id']).toBe('plugin-token');
    expect(s!.headers['content-type']).toBe('application/json');
    expect(s!.headers.accept).toBe('application/json');
    expect(s!.headers.cookie).toBeUndefined();
  });

  it('a 200 answer serves as well as a 201', async () => {
    handler = answer(200, JSON.stringify({ session_clone_ticket: 'cst-200' }));
    expect(await requestCloneTicket(transport(), new URL(base()), 't', 'g')).toBe('cst-200');
  });

  it('says why there is no ticket, with the status, and never with the token', async () => {
    const cases: [number, string, string, string | RegExp][] = [
      [401, '{}', 'unauthorized', 'the vSphere Client refused the plug-in session token (expired or invalid)'],
      [404, '{}', 'unknownVcenter', 'the vSphere Client does not know vCenter guid-9'],
      [500, '{}', 'badAnswer', 'clone-ticket request failed with HTTP 500'],
      [202, '{}', 'badAnswer', 'clone-ticket request failed with HTTP 202'],
      [200, '<html>', 'badAnswer', 'clone-ticket answer is not JSON (content-type text/html)'],
      [200, 'null', 'badAnswer', 'clone-ticket answer has no session_clone_ticket'],
      [200, '{"session_clone_ticket":""}', 'badAnswer', 'clone-ticket answer has no session_clone_ticket'],
      [200, '{"session_clone_ticket":7}', 'badAnswer', 'clone-ticket answer has no session_clone_ticket'],
    ];
    for (const [status, body, reason, message] of cases) {
      handler = answer(status, body, body.startsWith('<') ? 'text/html' : 'application/json');
      const err = await failure(requestCloneTicket(transport(), new URL(base()), 'secret-token', 'guid-9'));
      expect({ reason: err.reason, status: err.status, message: err.message }).toEqual({ reason, status, message });
      expect(err.message).not.toContain('secret-token');
    }
  });

  it('names a missing content-type as none', async () => {
    handler = (_req, res) => {
      res.removeHeader('content-type');
      res.end('not json');
    };
    expect((await failure(requestCloneTicket(transport(), new URL(base()), 't', 'g'))).message).toBe('clone-ticket answer is not JSON (content-type none)');
  });

  it('refuses an answer over 64 KiB rather than buffering it', async () => {
    handler = answer(200, JSON.stringify({ session_clone_ticket: 'x'.repeat(70 * 1024) }));
    await expect(requestCloneTicket(transport(), new URL(base()), 't', 'g')).rejects.toMatchObject({ code: 'ERESPONSETOOLARGE' });
  });
});

/** A client pluginSession connects: its instanceUuid, and what happened to it. */
function scriptedClient(instanceUuid: string | undefined, t: HttpTransport) {
  const log: string[] = [];
  const client: PluginSessionClient & { t: HttpTransport } = {
    about: { instanceUuid },
    t,
    cloneSession: async (ticket, options) => {
      log.push(`clone ${ticket}${options.signal ? ' signal' : ''}`);
    },
    close: async () => {
      log.push('close');
    },
  };
  return { client, log };
}

describe('pluginSession', () => {
  const target = () => ({ sessionToken: 'plugin-token', uiApiEndpoint: `${base()}/ui/api`, vcGuid: 'guid-1', sdkUrl: `${base()}/sdk`, allowHttp: true });

  it('connects to the SDK URL, checks the GUID, redeems the ticket on the client\'s transport and hands the client over', async () => {
    const { client, log } = scriptedClient('guid-1', transport());
    const signal = new AbortController().signal;
    const connected: string[] = [];
    const got = await pluginSession({ ...target(), signal }, async (sdk) => {
      connected.push(sdk);
      return client;
    }, (c) => c.t);
    expect(got).toBe(client);
    expect(connected).toEqual([`${base()}/sdk`]);
    expect(log).toEqual(['clone cst-42 signal']);
    expect(seen.map((s) => s.url)).toEqual(['/ui/api/vcenter/session/clone-ticket']);
  });

  it('another vCenter at the SDK URL: vcenterMismatch, no ticket asked for, the client closed', async () => {
    for (const uuid of ['guid-2', undefined]) {
      const { client, log } = scriptedClient(uuid, transport());
      const err = await failure(pluginSession(target(), async () => client, (c) => c.t));
      expect(err.reason).toBe('vcenterMismatch');
      expect(err.message).toBe(`${base()}/sdk is vCenter ${uuid ?? '(no instanceUuid)'}, not guid-1`);
      expect(log).toEqual(['close']);
    }
    expect(seen).toEqual([]);
  });

  it('a refused ticket closes the client', async () => {
    handler = answer(401, '{}');
    const { client, log } = scriptedClient('guid-1', transport());
    expect((await failure(pluginSession(target(), async () => client, (c) => c.t))).reason).toBe('unauthorized');
    expect(log).toEqual(['close']);
  });

  it('an endpoint host outside the allowed hosts is refused before anything is connected or sent', async () => {
    let connects = 0;
    const connect = async () => {
      connects++;
      return scriptedClient('guid-1', transport()).client;
    };
    // By default only the SDK URL's host is allowed.
    const err = await failure(pluginSession({ ...target(), sdkUrl: 'https://vc.example.com/sdk' }, connect, (c) => c.t));
    expect(err.reason).toBe('hostNotAllowed');
    expect(err.message).toBe(`uiApiEndpoint host ${new URL(base()).host} is not among the allowed hosts (vc.example.com)`);
    expect((await failure(pluginSession({ ...target(), allowedHosts: ['a.example.com', 'b.example.com'] }, connect, (c) => c.t))).message)
      .toBe(`uiApiEndpoint host ${new URL(base()).host} is not among the allowed hosts (a.example.com, b.example.com)`);
    // http:// only when allowed.
    expect((await failure(pluginSession({ ...target(), allowHttp: undefined }, connect, (c) => c.t))).reason).toBe('insecureEndpoint');
    expect(connects).toBe(0);
    expect(seen).toEqual([]);
  });

  it('without an SDK URL, connects to https://<endpoint host>/sdk', async () => {
    const connected: string[] = [];
    await pluginSession({ ...target(), sdkUrl: undefined }, async (sdk) => {
      connected.push(sdk);
      return scriptedClient('guid-1', transport()).client;
    }, (c) => c.t);
    expect(connected).toEqual([`https://${new URL(base()).host}/sdk`]);
  });

  it('needs a session token and a GUID', async () => {
    const connect = async () => scriptedClient('guid-1', transport()).client;
    await expect(pluginSession({ ...target(), sessionToken: '' }, connect, (c) => c.t)).rejects.toThrow(new TypeError('fromPluginSession needs sessionToken'));
    await expect(pluginSession({ ...target(), sessionToken: 5 as never }, connect, (c) => c.t)).rejects.toThrow(new TypeError('fromPluginSession needs sessionToken'));
    await expect(pluginSession({ ...target(), vcGuid: '' }, connect, (c) => c.t)).rejects.toThrow(new TypeError('fromPluginSession needs vcGuid'));
    await expect(pluginSession({ ...target(), vcGuid: undefined as never }, connect, (c) => c.t)).rejects.toThrow(new TypeError('fromPluginSession needs vcGuid'));
  });
});

describe('brokerLogin', () => {
  const SM = { type: 'SessionManager', value: 'SessionManager' } as const;
  function ctx(signal?: AbortSignal) {
    const sent: { method: string; args: unknown }[] = [];
    const c = {
      signal,
      sessionManager: SM,
      invoke: async (method: string, _this: unknown, args: unknown) => {
        sent.push({ method, args });
        return { userName: 'u' };
      },
    } as unknown as LoginContext;
    return { c, sent };
  }

  it('asks the broker for a ticket each login and redeems it with CloneSession; replayable', async () => {
    const s = brokerLogin(transport(), { url: `${base()}/broker`, token: 'broker-token' }, 'guid-1');
    expect({ kind: s.kind, replayable: s.replayable }).toEqual({ kind: 'broker', replayable: true });
    const { c, sent } = ctx();
    await s.login(c);
    await s.login(c);
    expect(sent).toEqual([{ method: 'CloneSession', args: { cloneTicket: 'cst-42' } }, { method: 'CloneSession', args: { cloneTicket: 'cst-42' } }]);
    expect(seen.map((x) => [x.url, x.headers['vmware-api-session-id'], JSON.parse(x.body)])).toEqual([
      ['/broker/vcenter/session/clone-ticket', 'broker-token', { vc_guid: 'guid-1' }],
      ['/broker/vcenter/session/clone-ticket', 'broker-token', { vc_guid: 'guid-1' }],
    ]);
  });

  it('an unknown vCenter GUID is sent as empty', async () => {
    await brokerLogin(transport(), { url: base(), token: 't' }, undefined).login(ctx().c);
    expect(JSON.parse(seen[0]!.body)).toEqual({ vc_guid: '' });
  });

  it('the broker\'s refusals as SessionBrokerErrors, with the status and without the token', async () => {
    const cases: [number, string, string, string][] = [
      [401, '{}', 'unauthorized', 'the session broker refused the token'],
      [404, '{}', 'unknownVcenter', 'the session broker serves another vCenter'],
      [503, '{}', 'badAnswer', 'the session broker gave no ticket (HTTP 503)'],
      [200, '{}', 'badAnswer', 'the session broker gave no ticket (HTTP 200)'],
    ];
    for (const [status, body, reason, message] of cases) {
      handler = answer(status, body);
      const { c, sent } = ctx();
      const err = await brokerLogin(transport(), { url: base(), token: 'secret-token' }, 'g').login(c).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SessionBrokerError);
      expect({ reason: (err as SessionBrokerError).reason, status: (err as SessionBrokerError).status, message: (err as Error).message }).toEqual({ reason, status, message });
      expect(sent).toEqual([]);
    }
  });

  it('an error that is not the broker\'s answer (an abort, a dead connection) passes through as it is', async () => {
    handler = (req) => req.socket.destroy();
    const err = await brokerLogin(transport(), { url: base(), token: 't' }, 'g').login(ctx().c).catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(SessionBrokerError);
    expect(err).toMatchObject({ name: 'TransportError' });
  });

  it('checks the broker URL and the token first', () => {
    const t = transport();
    const reason = (url: string, allowHttp?: boolean) => {
      try {
        brokerLogin(t, { url, token: 't', ...(allowHttp !== undefined && { allowHttp }) }, 'g');
        return 'ok';
      } catch (err) {
        expect(err).toBeInstanceOf(SessionBrokerError);
        expect((err as Error).message).not.toContain('uiApiEndpoint');
        return (err as SessionBrokerError).reason;
      }
    };
    expect(reason('http://broker.example.com/b')).toBe('insecureUrl');
    expect(reason('http://broker.example.com/b', true)).toBe('ok');
    expect(reason('http://127.0.0.1:9/b')).toBe('ok'); // a loopback broker may be http
    expect(reason('https://broker.example.com/b')).toBe('ok');
    expect(reason('not a url')).toBe('invalidUrl');
    expect(reason('https://u:p@broker.example.com/')).toBe('invalidUrl');
    let message = '';
    try {
      brokerLogin(t, { url: 'http://broker.example.com/b', token: 't' }, 'g');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe('broker URL: the broker URL must be https (got http:)');
    for (const bad of [undefined, {}, { url: base() }, { url: base(), token: '' }, { url: 5, token: 't' }]) {
      expect(() => brokerLogin(t, bad as never, 'g')).toThrow(new TypeError('loginByBroker needs { url, token }'));
    }
  });
});
