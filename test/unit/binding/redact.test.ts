import { describe, expect, it } from 'vitest';
import { methodInfo } from '../../../src/binding/metadata.ts';
import { REDACTED, redactArgs } from '../../../src/binding/redact.ts';

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
