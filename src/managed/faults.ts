// Faults that arrive as data rather than as a SOAP fault: a failed task's TaskInfo.error (and
// other LocalizedMethodFault fields). They become the same VimFault a SOAP fault would, so
// `is('InvalidState')` answers alike whether a method failed at once or its task failed later.
import type { VimFault } from '../errors.ts';
import { vimFault } from '../binding/decode.ts';
import type { LocalizedMethodFault } from '../generated/types.ts';

/**
 * The VimFault for a LocalizedMethodFault, e.g. a failed task's `info.error`, attributed to
 * `method` (the method that started the task). Its fault hierarchy is known: a failed
 * PowerOnVM_Task's InvalidPowerState `is('InvalidState')` and `is('VimFault')`.
 */
export function faultFromLocalized(method: string, error: LocalizedMethodFault): VimFault {
  // Decoded faults always carry _typeName; one built by hand may not, and is then a MethodFault.
  const fault = error.fault as Record<string, unknown> & { _typeName?: string | undefined };
  const typed = typeof fault._typeName === 'string' ? (fault as typeof fault & { _typeName: string }) : { ...fault, _typeName: 'MethodFault' };
  return vimFault(method, typed, error.localizedMessage ?? '');
}
