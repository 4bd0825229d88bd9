import { defineConfig } from 'vitest/config';
import SummaryReporter from './test/harness/summary-reporter.ts';
import { bundleExclusions, BundleSkipReporter } from './test/harness/bundle-gate.ts';

const timeouts = { testTimeout: 30_000, hookTimeout: 120_000 };
// Without the vim25 WSDL bundle, the test files that need it are left out (and named at the
// end); with CI set, a missing bundle fails the run instead (test/harness/bundle-gate.ts).
const needBundle = bundleExclusions();
const exclude = ['**/node_modules/**', ...needBundle];

export default defineConfig({
  test: {
    // One harness for the whole run, shared by both projects (root-level global setup).
    globalSetup: ['test/harness/global-setup.ts'],
    reporters: ['default', new SummaryReporter(), new BundleSkipReporter(needBundle)],
    ...timeouts,
    projects: [
      {
        test: {
          name: 'main',
          include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/harness-tests/**/*.test.ts'],
          exclude,
          ...timeouts,
        },
      },
      {
        // Checks the SOAP requests the main project sent, so it runs only once that is done.
        test: {
          name: 'conformance',
          include: ['test/conformance/**/*.test.ts'],
          exclude,
          sequence: { groupOrder: 1 },
          ...timeouts,
        },
      },
    ],
  },
});
