import { describe, expect, it } from 'vitest';
import { globMatcher, isPath, parseInventoryPath } from '../../../src/inventory/glob.ts';

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
    ['a.b', 'axb', false],
    ['(x)+[y]', '(x)+[y]', true],
    ['$^|{}', '$^|{}', true],
    ['a*b*c', 'aXXbYYc', true],
    ['a*b*c', 'aXXbYY', false],
    ['web%2f*', 'web%2fa', true],
    ['line*', 'line\nbreak', true],
  ])('%s matches %s: %s', (glob, name, expected) => {
    expect(globMatcher(glob)(name)).toBe(expected);
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
  });

  it('drops empty levels and ., and folds repeated ...', () => {
    expect(shape('//DC0//vm/./')).toEqual({ absolute: true, segments: ['DC0', 'vm'] });
    expect(shape('/DC0/.../.../db*')).toEqual({ absolute: true, segments: ['DC0', '...', 'db*'] });
    expect(shape('/')).toEqual({ absolute: true, segments: [] });
  });

  it('tells paths from bare names, globs and moref ids', () => {
    expect(isPath('/DC0')).toBe(true);
    expect(isPath('vm/x')).toBe(true);
    expect(isPath('web-*')).toBe(false);
    expect(isPath('vm-42')).toBe(false);
  });
});
