import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonLimitError, JsonReader, JsonSyntaxError, MAX_NUMBER_LENGTH, type JsonHandler, type JsonLimits } from '../../../src/binding/json-reader.ts';
import { cpuMs } from '../../harness/cpu-clock.ts';

/** The reader's events as a list: ['{', 'k:a', 's:x', 'n:1', 'l:true', '}', ...]. */
function events(chunks: readonly string[], limits?: Partial<JsonLimits>): string[] {
  const out: string[] = [];
  const h: JsonHandler = {
    beginObject: () => void out.push('{'),
    key: (k) => void out.push(`k:${k}`),
    endObject: () => void out.push('}'),
    beginArray: () => void out.push('['),
    endArray: () => void out.push(']'),
    string: (s) => void out.push(`s:${s}`),
    number: (t) => void out.push(`n:${t}`),
    literal: (v) => void out.push(`l:${String(v)}`),
  };
  const r = new JsonReader(h, limits);
  for (const c of chunks) r.write(c);
  r.end();
  return out;
}

const nothing: JsonHandler = { beginObject() {}, key() {}, endObject() {}, beginArray() {}, endArray() {}, string() {}, number() {}, literal() {} };

function read(text: string, limits?: Partial<JsonLimits>, chunk = 0): JsonReader {
  const r = new JsonReader(nothing, limits);
  if (chunk) for (let i = 0; i < text.length; i += chunk) r.write(text.slice(i, i + chunk));
  else r.write(text);
  r.end();
  return r;
}

const SAMPLE = ` { "a" : [1, -2.5e+3, 0, 9223372036854775807, true, false, null], "s\\u00e9\\n\\"q\\"": "x\\/y\\\\z\\ud83d\\ude00", "e": {}, "f": [], "g": [[{}]] } `;
const SAMPLE_EVENTS = ['{', 'k:a', '[', 'n:1', 'n:-2.5e+3', 'n:0', 'n:9223372036854775807', 'l:true', 'l:false', 'l:null', ']', 'k:sé\n"q"', 's:x/y\\z😀', 'k:e', '{', '}', 'k:f', '[', ']', 'k:g', '[', '[', '{', '}', ']', ']', '}'];

describe('JsonReader', () => {
  it('reads every JSON construct, numbers as their text', () => {
    expect(events([SAMPLE])).toEqual(SAMPLE_EVENTS);
    expect(events(['"top"'])).toEqual(['s:top']);
    expect(events([' 42 '])).toEqual(['n:42']);
    expect(events(['-0.5'])).toEqual(['n:-0.5']);
    expect(events(['null'])).toEqual(['l:null']);
  });

  it('gives the same events however the document is cut into chunks', () => {
    for (let at = 0; at <= SAMPLE.length; at++) expect(events([SAMPLE.slice(0, at), SAMPLE.slice(at)]), `cut at ${at}`).toEqual(SAMPLE_EVENTS);
    for (const size of [1, 2, 3, 5, 7]) {
      const chunks = Array.from({ length: Math.ceil(SAMPLE.length / size) }, (_, i) => SAMPLE.slice(i * size, (i + 1) * size));
      expect(events(chunks), `chunks of ${size}`).toEqual(SAMPLE_EVENTS);
    }
  });

  it('gives the same events as JSON.parse sees for random documents cut anywhere', () => {
    fc.assert(
      fc.property(fc.json(), fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 5 }), (text, sizes) => {
        const chunks: string[] = [];
        for (let i = 0, k = 0; i < text.length; k++) {
          const n = sizes[k % sizes.length]!;
          chunks.push(text.slice(i, i + n));
          i += n;
        }
        const rebuilt = rebuild(events(chunks));
        expect(rebuilt).toEqual(JSON.parse(text));
      }),
      { numRuns: 500 },
    );
  });

  it('reads UTF-8 bytes cut inside a character, and skips a byte order mark', () => {
    const bytes = Buffer.from('\uFEFF{"k":"é😀ü"}');
    for (let at = 0; at <= bytes.length; at++) {
      const out: string[] = [];
      const r = new JsonReader({ ...nothing, string: (s) => void out.push(s) });
      r.writeBytes(bytes.subarray(0, at));
      r.writeBytes(bytes.subarray(at));
      r.endBytes();
      expect(out).toEqual(['é😀ü']);
    }
  });

  it.each([
    ['{"a":1,}', /expected a key/],
    ['[1,]', /unexpected '\]'/],
    ['{"a" 1}', /expected ':'/],
    ['[1 2]', /after a value/],
    ['{"a":1}}', /after the document's value/],
    ['01', /after the document's value|malformed number/],
    ['1.', /malformed number/],
    ['-', /malformed number/],
    ['1e', /malformed number/],
    ['+1', /unexpected '\+'/],
    ['.5', /unexpected '\.'/],
    ['tru', /truncated literal/],
    ['trux', /unexpected trux/],
    ['nul l', /unexpected nul/],
    ['"abc', /unterminated string/],
    ['"a\\x"', /unknown escape/],
    ['"a\\u12G4"', /malformed \\u escape/],
    ['"a\nb"', /control character/],
    ["{'a':1}", /expected a key/],
    ['[1', /truncated: 1 unclosed array/],
    ['{"a":{"b":[', /truncated: 3 unclosed/],
    ['{"a":', /truncated/],
    ['<html>', /unexpected '<'/],
    ['NaN', /unexpected 'N'/],
  ])('refuses %j', (text, message) => {
    expect(() => read(text)).toThrow(JsonSyntaxError);
    expect(() => read(text)).toThrow(message);
    // Cut into single characters, the same document is refused the same way.
    expect(() => read(text, {}, 1)).toThrow(JsonSyntaxError);
  });

  it('tells an empty or white-space-only body from a value', () => {
    expect(read('').empty).toBe(true);
    expect(read(' \n\t ').empty).toBe(true);
    expect(read('{}').empty).toBe(false);
  });
});

describe('JsonReader limits', () => {
  const limitOf = (fn: () => unknown): string => {
    try {
      fn();
    } catch (err) {
      if (err instanceof JsonLimitError) return err.limit;
      throw err;
    }
    throw new Error('expected a JsonLimitError');
  };

  it('stops at maxDepth: 100 000 unclosed [ do not recurse or grow past the limit', () => {
    const deep = '['.repeat(100_000);
    expect(limitOf(() => read(deep))).toBe('maxDepth');
    expect(limitOf(() => read(deep, {}, 4096))).toBe('maxDepth');
    expect(limitOf(() => read(`${'{"a":'.repeat(300)}1${'}'.repeat(300)}`))).toBe('maxDepth');
    expect(() => read(`${'['.repeat(256)}${']'.repeat(256)}`)).not.toThrow();
    expect(limitOf(() => read(`${'['.repeat(11)}${']'.repeat(11)}`, { maxDepth: 10 }))).toBe('maxDepth');
  });

  it('stops at maxValues, counting every value', () => {
    const many = `[${'0,'.repeat(99)}0]`; // 101 values
    expect(() => read(many, { maxValues: 101 })).not.toThrow();
    expect(limitOf(() => read(many, { maxValues: 100 }))).toBe('maxValues');
    expect(limitOf(() => read(`[${'{},'.repeat(2_000_000)}{}]`))).toBe('maxValues');
  });

  it('stops a string or key past its limit, also when it comes in many chunks, without keeping more than the limit', () => {
    const big = `"${'a'.repeat(1000)}"`;
    expect(() => read(big, { maxString: 1000 })).not.toThrow();
    expect(limitOf(() => read(big, { maxString: 999 }))).toBe('maxString');
    expect(limitOf(() => read(big, { maxString: 999 }, 7))).toBe('maxString');
    expect(limitOf(() => read(`"${'\\n'.repeat(1000)}"`, { maxString: 999 }, 3))).toBe('maxString');
    expect(limitOf(() => read(`{${big}:1}`, { maxKey: 999 }))).toBe('maxKey');
    expect(limitOf(() => read(`{${big}:1}`, { maxKey: 999 }, 5))).toBe('maxKey');
  });

  it('refuses a number longer than any vim25 number, also cut into chunks', () => {
    expect(() => read('1'.repeat(MAX_NUMBER_LENGTH))).not.toThrow();
    expect(limitOf(() => read('1'.repeat(MAX_NUMBER_LENGTH + 1)))).toBe('number');
    expect(limitOf(() => read(`[${'9'.repeat(10_000_000)}]`, {}, 65536))).toBe('number');
  });

  it('reads hostile shapes in time linear in their size (CPU time, 8 x 512 KB against 4 MB)', () => {
    // Shapes that make a careless reader scan again what it has scanned: long strings and escapes
    // cut by every chunk, numbers and literals at chunk ends, deep nesting, many tiny values.
    const shapes: ((n: number) => string)[] = [
      (n) => `["${'a\\u00e9'.repeat(n / 8)}"]`,
      (n) => `[${'12345678,'.repeat(n / 9)}1]`,
      (n) => `[${'true,'.repeat(n / 5)}null]`,
      (n) => `[${'{"k":[]},'.repeat(n / 9)}{}]`,
      (n) => `${'['.repeat(200)}"${'x'.repeat(n)}"${']'.repeat(200)}`,
    ];
    // The cheapest of three measurements; the small input read eight times in one of them, the
    // same bytes as one read of the large input: a single small read was ~10 ms, which a busy
    // machine's GC and JIT threads (counted in the process's CPU time on Node 20) could skew by a
    // quarter, and one full run under load failed a 24x bound that way.
    const cost = (text: string, times: number): number => {
      let best = Infinity;
      for (let i = 0; i < 3; i++) {
        const t = cpuMs();
        for (let k = 0; k < times; k++) read(text, { maxValues: 1e9, maxString: 1e9 }, 1021);
        best = Math.min(best, cpuMs() - t);
      }
      return best;
    };
    for (const shape of shapes) {
      const small = shape(1 << 19);
      const large = shape(1 << 22);
      cost(small, 1); // warm-up
      const a = Math.max(cost(small, 8), 2);
      const b = cost(large, 1);
      // Linear: one read of 8x the input costs about what eight small reads cost; quadratic would be 8x.
      expect(b, `${small.slice(0, 24)}…: ${a.toFixed(1)} ms for 8 x 512 KB, ${b.toFixed(1)} ms for 4 MB`).toBeLessThan(a * 4);
      expect(b).toBeLessThan(4000);
    }
  });
});

/** Builds the value the events describe (numbers through Number), to compare with JSON.parse. */
function rebuild(ev: string[]): unknown {
  let i = 0;
  const value = (): unknown => {
    const e = ev[i++]!;
    if (e === '{') {
      const o: Record<string, unknown> = {};
      while (ev[i] !== '}') {
        const k = ev[i++]!.slice(2);
        Object.defineProperty(o, k, { value: value(), enumerable: true, writable: true, configurable: true });
      }
      i++;
      return o;
    }
    if (e === '[') {
      const a: unknown[] = [];
      while (ev[i] !== ']') a.push(value());
      i++;
      return a;
    }
    if (e.startsWith('s:')) return e.slice(2);
    if (e.startsWith('n:')) return Number(e.slice(2));
    return e === 'l:true' ? true : e === 'l:false' ? false : null;
  };
  return value();
}
