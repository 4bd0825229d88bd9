// Small XML helpers shared by the encoder and the decoder.

export const VIM25_NS = 'urn:vim25';
export const XSD_NS = 'http://www.w3.org/2001/XMLSchema';
export const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';
/** Prefixes our requests use in xsi:type values; both are declared on the envelope. */
export const VIM_PREFIX = 'vim25:';
export const XSD_PREFIX = 'xsd:';

// XML 1.0 cannot carry C0 controls other than tab, LF and CR, nor lone surrogates or U+FFFE/U+FFFF.
const INVALID_XML_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const TEXT_SPECIAL = /[&<>\r]/g;
const ATTR_SPECIAL = /[&<>"\r\n\t]/g;
const ENTITY: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\r': '&#13;', '\n': '&#10;', '\t': '&#9;' };

/** Escapes text or an attribute value; calls `invalid` (which throws) for characters XML cannot carry. */
export function escapeText(value: string, attribute: boolean, invalid: () => never): string {
  if (INVALID_XML_CHAR.test(value)) invalid();
  return value.replace(attribute ? ATTR_SPECIAL : TEXT_SPECIAL, (c) => ENTITY[c]!);
}

export function isMoRef(value: unknown): value is { type: string; value: string } {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  if (typeof v.type !== 'string' || typeof v.value !== 'string') return false;
  for (const k in v) if (k !== 'type' && k !== 'value' && k !== '_typeName') return false;
  return v._typeName === undefined || v._typeName === 'ManagedObjectReference';
}

/** `prefix:local` -> `local`. */
export function localName(qname: string): string {
  const i = qname.indexOf(':');
  return i < 0 ? qname : qname.slice(i + 1);
}
