// A copy of call arguments safe to log: fields the generated metadata marks secret (passwords,
// tickets, tokens, session ids, keys) are replaced, following the declared and _typeName types.
import { MOREF, typeInfo, type MethodInfo, type TypeInfo } from './metadata.ts';

export const REDACTED = '[redacted]';

function redactValue(type: TypeInfo | undefined, value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object' || depth > 32) return value;
  if (Array.isArray(value)) return value.map((v) => redactValue(type, v, depth + 1));
  if (value instanceof Date || value instanceof Uint8Array) return value;
  const obj = value as Record<string, unknown>;
  const concrete = typeof obj._typeName === 'string' ? typeInfo(obj._typeName) ?? type : type;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    const field = concrete?.fieldMap.get(k);
    if (field?.secret) out[k] = REDACTED;
    else if (field && field.type !== MOREF) out[k] = redactValue(typeInfo(field.type), v, depth + 1);
    else out[k] = field ? v : redactValue(undefined, v, depth + 1);
  }
  return out;
}

/** `args` of `method` with every secret field replaced by "[redacted]". */
export function redactArgs(method: MethodInfo, args: object | undefined): unknown {
  return redactValue(method.request, args ?? {}, 0);
}

/** A decoded result of `method` safe to log: a secret result (a clone ticket) or secret fields (a session key) replaced. */
export function redactResult(method: MethodInfo, value: unknown): unknown {
  const result = method.result;
  if (!result || value === undefined) return value;
  if (result.secret) return REDACTED;
  return redactValue(result.type === MOREF ? undefined : typeInfo(result.type), value, 0);
}
