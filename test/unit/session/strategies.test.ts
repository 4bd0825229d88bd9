// Login strategies with a scripted invoke: what each sends, whether it can be replayed, and how
// it fails.
import { describe, expect, it } from 'vitest';
import { VimFault } from '../../../src/errors.ts';
import type { InvokeOptions } from '../../../src/soap/pipeline.ts';
import type { LoginContext } from '../../../src/session/strategies.ts';
import { cloneTicketLogin, extensionLogin, passwordLogin, sspiLogin, tokenLogin } from '../../../src/session/strategies.ts';
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
});

