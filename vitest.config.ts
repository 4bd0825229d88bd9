import { defineConfig } from 'vitest/config';
import SummaryReporter from './test/harness/summary-reporter.ts';
import { bundleExclusions, BundleSkipReporter } from './test/harness/bundle-gate.ts';
import { JSON_WIRE_FILES } from './test/harness/json-wire-files.ts';
import { packageFiles } from './test/harness/package.ts';

const timeouts = { testTimeout: 30_000, hookTimeout: 120_000 };
// 'vim25-soap' and its subpaths are this run's bundle of the package, as users load it
// (test/harness/package.ts: the global setup builds it before any worker starts).
const resolve = { alias: Object.entries(packageFiles()).map(([name, file]) => ({ find: new RegExp(`^${name}$`), replacement: file })) };
// Without the vim25 WSDL bundle, the test files that need it are left out (and named at the
// end); with CI set, a missing bundle fails the run instead (test/harness/bundle-gate.ts).
const needBundle = bundleExclusions();
const exclude = ['**/node_modules/**', ...needBundle];

// vitest hands a CLI --sequence.* option to every project in place of the project's own
// `sequence`, so `--sequence.shuffle` dropped the conformance project's groupOrder and ran it
// first, on no captured requests. Set once the CLI options are merged into the project.
const runsLast = {
  name: 'conformance-runs-last',
  configResolved(config: { test?: { sequence?: Record<string, unknown> } }) {
    config.test ??= {};
    config.test.sequence = { ...config.test.sequence, groupOrder: 1 };
  },
};

export default defineConfig({
  test: {
    // One harness for the whole run, shared by every project (root-level global setup).
    globalSetup: ['test/harness/global-setup.ts'],
    reporters: ['default', new SummaryReporter(needBundle), new BundleSkipReporter(needBundle)],
    // Most of a file's time is spent waiting for a harness, a peer process or a socket, not on
    // the CPU: with vitest's default for 2 cores (one worker) the files ran one after another.
    maxWorkers: 4,
    ...timeouts,
    projects: [
      {
        // The harness's own tests (raw HTTP/SOAP, none through the library), as a project of
        // their own. vitest starts another project's files only once every file of the one before
        // has ended; these files are short, so the cores idle ~1 s behind the slowest of them
        // (three runs each way on the 2-core machine: within the run-to-run noise of ±3 s).
        // Not isolated, like the main project.
        resolve,
        test: {
          name: 'harness',
          include: ['test/harness-tests/**/*.test.ts'],
          exclude,
          isolate: false,
          ...timeouts,
        },
      },
      {
        // The unit tests and the integration tests against the harness.
        // Not isolated: no test replaces modules (no vi.mock; fake clocks are put back in
        // afterEach), so a worker imports the library once instead of once per file (a process
        // per file cost ~0.8 s of CPU each).
        resolve,
        test: {
          name: 'main',
          include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
          exclude,
          isolate: false,
          ...timeouts,
        },
      },
      {
        // Integration files again with VI/JSON as the default wire (json-default.ts): sessions,
        // logins (the seed flows), inventory helpers, fleets and hostile answers on the second
        // wire. Not isolated, like the main project.
        resolve,
        test: {
          name: 'json',
          include: [...JSON_WIRE_FILES],
          exclude,
          setupFiles: ['test/harness/json-default.ts'],
          isolate: false,
          ...timeouts,
        },
      },
      {
        // Checks what the other projects left behind (the SOAP requests they sent, the shared
        // harness), so it runs only once they are done.
        plugins: [runsLast],
        resolve,
        test: {
          name: 'conformance',
          include: ['test/conformance/**/*.test.ts'],
          exclude,
          isolate: false,
          sequence: { groupOrder: 1 },
          ...timeouts,
        },
      },
    ],
  },
});
