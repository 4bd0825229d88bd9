import { describe, expect, it } from 'vitest';
import { TransportError, VimFault, isVimFault } from '../../../src/errors.ts';
import { methodInfo } from '../../../src/binding/metadata.ts';
import { failedAnswer, vimFault } from '../../../src/soap/faults.ts';

const info = methodInfo('PowerOnVM_Task')!;
const fault500 = '<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>The operation is not allowed in the current state.</faultstring><detail><InvalidPowerStateFault xmlns="urn:vim25" xsi:type="InvalidPowerState"><requestedState>poweredOn</requestedState><existingState>poweredOn</existingState></InvalidPowerStateFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>';

describe('faults', () => {
  it('a VimFault knows its ancestors', () => {
    const f = vimFault('PowerOnVM_Task', { _typeName: 'InvalidPowerState' }, 'x');
    expect(f.is('InvalidState')).toBe(true);
    expect(f.is('VimFault')).toBe(true);
    expect(f.is('RuntimeFault')).toBe(false);
    expect(isVimFault(f, 'MethodFault')).toBe(true);
  });

  it('an HTTP 500 with a SOAP fault is the VimFault it carries', () => {
    const err = failedAnswer(info, 500, fault500, {});
    expect(err).toBeInstanceOf(VimFault);
    expect((err as VimFault).faultName).toBe('InvalidPowerState');
    expect((err as VimFault).fault).toMatchObject({ requestedState: 'poweredOn' });
    expect((err as VimFault).faultString).toMatch(/not allowed/);
  });

  it.each([
    [500, '<html>Internal Server Error</html>'],
    [503, '<html><body>Service Unavailable</body></html>'],
    [500, fault500.slice(0, 200)],
  ])('HTTP %i without a decodable fault is a TransportError with an excerpt', (status, text) => {
    const err = failedAnswer(info, status, text, {});
    expect(err).toBeInstanceOf(TransportError);
    expect(err).toMatchObject({ status, code: `HTTP_${status}` });
    expect((err as TransportError).excerpt).toBeTruthy();
  });
});
