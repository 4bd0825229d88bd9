import { defineConfig } from 'vitest/config';
import SummaryReporter from './test/harness/summary-reporter.ts';

const timeouts = { testTimeout: 30_000, hookTimeout: 120_000 };

export default defineConfig({
  test: {
    // One harness for the whole run, shared by both projects (root-level global setup).
    globalSetup: ['test/harness/global-setup.ts'],
    reporters: ['default', new SummaryReporter()],
    ...timeouts,
    projects: [
      {
        test: {
          name: 'main',
          include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/harness-tests/**/*.test.ts'],
          ...timeouts,
        },
      },
      {
        // Checks the SOAP requests the main project sent, so it runs only once that is done.
        test: {
          name: 'conformance',
          include: ['test/conformance/**/*.test.ts'],
          sequence: { groupOrder: 1 },
          ...timeouts,
        },
      },
    ],
  },
});
