// VI/JSON reads one property of one managed object with a GET of
// /sdk/vim25/{release}/{Type}/{moId}/{property} (top-level properties only: "nested properties
// are not directly accessible", the programming guide). A RetrievePropertiesEx that asks for
// nothing more than that (one object, no traversal, one top-level property the model knows) is
// such a read: `propertyRead` recognizes it, and `propertyResult` gives the call the
// RetrieveResult the PropertyCollector would have answered, so that a caller (retrieveOne, the
// session's currentSession) gets the same value, the same decoded types and the same faults on
// either wire. Anything else stays a RetrievePropertiesEx POST.
import type { VimFault } from '../errors.ts';
import { MOREF, type MethodInfo } from '../binding/metadata.ts';
import { isManagedSubtype, propertyDeclaration } from '../managed/checks.ts';
import type { ManagedTypeName } from '../generated/managed.ts';
import type { SoapCall } from './pipeline.ts';

type Obj = Record<string, unknown>;

export interface PropertyRead {
  readonly ref: { readonly type: string; readonly value: string };
  readonly property: string;
  /** RetrievePropertiesEx with the property's declared type as its result: what the GET's answer is decoded by. */
  readonly info: MethodInfo;
}

const TOP_LEVEL = /^[A-Za-z_]\w*$/;

/** True when `o` is an object with no keys but `allowed` (and `_typeName` naming `type`). */
function only(o: unknown, type: string, allowed: readonly string[]): o is Obj {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return false;
  for (const key of Object.keys(o)) {
    const v = (o as Obj)[key];
    if (v === undefined) continue;
    if (key === '_typeName' ? v !== type : !allowed.includes(key)) return false;
  }
  return true;
}

const absentOrFalse = (v: unknown): boolean => v === undefined || v === false;

/** The property GET a call is, or undefined when it must stay a POST. */
export function propertyRead(call: SoapCall): PropertyRead | undefined {
  if (call.info.name !== 'RetrievePropertiesEx' || call.options.prebuilt) return undefined;
  const args = call.args as { specSet?: unknown; options?: unknown } | undefined;
  if (!only(args, 'RetrievePropertiesExRequestType', ['specSet', 'options'])) return undefined;
  const options = args.options;
  if (options !== undefined && !(only(options, 'RetrieveOptions', ['maxObjects'])
    && (options.maxObjects === undefined || (Number.isInteger(options.maxObjects) && (options.maxObjects as number) > 0)))) return undefined;
  const specSet = args.specSet;
  if (!Array.isArray(specSet) || specSet.length !== 1) return undefined;
  const spec: unknown = specSet[0];
  if (!only(spec, 'PropertyFilterSpec', ['propSet', 'objectSet', 'reportMissingObjectsInResults']) || !absentOrFalse(spec.reportMissingObjectsInResults)) return undefined;
  const { objectSet, propSet } = spec;
  if (!Array.isArray(objectSet) || objectSet.length !== 1 || !Array.isArray(propSet) || propSet.length !== 1) return undefined;
  const os: unknown = objectSet[0];
  const ps: unknown = propSet[0];
  if (!only(os, 'ObjectSpec', ['obj', 'skip', 'selectSet']) || !absentOrFalse(os.skip)) return undefined;
  if (os.selectSet !== undefined && !(Array.isArray(os.selectSet) && os.selectSet.length === 0)) return undefined;
  if (!only(ps, 'PropertySpec', ['type', 'all', 'pathSet']) || !absentOrFalse(ps.all)) return undefined;
  const obj = os.obj as { type?: unknown; value?: unknown } | undefined;
  const { pathSet } = ps;
  if (typeof obj?.type !== 'string' || typeof obj.value !== 'string' || obj.type === '' || obj.value === '') return undefined;
  if (typeof ps.type !== 'string' || !Array.isArray(pathSet) || pathSet.length !== 1) return undefined;
  const property: unknown = pathSet[0];
  if (typeof property !== 'string' || !TOP_LEVEL.test(property)) return undefined;
  // The object must be of the spec's type (or a subtype), or the collector would report none of its properties.
  if (obj.type !== ps.type && !isManagedSubtype(obj.type, ps.type as ManagedTypeName)) return undefined;
  // A property the model does not know (a newer server's, a misspelt one) is left to the collector.
  const declared = propertyDeclaration(obj.type, property);
  if (!declared) return undefined;
  const info: MethodInfo = {
    ...call.info,
    result: { name: property, type: declared.reference ? MOREF : declared.type, array: declared.array, optional: true, secret: false },
  };
  return { ref: { type: obj.type, value: obj.value }, property, info };
}

/**
 * Faults that concern the property rather than the call: the PropertyCollector reports them in
 * the object's missingSet, where a GET can only answer them as the fault. The reference's
 * MissingProperty names SystemError ("some unknown problem reading the value") and SecurityError
 * ("did not have permission to read the value"); a property the model has and the server's
 * object lacks is InvalidProperty there too (the simulator's missingSet for a newer property;
 * a property the model does not know is never sent as a GET). NotAuthenticated (a SecurityError
 * too) and ManagedObjectNotFound are the call's: the session policy re-authenticates on the first.
 */
function missingProperty(fault: VimFault): boolean {
  return (fault.is('SecurityError') || fault.is('SystemError') || fault.is('InvalidProperty')) && !fault.is('NotAuthenticated');
}

export type PropertyAnswer =
  | { readonly kind: 'value'; readonly value: unknown }
  | { readonly kind: 'unset' }
  | { readonly kind: 'fault'; readonly fault: VimFault };

/** The RetrieveResult the collector answers for the read: the value, nothing for an unset property, or the fault in missingSet; a fault of the call is thrown. */
export function propertyResult(read: PropertyRead, answer: PropertyAnswer): Obj {
  const content: Obj = { _typeName: 'ObjectContent', obj: { type: read.ref.type, value: read.ref.value } };
  if (answer.kind === 'fault') {
    const { fault } = answer;
    if (!missingProperty(fault)) throw fault;
    const localized: Obj = { _typeName: 'LocalizedMethodFault', fault: fault.fault };
    if (fault.faultString !== '') localized.localizedMessage = fault.faultString;
    content.missingSet = [{ _typeName: 'MissingProperty', path: read.property, fault: localized }];
  } else if (answer.kind === 'value' && answer.value !== undefined) {
    // An empty array too: the collector reports it (an empty ArrayOf...), not as unset.
    content.propSet = [{ _typeName: 'DynamicProperty', name: read.property, val: answer.value }];
  }
  return { _typeName: 'RetrieveResult', objects: [content] };
}
