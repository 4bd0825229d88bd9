// Login strategies with a scripted invoke: what each sends, whether it can be replayed, and how
// it fails.
import { describe, expect, it } from 'vitest';
import { VimFault } from '../../../src/errors.ts';
import type { InvokeOptions } from '../../../src/soap/pipeline.ts';
import type { LoginContext } from '../../../src/session/strategies.ts';
import { cloneTicketLogin, extensionLogin, localTicketLogin, passwordLogin, SESSION_METHODS, sspiLogin, tokenLogin } from '../../../src/session/strategies.ts';
import { LocalTicketError } from '../../../src/session/local-ticket.ts';
import { extensionCertificate } from '../../harness/tls-fixtures.ts';
import { TokenError } from '../../../src/session/token.ts';

const SM = { type: 'SessionManager' as const, value: 'SessionManager' };
const ASSERTION = '<saml2:Assertion xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion" ID="_abc"><saml2:Subject/></saml2:Assertion>';

function context(answer: (method: string, args: Record<string, unknown>, options?: InvokeOptions) => unknown) {
  const sent: { method: string; args: Record<string, unknown>; options?: InvokeOptions }[] = [];
  const ctx: LoginContext = {
    signal: undefined,
    sessionManager: SM,
    invoke: async (method, _this, args, options) => {
      sent.push({ method, args: args as Record<string, unknown>, ...(options && { options }) });
      const r = answer(method, args as Record<string, unknown>, options);
      if (r instanceof Error) throw r;
      return r;
    },
    mutualTls: () => {
      throw new Error('not used');
    },
    adoptSessionId: () => undefined,
    forgetSessionId: () => undefined,
    sessionId: () => undefined,
  };
  return { ctx, sent };
}

describe('login strategies', () => {
  it('password: Login with the locale when given; replayable', async () => {
    const { ctx, sent } = context(() => ({ userName: 'u' }));
    const s = passwordLogin('u', 'p', 'de_DE');
    expect(s.replayable).toBe(true);
    await s.login(ctx);
    expect(sent).toEqual([{ method: 'Login', args: { userName: 'u', password: 'p', locale: 'de_DE' } }]);
  });

  it('clone ticket: CloneSession, not replayable', async () => {
    const { ctx, sent } = context(() => ({ userName: 'u' }));
    const s = cloneTicketLogin('cst-1');
    expect(s.replayable).toBe(false);
    await s.login(ctx);
    expect(sent.map((x) => x.method)).toEqual(['CloneSession']);
  });

  it('token: the assertion string, a SamlToken or a provider; only a provider is replayable; the token goes in the header', async () => {
    for (const source of [ASSERTION, { assertion: ASSERTION }]) {
      const { ctx, sent } = context(() => ({ userName: 'u' }));
      const s = tokenLogin(source);
      expect(s.replayable).toBe(false);
      await s.login(ctx);
      expect(sent[0]!.method).toBe('LoginByToken');
      expect(sent[0]!.options?.header?.security).toContain(ASSERTION);
      expect(JSON.stringify(sent[0]!.args)).not.toContain('Assertion');
    }
    let asked = 0;
    const provider = tokenLogin(async () => {
      asked++;
      return ASSERTION;
    });
    expect(provider.replayable).toBe(true);
    const { ctx } = context(() => ({ userName: 'u' }));
    await provider.login(ctx);
    await provider.login(ctx);
    expect(asked).toBe(2);
    expect(() => tokenLogin(42 as never)).toThrow(TypeError);
    await expect(tokenLogin('<notsaml/>').login(ctx)).rejects.toBeInstanceOf(TokenError);
  });

  it('SSPI: answers each challenge with the next token, and gives up after 10 rounds', async () => {
    let round = 0;
    const { ctx, sent } = context((_m, args) => {
      round++;
      if (args.base64Token === 'final') return { userName: 'u' };
      return new VimFault('LoginBySSPI', { _typeName: 'SSPIChallenge', base64Token: `c${round}` }, '');
    });
    await sspiLogin('first', async (challenge) => (challenge === 'c2' ? 'final' : `t-${challenge}`)).login(ctx);
    expect(sent.map((x) => x.args.base64Token)).toEqual(['first', 't-c1', 'final']);
    const endless = context(() => new VimFault('LoginBySSPI', { _typeName: 'SSPIChallenge', base64Token: 'again' }, ''));
    await expect(sspiLogin('first', async () => 'more').login(endless.ctx)).rejects.toThrow(/10 rounds/);
    expect(endless.sent).toHaveLength(10);
  });

  it('extension: the login runs on the mutual-TLS channel under the login\'s signal, adopts its session and closes it', async () => {
    const signal = new AbortController().signal;
    const calls: { method: string; options?: InvokeOptions }[] = [];
    let closed = false;
    let adopted: string | undefined;
    const { ctx } = context(() => new Error('not on the client\'s own connection'));
    // A certificate the secrets test makes too: no key of its own to generate on a fresh machine.
    const s = extensionLogin('LoginExtensionByCertificate', 'com.example.ext', extensionCertificate({ commonName: 'secret-test' }));
    await s.login({
      ...ctx,
      signal,
      adoptSessionId: (id) => {
        adopted = id;
      },
      mutualTls: () => ({
        invoke: async (method, _this, _args, options) => {
          calls.push({ method, ...(options && { options }) });
          return { userName: 'com.example.ext' };
        },
        sessionId: () => 'mtls-session',
        close: () => {
          closed = true;
        },
      }),
    });
    expect(calls).toEqual([{ method: 'LoginExtensionByCertificate', options: { signal } }]);
    expect(adopted).toBe('mtls-session');
    expect(closed).toBe(true);
  });

  it('password without a locale sends none; each strategy names its kind', async () => {
    const { ctx, sent } = context(() => ({ userName: 'u' }));
    await passwordLogin('u', 'p').login(ctx);
    expect(sent).toEqual([{ method: 'Login', args: { userName: 'u', password: 'p' } }]);
    const cert = extensionCertificate({ commonName: 'secret-test' });
    expect([
      passwordLogin('u', 'p'), cloneTicketLogin('t'), tokenLogin(ASSERTION), sspiLogin('x', async () => 'y'),
      extensionLogin('LoginExtensionByCertificate', 'k', cert), extensionLogin('LoginExtensionBySubjectName', 'k', cert),
      localTicketLogin('https://127.0.0.1/sdk', 'u'),
    ].map((s) => [s.kind, s.replayable])).toEqual([
      ['password', true], ['cloneTicket', false], ['token', false], ['sspi', false],
      ['certificate', true], ['subjectName', true], ['localTicket', false],
    ]);
  });

  it('the locale reaches every login that takes one', async () => {
    const { ctx, sent } = context(() => ({ userName: 'u' }));
    await tokenLogin(ASSERTION, 'fr').login(ctx);
    await tokenLogin(ASSERTION).login(ctx);
    await sspiLogin('first', async () => 'x', 'fr').login(ctx);
    expect(sent.map((x) => x.args)).toEqual([{ locale: 'fr' }, {}, { base64Token: 'first', locale: 'fr' }]);
  });

  it('a bad argument is a TypeError before anything is sent', () => {
    const cert = extensionCertificate({ commonName: 'secret-test' });
    expect(() => passwordLogin(1 as never, 'p')).toThrow(new TypeError('login needs { username, password } as strings'));
    expect(() => passwordLogin('u', undefined as never)).toThrow(new TypeError('login needs { username, password } as strings'));
    expect(() => cloneTicketLogin('')).toThrow(new TypeError('cloneSession needs a clone ticket string'));
    expect(() => cloneTicketLogin(3 as never)).toThrow(new TypeError('cloneSession needs a clone ticket string'));
    expect(() => extensionLogin('LoginExtensionBySubjectName', '', cert)).toThrow(new TypeError('LoginExtensionBySubjectName needs an extensionKey'));
    expect(() => extensionLogin('LoginExtensionByCertificate', undefined as never, cert)).toThrow(new TypeError('LoginExtensionByCertificate needs an extensionKey'));
    expect(() => sspiLogin('', async () => '')).toThrow(new TypeError('loginBySSPI needs the first base64 token'));
    expect(() => sspiLogin(undefined as never, async () => '')).toThrow(new TypeError('loginBySSPI needs the first base64 token'));
    expect(() => sspiLogin('t', 'next' as never)).toThrow(new TypeError('loginBySSPI needs next(challenge) to answer challenges'));
    expect(() => tokenLogin({} as never)).toThrow(TypeError);
    expect(() => tokenLogin(undefined as never)).toThrow(TypeError);
  });

  it('SSPI: a fault that is not a challenge ends the login; a challenge without a token is answered from an empty one', async () => {
    const refused = context(() => new VimFault('LoginBySSPI', { _typeName: 'InvalidLogin' }, 'no'));
    await expect(sspiLogin('first', async () => 'x').login(refused.ctx)).rejects.toMatchObject({ faultName: 'InvalidLogin' });
    expect(refused.sent).toHaveLength(1);
    const challenges: string[] = [];
    const { ctx } = context((_m, args) => (args.base64Token === 'done' ? { userName: 'u' } : new VimFault('LoginBySSPI', { _typeName: 'SSPIChallenge' }, '')));
    await sspiLogin('first', async (c) => {
      challenges.push(c);
      return 'done';
    }).login(ctx);
    expect(challenges).toEqual(['']);
  });

  it('extension: a login whose channel set no session cookie is ENOSESSION, and the channel is closed all the same', async () => {
    let closed = 0;
    let adopted = 0;
    const { ctx } = context(() => undefined);
    const s = extensionLogin('LoginExtensionBySubjectName', 'com.example.ext', extensionCertificate({ commonName: 'secret-test' }), 'de');
    const args: unknown[] = [];
    const err = await s.login({
      ...ctx,
      adoptSessionId: () => {
        adopted++;
      },
      mutualTls: () => ({
        invoke: async (_method, _this, a) => {
          args.push(a);
          return { userName: 'x' };
        },
        sessionId: () => undefined,
        close: () => {
          closed++;
        },
      }),
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'TransportError', code: 'ENOSESSION', message: 'LoginExtensionBySubjectName succeeded but the server set no session cookie' });
    expect(args).toEqual([{ extensionKey: 'com.example.ext', locale: 'de' }]);
    expect({ closed, adopted }).toEqual({ closed: 1, adopted: 0 });
  });

  it('local ticket: only for a server on this host', () => {
    expect(() => localTicketLogin('https://vc.example.com/sdk', 'u')).toThrow(LocalTicketError);
    expect(() => localTicketLogin('https://vc.example.com/sdk', 'u')).toThrow("local tickets are files on the server's host: vc.example.com is not this host");
  });

  it('SESSION_METHODS: the methods that make or end a session, and only those', () => {
    expect([...SESSION_METHODS].sort()).toEqual([
      'CloneSession', 'ImpersonateUser', 'Login', 'LoginBySSPI', 'LoginByToken', 'LoginExtensionByCertificate', 'LoginExtensionBySubjectName', 'Logout',
    ]);
  });
});
