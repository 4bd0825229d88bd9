// TransportError's codes: every code the library writes is in LIBRARY_TRANSPORT_ERROR_CODES (the
// list TransportErrorCode names), so a caller can branch on all of them, and a new one cannot be
// added without the list (and its line of documentation) saying so.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { LIBRARY_TRANSPORT_ERROR_CODES, TransportError, type TransportErrorCode } from '../../src/index.ts';

const SRC = new URL('../../src/', import.meta.url).pathname;
const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true })
  .flatMap((e) => (e.isDirectory() ? (e.name === 'generated' ? [] : files(join(dir, e.name))) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));

describe('TransportError codes', () => {
  it('every literal code in src/ is one of LIBRARY_TRANSPORT_ERROR_CODES, and each listed code is used', () => {
    const used = new Set(files(SRC).flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/code(?:\s*\?\?|:)\s*'([A-Z][A-Z_0-9]*)'/g)].map((m) => m[1]!)));
    const listed = new Set<string>(LIBRARY_TRANSPORT_ERROR_CODES);
    expect([...used].filter((c) => !listed.has(c)).sort()).toEqual([]);
    expect([...listed].filter((c) => !used.has(c)).sort()).toEqual([]);
  });

  it('types code so that the library\'s codes complete and narrow, HTTP_<status> and system codes still fit', () => {
    const err = new TransportError('x', { code: 'EOUTCOMEUNKNOWN' });
    expectTypeOf(err.code).toEqualTypeOf<TransportErrorCode>();
    expectTypeOf<'ECLOSED'>().toExtend<TransportErrorCode>();
    expectTypeOf<'HTTP_503'>().toExtend<TransportErrorCode>();
    expectTypeOf<'ECONNRESET'>().toExtend<TransportErrorCode>();
    expect(new TransportError('y').code).toBe('ETRANSPORT');
  });
});
