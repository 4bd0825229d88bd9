// Where the harnesses of a test run write every SOAP request body they receive, for the wire
// conformance check that runs after the integration tests (test/conformance/).
//
// Each run gets a directory of its own under .cache/conformance/, named after the vitest
// process: two runs in one checkout (an editor's watcher and a terminal, say) must not clear
// or check each other's requests. Directories of runs that are no longer alive are removed.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../scripts/lib/paths.ts';

export const CONFORMANCE_CACHE = join(ROOT, '.cache/conformance');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A fresh, empty directory under .cache/conformance/<kind>/ for this process's run. */
export function runDir(kind: 'requests' | 'operations', pid: number = process.pid): string {
  const parent = join(CONFORMANCE_CACHE, kind);
  mkdirSync(parent, { recursive: true });
  for (const name of readdirSync(parent)) {
    const owner = Number.parseInt(name, 10);
    if (owner === pid || !Number.isInteger(owner) || !alive(owner)) rmSync(join(parent, name), { recursive: true, force: true });
  }
  const dir = join(parent, String(pid));
  mkdirSync(dir, { recursive: true });
  return dir;
}
