// Ends every run with one plain line, "N passed, N failed, N skipped", that CI reads. With
// $VIM25_TEST_SUMMARY set (scripts/record-suite.sh sets it) the same counts, the number of test
// files, the files with a failure and the files left out for want of the WSDL bundle are also
// written there as JSON: what the record of the README's figures of the suite is made of
// (test/unit/readme-figures.test.ts).
import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

export const SUMMARY_ENV = 'VIM25_TEST_SUMMARY';

export interface RunSummary {
  files: number;
  tests: number;
  passed: number;
  failed: number;
  skipped: number;
  /** Test files (relative to the root) with a failed test, or that failed to load. */
  failedFiles: string[];
  /** Test files (relative to the root) left out because the WSDL bundle is missing. */
  excluded: string[];
}

export default class SummaryReporter implements Reporter {
  constructor(private readonly excluded: readonly string[] = []) {}

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const failedFiles = new Set<string>();
    for (const mod of testModules) {
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') {
          failed++;
          failedFiles.add(mod.moduleId);
        } else skipped++;
      }
      // A file that failed to load has no tests but must not count as green.
      if (mod.state() === 'failed' && ![...mod.children.allTests()].some((t) => t.result().state === 'failed')) {
        failed++;
        failedFiles.add(mod.moduleId);
      }
    }
    process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
    const file = process.env[SUMMARY_ENV];
    if (file) {
      const root = testModules[0]?.project.config.root ?? process.cwd();
      const summary: RunSummary = {
        files: testModules.length, tests: passed + failed + skipped, passed, failed, skipped,
        failedFiles: [...failedFiles].map((f) => relative(root, f)).sort(), excluded: [...this.excluded],
      };
      writeFileSync(file, `${JSON.stringify(summary)}\n`);
    }
  }
}
