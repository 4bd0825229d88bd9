// The one place answers become VimFaults: SOAP faults (with their vim25 fault object), HTTP
// failures that carry one, and faults found inside results (a missingSet entry, a TaskInfo
// error). Each VimFault knows its type's ancestors, so `is()` works the same for all.
import { TransportError, VimFault } from '../errors.ts';
import { decodeResponseText, type DecodedFault, type DecodeLimits } from '../binding/decode.ts';
import { ancestorsOf, type MethodInfo } from '../binding/metadata.ts';
import type { LocalizedMethodFault } from '../generated/types.ts';
import { excerpt } from '../transport/http.ts';

/** A VimFault that knows its type's place in the vim25 fault hierarchy. */
export function vimFault(method: string, fault: Record<string, unknown> & { _typeName: string }, faultString: string): VimFault {
  return new VimFault(method, fault, faultString, ancestorsOf(fault._typeName));
}

/** A decoded SOAP fault as the error callers see. */
export function faultError(method: string, fault: DecodedFault): VimFault {
  return vimFault(method, fault.detail ?? { _typeName: 'MethodFault' }, fault.faultString);
}

/**
 * A non-200 answer, read whole: vim25 sends faults with HTTP 500; anything else (a 503 page
 * from a proxy, a 404) is an HTTP failure.
 */
export function failedAnswer(info: MethodInfo, status: number, text: string, limits: DecodeLimits): VimFault | TransportError {
  if (status === 500 && text.includes('Fault')) {
    try {
      const decoded = decodeResponseText(info, text, limits, status);
      if (decoded.kind === 'fault') return faultError(info.name, decoded.fault);
    } catch {
      // Not a decodable SOAP fault: reported below as what it is, a bad HTTP answer.
    }
  }
  return new TransportError(`${info.name}: HTTP ${status} without a SOAP answer`, { status, code: `HTTP_${status}`, excerpt: excerpt(text) });
}

/**
 * The VimFault for a LocalizedMethodFault, e.g. a failed task's `info.error`, attributed to
 * `method` (the method that started the task). Its fault hierarchy is known: a failed
 * PowerOnVM_Task's InvalidPowerState `is('InvalidState')` and `is('VimFault')`, as if the
 * method had failed at once.
 */
export function faultFromLocalized(method: string, error: LocalizedMethodFault): VimFault {
  // Decoded faults always carry _typeName; one built by hand may not, and is then a MethodFault.
  const fault = (error.fault ?? {}) as Record<string, unknown> & { _typeName?: string | undefined };
  const typed = typeof fault._typeName === 'string' ? (fault as typeof fault & { _typeName: string }) : { ...fault, _typeName: 'MethodFault' };
  return vimFault(method, typed, error.localizedMessage ?? '');
}
