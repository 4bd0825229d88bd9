// Mutation testing (`npm run mutate`): the modules where a silent bug costs most, against the
// unit tests (vitest.mutate.config.ts says why not the integration tests).
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
// The tests run in a copy of the project under .stryker-tmp/, beside which there is no ../shared
// (the WSDL bundle and managed-object model of scripts/lib/paths.ts): named here, they are found
// there as in the checkout, and the same test files run as in `npm test`. The test runners
// inherit these from this process.
const shared = (env, own, sibling) => {
  const found = [own && join(root, own), resolve(root, '..', 'shared', sibling)].find((p) => p && existsSync(p));
  if (found) process.env[env] ??= found;
};
shared('VIM25_WSDL_DIR', 'wsdl/vim25', 'wsdl/vim25');
shared('VIM25_MANAGED_MODEL', undefined, 'vmodl/vim25-managed.json');

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: [
    'src/session/**/*.ts',
    'src/fleet/**/*.ts',
    'src/soap/**/*.ts',
    'src/inventory/**/*.ts',
    'src/transport/replay*.ts',
  ],
  testRunner: 'vitest',
  // A mutant runs the tests that cover it. A static one (module-level code, run as the module
  // loads) is covered by no test, and runs every unit test: vitest's `related` would pick the
  // files that import it, but in a long run it missed some (files that had run before in that
  // test runner), and the mutants their tests kill survived.
  vitest: { configFile: 'vitest.mutate.config.ts', related: false },
  // Static mutants are left out (reported as Ignored, outside the score): each runs every unit
  // test: on two busy cores Stryker put them at 96% of a directory's run (soap/ with them was
  // estimated at 5 hours or more; without its 34 static ones, the other 772 ran in 18 minutes).
  // They are module-level constants (method lists, limits, patterns), whose uses the covered
  // mutants exercise.
  ignoreStatic: true,
  // Each mutant runs only the tests that executed its code in the initial run.
  coverageAnalysis: 'perTest',
  // Committed, so CI and the next developer test only the mutants whose code or covering tests
  // changed since the last run (`npm run mutate -- --force` starts over).
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  // Two cores: a test runner each. On a busy machine, `npm run mutate -- --concurrency 1`.
  concurrency: 2,
  // The sandbox needs what the unit tests load; the rest (dist/, the Go build cache under
  // .cache/, the bench results) is only copied for nothing.
  ignorePatterns: ['/*', '!/src', '!/test', '!/scripts', '!/wsdl/manifest.json', '!/package.json', '!/tsconfig.json', '!/vitest.mutate.config.ts'],
  // Stryker would put `// @ts-nocheck` atop every file of src/ and test/ in its copy, for a test
  // runner that type-checks; vitest does not, and the generator's test compares src/generated
  // byte for byte.
  disableTypeChecks: false,
  // Stryker rewrites the `extends` and `references` of this file for the sandbox with the
  // `typescript` package's JS API, which TypeScript 7 no longer has; ours has neither, so it is
  // pointed at no file and the sandbox keeps tsconfig.json as it is.
  tsconfigFile: 'no-tsconfig-rewrite.json',
  reporters: ['clear-text', 'progress', 'html'],
  clearTextReporter: { allowEmojis: false, logTests: false, reportScoreTable: true },
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  thresholds: { high: 90, low: 80, break: null },
};
