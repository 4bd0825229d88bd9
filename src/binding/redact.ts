// What of a call may be shown: copies of arguments and results with the fields the generated
// metadata marks secret (passwords, tickets, tokens, session ids, keys) replaced, following the
// declared and _typeName types, and the same secrets cut out of XML written or read for the call
// (a request as sent, an answer node-soap keeps). One walk finds the secrets for both.
import { MOREF, typeInfo, type MethodInfo, type TypeInfo } from './metadata.ts';
import { escapeText } from './xml.ts';

export const REDACTED = '[redacted]';

/** The secret strings a redacted value held: whole strings, or each string of an array. */
function collect(value: unknown, found: Set<string>): void {
  if (Array.isArray(value)) for (const v of value) collect(v, found);
  else if (typeof value === 'string' && value !== '') found.add(value);
}

function redactValue(type: TypeInfo | undefined, value: unknown, depth: number, found: Set<string> | undefined): unknown {
  if (value === null || typeof value !== 'object' || depth > 32) return value;
  if (Array.isArray(value)) return value.map((v) => redactValue(type, v, depth + 1, found));
  if (value instanceof Date || value instanceof Uint8Array) return value;
  const obj = value as Record<string, unknown>;
  const concrete = typeof obj._typeName === 'string' ? typeInfo(obj._typeName) ?? type : type;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    const field = concrete?.fieldMap.get(k);
    if (field?.secret) {
      if (found) collect(v, found);
      out[k] = REDACTED;
    } else if (field && field.type !== MOREF) out[k] = redactValue(typeInfo(field.type), v, depth + 1, found);
    else out[k] = field ? v : redactValue(undefined, v, depth + 1, found);
  }
  return out;
}

function redactedResult(method: MethodInfo, value: unknown, found: Set<string> | undefined): unknown {
  const result = method.result;
  if (!result || value === undefined) return value;
  if (result.secret) {
    if (found) collect(value, found);
    return REDACTED;
  }
  return redactValue(result.type === MOREF ? undefined : typeInfo(result.type), value, 0, found);
}

/** `args` of `method` with every secret field replaced by "[redacted]". */
export function redactArgs(method: MethodInfo, args: object | undefined): unknown {
  return redactValue(method.request, args ?? {}, 0, undefined);
}

/** A decoded result of `method` safe to log: a secret result (a clone ticket) or secret fields (a session key) replaced. */
export function redactResult(method: MethodInfo, value: unknown): unknown {
  return redactedResult(method, value, undefined);
}

/** The secret strings in `value` of declared type `type` (arguments, a fault object; `_typeName` names subtypes). */
export function secretsIn(type: TypeInfo | undefined, value: unknown): Set<string> {
  const found = new Set<string>();
  redactValue(type, value, 0, found);
  return found;
}

/** The secret strings in a decoded result of `method`: the result itself when it is secret (AcquireCloneTicket's), else its secret fields. */
export function secretsInResult(method: MethodInfo, value: unknown): Set<string> {
  const found = new Set<string>();
  redactedResult(method, value, found);
  return found;
}

const SECURITY_HEADER = /(<([\w.-]+:)?Security\b[^>]*>)[\s\S]*?(<\/\2Security>)/g;

/**
 * `xml` with the text of every element whose whole content is one of `secrets` replaced, and
 * the content of any WS-Security header (a SAML assertion, a UsernameToken password). Only whole
 * element contents are replaced, so a short password never mangles tag names; an unrelated
 * element that happens to hold the same text is redacted too, which is harmless.
 */
export function redactXml(xml: string, secrets: ReadonlySet<string>): string {
  let out = xml.replace(SECURITY_HEADER, `$1${REDACTED}$3`);
  for (const s of secrets) {
    let escaped: string;
    try {
      escaped = escapeText(s, false, () => {
        throw new Error('unencodable');
      });
    } catch {
      continue; // the encoder refused it, so it was never sent
    }
    // Escaped as our encoder writes it; xml-crypto's serializer (holder-of-key signing) writes the same entities.
    out = out.split(`>${escaped}<`).join(`>${REDACTED}<`);
  }
  return out;
}
