// A test's child-process entry as one ES module bundled by esbuild (tsx's own dependency), so
// each process starts on plain node instead of transpiling the sources under tsx again (most of
// a short child's CPU); packages stay external and resolve from the project's node_modules, except
// the library itself: the run's bundled copy of the package, bundled in (packagePlugin). Without
// esbuild: the source under tsx.
import { mkdirSync, readFileSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageFiles } from './package.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DIR = `${ROOT}node_modules/.cache/vim25-test-entries`;
/** Entries the run's global setup bundled before the workers started: source -> file (JSON). */
const PREBUILT_ENV = 'VIM25_TEST_ENTRIES';
const built = new Map<string, { file: string; execArgv: string[] }>(
  Object.entries(JSON.parse(process.env[PREBUILT_ENV] ?? '{}') as Record<string, string>).map(([source, file]) => [source, { file, execArgv: [] }]),
);

/** Where `source`'s bundle goes: one file per entry. */
const outfile = (source: string): string => `${DIR}/${relative(ROOT, source).replace(/\.ts$/, '').replace(/[/\\]/g, '_')}.mjs`;
/**
 * 'vim25-soap' and its subpaths are the run's bundled copy of the package (package.ts): a child
 * runs the package's own JavaScript, bundled into its entry with the rest (one file to load).
 */
const packagePlugin: import('esbuild').Plugin = {
  name: 'vim25-soap-test-package',
  setup(build) {
    const files: Record<string, string> = packageFiles();
    build.onResolve({ filter: /^vim25-soap(\/|$)/ }, ({ path }) => {
      const file = files[path];
      if (!file) return { errors: [{ text: `${path} is not an export of the test package (package.ts)` }] };
      return { path: file };
    });
  },
};

const OPTIONS: import('esbuild').BuildOptions = { bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'error', plugins: [packagePlugin] };
/**
 * Packages bundled into an entry instead of loaded from node_modules. ioredis's ~100 CommonJS
 * files, resolved and compiled one by one, were ~0.11 s of the CPU of each fleet process that
 * uses the Redis store; bundled, the same code loads in a third of that.
 */
const INLINE: Record<string, readonly string[]> = { 'test/harness/fleet-child.ts': ['ioredis'] };

function optionsFor(source: string): import('esbuild').BuildOptions {
  const inline = INLINE[relative(ROOT, source)];
  if (!inline) return OPTIONS;
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
  const names = ['dependencies', 'peerDependencies', 'devDependencies'].flatMap((k) => Object.keys(pkg[k] ?? {})).filter((n) => !inline.includes(n));
  const { packages: _all, ...rest } = OPTIONS;
  // A bundled CommonJS package requires Node's built-in modules: an ES module has no `require` of its own.
  return { ...rest, external: names.flatMap((n) => [n, `${n}/*`]), banner: { js: "import { createRequire as __vim25Require } from 'node:module'; const require = __vim25Require(import.meta.url);" } };
}

/**
 * Where `source`'s bundle goes, and the esbuild options that build it under a temporary name of
 * its own, to be renamed over the shared one: test files building at the same time each leave a
 * whole file, and nothing accumulates.
 */
function plan(source: string): { file: string; tmp: string; options: import('esbuild').BuildOptions } {
  mkdirSync(DIR, { recursive: true });
  const file = outfile(source);
  const tmp = `${file}.${process.pid}-${Math.random().toString(36).slice(2)}.tmp.mjs`;
  return { file, tmp, options: { ...optionsFor(source), entryPoints: [source], outfile: tmp } };
}
const esbuildModule = (): typeof import('esbuild') => createRequire(import.meta.url)('esbuild') as typeof import('esbuild');

/** How to run `source` (a .ts entry) in a child process: `node ...execArgv file`. */
export function bundledEntry(source: string): { file: string; execArgv: string[] } {
  let entry = built.get(source);
  if (entry) return entry;
  try {
    const { file, tmp, options } = plan(source);
    esbuildModule().buildSync(options);
    renameSync(tmp, file);
    entry = { file, execArgv: [] };
  } catch {
    entry = { file: source, execArgv: ['--import', 'tsx'] };
  }
  built.set(source, entry);
  return entry;
}

/**
 * Bundles the entries tests run as child processes once, in the run's global setup, and hands
 * the files to the test workers (started later, with this environment): each worker bundling
 * them again blocked it for ~1 s per entry. Paths are relative to the project root; an entry
 * that fails here is bundled (or run under tsx) where a test asks for it.
 */
export async function prebuildEntries(paths: readonly string[]): Promise<void> {
  const files: Record<string, string> = {};
  try {
    const esbuild = esbuildModule();
    await Promise.all(paths.map(async (path) => {
      const source = join(ROOT, path);
      const { file, tmp, options } = plan(source);
      await esbuild.build(options);
      renameSync(tmp, file);
      files[source] = file;
    }));
  } catch {
    // Without esbuild, or with an entry that does not build: bundledEntry decides per entry.
  }
  process.env[PREBUILT_ENV] = JSON.stringify(files);
}
