// The README's figures of the package and of the suite are those of the records the scripts
// write: reports/package.json (scripts/check-package.sh) and reports/suite.json
// (scripts/record-suite.sh). A figure typed by hand, or left behind when a record was made
// again, fails here; so does a record made before a test file started to need the WSDL bundle.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../scripts/lib/paths.ts';
import { bundleSkipLine, suitesNeedingBundle } from '../harness/bundle-gate.ts';
import { JSON_WIRE_FILES } from '../harness/json-wire-files.ts';
import type { RunSummary } from '../harness/summary-reporter.ts';

interface PackageRecord {
  recordedBy: string;
  date: string;
  npm: string;
  tarball: { files: number; packedBytes: number; unpackedBytes: number };
  install: { packages: number; nodeModulesKiB: number; ownKiB: number };
}
interface Run extends RunSummary {
  attempts: number;
  wallSeconds: number;
  cpuSeconds: number;
  loadBefore: number;
}
interface SuiteRecord {
  recordedBy: string;
  date: string;
  node: string;
  cores: number;
  command: string;
  runs: Run[];
  noBundle: Run;
}
/** BUSY=N bash scripts/record-suite.sh RUNS: the runs made while N loops kept the cores busy. */
type BusyRecord = Omit<SuiteRecord, 'noBundle'> & { busyLoops: number };

const THIS_FILE = 'test/unit/readme-figures.test.ts';
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const record = <T>(name: string): T => JSON.parse(readFileSync(join(ROOT, 'reports', name), 'utf8')) as T;

/** 1179 -> '1 179', as the README writes counts. */
const count = (n: number): string => String(n).replace(/\B(?=(\d{3})+$)/g, ' ');
const range = (values: number[], digits: number): string => {
  const [lo, hi] = [Math.min(...values).toFixed(digits), Math.max(...values).toFixed(digits)];
  return lo === hi ? lo : `${lo}–${hi}`;
};

/** The README's sentence that starts as `start` does, up to its full stop: shown whole when it differs. */
function sentence(start: string): string {
  const at = readme.indexOf(start);
  expect(at, `the README has no sentence starting "${start}"`).toBeGreaterThanOrEqual(0);
  return readme.slice(at, readme.indexOf('.\n', at) + 1).replace(/\s*\n\s*/g, ' ');
}

describe('the README states the records', () => {
  it('the package: tarball, install size (reports/package.json, scripts/check-package.sh)', () => {
    const r = record<PackageRecord>('package.json');
    expect(r.recordedBy).toBe('scripts/check-package.sh');
    const MiB = (n: number): string => n.toFixed(1);
    expect(sentence('Installed into an empty project,')).toBe(
      `Installed into an empty project, the package is ${r.install.packages} packages and ${MiB(r.install.nodeModulesKiB / 1024)} MiB of \`node_modules\` ` +
      `(vim25-soap itself ${MiB(r.tarball.unpackedBytes / 2 ** 20)} MiB unpacked, a ${Math.round(r.tarball.packedBytes / 1e3)} kB tarball of ${r.tarball.files} files: ` +
      '`dist/` JavaScript and declarations, no source maps, no WSDL); node-soap and its dependencies are not installed ' +
      `(measured by \`scripts/check-package.sh\` on ${r.date} with npm ${r.npm}: [reports/package.json](reports/package.json)).`,
    );
  });

  it('the suite: tests, files, wall and CPU time (reports/suite.json, scripts/record-suite.sh)', () => {
    const r = record<SuiteRecord>('suite.json');
    expect(r.recordedBy).toBe('scripts/record-suite.sh');
    expect(r.runs.length).toBeGreaterThan(0);
    // Each run green but for this file (while the README still stated the record it replaced),
    // with nothing skipped or left out.
    for (const run of r.runs) {
      expect(run.failedFiles.filter((f) => f !== THIS_FILE)).toEqual([]);
      expect({ skipped: run.skipped, excluded: run.excluded }).toEqual({ skipped: 0, excluded: [] });
    }
    const counts = (key: 'tests' | 'files'): string => {
      const [lo, hi] = [Math.min(...r.runs.map((x) => x[key])), Math.max(...r.runs.map((x) => x[key]))];
      return lo === hi ? count(lo) : `${count(lo)}–${count(hi)}`;
    };
    expect(sentence('Measured by `bash scripts/record-suite.sh`')).toBe(
      `Measured by \`bash scripts/record-suite.sh\` on ${r.date} (${r.runs.length} run${r.runs.length === 1 ? '' : 's'} of \`${r.command}\`, Node.js ${r.node}, ${r.cores} cores, ` +
      `load average ${range(r.runs.map((x) => x.loadBefore), 2)} before ${r.runs.length === 1 ? 'it' : 'each'}): ${counts('tests')} tests in ${counts('files')} files took ` +
      `${range(r.runs.map((x) => x.wallSeconds), 1)} s, and ${range(r.runs.map((x) => x.cpuSeconds), 1)} s of CPU time ` +
      '(user and system time of vitest, its workers and every process the tests start; [reports/suite.json](reports/suite.json)).',
    );
  });

  it('under load: every run of the suite while loops kept both cores busy (reports/suite-busy.json)', () => {
    const r = record<BusyRecord>('suite-busy.json');
    expect(r.recordedBy).toBe('scripts/record-suite.sh');
    const clean = r.runs.filter((x) => x.attempts === 1 && x.failed === 0 && x.skipped === 0 && x.failedFiles.filter((f) => f !== THIS_FILE).length === 0);
    // The same suite each time.
    expect(new Set(r.runs.map((x) => x.tests)).size).toBe(1);
    expect(sentence('Under load (`BUSY=')).toBe(
      `Under load (\`BUSY=${r.busyLoops} bash scripts/record-suite.sh ${r.runs.length}\` on ${r.date}: \`${r.command}\` ${r.runs.length} times in a row while ` +
      `${r.busyLoops} \`yes > /dev/null\` loops kept the ${r.cores} cores busy, Node.js ${r.node}, load average ${range(r.runs.map((x) => x.loadBefore), 2)} ` +
      `before each): ${clean.length} of ${r.runs.length} runs passed all ${count(r.runs[0]!.tests)} tests at the first attempt, in ` +
      `${range(r.runs.map((x) => x.wallSeconds), 1)} s each ([reports/suite-busy.json](reports/suite-busy.json)).`,
    );
  });

  it('without the WSDL bundle: the files left out and the share of the tests that ran (reports/suite.json)', () => {
    const r = record<SuiteRecord>('suite.json');
    const out = r.noBundle;
    expect(out.failedFiles.filter((f) => f !== THIS_FILE)).toEqual([]);
    expect(out.skipped).toBe(0);
    // The record is of the test files as they are: a file that started (or stopped) needing the
    // bundle since makes it stale.
    expect(out.excluded).toEqual(suitesNeedingBundle());
    expect(readme).toContain(`\`\`\`\n${bundleSkipLine(out.excluded)}\n\`\`\``);
    // Against the suite as the last run with the bundle found it.
    const all = r.runs.at(-1)!.tests;
    expect(sentence('In a copy of the working tree without the bundle')).toBe(
      `In a copy of the working tree without the bundle (made by \`scripts/record-suite.sh\` on ${r.date}), ${count(out.tests)} of the ` +
      `${count(all)} tests ran (${Math.floor((100 * out.tests) / all)}%) and passed (the script records no run with a failure but in the README's check of ` +
      'these figures, `test/unit/readme-figures.test.ts`); the harnesses serve no WSDL then, and clients connect without one, as users do.',
    );
  });

  it('the number of integration files the json project runs again on VI/JSON (test/harness/json-wire-files.ts)', () => {
    expect(readme).toMatch(new RegExp(`\\*\\*Tested\\*\\* by running ${JSON_WIRE_FILES.length} integration files a second time with VI/JSON`));
  });
});
