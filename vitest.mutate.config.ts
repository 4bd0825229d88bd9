// The tests a mutation run (stryker.config.mjs, `npm run mutate`) runs against each mutant: the
// unit tests, which import the src/ modules Stryker instruments. The integration tests run on
// the package the global setup bundles from src/ before the mutants exist, so they would kill
// none unless 'vim25-soap' resolved to the instrumented sources (as the alias below would make
// it) and each mutant's run started a vcsim harness: tried on inventory/retrieve.ts with its
// integration file alone, that took 2.8 times as long (6 min against 2 on two busy cores) for 12
// more killed mutants of 103. What only an integration test catches is a gap in the unit tests,
// and the surviving mutant says where.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import type { Reporter, Vitest } from 'vitest/node';
import { bundleExclusions } from './test/harness/bundle-gate.ts';

// Without the vim25 WSDL bundle, the files that need it are left out as in `npm test`
// (test/harness/bundle-gate.ts): the generator's and the bundle tool's, which test no module
// Stryker mutates. stryker.config.mjs hands the bundle's place on to its copy of the project.
const needBundle = bundleExclusions();

// The unit test files that run the bundled package (test/harness/package.ts, loaded-packages.ts),
// found by what they import so that a new one is left out too.
const unitDir = fileURLToPath(new URL('test/unit/', import.meta.url));
const runsTheBundle = readdirSync(unitDir, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.test.ts') && /harness\/(package|loaded-packages)\.ts'/.test(readFileSync(join(unitDir, f), 'utf8')))
  .map((f) => `test/unit/${f}`);

// Stryker reads the tests that ran and nothing else: a test file that fails to load (an import
// that does not resolve in its copy of the project) drops out of the initial run without a
// word, and every mutant only its tests kill survives. That run fails here instead. (Not the
// runs of single mutants: there, a file that a mutant keeps from loading is the mutant's doing.)
let vitest: Vitest | undefined;
const loadFailures: Reporter = {
  onInit(v) {
    vitest = v;
  },
  onTestRunEnd(modules) {
    const stryker = vitest?.getProvidedContext() as { mode?: string } | undefined;
    if (stryker?.mode !== 'dry-run') return;
    const failed = modules.filter((m) => m.errors().length > 0);
    if (failed.length > 0) {
      throw new Error(`test files that failed to load: ${failed.map((m) => `${m.moduleId}: ${m.errors()[0]?.message}`).join('; ')}`);
    }
  },
};

export default defineConfig({
  // test/fixtures.ts, which unit tests take tempDir() from, imports 'vim25-soap': here it is src/,
  // as tsconfig.json's paths have it (the bundle it is in a full run is not built, and the copy
  // Stryker runs in has no dist/ for the package to resolve to itself).
  resolve: {
    alias: [
      { find: /^vim25-soap$/, replacement: fileURLToPath(new URL('src/index.ts', import.meta.url)) },
      { find: /^vim25-soap\/node-soap$/, replacement: fileURLToPath(new URL('src/node-soap/index.ts', import.meta.url)) },
      { find: /^vim25-soap\/redis$/, replacement: fileURLToPath(new URL('src/redis.ts', import.meta.url)) },
    ],
  },
  test: {
    include: ['test/unit/**/*.test.ts'],
    exclude: [
      '**/node_modules/**',
      ...needBundle,
      // Run the package bundle the global setup builds (not started here); they mutate nothing.
      ...runsTheBundle,
      // Reads src/ as text for the error-code literals, which Stryker's copy has instrumented
      // (`'ENOJSON'` becomes a mutant switch); it tests src/errors.ts, which is not mutated.
      'test/unit/errors.test.ts',
      // Checks the README's figures against the records under reports/, which the sandbox leaves
      // out (stryker.config.mjs ignorePatterns); it tests no module.
      'test/unit/readme-figures.test.ts',
    ],
    reporters: ['default', loadFailures],
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
