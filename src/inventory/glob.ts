// Inventory paths as govc reads them: `/DC0/vm/web-*` (absolute, from the root folder),
// `vm/web-?` (relative to the datacenter), one glob per level, and `...` for any number of
// levels (alone, `...` is everything below the starting point). A `/` inside an object's name
// is `%2f` on the server, so it never splits a level.
//
// A level's glob is what Go's path.Match (govc) and fnmatch read: `*`, `?`, `[abc]`, `[a-z]`,
// `[!a]` or `[^a]`, and `\` to take the next character literally. A malformed glob (an unclosed
// `[`, a reversed range, a trailing `\`) is refused, as path.Match's ErrBadPattern, rather than
// matching nothing. The matcher is hand-written because a regular expression of several `*`
// backtracks exponentially on a name that almost matches: one user's pattern froze the event
// loop for seconds.
import { InvalidPatternError } from './errors.ts';

/** Longer patterns are refused: matching costs up to pattern × name steps per name. */
export const MAX_PATTERN_LENGTH = 4096;
/** Deeper paths are refused: each level costs a PropertyCollector round trip. */
export const MAX_PATTERN_LEVELS = 64;

export type PathSegment = { kind: 'glob'; source: string; test: (name: string) => boolean } | { kind: 'anyDepth' };

export interface InventoryPath {
  absolute: boolean;
  segments: PathSegment[];
}

/** One character of a name: a literal code point, `?`, or a class (`ranges` holds lo, hi pairs). */
type CharClass = { negated: boolean; ranges: number[] };
type Token = number | 'any' | 'star' | CharClass;

const width = (cp: number): number => (cp > 0xffff ? 2 : 1);

const malformed = (index: number, problem: string): InvalidPatternError => new InvalidPatternError('malformed', `${problem} at index ${index}`, index);

function checkLength(pattern: string): void {
  if (pattern.length > MAX_PATTERN_LENGTH) throw new InvalidPatternError('too-long', `${pattern.length} characters, more than ${MAX_PATTERN_LENGTH}`);
}

/** A class member at `i`: its code point and where it ends. `open` is the class's `[`, for the error. */
function classChar(glob: string, i: number, open: number, at: number): [number, number] {
  if (glob[i] === '\\') i++;
  const cp = glob.codePointAt(i);
  if (cp === undefined) throw malformed(at + open, '"[" without a closing "]"');
  return [cp, i + width(cp)];
}

/** The class whose `[` is at `open`, and where it ends. `]` first and `-` first or last are members, as in fnmatch. */
function parseClass(glob: string, open: number, at: number): [CharClass, number] {
  let i = open + 1;
  const negated = glob[i] === '!' || glob[i] === '^';
  if (negated) i++;
  const ranges: number[] = [];
  for (let first = true; ; first = false) {
    if (i >= glob.length) throw malformed(at + open, '"[" without a closing "]"');
    if (glob[i] === ']' && !first) return [{ negated, ranges }, i + 1];
    const start = i;
    const [lo, next] = classChar(glob, i, open, at);
    let hi = lo;
    i = next;
    if (glob[i] === '-' && i + 1 < glob.length && glob[i + 1] !== ']') {
      [hi, i] = classChar(glob, i + 1, open, at);
      if (hi < lo) throw malformed(at + start, `reversed range "${glob.slice(start, i)}"`);
    }
    ranges.push(lo, hi);
  }
}

/** `at` is where the glob starts in the whole pattern, so that errors point into what the caller wrote. */
function parseGlob(glob: string, at: number): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < glob.length) {
    const ch = glob[i];
    if (ch === '*') {
      // Consecutive stars are one: fewer stars, fewer restarts.
      if (tokens[tokens.length - 1] !== 'star') tokens.push('star');
      i++;
    } else if (ch === '?') {
      tokens.push('any');
      i++;
    } else if (ch === '[') {
      const [cls, next] = parseClass(glob, i, at);
      tokens.push(cls);
      i = next;
    } else {
      if (ch === '\\') {
        if (i + 1 === glob.length) throw malformed(at + i, 'a trailing "\\" (write "\\\\" for a backslash)');
        i++;
      }
      const cp = glob.codePointAt(i)!;
      tokens.push(cp);
      i += width(cp);
    }
  }
  return tokens;
}

function accepts(token: Exclude<Token, 'star'>, cp: number): boolean {
  if (typeof token === 'number') return token === cp;
  if (token === 'any') return true;
  let inside = false;
  for (let r = 0; r < token.ranges.length && !inside; r += 2) inside = token.ranges[r]! <= cp && cp <= token.ranges[r + 1]!;
  return inside !== token.negated;
}

/**
 * Every token but `*` takes exactly one code point, so when the tokens after a star fail, only
 * the last star needs to take one more character: anything an earlier star could take instead
 * the last one can take as well. At most name × tokens steps, never exponential.
 */
function matches(tokens: readonly Token[], name: string): boolean {
  let t = 0;
  let n = 0;
  let star = -1;
  let starTook = 0;
  while (n < name.length) {
    const token = tokens[t];
    if (token === 'star') {
      star = t++;
      starTook = n;
      continue;
    }
    const cp = name.codePointAt(n)!;
    if (token !== undefined && accepts(token, cp)) {
      t++;
      n += width(cp);
      continue;
    }
    if (star < 0) return false;
    t = star + 1;
    starTook += width(name.codePointAt(starTook)!);
    n = starTook;
  }
  while (tokens[t] === 'star') t++;
  return t === tokens.length;
}

/** A whole-name matcher for one level's glob; throws InvalidPatternError for a malformed or too long glob. */
export function globMatcher(glob: string, at = 0): (name: string) => boolean {
  checkLength(glob);
  if (!/[*?[\\]/.test(glob)) return (name) => name === glob;
  const tokens = parseGlob(glob, at);
  return (name) => matches(tokens, name);
}

/** True for a pattern that names a path (has a `/`, or is `...`), false for a bare name, glob or moref id. */
export function isPath(pattern: string): boolean {
  return pattern.includes('/') || pattern === '...';
}

export function parseInventoryPath(path: string): InventoryPath {
  checkLength(path);
  const absolute = path.startsWith('/');
  const segments: PathSegment[] = [];
  let levels = 0;
  let at = 0;
  for (const p of path.split('/')) {
    const start = at;
    at += p.length + 1;
    // Empty levels (`//`, a trailing `/`) and `.` add nothing, as in govc.
    if (p === '' || p === '.') continue;
    if (++levels > MAX_PATTERN_LEVELS) throw new InvalidPatternError('too-deep', `more than ${MAX_PATTERN_LEVELS} levels`);
    if (p === '...') {
      if (segments[segments.length - 1]?.kind !== 'anyDepth') segments.push({ kind: 'anyDepth' });
    } else {
      segments.push({ kind: 'glob', source: p, test: globMatcher(p, start) });
    }
  }
  return { absolute, segments };
}
