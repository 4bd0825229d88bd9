// requestWithTicket against a small local HTTP server: the ticket in its cookie instead of the
// session's, the URL relative to the SDK's, and a request sent once (a written one spent the ticket).
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { beforeEach, describe, expect, it } from 'vitest';
import { TransportError } from '../../../src/errors.ts';
import { requestWithTicket } from '../../../src/session/service-ticket.ts';
import type { HttpTransport } from '../../../src/transport/http.ts';
import { serveLocally, sessionTransport } from '../local-server.ts';

type Seen = { method: string; url: string; body: string; cookie: string | undefined };
let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end('ok');
let seen: Seen[] = [];
const server = http.createServer((req, res) => {
  const s: Seen = { method: req.method!, url: req.url!, body: '', cookie: req.headers.cookie };
  seen.push(s);
  req.on('data', (c: Buffer) => (s.body += c));
  req.on('end', () => handler(req, res));
});
const base = serveLocally(server);

beforeEach(() => {
  seen = [];
  handler = (_req, res) => res.end('ok');
});

/** A transport whose jar holds a session cookie for the server, which a ticketed request must not send. */
const transport = (): HttpTransport => sessionTransport(base(), 'secret-session');

const ticket = { id: 'cst-ticket-1' };

describe('requestWithTicket', () => {
  it('GETs a URL relative to the SDK with the ticket as its only cookie, and returns status and body', async () => {
    handler = (_req, res) => {
      res.statusCode = 201;
      res.end('file content');
    };
    const res = await requestWithTicket(transport(), `${base()}/sdk`, { ticket, url: '/folder/a.txt?dsName=ds1' });
    expect(res.status).toBe(201);
    expect(res.body.toString()).toBe('file content');
    expect(seen).toEqual([{ method: 'GET', url: '/folder/a.txt?dsName=ds1', body: '', cookie: 'vmware_cgi_ticket=cst-ticket-1' }]);
  });

  it('sends the method and body given, to an absolute URL', async () => {
    await requestWithTicket(transport(), `${base()}/sdk`, { ticket, url: `${base()}/other/path`, method: 'POST', body: 'payload' });
    expect(seen).toEqual([{ method: 'POST', url: '/other/path', body: 'payload', cookie: 'vmware_cgi_ticket=cst-ticket-1' }]);
  });

  it('is sent once: a connection the server closes after reading the request is an error, not a second use of the ticket', async () => {
    handler = (req) => req.socket.destroy();
    const err = await requestWithTicket(transport(), `${base()}/sdk`, { ticket, url: '/x', method: 'POST', body: 'b' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect(seen).toHaveLength(1);
  });

  it('refuses a call without a ticket id or a URL before anything is sent', async () => {
    const t = transport();
    for (const bad of [undefined, {}, { ticket: {}, url: '/x' }, { ticket: { id: 1 }, url: '/x' }, { ticket, url: 5 }, { ticket }]) {
      await expect(requestWithTicket(t, `${base()}/sdk`, bad as never)).rejects.toThrow(new TypeError('requestWithTicket needs { ticket, url }'));
    }
    expect(seen).toEqual([]);
  });
});
