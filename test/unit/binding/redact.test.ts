import { describe, expect, it } from 'vitest';
import { methodInfo } from '../../../src/binding/metadata.ts';
import { REDACTED, redactArgs, redactXml, secretsIn, secretsInResult } from '../../../src/binding/redact.ts';

describe('redactArgs (driven by the metadata secret flag)', () => {
  it('redacts top-level secrets', () => {
    expect(redactArgs(methodInfo('Login')!, { userName: 'u', password: 'p@ss', locale: 'en' })).toEqual({ userName: 'u', password: REDACTED, locale: 'en' });
    expect(redactArgs(methodInfo('CloneSession')!, { cloneTicket: 'cst-VCT-1' })).toEqual({ cloneTicket: REDACTED });
    expect(redactArgs(methodInfo('LoginBySSPI')!, { base64Token: 'YWJj' })).toEqual({ base64Token: REDACTED });
    expect(redactArgs(methodInfo('TerminateSession')!, { sessionId: ['a', 'b'] })).toEqual({ sessionId: REDACTED });
  });

  it('redacts nested secrets through declared types and _typeName subtypes', () => {
    const args = {
      vm: { type: 'VirtualMachine', value: 'vm-1' },
      auth: { _typeName: 'NamePasswordAuthentication', username: 'root', password: 'guest-secret', interactiveSession: false },
      spec: { _typeName: 'GuestProgramSpec', programPath: '/bin/true', arguments: '' },
    };
    const out = redactArgs(methodInfo('StartProgramInGuest')!, args) as typeof args;
    expect(out.auth.password).toBe(REDACTED);
    expect(out.auth.username).toBe('root');
    expect(out.vm).toEqual(args.vm);
    expect(JSON.stringify(out)).not.toContain('guest-secret');
  });

  it('leaves ordinary arguments alone', () => {
    const args = { specSet: [{ propSet: [{ type: 'VirtualMachine', pathSet: ['name'] }], objectSet: [{ obj: { type: 'Folder', value: 'f' } }] }], options: {} };
    expect(redactArgs(methodInfo('RetrievePropertiesEx')!, args)).toEqual(args);
  });
});

describe('the secrets redaction finds, for XML written or read for a call', () => {
  it('are the strings redaction replaces, in arguments, results and fault objects', () => {
    const login = methodInfo('Login')!;
    expect(secretsIn(login.request, { userName: 'u', password: 'p@ss' })).toEqual(new Set(['p@ss']));
    expect(secretsIn(methodInfo('TerminateSession')!.request, { sessionId: ['a', 'b'] })).toEqual(new Set(['a', 'b']));
    expect(secretsIn(methodInfo('StartProgramInGuest')!.request, { auth: { _typeName: 'NamePasswordAuthentication', username: 'root', password: 'guest-secret' } })).toEqual(new Set(['guest-secret']));
    // A fault object names its own type.
    expect(secretsIn(undefined, { _typeName: 'SSPIChallenge', base64Token: 'Y2hhbGxlbmdl' })).toEqual(new Set(['Y2hhbGxlbmdl']));
    expect(secretsInResult(methodInfo('AcquireCloneTicket')!, 'cst-VCT-1')).toEqual(new Set(['cst-VCT-1']));
    expect(secretsInResult(login, { _typeName: 'UserSession', key: 'session-key', userName: 'u' })).toEqual(new Set(['session-key']));
    expect(secretsInResult(methodInfo('CurrentTime')!, new Date())).toEqual(new Set());
  });

  it('are cut out of XML as whole element contents, with any WS-Security header', () => {
    const xml = '<e:Envelope><e:Header><wsse:Security xmlns:wsse="x"><saml:Assertion>token</saml:Assertion></wsse:Security></e:Header><e:Body><Login><userName>p</userName><password>p</password><locale>a&lt;b</locale></Login></e:Body></e:Envelope>';
    expect(redactXml(xml, new Set(['p', 'a<b']))).toBe(`<e:Envelope><e:Header><wsse:Security xmlns:wsse="x">${REDACTED}</wsse:Security></e:Header><e:Body><Login><userName>${REDACTED}</userName><password>${REDACTED}</password><locale>${REDACTED}</locale></Login></e:Body></e:Envelope>`);
  });
});
