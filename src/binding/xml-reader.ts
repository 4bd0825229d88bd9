// A small, fast, incremental XML reader for what servers send: SOAP answers, the version file,
// WSDL and STS documents. It reads elements, attributes, character and entity references,
// CDATA, comments and the XML declaration chunk by chunk, and refuses what those documents never
// need: DOCTYPE (and with it every entity definition and external reference), unknown entities,
// and malformed structure.
//
// Every answer is untrusted, so the work is linear in its size whatever its shape: each
// character is scanned a bounded number of times (an unfinished piece of markup is carried as
// pieces and only its new chunk is searched for the end; text is handed on as it arrives, not
// carried), no regular expression can backtrack over unbounded input, and the memory it holds
// is bounded by the limits (nesting depth, element count, length of one piece of markup).
import { StringDecoder } from 'node:string_decoder';

export interface XmlHandler {
  open(name: string, attributes: Record<string, string>): void;
  text(text: string): void;
  close(name: string): void;
}

export interface XmlLimits {
  /** Deepest element nesting accepted. */
  maxDepth: number;
  /** Elements accepted in one document. */
  maxElements: number;
  /** Longest single piece of markup: a start tag with its attributes, a comment, a CDATA section, a processing instruction. */
  maxMarkup: number;
}

/**
 * Far above what vCenter and ESXi send (a 2048-VM RetrievePropertiesEx page with every device
 * is 12.5 MB, 299 012 elements, 11 deep; start tags are under 200 characters), far below what
 * exhausts a process: 2 million elements decoded in the costliest shape stay near 150 MB.
 */
export const DEFAULT_XML_LIMITS: Readonly<XmlLimits> = Object.freeze({ maxDepth: 256, maxElements: 2_000_000, maxMarkup: 1 << 20 });

/** Shared by every element without attributes (most of them): no allocation per element. */
export const NO_ATTRIBUTES: Readonly<Record<string, string>> = Object.freeze({});

export class XmlSyntaxError extends Error {
  override name = 'XmlSyntaxError';
}

/** The document is beyond one of the reader's limits; nothing more of it is read. */
export class XmlLimitError extends Error {
  override name = 'XmlLimitError';

  constructor(readonly limit: keyof XmlLimits, message: string) {
    super(message);
  }
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
/** Stops at the first character that cannot be part of a reference, so each match is linear and matches never overlap. */
const REFERENCE = /&([^&;\s<]*)(;?)/g;
/** `&#x10FFFF;` is the longest reference an XML document can hold. */
const LONGEST_REFERENCE = 10;

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
  if (c === undefined) throw new XmlSyntaxError(`unknown entity ${ref.length > 16 ? `${ref.slice(0, 16)}…` : ref}`);
  return c;
}

/** Character data as the XML spec reads it: line ends normalised, references replaced. */
export function decodeCharacters(raw: string): string {
  let s = raw;
  if (s.indexOf('\r') >= 0) s = s.replace(/\r\n?/g, '\n');
  return s.indexOf('&') < 0 ? s : s.replace(REFERENCE, decodeReference);
}

type MarkupKind = 'tag' | 'close' | 'pi' | 'comment' | 'cdata' | 'undecided';

/** Where a kind of markup ends, and how much of its start cannot be part of that end. */
const ENDS: Record<Exclude<MarkupKind, 'tag' | 'undecided'>, { end: string; opener: number }> = {
  close: { end: '>', opener: 2 },
  pi: { end: '?>', opener: 2 },
  comment: { end: '-->', opener: 4 },
  cdata: { end: ']]>', opener: 9 },
};

/**
 * A piece of markup cut by a chunk boundary. It keeps the pieces it has seen and searches each
 * new chunk only, carrying what the search needs across the boundary (whether a quoted
 * attribute value is open; the last characters, for multi-character ends).
 */
class PendingMarkup {
  private readonly pieces: string[];
  length: number;
  /** The quote character a start tag's open attribute value waits for, 0 outside quotes. */
  private quote = 0;
  /** The last characters seen after the opener, as many as a multi-character end needs. */
  private last = '';

  constructor(readonly kind: MarkupKind, first: string) {
    this.pieces = [first];
    this.length = first.length;
    if (kind === 'tag') this.scanTag(first, 1);
    else if (kind !== 'undecided') this.last = first.slice(Math.max(ENDS[kind].opener, first.length - (ENDS[kind].end.length - 1)));
  }

  /** Index in `chunk` of the last character of this markup, or -1 if it does not end there. */
  endIn(chunk: string): number {
    const kind = this.kind;
    if (kind === 'tag') return this.scanTag(chunk, 0);
    if (kind === 'undecided') return -1;
    const { end } = ENDS[kind];
    if (end.length === 1) return chunk.indexOf(end);
    // The end may straddle the boundary.
    const at = (this.last + chunk.slice(0, end.length - 1)).indexOf(end);
    if (at >= 0) return at + end.length - 1 - this.last.length;
    const inChunk = chunk.indexOf(end);
    return inChunk < 0 ? -1 : inChunk + end.length - 1;
  }

  add(chunk: string): void {
    this.pieces.push(chunk);
    this.length += chunk.length;
    if (this.kind !== 'tag' && this.kind !== 'undecided') {
      const keep = ENDS[this.kind].end.length - 1;
      this.last = chunk.length >= keep ? chunk.slice(chunk.length - keep) : (this.last + chunk).slice(-keep);
    }
  }

  text(): string {
    return this.pieces.join('');
  }

  private scanTag(s: string, from: number): number {
    let quote = this.quote;
    for (let i = from; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (quote) {
        if (c === quote) quote = 0;
      } else if (c === 62 /* > */) {
        this.quote = 0;
        return i;
      } else if (c === 34 /* " */ || c === 39 /* ' */) {
        quote = c;
      }
    }
    this.quote = quote;
    return -1;
  }
}

export class XmlReader {
  /** Text held back at a chunk's end: the start of a reference, or a CR that may begin a CRLF. */
  private tail = '';
  private pending: PendingMarkup | undefined;
  private readonly utf8 = new StringDecoder('utf8');
  private readonly stack: string[] = [];
  private elements = 0;
  private sawRoot = false;
  private readonly limits: XmlLimits;

  constructor(private readonly handler: XmlHandler, limits: Partial<XmlLimits> = {}) {
    this.limits = { ...DEFAULT_XML_LIMITS, ...limits };
  }

  write(chunk: string): void {
    const pending = this.pending;
    if (pending) {
      if (pending.kind === 'undecided') {
        this.pending = undefined;
        this.parse(pending.text() + chunk, 0);
        return;
      }
      const end = pending.endIn(chunk);
      if (end < 0) {
        pending.add(chunk);
        if (pending.length > this.limits.maxMarkup) throw new XmlLimitError('maxMarkup', `a piece of markup longer than ${this.limits.maxMarkup} characters`);
        return;
      }
      this.pending = undefined;
      // The finished markup is parsed on its own, so the chunk is not copied to be joined to it.
      this.parse(pending.text() + chunk.slice(0, end + 1), 0);
      if (this.pending || this.tail) throw new XmlSyntaxError('malformed markup');
      this.parse(chunk, end + 1);
      return;
    }
    if (this.tail) {
      const s = this.tail + chunk;
      this.tail = '';
      this.parse(s, 0);
      return;
    }
    this.parse(chunk, 0);
  }

  /** Raw UTF-8 chunks, as they come off the socket; a character cut by a chunk boundary waits for the rest. */
  writeBytes(chunk: Buffer): void {
    this.write(this.utf8.write(chunk));
  }

  endBytes(): void {
    this.write(this.utf8.end());
    this.end();
  }

  end(): void {
    if (this.pending) throw new XmlSyntaxError('truncated markup at the end');
    if (this.tail) {
      const tail = this.tail;
      this.tail = '';
      this.characters(tail);
    }
    if (!this.sawRoot) throw new XmlSyntaxError('no document element');
    if (this.stack.length) throw new XmlSyntaxError(`unclosed <${this.stack[this.stack.length - 1]}>`);
  }

  private wait(kind: MarkupKind, s: string, from: number): void {
    this.pending = new PendingMarkup(kind, s.slice(from));
  }

  private parse(s: string, from: number): void {
    const h = this.handler;
    let i = from;
    for (;;) {
      const lt = s.indexOf('<', i);
      if (lt < 0) {
        if (i < s.length) this.trailingText(s, i);
        return;
      }
      if (lt > i) this.characters(s.slice(i, lt));
      const c = s.charCodeAt(lt + 1);
      if (c === 47 /* / */) {
        const gt = s.indexOf('>', lt + 2);
        if (gt < 0) return this.wait('close', s, lt);
        const open = this.stack.pop();
        // Matched in place against the open element's name: no string per end tag.
        if (open === undefined || !endTagOf(open, s, lt + 2, gt)) {
          const name = s.slice(lt + 2, gt).trimEnd();
          throw new XmlSyntaxError(open === undefined ? `unexpected </${name.slice(0, 64)}>` : `</${name.slice(0, 64)}> closes <${open}>`);
        }
        h.close(open);
        i = gt + 1;
      } else if (c === 63 /* ? */) {
        const end = s.indexOf('?>', lt + 2);
        if (end < 0) return this.wait('pi', s, lt);
        i = end + 2;
      } else if (c === 33 /* ! */) {
        if (s.startsWith('<!--', lt)) {
          const end = s.indexOf('-->', lt + 4);
          if (end < 0) return this.wait('comment', s, lt);
          i = end + 3;
        } else if (s.startsWith('<![CDATA[', lt)) {
          const end = s.indexOf(']]>', lt + 9);
          if (end < 0) return this.wait('cdata', s, lt);
          if (!this.stack.length) throw new XmlSyntaxError('CDATA outside the document element');
          h.text(s.slice(lt + 9, end));
          i = end + 3;
        } else if (s.startsWith('<!DOCTYPE', lt)) {
          throw new XmlSyntaxError('DOCTYPE is not allowed');
        } else if (s.length - lt < 9) {
          return this.wait('undecided', s, lt); // perhaps the start of one of the above, cut by the chunk boundary
        } else {
          throw new XmlSyntaxError('unexpected <! markup');
        }
      } else if (lt + 1 === s.length) {
        return this.wait('undecided', s, lt);
      } else {
        let j = lt + 1;
        // The name ends where the tag's end search (tagEnd, PendingMarkup) starts to look at quotes.
        for (let ch = s.charCodeAt(j); j < s.length && ch !== 62 && ch !== 47 && ch !== 34 && ch !== 39 && !isSpace(ch); ch = s.charCodeAt(++j));
        const gt = tagEnd(s, j);
        if (gt < 0) return this.wait('tag', s, lt);
        const name = s.slice(lt + 1, j);
        if (name === '') throw new XmlSyntaxError('element without a name');
        if (this.stack.length === 0) {
          if (this.sawRoot) throw new XmlSyntaxError('more than one document element');
          this.sawRoot = true;
        }
        if (++this.elements > this.limits.maxElements) throw new XmlLimitError('maxElements', `more than ${this.limits.maxElements} elements`);
        const selfClosing = s.charCodeAt(gt - 1) === 47 && gt - 1 >= j;
        const attributes = j < (selfClosing ? gt - 1 : gt) ? readAttributes(s, j, selfClosing ? gt - 1 : gt) : NO_ATTRIBUTES;
        if (this.stack.length >= this.limits.maxDepth) throw new XmlLimitError('maxDepth', `elements nested deeper than ${this.limits.maxDepth}`);
        h.open(name, attributes);
        if (selfClosing) h.close(name);
        else this.stack.push(name);
        i = gt + 1;
      }
    }
  }

  /**
   * Text at a chunk's end is handed on at once, but for what the next chunk may complete: a
   * reference cut in two, or a CR whose LF is still to come.
   */
  private trailingText(s: string, from: number): void {
    let keep = s.length;
    const amp = s.lastIndexOf('&');
    if (amp >= from && s.length - amp <= LONGEST_REFERENCE && s.indexOf(';', amp) < 0) keep = amp;
    else if (s.charCodeAt(s.length - 1) === 13 /* \r */) keep = s.length - 1;
    if (keep > from) this.characters(s.slice(from, keep));
    this.tail = s.slice(keep);
  }

  private characters(raw: string): void {
    if (this.stack.length === 0) {
      if (raw.trim() !== '') throw new XmlSyntaxError('text outside the document element');
      return;
    }
    this.handler.text(decodeCharacters(raw));
  }
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

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/** The attributes between `from` and `end` of a start tag: `name = "value"` pairs, in one pass. */
function readAttributes(s: string, from: number, end: number): Record<string, string> {
  let attributes: Record<string, string> | undefined;
  let i = from;
  for (;;) {
    while (i < end && isSpace(s.charCodeAt(i))) i++;
    if (i >= end) return attributes ?? NO_ATTRIBUTES;
    const nameStart = i;
    for (let c = s.charCodeAt(i); i < end && c !== 61 /* = */ && !isSpace(c) && c !== 34 && c !== 39; c = s.charCodeAt(++i));
    const name = s.slice(nameStart, i);
    while (i < end && isSpace(s.charCodeAt(i))) i++;
    if (name === '' || s.charCodeAt(i) !== 61) throw new XmlSyntaxError('malformed attribute in a start tag');
    i++;
    while (i < end && isSpace(s.charCodeAt(i))) i++;
    const quote = s.charCodeAt(i);
    if (quote !== 34 && quote !== 39) throw new XmlSyntaxError('attribute value without quotes');
    const close = s.indexOf(quote === 34 ? '"' : "'", i + 1);
    if (close < 0 || close >= end) throw new XmlSyntaxError('unterminated attribute value');
    (attributes ??= {})[name] = decodeCharacters(s.slice(i + 1, close));
    i = close + 1;
  }
}

/** Whether `s` from `from` to `gt` is the rest of the end tag of `name`: the name, then optional spaces. */
function endTagOf(name: string, s: string, from: number, gt: number): boolean {
  if (gt - from < name.length || !s.startsWith(name, from)) return false;
  for (let i = from + name.length; i < gt; i++) if (!isSpace(s.charCodeAt(i))) return false;
  return true;
}

/** Reads a whole document held in memory; the handler may leave out what it does not need. */
export function readXml(xml: string, handler: Partial<XmlHandler>, limits?: Partial<XmlLimits>): void {
  const reader = new XmlReader({ open: handler.open ?? ignore, text: handler.text ?? ignore, close: handler.close ?? ignore }, limits);
  reader.write(xml);
  reader.end();
}

function ignore(): void {}
