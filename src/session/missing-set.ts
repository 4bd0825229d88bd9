// A PropertyCollector answer can be a 200 whose missingSet says NotAuthenticated: the session
// died while the server was collecting. The session layer treats that like the fault itself.
import { isSubtypeOf } from '../binding/metadata.ts';
import { vimFault } from '../soap/faults.ts';
import type { VimFault } from '../errors.ts';

type Obj = Record<string, unknown>;
type MissingProperty = { path?: string; fault?: { fault?: Obj & { _typeName?: string }; localizedMessage?: string } };

function fromMissingSet(method: string, objects: unknown): VimFault | undefined {
  if (!Array.isArray(objects)) return undefined;
  for (const o of objects as { missingSet?: MissingProperty[] }[]) {
    for (const m of o?.missingSet ?? []) {
      const f = m.fault?.fault;
      const name = f?._typeName;
      if (name && (name === 'NotAuthenticated' || isSubtypeOf(name, 'NotAuthenticated'))) {
        return vimFault(method, f as Obj & { _typeName: string }, m.fault?.localizedMessage ?? `missingSet: ${m.path ?? ''}`);
      }
    }
  }
  return undefined;
}

/** The NotAuthenticated fault hidden in a PropertyCollector result, if any. */
export function notAuthenticatedInResult(method: string, value: unknown): VimFault | undefined {
  switch (method) {
    case 'RetrieveProperties':
      return fromMissingSet(method, value);
    case 'RetrievePropertiesEx':
    case 'ContinueRetrievePropertiesEx':
      return fromMissingSet(method, (value as { objects?: unknown } | undefined)?.objects);
    case 'WaitForUpdates':
    case 'WaitForUpdatesEx':
    case 'CheckForUpdates':
      for (const f of ((value as { filterSet?: { objectSet?: unknown }[] } | undefined)?.filterSet ?? [])) {
        const fault = fromMissingSet(method, f.objectSet);
        if (fault) return fault;
      }
      return undefined;
    default:
      return undefined;
  }
}
