// AcquireGenericServiceTicket and datastore file access (/folder/) by session or by ticket.
import { beforeAll, describe, expect, it } from 'vitest';
import { harnessRestart, harnessStats } from '../harness/vcsim.ts';
import { ownHarness, rawRequest, sessionOf, SM, soap, text, xmlEscape } from './raw.ts';

const harness = ownHarness();
const h = () => harness().info;
let admin: string;
const FILE = '/folder/tickets/hello.txt?dcPath=DC0&dsName=LocalDS_0';

const ticketFor = async (url: string, method?: string, session = admin) => {
  const spec = `<spec xsi:type="SessionManagerHttpServiceRequestSpec">${method === undefined ? '' : `<method>${method}</method>`}<url>${xmlEscape(url)}</url></spec>`;
  return soap(h(), 'AcquireGenericServiceTicket', SM + spec, { session });
};
const get = (path: string, cookie?: string, method = 'GET') => rawRequest(h(), path, { method, headers: cookie === undefined ? {} : { cookie } });

beforeAll(async () => {
  admin = await sessionOf(h());
  const put = await rawRequest(h(), FILE, { method: 'PUT', headers: { cookie: `vmware_soap_session=${admin}` }, body: 'hello, datastore' });
  expect(put.status).toBe(200);
});

describe('datastore file access', () => {
  it('needs a session: 401 without one or with an unknown one', async () => {
    expect((await get(FILE)).status).toBe(401);
    expect((await get(FILE, 'vmware_soap_session=no-such-session')).status).toBe(401);
    const ok = await get(FILE, `vmware_soap_session=${admin}`);
    expect(ok.status).toBe(200);
    expect(ok.body).toBe('hello, datastore');
  });
});

describe('AcquireGenericServiceTicket', () => {
  it('mints a ticket that works once, as vmware_cgi_ticket, for the GET it was minted for', async () => {
    const before = (await harnessStats(h())).serviceTickets;
    const res = await ticketFor(`${new URL(h().url).origin}${FILE}`);
    expect(res.status).toBe(200);
    const id = text(res.body, 'id')!;
    expect(id).toBeTruthy();
    expect(text(res.body, 'hostName')).toBe(new URL(h().url).host);
    expect(text(res.body, 'sslThumbprint')).toBe(h().sha1);
    const first = await get(FILE, `vmware_cgi_ticket=${id}`);
    expect(first.status).toBe(200);
    expect(first.body).toBe('hello, datastore');
    expect((await get(FILE, `vmware_cgi_ticket=${id}`)).status).toBe(401);
    const after = (await harnessStats(h())).serviceTickets;
    expect(after.issued - before.issued).toBe(1);
    expect(after.redeemed - before.redeemed).toBe(1);
    expect(after.refused - before.refused).toBe(1);
  });

  it('matches the query in any order and ignores scheme and host; refuses another path, query or method without spending the ticket', async () => {
    const id = text((await ticketFor(`https://esx.example.com${FILE}`, 'httpGet')).body, 'id')!;
    expect((await get('/folder/tickets/other.txt?dcPath=DC0&dsName=LocalDS_0', `vmware_cgi_ticket=${id}`)).status).toBe(401);
    expect((await get('/folder/tickets/hello.txt?dcPath=DC0', `vmware_cgi_ticket=${id}`)).status).toBe(401);
    expect((await get(FILE, `vmware_cgi_ticket=${id}`, 'HEAD')).status).toBe(401);
    expect((await get(FILE, 'vmware_cgi_ticket=no-such-ticket')).status).toBe(401);
    expect((await get('/folder/tickets/hello.txt?dsName=LocalDS_0&dcPath=DC0', `vmware_cgi_ticket=${id}`)).status).toBe(200);
  });

  it('mints tickets for PUT', async () => {
    const path = '/folder/tickets/uploaded.txt?dcPath=DC0&dsName=LocalDS_0';
    const id = text((await ticketFor(path, 'httpPut')).body, 'id')!;
    expect((await rawRequest(h(), path, { method: 'PUT', headers: { cookie: `vmware_cgi_ticket=${id}` }, body: 'up' })).status).toBe(200);
    expect((await get(path, `vmware_soap_session=${admin}`)).body).toBe('up');
  });

  it('answers InvalidArgument for a spec it cannot serve', async () => {
    const bad = [
      () => ticketFor('/sdk/vimService'),
      () => ticketFor('::not a url::'),
      () => ticketFor(FILE, 'httpTrace'),
      () => soap(h(), 'AcquireGenericServiceTicket', `${SM}<spec xsi:type="SessionManagerVmomiServiceRequestSpec"><method type="ManagedObjectReference">x</method></spec>`, { session: admin }),
    ];
    for (const call of bad) {
      const res = await call();
      expect(res.fault).toBe('InvalidArgument');
      expect(text(res.body, 'invalidProperty')).toBe('spec');
    }
  });

  it('needs a session', async () => {
    const res = await soap(h(), 'AcquireGenericServiceTicket', `${SM}<spec xsi:type="SessionManagerHttpServiceRequestSpec"><url>${xmlEscape(FILE)}</url></spec>`);
    expect(res.fault).toBe('NotAuthenticated');
  });
});

describe('restart', () => {
  it('forgets the tickets, as a vpxd restart does', async () => {
    const id = text((await ticketFor(FILE)).body, 'id')!;
    await harnessRestart(h());
    expect((await get(FILE, `vmware_cgi_ticket=${id}`)).status).toBe(401);
    admin = await sessionOf(h());
  });
});
