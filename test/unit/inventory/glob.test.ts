import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError, VimError } from '../../../src/errors.ts';
import { InvalidPatternError } from '../../../src/inventory/errors.ts';
import { globMatcher, isPath, MAX_PATTERN_LENGTH, MAX_PATTERN_LEVELS, parseInventoryPath } from '../../../src/inventory/glob.ts';
import { cpuMs } from '../../harness/cpu-clock.ts';

describe('globMatcher', () => {
  it.each<[string, string, boolean]>([
    ['DC0_H0_VM0', 'DC0_H0_VM0', true],
    ['DC0_H0_VM0', 'DC0_H0_VM1', false],
    ['*', '', true],
    ['*', 'anything at all', true],
    ['web-*', 'web-01', true],
    ['web-*', 'db-01', false],
    ['*-01', 'web-01', true],
    ['web-?', 'web-1', true],
    ['web-?', 'web-12', false],
    ['*?', '', false],
    ['a.b', 'axb', false],
    ['(x)+\\[y]', '(x)+[y]', true],
    ['$^|{}', '$^|{}', true],
    ['a*b*c', 'aXXbYYc', true],
    ['a*b*c', 'aXXbYY', false],
    ['a**c', 'ac', true],
    ['*a*', 'xxa', true],
    ['*ab', 'aab', true],
    ['web%2f*', 'web%2fa', true],
    ['line*', 'line\nbreak', true],
  ])('%s matches %s: %s', (glob, name, expected) => {
    expect(globMatcher(glob)(name)).toBe(expected);
  });

  it.each<[string, string, boolean]>([
    ['*VM[12]', 'DC0_H0_VM1', true],
    ['*VM[12]', 'DC0_H0_VM2', true],
    ['*VM[12]', 'DC0_H0_VM0', false],
    ['*VM[12]', 'DC0_H0_VM12', false],
    ['[a-c]x', 'bx', true],
    ['[a-c]x', 'dx', false],
    ['[a-cx-z]', 'y', true],
    ['[0-9][0-9]', '42', true],
    ['[!a]', 'b', true],
    ['[!a]', 'a', false],
    ['[^a]', 'a', false],
    ['[^a-c]', 'd', true],
    ['[!a]', '', false],
    // As in fnmatch: `]` first and `-` first or last are members.
    ['[]]', ']', true],
    ['[!]]', ']', false],
    ['[!]]', 'x', true],
    ['[a-]', '-', true],
    ['[-a]', '-', true],
    ['[-a]', 'b', false],
    ['[\\]]', ']', true],
    ['[\\-]', '-', true],
    ['[a\\-c]', 'b', false],
    ['[*?]', '*', true],
    ['[*?]', 'x', false],
  ])('class: %s matches %s: %s', (glob, name, expected) => {
    expect(globMatcher(glob)(name)).toBe(expected);
  });

  it.each<[string, string, boolean]>([
    ['\\*', '*', true],
    ['\\*', 'x', false],
    ['\\?', '?', true],
    ['\\?', 'x', false],
    ['\\[a]', '[a]', true],
    ['\\[a]', 'a', false],
    ['a\\\\b', 'a\\b', true],
    ['\\a', 'a', true],
    ['web-\\*-*', 'web-*-01', true],
    ['web-\\*-*', 'web-x-01', false],
  ])('escape: %s matches %s: %s', (glob, name, expected) => {
    expect(globMatcher(glob)(name)).toBe(expected);
  });

  it('takes a character to be a code point, not half of one', () => {
    expect(globMatcher('?')('😀')).toBe(true);
    expect(globMatcher('??')('😀')).toBe(false);
    expect(globMatcher('[😀]')('😀')).toBe(true);
    expect(globMatcher('[!a]')('😀')).toBe(true);
    expect(globMatcher('*😀?')('x😀😀')).toBe(true);
    expect(globMatcher('\\😀')('😀')).toBe(true);
  });

  it.each<[string, number]>([
    ['[abc', 0],
    ['web-[ab', 4],
    ['[', 0],
    ['[]', 0],
    ['[!]', 0],
    ['[a\\', 0],
    ['[z-a]', 1],
    ['x[a-cz-b]', 5],
    ['a\\', 1],
  ])('refuses the malformed %s (problem at %i), as path.Match does', (glob, index) => {
    const refused = () => globMatcher(glob);
    expect(refused).toThrow(InvalidPatternError);
    expect(refused).toThrow(ValidationError);
    expect(refused).toThrow(VimError);
    expect(refused).toThrow(expect.objectContaining({ name: 'InvalidPatternError', reason: 'malformed', index, method: 'find', path: 'pattern' }));
  });

  it(`refuses a glob longer than ${MAX_PATTERN_LENGTH} characters`, () => {
    expect(globMatcher('a'.repeat(MAX_PATTERN_LENGTH))('a'.repeat(MAX_PATTERN_LENGTH))).toBe(true);
    expect(() => globMatcher('*'.repeat(MAX_PATTERN_LENGTH + 1))).toThrow(expect.objectContaining({ reason: 'too-long', index: undefined }));
  });
});

/** CPU milliseconds (user + system) this process spent matching `names`; stops once past `budgetMs`. */
function cpuMsToMatch(glob: string, names: readonly string[], budgetMs: number): { ms: number; matched: number } {
  // The matcher's own code compiled first (another glob, untimed), and the cheapest of three
  // tries: a busy machine's JIT and GC threads count in the process's CPU time on Node 20 (no
  // per-thread clock), while a backtracking matcher is over budget on every try.
  globMatcher('*warm?up*')(names[0] ?? '');
  let best = { ms: Infinity, matched: 0 };
  for (let attempt = 0; attempt < 3 && best.ms >= budgetMs; attempt++) {
    const start = cpuMs();
    const test = globMatcher(glob);
    let matched = 0;
    for (let i = 0; i < names.length; i++) {
      if (test(names[i]!)) matched++;
      if (i % 64 === 0 && cpuMs() - start > budgetMs) break;
    }
    const ms = cpuMs() - start;
    if (ms < best.ms) best = { ms, matched };
  }
  return best;
}

// Instrumented for mutation testing (stryker.config.mjs), the matcher counts every statement it
// runs and is ~100 times slower: a tenth of the names and twenty times the budget keep the test
// as quick and still leave a backtracking matcher, exponential in the stars, far over it.
const INSTRUMENTED = '__stryker__' in globalThis;
const NAMES = INSTRUMENTED ? 1_000 : 10_000;
const BUDGET_MS = INSTRUMENTED ? 1_000 : 50;

describe('globMatcher cost', () => {
  // CPU time, not wall-clock time: the suite must pass with both cores busy.
  it('matches a 40-character glob with 20 stars against 10 000 names in under 50 ms of CPU', () => {
    // Names that almost match `*a*a…*b` are a backtracking matcher's worst case; one in ten matches.
    const names = Array.from({ length: NAMES }, (_, i) => 'a'.repeat(40 + (i % 24)) + (i % 10 === 0 ? 'b' : ''));
    // A backtracking matcher is exponential in the stars and cannot be interrupted: one star more
    // at a time, stopping at the first count over budget, it fails in a second instead of hanging.
    for (let stars = 1; stars <= 20; stars++) {
      const glob = `${'*a'.repeat(stars - 1)}*b`;
      const { ms, matched } = cpuMsToMatch(glob, names, BUDGET_MS);
      expect(ms, `${glob} (${stars} stars)`).toBeLessThan(BUDGET_MS);
      expect(matched).toBe(NAMES / 10);
      if (stars === 20) expect(glob).toHaveLength(40);
    }
  });
});

describe('globMatcher against a regular expression', () => {
  // Patterns and names over a small alphabet, so that matches are frequent; short enough for the
  // reference's backtracking.
  type Piece = { glob: string; re: string };
  const piece = fc.oneof(
    fc.constantFrom<Piece>(
      { glob: 'a', re: 'a' },
      { glob: 'b', re: 'b' },
      { glob: '-', re: '-' },
      { glob: '*', re: '[^]*' },
      { glob: '?', re: '[^]' },
      { glob: '[ab]', re: '[ab]' },
      { glob: '[a-c]', re: '[a-c]' },
      { glob: '[!a]', re: '[^a]' },
      { glob: '[^b-c]', re: '[^b-c]' },
      { glob: '[]a]', re: '[\\]a]' },
      { glob: '[a-]', re: '[a\\-]' },
      { glob: '\\*', re: '\\*' },
      { glob: '\\[', re: '\\[' },
      { glob: '😀', re: '😀' },
    ),
  );
  const name = fc.array(fc.constantFrom('a', 'b', 'c', '-', '*', '[', ']', '😀'), { maxLength: 10 }).map((cs) => cs.join(''));

  it('agrees on every pattern and name', () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }), name, (pieces, n) => {
        const re = new RegExp(`^${pieces.map((p) => p.re).join('')}$`, 'u');
        expect(globMatcher(pieces.map((p) => p.glob).join(''))(n)).toBe(re.test(n));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('parseInventoryPath', () => {
  const shape = (p: string) => {
    const parsed = parseInventoryPath(p);
    return { absolute: parsed.absolute, segments: parsed.segments.map((s) => (s.kind === 'anyDepth' ? '...' : s.source)) };
  };

  it('splits levels, absolute or relative', () => {
    expect(shape('/DC0/vm/*')).toEqual({ absolute: true, segments: ['DC0', 'vm', '*'] });
    expect(shape('vm/web-?')).toEqual({ absolute: false, segments: ['vm', 'web-?'] });
    expect(shape('vm/*VM[12]')).toEqual({ absolute: false, segments: ['vm', '*VM[12]'] });
  });

  it('drops empty levels and ., and folds repeated ...', () => {
    expect(shape('//DC0//vm/./')).toEqual({ absolute: true, segments: ['DC0', 'vm'] });
    expect(shape('/DC0/.../.../db*')).toEqual({ absolute: true, segments: ['DC0', '...', 'db*'] });
    expect(shape('/')).toEqual({ absolute: true, segments: [] });
  });

  it('reads a bare ... as everything below the starting point', () => {
    expect(shape('...')).toEqual({ absolute: false, segments: ['...'] });
  });

  it('tells paths from bare names, globs and moref ids', () => {
    expect(isPath('/DC0')).toBe(true);
    expect(isPath('vm/x')).toBe(true);
    expect(isPath('...')).toBe(true);
    expect(isPath('web-*')).toBe(false);
    expect(isPath('web-[12]')).toBe(false);
    expect(isPath('vm-42')).toBe(false);
    expect(isPath('a...')).toBe(false);
  });

  it('points a malformed level into the whole pattern', () => {
    expect(() => parseInventoryPath('/DC0/vm/web-[ab')).toThrow(expect.objectContaining({ reason: 'malformed', index: 12 }));
    expect(() => parseInventoryPath('//DC0/./x\\')).toThrow(expect.objectContaining({ reason: 'malformed', index: 9 }));
  });

  it(`refuses more than ${MAX_PATTERN_LEVELS} levels, or more than ${MAX_PATTERN_LENGTH} characters`, () => {
    expect(shape('/a'.repeat(MAX_PATTERN_LEVELS)).segments).toHaveLength(MAX_PATTERN_LEVELS);
    expect(() => parseInventoryPath('/a'.repeat(MAX_PATTERN_LEVELS + 1))).toThrow(expect.objectContaining({ name: 'InvalidPatternError', reason: 'too-deep' }));
    expect(() => parseInventoryPath('/...'.repeat(MAX_PATTERN_LEVELS + 1))).toThrow(expect.objectContaining({ reason: 'too-deep' }));
    // Empty levels cost nothing, so they count only towards the length.
    expect(shape('/'.repeat(MAX_PATTERN_LENGTH)).segments).toEqual([]);
    expect(() => parseInventoryPath('/'.repeat(MAX_PATTERN_LENGTH + 1))).toThrow(expect.objectContaining({ reason: 'too-long' }));
    expect(() => parseInventoryPath(`/DC0/${'*'.repeat(1_000_000)}`)).toThrow(expect.objectContaining({ reason: 'too-long' }));
  });
});

describe('globMatcher and parseInventoryPath, what they say', () => {
  const problem = (run: () => unknown): string => {
    try {
      run();
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error('not refused');
  };

  it('says what is malformed, and where', () => {
    expect(problem(() => globMatcher('web-[ab'))).toContain('"[" without a closing "]" at index 4');
    expect(problem(() => globMatcher('[a\\'))).toContain('"[" without a closing "]" at index 0');
    expect(problem(() => globMatcher('x[a-cz-b]'))).toContain('reversed range "z-b" at index 5');
    expect(problem(() => globMatcher('a\\'))).toContain('a trailing "\\" (write "\\\\" for a backslash) at index 1');
    expect(problem(() => globMatcher('*'.repeat(MAX_PATTERN_LENGTH + 1)))).toContain(`${MAX_PATTERN_LENGTH + 1} characters, more than ${MAX_PATTERN_LENGTH}`);
    expect(problem(() => parseInventoryPath('/a'.repeat(MAX_PATTERN_LEVELS + 1)))).toContain(`more than ${MAX_PATTERN_LEVELS} levels`);
  });

  it('takes a one-character range, and U+FFFF as one character', () => {
    expect(globMatcher('[a-a]')('a')).toBe(true);
    expect(globMatcher('[a-a]')('b')).toBe(false);
    expect(globMatcher('?x')('\uffffx')).toBe(true);
    expect(globMatcher('[\uffff]x')('\uffffx')).toBe(true);
    expect(globMatcher('\uffff?')('\uffffx')).toBe(true);
  });

  it('reads each level as a glob or as ... (consecutive ones folded)', () => {
    expect(parseInventoryPath('/DC0/.../.../vm*').segments.map((s) => (s.kind === 'glob' ? `glob ${s.source}` : s.kind))).toEqual(['glob DC0', 'anyDepth', 'glob vm*']);
  });
});
