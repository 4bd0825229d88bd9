// Where the harnesses of a test run write every SOAP request body they receive, for the wire
// conformance check that runs after the integration tests (test/conformance/): a directory of
// the run's own under .cache/conformance/ (run-dirs.ts).
import { join } from 'node:path';
import { ROOT } from '../../scripts/lib/paths.ts';
import { runDir as runDirUnder } from './run-dirs.ts';

export const CONFORMANCE_CACHE = join(ROOT, '.cache/conformance');

/** A fresh, empty directory under .cache/conformance/<kind>/ for this process's run. */
export function runDir(kind: 'requests' | 'operations', pid: number = process.pid): string {
  return runDirUnder(join(CONFORMANCE_CACHE, kind), pid);
}
