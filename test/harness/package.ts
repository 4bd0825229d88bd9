// The package as the tests import it. vitest.config.ts names this run's copy of the package
// (package.json and dist/, under node_modules/.cache, one per run: run-dirs.ts); the global setup
// bundles the entry points into it as `npm run build` does (scripts/lib/esbuild-package.ts).
// Integration tests, their fixtures and the child processes import 'vim25-soap',
// 'vim25-soap/node-soap', 'vim25-soap/redis' and 'vim25-soap/otel' from it: vitest's alias for the workers (under
// node_modules, so vitest leaves the files to Node's own loader, as a user's process loads
// them), child-entries.ts for the children. Unit tests import the modules of src/ they test.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../scripts/lib/paths.ts';
import { runDir } from './run-dirs.ts';

const PACKAGE_ENV = 'VIM25_TEST_PACKAGE';

/** This run's copy of the package: made by the vitest process, inherited by its workers and their children. */
export function testPackage(): string {
  return (process.env[PACKAGE_ENV] ??= runDir(join(ROOT, 'node_modules/.cache/vim25-test-package')));
}

/** Each subpath of the package the tests import, and the bundled file it resolves to (package.json's exports). */
export function packageFiles(dir: string = testPackage()): Record<'vim25-soap' | 'vim25-soap/node-soap' | 'vim25-soap/redis' | 'vim25-soap/otel', string> {
  return {
    'vim25-soap': join(dir, 'dist/index.js'),
    'vim25-soap/node-soap': join(dir, 'dist/node-soap/index.js'),
    'vim25-soap/redis': join(dir, 'dist/redis.js'),
    'vim25-soap/otel': join(dir, 'dist/otel.js'),
  };
}

/** The package's command (package.json's bin), as an installed bin runs it. */
export function packageBin(dir: string = testPackage()): string {
  return join(dir, 'dist/cli/bin.js');
}

/** Bundles src/ into this run's copy of the package (the global setup; workers only need its paths, not esbuild). */
export async function buildTestPackage(dir: string = testPackage()): Promise<void> {
  const { bundle } = await import('../../scripts/lib/esbuild-package.ts');
  copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  await bundle(join(dir, 'dist'));
}
