// The library's declarations as the build emits them (tsc -p tsconfig.build.json), for the check
// that they name no internal (test/integration/package.test.ts). tsc runs incrementally on a
// copy of the last run's output and .tsbuildinfo: a full emit was ~3.5 s of CPU in every run,
// an unchanged src/ ~0.6 s, and a change re-checks what it touches. The copy is this run's own
// (run-dirs.ts; two runs in one checkout do not share a directory); it then replaces the cache.
// The copy sits as deep as the cache, because .tsbuildinfo names files relative to itself.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { ROOT } from '../../scripts/lib/paths.ts';
import { runDir } from './run-dirs.ts';

const CACHE = join(ROOT, 'node_modules/.cache/vim25-test-declarations-cache/last');
const RUNS = join(ROOT, 'node_modules/.cache/vim25-test-declarations');

function* files(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) yield* files(join(dir, e.name));
    else yield join(dir, e.name);
  }
}

/** Emits src/'s declarations into this run's directory (emptied first) and returns it. */
export async function emitDeclarations(): Promise<string> {
  const out = runDir(RUNS);
  if (existsSync(join(CACHE, '.tsbuildinfo'))) cpSync(CACHE, out, { recursive: true });
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  const args = [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', out, '--emitDeclarationOnly', '--incremental', '--tsBuildInfoFile', join(out, '.tsbuildinfo')];
  await new Promise<void>((resolve, reject) => {
    // Type errors are typecheck's business; the declarations are written regardless.
    execFile(process.execPath, args, { cwd: ROOT }, (err) => (existsSync(join(out, 'index.d.ts')) ? resolve() : reject(err ?? new Error('no declarations written'))));
  });
  // An incremental emit leaves the declarations of a source since removed: drop them, so the
  // check sees exactly what the build would write.
  for (const file of files(out)) {
    const rel = relative(out, file);
    if (rel.endsWith('.d.ts') && !existsSync(join(ROOT, 'src', rel.replace(/\.d\.ts$/, '.ts')))) rmSync(file);
  }
  // The next run starts from this one. Best effort: another run may be replacing it too.
  const staged = `${out}-staged`;
  try {
    cpSync(out, staged, { recursive: true });
    mkdirSync(dirname(CACHE), { recursive: true });
    rmSync(CACHE, { recursive: true, force: true });
    renameSync(staged, CACHE);
  } catch {
    rmSync(staged, { recursive: true, force: true });
  }
  return out;
}
