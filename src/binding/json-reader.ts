// A small, fast, incremental JSON tokenizer for VI/JSON answers (RFC 8259), the JSON twin of
// xml-reader.ts. It hands a handler events (object and array starts and ends, keys, strings,
// numbers, literals) chunk by chunk, and numbers as their text, so that nothing is lost on the
// way: `JSON.parse` turns an xsd:long of 2^63-1 into 9223372036854775808; the decoder built on
// this reads it as the XML decoder does (decodePrimitive).
//
// Every answer is untrusted, so the work is linear in its size whatever its shape: each
// character is scanned a bounded number of times (a string cut by a chunk boundary is carried as
// pieces and only the new chunk is scanned; what is carried and scanned again, a number, a
// literal or an escape sequence cut in two, is a few characters), no regular expression runs over
// the input, nothing recurses, and the memory it holds is bounded by the limits (nesting depth,
// values, length of one string or key).
import { StringDecoder } from 'node:string_decoder';

export interface JsonHandler {
  beginObject(): void;
  key(name: string): void;
  endObject(): void;
  beginArray(): void;
  endArray(): void;
  string(value: string): void;
  /** The number's text as it stands in the document (valid JSON number syntax). */
  number(text: string): void;
  literal(value: boolean | null): void;
}

export interface JsonLimits {
  /** Deepest nesting of objects and arrays accepted. */
  maxDepth: number;
  /** Values (objects, arrays, strings, numbers, literals) accepted in one document. */
  maxValues: number;
  /** Longest string value, in UTF-16 code units once its escapes are read. */
  maxString: number;
  /** Longest object key, likewise. */
  maxKey: number;
}

/**
 * Far above what vCenter sends (the 2048-VM RetrievePropertiesEx page with every device of
 * bench/json-codec.ts is 9.8 MB, 10 deep, with 466 948 values; keys are field names), far below
 * what exhausts a process. The decoder passes the SOAP limits on: maxElements counts values,
 * maxMarkup bounds a key.
 */
export const DEFAULT_JSON_LIMITS: Readonly<JsonLimits> = Object.freeze({ maxDepth: 256, maxValues: 2_000_000, maxString: 16 << 20, maxKey: 1 << 20 });

/** No JSON number in a vim25 answer comes near this; a longer one is refused, not carried. */
export const MAX_NUMBER_LENGTH = 1024;

export class JsonSyntaxError extends Error {
  override name = 'JsonSyntaxError';
}

/** The document is beyond one of the reader's limits; nothing more of it is read. */
export class JsonLimitError extends Error {
  override name = 'JsonLimitError';

  constructor(readonly limit: keyof JsonLimits | 'number' | 'typeNames', message: string) {
    super(message);
  }
}

// What the reader expects next.
const VALUE = 0; // a value: the document's, after ':' or after ',' in an array
const VALUE_OR_CLOSE = 1; // after '['
const KEY_OR_CLOSE = 2; // after '{'
const KEY = 3; // after ',' in an object
const COLON = 4; // after a key
const NEXT = 5; // after a value inside an object or array: ',' or its end
const DONE = 6; // after the document's value: white space only

// A token cut by the end of a chunk.
const NO_TOKEN = 0;
const STRING = 1; // inside a string (the pieces read so far are kept)
const NUMBER = 2; // a number: its text so far is carried
const LITERAL = 3; // true, false or null: likewise

const OBJECT = 1;
const ARRAY = 2;

const ESCAPES: Record<number, string> = { 34: '"', 92: '\\', 47: '/', 98: '\b', 102: '\f', 110: '\n', 114: '\r', 116: '\t' };

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Whether `s[from, end)` is a JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
function isJsonNumber(s: string, from: number, end: number): boolean {
  let i = from;
  if (s.charCodeAt(i) === 45 /* - */) i++;
  if (i >= end) return false;
  let c = s.charCodeAt(i);
  if (c === 48) i++;
  else if (c >= 49 && c <= 57) for (i++; i < end && (c = s.charCodeAt(i)) >= 48 && c <= 57; i++);
  else return false;
  if (i < end && s.charCodeAt(i) === 46 /* . */) {
    const start = ++i;
    for (; i < end && (c = s.charCodeAt(i)) >= 48 && c <= 57; i++);
    if (i === start) return false;
  }
  if (i < end && ((c = s.charCodeAt(i)) === 101 || c === 69)) {
    i++;
    if (i < end && ((c = s.charCodeAt(i)) === 43 || c === 45)) i++;
    const start = i;
    for (; i < end && (c = s.charCodeAt(i)) >= 48 && c <= 57; i++);
    if (i === start) return false;
  }
  return i === end;
}

function isNumberChar(c: number): boolean {
  return (c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46 || c === 101 || c === 69;
}

function describe(c: number): string {
  return c >= 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
}

export class JsonReader {
  private readonly limits: JsonLimits;
  private readonly utf8 = new StringDecoder('utf8');
  /** OBJECT or ARRAY per open container. */
  private readonly stack: number[] = [];
  private state = VALUE;
  private values = 0;
  private sawValue = false;
  private atStart = true;
  /** The token cut by the previous chunk's end, and what of it is carried. */
  private token = NO_TOKEN;
  private carry = '';
  /** STRING: whether it is a key, and its pieces and length so far. */
  private stringIsKey = false;
  private pieces: string[] = [];
  private piecesLength = 0;

  constructor(private readonly handler: JsonHandler, limits: Partial<JsonLimits> = {}) {
    this.limits = { ...DEFAULT_JSON_LIMITS, ...limits };
  }

  /** Whether the document held a value (false for an empty or white-space-only body, once ended). */
  get empty(): boolean {
    return !this.sawValue;
  }

  /** Raw UTF-8 chunks, as they come off the socket; a character cut by a chunk boundary waits for the rest. */
  writeBytes(chunk: Buffer): void {
    this.write(this.utf8.write(chunk));
  }

  endBytes(): void {
    this.write(this.utf8.end());
    this.end();
  }

  write(chunk: string): void {
    let s = chunk;
    if (this.atStart && s.length > 0) {
      this.atStart = false;
      if (s.charCodeAt(0) === 0xfeff) s = s.slice(1); // a byte order mark, which JSON.parse would refuse: harmless
    }
    if (this.carry) {
      s = this.carry + s;
      this.carry = '';
    }
    let i = 0;
    switch (this.token) {
      case STRING:
        this.token = NO_TOKEN;
        i = this.readString(s, 0, this.stringIsKey);
        if (i < 0) return;
        break;
      case NUMBER:
        this.token = NO_TOKEN;
        i = this.readNumber(s, 0, false);
        if (i < 0) return;
        break;
      case LITERAL:
        this.token = NO_TOKEN;
        i = this.readLiteral(s, 0, false);
        if (i < 0) return;
        break;
      default:
    }
    this.parse(s, i);
  }

  /** The document is complete: a number at its very end is read, anything unfinished is an error. */
  end(): void {
    if (this.token === NUMBER) {
      this.token = NO_TOKEN;
      const s = this.carry;
      this.carry = '';
      this.readNumber(s, 0, true);
    } else if (this.token !== NO_TOKEN) {
      throw new JsonSyntaxError(this.token === STRING ? 'unterminated string at the end' : 'truncated literal at the end');
    }
    if (this.stack.length) throw new JsonSyntaxError(`truncated: ${this.stack.length} unclosed ${this.stack[this.stack.length - 1] === OBJECT ? 'object' : 'array'}${this.stack.length > 1 ? 's' : ''} at the end`);
    if (this.state !== DONE && this.sawValue) throw new JsonSyntaxError('truncated at the end');
  }

  private fail(message: string): never {
    throw new JsonSyntaxError(message);
  }

  private count(): void {
    if (++this.values > this.limits.maxValues) throw new JsonLimitError('maxValues', `more than ${this.limits.maxValues} values`);
  }

  private open(kind: number): void {
    if (this.stack.length >= this.limits.maxDepth) throw new JsonLimitError('maxDepth', `objects and arrays nested deeper than ${this.limits.maxDepth}`);
    this.stack.push(kind);
  }

  /** What follows a complete value. */
  private afterValue(): number {
    return this.stack.length === 0 ? DONE : NEXT;
  }

  private parse(s: string, from: number): void {
    const h = this.handler;
    const n = s.length;
    let state = this.state;
    let i = from;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c === 32 || c === 10 || c === 13 || c === 9) {
        i++;
        continue;
      }
      if (state === NEXT) {
        const top = this.stack[this.stack.length - 1];
        if (c === 44 /* , */) {
          state = top === OBJECT ? KEY : VALUE;
          i++;
        } else if (c === 125 /* } */ && top === OBJECT) {
          this.stack.pop();
          h.endObject();
          state = this.afterValue();
          i++;
        } else if (c === 93 /* ] */ && top === ARRAY) {
          this.stack.pop();
          h.endArray();
          state = this.afterValue();
          i++;
        } else {
          this.fail(`unexpected ${describe(c)} after a value in ${top === OBJECT ? 'an object' : 'an array'}`);
        }
        continue;
      }
      if (state === KEY_OR_CLOSE || state === KEY) {
        if (c === 34 /* " */) {
          this.state = COLON;
          i = this.readString(s, i + 1, true);
          if (i < 0) return;
          state = COLON;
        } else if (c === 125 /* } */ && state === KEY_OR_CLOSE) {
          this.stack.pop();
          h.endObject();
          state = this.afterValue();
          i++;
        } else {
          this.fail(`expected a key, found ${describe(c)}`);
        }
        continue;
      }
      if (state === COLON) {
        if (c !== 58 /* : */) this.fail(`expected ':' after a key, found ${describe(c)}`);
        state = VALUE;
        i++;
        continue;
      }
      if (state === DONE) this.fail(`unexpected ${describe(c)} after the document's value`);
      // VALUE or VALUE_OR_CLOSE
      if (c === 93 /* ] */ && state === VALUE_OR_CLOSE) {
        this.stack.pop();
        h.endArray();
        state = this.afterValue();
        i++;
        continue;
      }
      this.count();
      this.sawValue = true;
      if (c === 123 /* { */) {
        this.open(OBJECT);
        h.beginObject();
        state = KEY_OR_CLOSE;
        i++;
      } else if (c === 91 /* [ */) {
        this.open(ARRAY);
        h.beginArray();
        state = VALUE_OR_CLOSE;
        i++;
      } else {
        // A scalar: once read, the state is what follows a value (also when it waits for the next chunk).
        state = this.afterValue();
        this.state = state;
        if (c === 34 /* " */) i = this.readString(s, i + 1, false);
        else if (c === 45 || (c >= 48 && c <= 57)) i = this.readNumber(s, i, false);
        else if (c === 116 || c === 102 || c === 110) i = this.readLiteral(s, i, false);
        else this.fail(`unexpected ${describe(c)} where a value was expected`);
        if (i < 0) return;
      }
    }
    this.state = state;
  }

  /**
   * Reads a string from `from` (just past its opening quote, or where the previous chunk left it)
   * and hands it on; returns the index past its closing quote, or -1 when the chunk ends first
   * (what was read is kept, and the next chunk goes on from there).
   */
  private readString(s: string, from: number, isKey: boolean): number {
    const n = s.length;
    const limit = isKey ? this.limits.maxKey : this.limits.maxString;
    let j = from;
    // Most strings have no escapes: find the closing quote, checking for escapes and control characters.
    for (; j < n; j++) {
      const c = s.charCodeAt(j);
      if (c === 34) break;
      if (c === 92 || c < 32) break;
    }
    if (j < n && s.charCodeAt(j) === 34 && this.piecesLength === 0 && this.pieces.length === 0) {
      if (j - from > limit) this.tooLong(isKey, limit);
      this.deliver(s.slice(from, j), isKey);
      return j + 1;
    }
    // Escapes, a control character, an earlier piece or the chunk's end: piece by piece.
    let start = from;
    for (;;) {
      if (j >= n) {
        this.addPiece(s.slice(start, n), isKey, limit);
        this.token = STRING;
        this.stringIsKey = isKey;
        return -1;
      }
      const c = s.charCodeAt(j);
      if (c === 34) {
        this.addPiece(s.slice(start, j), isKey, limit);
        const value = this.pieces.length === 1 ? this.pieces[0]! : this.pieces.join('');
        this.pieces = [];
        this.piecesLength = 0;
        this.deliver(value, isKey);
        return j + 1;
      }
      if (c === 92) {
        if (j > start) this.addPiece(s.slice(start, j), isKey, limit);
        if (j + 1 >= n) return this.carryEscape(s, j, isKey);
        const e = s.charCodeAt(j + 1);
        if (e === 117 /* u */) {
          if (j + 6 > n) return this.carryEscape(s, j, isKey);
          let code = 0;
          for (let k = j + 2; k < j + 6; k++) {
            const v = hexValue(s.charCodeAt(k));
            if (v < 0) this.fail(`malformed \\u escape in a string`);
            code = code * 16 + v;
          }
          this.addPiece(String.fromCharCode(code), isKey, limit);
          j += 6;
        } else {
          const unescaped = ESCAPES[e];
          if (unescaped === undefined) this.fail(`unknown escape \\${String.fromCharCode(e)} in a string`);
          this.addPiece(unescaped, isKey, limit);
          j += 2;
        }
        start = j;
        continue;
      }
      if (c < 32) this.fail(`control character ${describe(c)} in a string`);
      j++;
    }
  }

  /** An escape sequence cut by the chunk's end is carried (at most 5 characters) and read with the next chunk. */
  private carryEscape(s: string, at: number, isKey: boolean): number {
    this.carry = s.slice(at);
    this.token = STRING;
    this.stringIsKey = isKey;
    return -1;
  }

  private addPiece(piece: string, isKey: boolean, limit: number): void {
    if (piece.length === 0) return;
    this.piecesLength += piece.length;
    if (this.piecesLength > limit) this.tooLong(isKey, limit);
    this.pieces.push(piece);
  }

  private tooLong(isKey: boolean, limit: number): never {
    throw new JsonLimitError(isKey ? 'maxKey' : 'maxString', `a ${isKey ? 'key' : 'string'} longer than ${limit} characters`);
  }

  private deliver(value: string, isKey: boolean): void {
    if (isKey) this.handler.key(value);
    else this.handler.string(value);
  }

  private readNumber(s: string, from: number, final: boolean): number {
    const n = s.length;
    let j = from;
    while (j < n && isNumberChar(s.charCodeAt(j))) j++;
    if (j - from > MAX_NUMBER_LENGTH) throw new JsonLimitError('number', `a number longer than ${MAX_NUMBER_LENGTH} characters`);
    if (j === n && !final) {
      this.carry = s.slice(from);
      this.token = NUMBER;
      return -1;
    }
    if (!isJsonNumber(s, from, j)) this.fail(`malformed number ${s.slice(from, Math.min(j, from + 32))}`);
    this.handler.number(s.slice(from, j));
    return j;
  }

  private readLiteral(s: string, from: number, final: boolean): number {
    const c = s.charCodeAt(from);
    const word = c === 116 ? 'true' : c === 102 ? 'false' : 'null';
    const available = Math.min(s.length - from, word.length);
    if (s.slice(from, from + available) !== word.slice(0, available)) this.fail(`unexpected ${s.slice(from, from + word.length)} where a value was expected`);
    if (available < word.length) {
      if (final) this.fail('truncated literal at the end');
      this.carry = s.slice(from);
      this.token = LITERAL;
      return -1;
    }
    this.handler.literal(word === 'true' ? true : word === 'false' ? false : null);
    return from + word.length;
  }
}
