// Declarations for `require('vim25-soap')` (run by `npm run build`, after tsc).
//
// dist/ is ES modules; Node >= 20.19 loads them with require() too, and package.json sends
// `require` to the same dist/*.js. TypeScript, though, reads a .d.ts in this "type": "module"
// package as an ES module, and a CommonJS consumer compiled with `module: node16` (or
// `nodenext` on TypeScript before 5.8) refuses to import one (TS1479). So every declaration
// file gets a CommonJS twin, dist/**/*.d.cts, with its relative imports pointing at the twins;
// the `require` condition's `types` name dist/index.d.cts.
//
// Modules without a runtime value (their .js is only `export {};`, e.g. the generated vim25
// types, ~1.1 MB of declarations) are not duplicated: they exist only as .d.cts, which an ES
// module may import as well, and both trees import that one copy.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from './lib/paths.ts';

const DIST = join(ROOT, 'dist');

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

const declarations = walk(DIST).filter((f) => f.endsWith('.d.ts'));
if (declarations.length === 0) throw new Error(`no declarations in ${DIST}: run tsc -p tsconfig.build.json first`);

const stripComments = (js: string): string => js.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '').trim();
const typeOnly = new Set(declarations.filter((d) => stripComments(readFileSync(d.replace(/\.d\.ts$/, '.js'), 'utf8')) === 'export {};'));

// A relative specifier ('./x.ts', '../y.js', as tsc writes them) -> the file it names, without extension.
const SPECIFIER = /((?:from|import)\s*\(?\s*)(['"])(\.\.?\/[^'"]*?)\.(?:ts|js)\2/g;

function rewrite(file: string, text: string, toCjs: boolean): string {
  return text.replace(SPECIFIER, (_m, lead: string, q: string, base: string) => {
    const target = join(file, '..', `${base}.d.ts`);
    const cjs = toCjs || typeOnly.has(target);
    return `${lead}${q}${base}.${cjs ? 'cjs' : 'js'}${q}`;
  });
}

let twins = 0;
for (const file of declarations) {
  const text = readFileSync(file, 'utf8');
  const cts = file.replace(/\.d\.ts$/, '.d.cts');
  writeFileSync(cts, rewrite(file, text, true));
  twins++;
  if (typeOnly.has(file)) rmSync(file);
  else writeFileSync(file, rewrite(file, text, false));
}
console.log(`cjs-types: ${twins} .d.cts in ${relative(ROOT, DIST)}/ (${typeOnly.size} type-only modules shared by both trees: ${
  [...typeOnly].map((f) => relative(DIST, f)).join(', ')})`);
