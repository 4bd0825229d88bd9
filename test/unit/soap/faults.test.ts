import { describe, expect, it } from 'vitest';
import { TransportError, VimFault, isVimFault } from '../../../src/errors.ts';
import { methodInfo } from '../../../src/binding/metadata.ts';
import { failedAnswer, faultError, vimFault } from '../../../src/soap/faults.ts';

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

  it('a SOAP fault in an answer that is not a 500 is no VimFault: vim25 sends faults with HTTP 500', () => {
    const err = failedAnswer(info, 503, fault500, {});
    expect(err).toBeInstanceOf(TransportError);
    expect(err).toMatchObject({ status: 503, code: 'HTTP_503', message: 'PowerOnVM_Task: HTTP 503 without a SOAP answer' });
  });

  it('a SOAP fault without a vim25 fault object in its detail is a MethodFault with the fault string', () => {
    const err = faultError('CurrentTime', { faultCode: 'ServerFaultCode', faultString: 'internal error', detail: undefined });
    expect(err).toMatchObject({ method: 'CurrentTime', faultName: 'MethodFault', faultString: 'internal error' });
    expect(err.is('MethodFault')).toBe(true);
  });
});

