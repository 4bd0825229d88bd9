// The tests a mutation run (stryker.config.mjs, `npm run mutate`) runs against each mutant: the
// unit tests only. They import the modules of src/ they test, which is what Stryker instruments;
// the integration tests import the package bundled by the global setup, so they could only kill
// a mutant if that bundle were rebuilt from the instrumented sources, and they cost a vcsim
// harness and seconds per mutant where a unit test costs milliseconds. What the integration
// tests alone catch is a gap in the unit tests, and the surviving mutant says where.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import type { Reporter, Vitest } from 'vitest/node';
import { bundleExclusions, GET_BUNDLE } from './test/harness/bundle-gate.ts';

// Left out, the test files the bundle gate names (the fleet's and the SOAP exchange's among
// them) would leave every mutant they kill to survive: no mutation run without the bundle.
if (bundleExclusions().length > 0) {
  throw new Error(`the vim25 WSDL bundle is missing: get it with \`${GET_BUNDLE}\` or set VIM25_WSDL_DIR`);
}

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
      // Runs the package bundle the global setup builds (not started here); it mutates nothing.
      'test/unit/fleet/entry.test.ts',
    ],
    reporters: ['default', loadFailures],
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
