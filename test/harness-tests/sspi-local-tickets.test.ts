// LoginBySSPI (the harness's documented token scheme) and AcquireLocalTicket, over raw SOAP.
import { readFileSync, statSync, existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { harnessReset, harnessSetLocalTickets, harnessSetSspi, harnessStats, sspiFirstToken, sspiResponseToken } from '../harness/vcsim.ts';
import { currentUser, login, ownHarness, sessionOf, SM, soap, text } from './raw.ts';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

describe('LoginBySSPI', () => {
  const harness = ownHarness();
  const h = () => harness().info;
  afterEach(() => harnessReset(h()));
  const sspi = (token: string, extra = '', session?: string) =>
    soap(h(), 'LoginBySSPI', `${SM}<base64Token>${token}</base64Token>${extra}`, session === undefined ? {} : { session });

  it('completes the two-round handshake with a session for the user', async () => {
    const first = await sspi(sspiFirstToken(h().username));
    expect(first.status).toBe(500);
    expect(first.fault).toBe('SSPIChallenge');
    const challenge = text(first.body, 'base64Token')!;
    expect(Buffer.from(challenge, 'base64').toString()).toMatch(/^challenge:[0-9a-f]{32}$/);
    const second = await sspi(sspiResponseToken(challenge, h().username), '<locale>de</locale>');
    expect(second.status).toBe(200);
    expect(second.body).toContain('<LoginBySSPIResponse xmlns="urn:vim25">');
    expect(text(second.body, 'userName')).toBe(h().username);
    expect(text(second.body, 'locale')).toBe('de');
    expect(second.setSession).toBeTruthy();
    expect(await currentUser(h(), second.setSession!)).toBe(h().username);
    const stats = await harnessStats(h());
    expect(stats.sspiLogins).toBe(1);
    expect(stats.methods.LoginBySSPI).toBe(2);
  });

  it('logs in the viewer too, and spells the scheme as documented', async () => {
    const first = await sspi(b64(`round1:${h().viewerUsername}`));
    const nonce = /^challenge:(.+)$/.exec(Buffer.from(text(first.body, 'base64Token')!, 'base64').toString())![1];
    const second = await sspi(b64(`response:${nonce}:${h().viewerUsername}`));
    expect(text(second.body, 'userName')).toBe(h().viewerUsername);
  });

  it('refuses a wrong answer with InvalidLogin and spends the challenge', async () => {
    const challenge = text((await sspi(sspiFirstToken(h().username))).body, 'base64Token')!;
    const wrongUser = await sspi(sspiResponseToken(challenge, h().viewerUsername));
    expect(wrongUser.fault).toBe('InvalidLogin');
    expect(wrongUser.setSession).toBeUndefined();
    // The nonce answered once (wrongly): the right answer now fails too.
    expect((await sspi(sspiResponseToken(challenge, h().username))).fault).toBe('InvalidLogin');
    expect((await sspi(b64(`response:0123456789abcdef:${h().username}`))).fault).toBe('InvalidLogin');
  });

  it('answers a challenge only once', async () => {
    const challenge = text((await sspi(sspiFirstToken(h().username))).body, 'base64Token')!;
    expect((await sspi(sspiResponseToken(challenge, h().username))).status).toBe(200);
    expect((await sspi(sspiResponseToken(challenge, h().username))).fault).toBe('InvalidLogin');
  });

  it('refuses an unknown user, a malformed token and an unknown token with InvalidLogin', async () => {
    expect((await sspi(sspiFirstToken('nobody'))).fault).toBe('InvalidLogin');
    expect((await sspi('%%%not base64%%%')).fault).toBe('InvalidLogin');
    expect((await sspi('')).fault).toBe('InvalidLogin');
    expect((await sspi(b64('NTLMSSP\0\x01'))).fault).toBe('InvalidLogin');
  });

  it('answers InvalidLocale for an unknown locale', async () => {
    expect((await sspi(sspiFirstToken(h().username), '<locale>xx_XX</locale>')).fault).toBe('InvalidLocale');
  });

  it('answers NotSupported when switched off, until reset', async () => {
    await harnessSetSspi(h(), false);
    expect((await harnessStats(h())).sspiSupported).toBe(false);
    expect((await sspi(sspiFirstToken(h().username))).fault).toBe('NotSupported');
    await harnessReset(h());
    expect((await sspi(sspiFirstToken(h().username))).fault).toBe('SSPIChallenge');
  });

  it('refuses a request that already carries a session, as Login does', async () => {
    const s = await sessionOf(h());
    const challenge = text((await sspi(sspiFirstToken(h().username))).body, 'base64Token')!;
    expect((await sspi(sspiResponseToken(challenge, h().username), '', s)).fault).toBe('InvalidLogin');
  });
});

describe('LoginBySSPI on a server without SSPI', () => {
  const harness = ownHarness({ sspi: false });
  it('answers NotSupported (-sspi=false)', async () => {
    const res = await soap(harness().info, 'LoginBySSPI', `${SM}<base64Token>${sspiFirstToken(harness().info.username)}</base64Token>`);
    expect(res.fault).toBe('NotSupported');
  });
});

describe('AcquireLocalTicket', () => {
  const harness = ownHarness();
  const h = () => harness().info;
  afterEach(() => harnessReset(h()));
  const acquire = (user: string) => soap(h(), 'AcquireLocalTicket', `${SM}<userName>${user}</userName>`);

  it('writes a one-time password file whose content logs the user in once', async () => {
    // Reset clears the counters, not the tickets other tests of this block left unredeemed.
    const { outstanding } = (await harnessStats(h())).localTickets;
    const res = await acquire(h().username);
    expect(res.status).toBe(200);
    expect(text(res.body, 'userName')).toBe(h().username);
    const file = text(res.body, 'passwordFilePath')!;
    expect(file.startsWith(h().stateDir)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const password = readFileSync(file, 'utf8');
    const first = await login(h(), h().username, password);
    expect(first.status).toBe(200);
    expect(await currentUser(h(), first.setSession!)).toBe(h().username);
    expect(existsSync(file)).toBe(false);
    expect((await login(h(), h().username, password)).fault).toBe('InvalidLogin');
    expect((await harnessStats(h())).localTickets).toMatchObject({ issued: 1, redeemed: 1, outstanding });
  });

  it('is bound to the user it was issued for', async () => {
    const password = readFileSync(text((await acquire(h().viewerUsername)).body, 'passwordFilePath')!, 'utf8');
    expect((await login(h(), h().username, password)).fault).toBe('InvalidLogin');
    const ok = await login(h(), h().viewerUsername, password);
    expect(text(ok.body, 'userName')).toBe(h().viewerUsername);
  });

  it('answers InvalidLogin for an unknown user', async () => {
    expect((await acquire('nobody')).fault).toBe('InvalidLogin');
  });

  it('answers InvalidRequest when callers are remote, NotSupported when unsupported', async () => {
    await harnessSetLocalTickets(h(), 'remote');
    expect((await acquire(h().username)).fault).toBe('InvalidRequest');
    await harnessSetLocalTickets(h(), 'unsupported');
    expect((await acquire(h().username)).fault).toBe('NotSupported');
    await harnessReset(h());
    expect((await harnessStats(h())).localTicketMode).toBe('local');
    expect((await acquire(h().username)).status).toBe(200);
  });
});

describe('AcquireLocalTicket for remote callers', () => {
  const harness = ownHarness({ localTickets: 'remote' });
  it('answers InvalidRequest (-local-tickets=remote)', async () => {
    expect((await soap(harness().info, 'AcquireLocalTicket', `${SM}<userName>${harness().info.username}</userName>`)).fault).toBe('InvalidRequest');
  });
});
