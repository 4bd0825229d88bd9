// A small, fast, incremental XML reader for SOAP answers. It reads what vCenter and ESXi send
// (elements, attributes, character and entity references, CDATA, comments, the XML
// declaration) chunk by chunk, so a 30 MB answer never blocks the event loop in one piece,
// and it refuses what a SOAP answer never needs: DOCTYPE (and with it every entity
// definition and external reference), unknown entities, and malformed structure.

export interface XmlHandler {
  open(name: string, attributes: Record<string, string>): void;
  text(text: string): void;
  close(name: string): void;
}

/** Shared by every element without attributes (most of them): no allocation per element. */
export const NO_ATTRIBUTES: Readonly<Record<string, string>> = Object.freeze({});

export class XmlSyntaxError extends Error {
  override name = 'XmlSyntaxError';
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const REFERENCE = /&([^&;\s<]*)(;?)/g;
const ATTRIBUTE = /([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

function decodeReference(ref: string, body: string, semicolon: string): string {
  if (!semicolon) throw new XmlSyntaxError('bare & in character data');
  if (/^#x[0-9a-fA-F]+$|^#[0-9]+$/.test(body)) {
    const code = body.charCodeAt(1) === 120 /* x */ ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
    if (!(code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff))) {
      throw new XmlSyntaxError(`character reference ${ref} is not an XML character`);
    }
    return String.fromCodePoint(code);
  }
  const c = ENTITIES[body];
  if (c === undefined) throw new XmlSyntaxError(`unknown entity ${ref}`);
  return c;
}

/** Character data as the XML spec reads it: line ends normalised, references replaced. */
export function decodeCharacters(raw: string): string {
  let s = raw;
  if (s.indexOf('\r') >= 0) s = s.replace(/\r\n?/g, '\n');
  return s.indexOf('&') < 0 ? s : s.replace(REFERENCE, decodeReference);
}

export class XmlReader {
  private buf = '';
  private pendingBytes: Buffer = EMPTY;
  private readonly stack: string[] = [];
  private sawRoot = false;

  constructor(private readonly handler: XmlHandler) {}

  write(chunk: string): void {
    this.buf = this.buf.length ? this.buf + chunk : chunk;
    this.parse();
  }

  /**
   * Raw UTF-8 chunks, as they come off the socket. The unparsed tail is carried over as bytes
   * and decoded together with the next chunk, so the parser always scans one flat string
   * (a concatenated string would be read through a slow indirection).
   */
  writeBytes(chunk: Buffer): void {
    const bytes = this.pendingBytes.length ? Buffer.concat([this.pendingBytes, chunk]) : chunk;
    const end = completeUtf8(bytes);
    this.buf = bytes.toString('utf8', 0, end);
    this.parse();
    const tail = this.buf.length ? Buffer.byteLength(this.buf, 'utf8') : 0;
    this.buf = '';
    this.pendingBytes = bytes.subarray(end - tail);
  }

  endBytes(): void {
    if (this.pendingBytes.length) {
      this.buf = this.pendingBytes.toString('utf8');
      this.pendingBytes = EMPTY;
    }
    this.end();
  }

  end(): void {
    this.parse();
    if (this.buf.trim() !== '') throw new XmlSyntaxError(this.buf.includes('<') ? 'truncated markup at the end' : 'text after the document');
    if (!this.sawRoot) throw new XmlSyntaxError('no document element');
    if (this.stack.length) throw new XmlSyntaxError(`unclosed <${this.stack[this.stack.length - 1]}>`);
  }

  private parse(): void {
    const s = this.buf;
    const h = this.handler;
    let i = 0;
    for (;;) {
      const lt = s.indexOf('<', i);
      if (lt < 0) break; // text without a following tag may continue in the next chunk
      if (lt > i) this.characters(s.slice(i, lt));
      const c = s.charCodeAt(lt + 1);
      if (c === 47 /* / */) {
        const gt = s.indexOf('>', lt + 2);
        if (gt < 0) {
          i = lt;
          break;
        }
        const name = s.slice(lt + 2, gt).trimEnd();
        const open = this.stack.pop();
        if (open !== name) throw new XmlSyntaxError(open === undefined ? `unexpected </${name}>` : `</${name}> closes <${open}>`);
        h.close(name);
        i = gt + 1;
      } else if (c === 63 /* ? */) {
        const end = s.indexOf('?>', lt + 2);
        if (end < 0) {
          i = lt;
          break;
        }
        i = end + 2;
      } else if (c === 33 /* ! */) {
        if (s.startsWith('<!--', lt)) {
          const end = s.indexOf('-->', lt + 4);
          if (end < 0) {
            i = lt;
            break;
          }
          i = end + 3;
        } else if (s.startsWith('<![CDATA[', lt)) {
          const end = s.indexOf(']]>', lt + 9);
          if (end < 0) {
            i = lt;
            break;
          }
          if (!this.stack.length) throw new XmlSyntaxError('CDATA outside the document element');
          h.text(s.slice(lt + 9, end));
          i = end + 3;
        } else if (s.startsWith('<!DOCTYPE', lt)) {
          throw new XmlSyntaxError('DOCTYPE is not allowed in a SOAP answer');
        } else if (s.length - lt < 9) {
          i = lt; // perhaps the start of one of the above, cut by the chunk boundary
          break;
        } else {
          throw new XmlSyntaxError('unexpected <! markup');
        }
      } else {
        let j = lt + 1;
        for (let ch = s.charCodeAt(j); j < s.length && ch !== 62 && ch !== 47 && ch !== 32 && ch !== 9 && ch !== 10 && ch !== 13; ch = s.charCodeAt(++j));
        const gt = tagEnd(s, j);
        if (gt < 0) {
          i = lt;
          break;
        }
        const name = s.slice(lt + 1, j);
        if (name === '') throw new XmlSyntaxError('element without a name');
        if (this.stack.length === 0) {
          if (this.sawRoot) throw new XmlSyntaxError('more than one document element');
          this.sawRoot = true;
        }
        const selfClosing = s.charCodeAt(gt - 1) === 47;
        const attrEnd = selfClosing ? gt - 1 : gt;
        let attributes = NO_ATTRIBUTES;
        if (j < attrEnd) {
          const inner = s.slice(j, attrEnd);
          if (inner.indexOf('=') >= 0) {
            const read: Record<string, string> = {};
            ATTRIBUTE.lastIndex = 0;
            for (let a = ATTRIBUTE.exec(inner); a; a = ATTRIBUTE.exec(inner)) read[a[1]!] = decodeCharacters(a[2] ?? a[3] ?? '');
            attributes = read;
          }
        }
        h.open(name, attributes);
        if (selfClosing) h.close(name);
        else this.stack.push(name);
        i = gt + 1;
      }
    }
    this.buf = i === 0 ? s : s.slice(i);
  }

  private characters(raw: string): void {
    if (this.stack.length === 0) {
      if (raw.trim() !== '') throw new XmlSyntaxError('text outside the document element');
      return;
    }
    this.handler.text(decodeCharacters(raw));
  }
}

const EMPTY = Buffer.alloc(0);

/** Length of the longest prefix of `b` that ends on a UTF-8 character boundary. */
function completeUtf8(b: Buffer): number {
  const n = b.length;
  for (let back = 1; back <= 3 && back <= n; back++) {
    const c = b[n - back]!;
    if (c < 0x80) return n; // ASCII: complete
    if (c >= 0xc0) {
      // Lead byte: complete if the sequence it starts fits.
      const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
      return back >= need ? n : n - back;
    }
  }
  return n;
}

/** Index of the `>` that ends the tag, skipping quoted attribute values; -1 if not yet in the buffer. */
function tagEnd(s: string, from: number): number {
  let quote = 0;
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (quote) {
      if (c === quote) quote = 0;
    } else if (c === 62 /* > */) {
      return i;
    } else if (c === 34 /* " */ || c === 39 /* ' */) {
      quote = c;
    }
  }
  return -1;
}
