// Test files that need the vim25 WSDL bundle, found by reading them: a test file needs it when
// it, or a module of ours it imports (relative imports, followed transitively), calls
// bundleDir(). Without a bundle (an outsider's clone has no ../shared) vitest.config.ts
// excludes those files and BundleSkipReporter ends the run with one line naming them and how
// to get the bundle; with CI=true a missing bundle is an error instead, so CI never passes
// with suites skipped.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Reporter } from 'vitest/node';
import { bundleCandidates, ROOT } from '../../scripts/lib/paths.ts';

export const GET_BUNDLE = 'npm run wsdl -- --from https://host/sdk';

/** The bundle directory bundleDir() would return, or undefined when there is none. */
export function findBundle(): string | undefined {
  return bundleCandidates().find((d) => existsSync(join(d, 'vimService.wsdl')));
}

const CALLS_BUNDLE_DIR = /\bbundleDir\(/;
const RELATIVE_IMPORT = /(?:from|import)\s*\(?\s*['"](\.\.?\/[^'"]+\.ts)['"]/g;
const DEFINITION = join(ROOT, 'scripts/lib/paths.ts');
/** This file names bundleDir() in its comments but never calls it: importing it needs no bundle. */
const SELF = fileURLToPath(import.meta.url);

function needsBundle(file: string, seen: Set<string>): boolean {
  if (seen.has(file) || file === DEFINITION || file === SELF || !existsSync(file)) return false;
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  if (CALLS_BUNDLE_DIR.test(text)) return true;
  for (const m of text.matchAll(RELATIVE_IMPORT)) {
    const target = resolve(dirname(file), m[1]!);
    if (!target.startsWith(join(ROOT, 'src') + '/') && needsBundle(target, seen)) return true;
  }
  return false;
}

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? testFiles(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : []);
}

/** Test files (relative to the root, e.g. test/unit/generator.test.ts) that need the bundle. */
export function suitesNeedingBundle(): string[] {
  return testFiles(join(ROOT, 'test')).filter((f) => needsBundle(f, new Set())).map((f) => relative(ROOT, f)).sort();
}

/**
 * What vitest.config.ts excludes: nothing when the bundle is there; the files that need it when
 * it is not; an error when it is not and CI is set.
 */
export function bundleExclusions(): string[] {
  if (findBundle()) return [];
  const skipped = suitesNeedingBundle();
  if (process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0') {
    throw new Error(`CI is set and the vim25 WSDL bundle is missing (looked in ${bundleCandidates().join(', ')}): ` +
      `${skipped.length} test files need it. Get it with \`${GET_BUNDLE}\` or set VIM25_WSDL_DIR.`);
  }
  return skipped;
}

/** The line that ends a run which left out `skipped` (test files relative to the root): which, and how to get the bundle. */
export function bundleSkipLine(skipped: readonly string[]): string {
  const names = skipped.map((f) => f.replace(/^test\//, '').replace(/\.test\.ts$/, ''));
  return `skipped ${skipped.length} test files that need the vim25 WSDL bundle (${names.join(', ')}): ` +
    `get it with \`${GET_BUNDLE}\` (or set VIM25_WSDL_DIR) and run npm test again`;
}

/** Ends a run that excluded suites with bundleSkipLine. */
export class BundleSkipReporter implements Reporter {
  constructor(private readonly skipped: readonly string[]) {}

  onTestRunEnd(): void {
    if (this.skipped.length === 0) return;
    process.stdout.write(`${bundleSkipLine(this.skipped)}\n`);
  }
}
