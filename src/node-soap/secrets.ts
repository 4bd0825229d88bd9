// What of a node-soap exchange must not stay readable on the client: node-soap keeps the last
// request envelope, its body and the last answer as plain properties (lastRequest, lastMessage,
// lastResponse) for as long as the client lives. The adapter stores them redacted: the values
// of fields the generated metadata marks secret (passwords, clone tickets, SSPI tokens, session
// ids, keys) and any WS-Security header (a SAML assertion, a UsernameToken password).
import { MOREF, typeInfo, type FieldInfo, type TypeInfo } from '../binding/metadata.ts';
import { REDACTED } from '../binding/redact.ts';
import { escapeText } from '../binding/xml.ts';

type Obj = Record<string, unknown>;

function collect(type: TypeInfo | undefined, value: unknown, out: Set<string>, depth: number): void {
  if (value === null || typeof value !== 'object' || depth > 32) return;
  if (Array.isArray(value)) {
    for (const v of value) collect(type, v, out, depth + 1);
    return;
  }
  if (value instanceof Date || value instanceof Uint8Array) return;
  const obj = value as Obj;
  const concrete = typeof obj._typeName === 'string' ? typeInfo(obj._typeName) ?? type : type;
  for (const [k, v] of Object.entries(obj)) {
    const field = concrete?.fieldMap.get(k);
    if (field?.secret) addSecret(v, out);
    else if (field && field.type !== MOREF) collect(typeInfo(field.type), v, out, depth + 1);
    else if (!field) collect(undefined, v, out, depth + 1);
  }
}

function addSecret(v: unknown, out: Set<string>): void {
  if (Array.isArray(v)) for (const item of v) addSecret(item, out);
  else if (typeof v === 'string' && v !== '') out.add(v);
}

/** The secret strings in `value` of type `type` (a request type, a result, a fault), found by the declared and `_typeName` types. */
export function secretsIn(type: TypeInfo | undefined, value: unknown): Set<string> {
  const out = new Set<string>();
  collect(type, value, out, 0);
  return out;
}

/** A result field's secrets: the field itself when it is marked secret (AcquireCloneTicket's string), else inside its type. */
export function secretsInResult(result: FieldInfo | undefined, value: unknown): Set<string> {
  if (!result) return new Set();
  if (result.secret) {
    const out = new Set<string>();
    addSecret(value, out);
    return out;
  }
  return secretsIn(typeInfo(result.type), value);
}

const SECURITY_HEADER = /(<([\w.-]+:)?Security\b[^>]*>)[\s\S]*?(<\/\2Security>)/g;

/**
 * `xml` with the text of every element whose whole content is one of `secrets` replaced, and
 * the content of any WS-Security header. Only whole element contents are replaced, so a short
 * password never mangles tag names; an unrelated element that happens to hold the same text is
 * redacted too, which is harmless.
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
