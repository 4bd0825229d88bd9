// The package's JavaScript as esbuild bundles it (issue 21). A process that imports vim25-soap
// used to load ~80 modules from dist/, each resolved, read, parsed and linked on its own: about
// half of its import time. Bundled, the main entry is a handful of files.
//
// The entry points are bundled together with their shared code split into chunks, not each on
// its own: a process that imports vim25-soap and vim25-soap/redis (or node-soap) holds one copy
// of every module, so a class such as VimFault or TransportError is the same whichever entry
// point made the object, and the generated metadata is held once. Packages stay external: they
// resolve from node_modules as before, so ioredis and soap are still loaded by their subpaths
// only, and what the library loads through createRequire (undici's dispatchers, tough-cookie)
// stays CommonJS.
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { ROOT } from './paths.ts';

/** Output path (without .js) -> source, one per package.json export and bin. */
export const ENTRY_POINTS: Readonly<Record<string, string>> = {
  index: 'src/index.ts',
  redis: 'src/redis.ts',
  otel: 'src/otel.ts',
  'node-soap/index': 'src/node-soap/index.ts',
  'cli/bin': 'src/cli/bin.ts',
};

/** Writes the bundled entry points (and their chunks, under chunks/) to `outdir`. */
export async function bundle(outdir: string): Promise<esbuild.Metafile> {
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: Object.fromEntries(Object.entries(ENTRY_POINTS).map(([out, src]) => [out, join(ROOT, src)])),
    outdir,
    bundle: true,
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    // Not minified: stack traces users send point at code one can read, and the import time
    // saved is the module count, not the size.
    minify: false,
    metafile: true,
    logLevel: 'warning',
  });
  return result.metafile;
}
