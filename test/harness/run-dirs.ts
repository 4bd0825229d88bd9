// Directories of one test run, named after the vitest process that made them: two runs in one
// checkout (an editor's watcher and a terminal, say) must not clear, rebuild or check each
// other's. Directories of runs that are no longer alive are removed when a new one is made.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A fresh, empty directory `parent`/<pid> for this process's run. */
export function runDir(parent: string, pid: number = process.pid): string {
  mkdirSync(parent, { recursive: true });
  for (const name of readdirSync(parent)) {
    const owner = Number.parseInt(name, 10);
    if (owner === pid || !Number.isInteger(owner) || !alive(owner)) rmSync(join(parent, name), { recursive: true, force: true });
  }
  const dir = join(parent, String(pid));
  mkdirSync(dir, { recursive: true });
  return dir;
}
