// A session that dies while the PropertyCollector collects shows up as a 200 whose missingSet
// carries NotAuthenticated; each result shape is searched where that method's answer keeps it.
import { describe, expect, it } from 'vitest';
import { VimFault } from '../../../src/errors.ts';
import { notAuthenticatedInResult } from '../../../src/session/missing-set.ts';

const VM = { type: 'VirtualMachine', value: 'vm-1' };
const missing = (fault: string, localizedMessage?: string) => ({
  path: 'name',
  fault: { _typeName: 'LocalizedMethodFault', fault: { _typeName: fault }, ...(localizedMessage !== undefined && { localizedMessage }) },
});
const objects = (fault: string, localizedMessage?: string) => [
  { obj: { type: 'VirtualMachine', value: 'vm-0' }, propSet: [] },
  { obj: VM, missingSet: [missing('NoPermission'), missing(fault, localizedMessage)] },
];
const updates = (fault: string) => ({ _typeName: 'UpdateSet', version: '2', filterSet: [{ objectSet: [] }, { objectSet: objects(fault) }] });

describe('notAuthenticatedInResult', () => {
  it.each([
    ['RetrieveProperties', objects('NotAuthenticated')],
    ['RetrievePropertiesEx', { _typeName: 'RetrieveResult', objects: objects('NotAuthenticated') }],
    ['ContinueRetrievePropertiesEx', { _typeName: 'RetrieveResult', objects: objects('NotAuthenticated') }],
    ['WaitForUpdates', updates('NotAuthenticated')],
    ['WaitForUpdatesEx', updates('NotAuthenticated')],
    ['CheckForUpdates', updates('NotAuthenticated')],
  ])('finds it in a %s answer, as a VimFault of that method', (method, value) => {
    const fault = notAuthenticatedInResult(method, value);
    expect(fault).toBeInstanceOf(VimFault);
    expect(fault).toMatchObject({ method, faultName: 'NotAuthenticated', faultString: 'missingSet: name' });
    // Its ancestry is known, as for a SOAP fault: callers branch on is('NoPermission') alike.
    expect(fault!.is('NoPermission')).toBe(true);
  });

  it('carries the server\'s localized message when there is one', () => {
    expect(notAuthenticatedInResult('RetrieveProperties', objects('NotAuthenticated', 'The session is not authenticated.'))?.faultString)
      .toBe('The session is not authenticated.');
  });

  it('ignores other faults, its own ancestors included (a NoPermission is a property the user may not read)', () => {
    for (const fault of ['NoPermission', 'SecurityError', 'InvalidProperty']) {
      expect(notAuthenticatedInResult('RetrievePropertiesEx', { objects: objects(fault) })).toBeUndefined();
      expect(notAuthenticatedInResult('WaitForUpdatesEx', updates(fault))).toBeUndefined();
    }
  });

  it('looks only where each method keeps its objects', () => {
    // A RetrieveResult given as RetrieveProperties (which answers with a bare array), and the reverse.
    expect(notAuthenticatedInResult('RetrieveProperties', { objects: objects('NotAuthenticated') })).toBeUndefined();
    expect(notAuthenticatedInResult('RetrievePropertiesEx', objects('NotAuthenticated'))).toBeUndefined();
    expect(notAuthenticatedInResult('CurrentTime', objects('NotAuthenticated'))).toBeUndefined();
    expect(notAuthenticatedInResult('RetrieveServiceContent', { objects: objects('NotAuthenticated') })).toBeUndefined();
  });

  it('takes empty and odd answers in its stride', () => {
    // RetrievePropertiesEx and WaitForUpdatesEx answer nothing at all when there is nothing to say.
    for (const method of ['RetrieveProperties', 'RetrievePropertiesEx', 'WaitForUpdatesEx']) {
      for (const value of [undefined, null, {}, [], { objects: 'x' }, { filterSet: [{}] }, [{ missingSet: [{ path: 'name' }] }]]) {
        expect(notAuthenticatedInResult(method, value)).toBeUndefined();
      }
    }
  });
});
