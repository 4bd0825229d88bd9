// `npm run build`, last step: replaces tsc's JavaScript in dist/ (one file per module) with the
// bundled entry points of scripts/lib/esbuild-package.ts. tsc's declarations (.d.ts, and the .d.cts
// twins of scripts/cjs-types.ts, which reads tsc's .js first) stay as they are: the types are
// per module, the code is bundled.
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { bundle } from './lib/esbuild-package.ts';
import { ROOT } from './lib/paths.ts';

const DIST = join(ROOT, 'dist');

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

const compiled = walk(DIST).filter((f) => f.endsWith('.js'));
if (compiled.length === 0) throw new Error(`no JavaScript in ${DIST}: run tsc -p tsconfig.build.json first`);
for (const f of compiled) rmSync(f);
const metafile = await bundle(DIST);
const outputs = Object.keys(metafile.outputs).map((f) => join(ROOT, f));
const kB = (f: string) => `${(statSync(f).size / 1e3).toFixed(0)} kB`;
console.log(`bundle: ${compiled.length} modules -> ${outputs.length} files in ${relative(ROOT, DIST)}/: ${outputs.map((f) => `${relative(DIST, f)} ${kB(f)}`).join(', ')}`);
