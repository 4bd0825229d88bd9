// A test's child-process entry as one ES module bundled by esbuild (tsx's own dependency), so
// each process starts on plain node instead of transpiling the sources under tsx again (most of
// a short child's CPU); packages stay external and resolve from the project's node_modules.
// Without esbuild: the source under tsx.
import { mkdirSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const built = new Map<string, { file: string; execArgv: string[] }>();

/** How to run `source` (a .ts entry) in a child process: `node ...execArgv file`. */
export function bundledEntry(source: string): { file: string; execArgv: string[] } {
  let entry = built.get(source);
  if (entry) return entry;
  try {
    const esbuild = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
    const dir = `${ROOT}node_modules/.cache/vim25-test-entries`;
    mkdirSync(dir, { recursive: true });
    // Built to a name of its own, then renamed over the shared one: test files building at the
    // same time each leave a whole file, and nothing accumulates.
    const file = `${dir}/${relative(ROOT, source).replace(/\.ts$/, '').replace(/[/\\]/g, '_')}.mjs`; // one file per entry: src/index.ts and src/node-soap/index.ts apart
    const tmp = `${file}.${process.pid}-${Math.random().toString(36).slice(2)}.tmp.mjs`;
    esbuild.buildSync({ entryPoints: [source], bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', outfile: tmp, logLevel: 'error' });
    renameSync(tmp, file);
    entry = { file, execArgv: [] };
  } catch {
    entry = { file: source, execArgv: ['--import', 'tsx'] };
  }
  built.set(source, entry);
  return entry;
}
