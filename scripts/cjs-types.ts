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

// A relative specifier ('./x.ts', '../y.js', as tsc writes them) -> the file it names, without extension.
const SPECIFIER = /((?:from|import)\s*\(?\s*)(['"])(\.\.?\/[^'"]*?)\.(?:ts|js)\2/g;

/** The declaration files a declaration file imports (relative specifiers only). */
function imports(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(SPECIFIER)].map((m) => join(file, '..', `${m[3]!}.d.ts`));
}

// Shared: a type-only module whose imports are all shared too. One that imports a module with
// a runtime value (soap/wire.d.ts imports pipeline, decode, http) is twinned like the rest: its
// single .d.cts would pull the CommonJS twins of those into an ES module consumer, which would
// then load both trees (errors.d.ts and errors.d.cts, tough-cookie's index.d.ts and index.d.cts)
// and hold two unrelated copies of every class.
const typeOnly = new Set(declarations.filter((d) => stripComments(readFileSync(d.replace(/\.d\.ts$/, '.js'), 'utf8')) === 'export {};'));
for (let changed = true; changed;) {
  changed = false;
  for (const d of typeOnly) {
    if (imports(d).every((i) => typeOnly.has(i))) continue;
    typeOnly.delete(d);
    changed = true;
  }
}

function rewrite(file: string, text: string, toCjs: boolean): string {
  return text.replace(SPECIFIER, (_m, lead: string, q: string, base: string) => {
    const target = join(file, '..', `${base}.d.ts`);
    const cjs = toCjs || typeOnly.has(target);
    return `${lead}${q}${base}.${cjs ? 'cjs' : 'js'}${q}`;
  });
}

// The generated vim25 declarations (generated/types, methods, managed, paths: ~1.7 MB, 4 366 data
// types, 928 methods, 3 580 property paths) are not checked again in each consumer: a project with
// skipLibCheck off would spend ~0.5 s of TypeScript 5.9 re-checking interfaces tsc wrote from this
// repository's checked source (src/generated/ is type-checked by `npm test`), that import nothing
// outside the package and mean the same under any compiler options. `// @ts-nocheck` (honoured in
// declaration files by TypeScript 5.9 and 7) leaves them out of that check only; what a consumer
// writes against them is checked as before, and so are the package's other declarations (their
// imports of node:* and of the dependencies do depend on the consumer's options and versions).
// scripts/check-package.sh checks these files themselves, the pragma removed, with TypeScript 5.9
// and 7, skipLibCheck off.
const NOCHECK = '// @ts-nocheck\n// Generated vim25 types, type-checked when vim25-soap is packed (TypeScript 5.9 and 7); not again in\n' +
  '// each project with skipLibCheck off (~0.5 s of TypeScript 5.9). What is written against them is checked.\n';
const nocheck = (file: string): boolean => typeOnly.has(file) && relative(DIST, file).startsWith('generated/');

let twins = 0;
for (const file of declarations) {
  const text = nocheck(file) ? `${NOCHECK}${readFileSync(file, 'utf8')}` : readFileSync(file, 'utf8');
  const cts = file.replace(/\.d\.ts$/, '.d.cts');
  writeFileSync(cts, rewrite(file, text, true));
  twins++;
  if (typeOnly.has(file)) rmSync(file);
  else writeFileSync(file, rewrite(file, text, false));
}
console.log(`cjs-types: ${twins} .d.cts in ${relative(ROOT, DIST)}/ (${typeOnly.size} type-only modules shared by both trees: ${
  [...typeOnly].map((f) => relative(DIST, f)).join(', ')}; not re-checked by consumers: ${declarations.filter(nocheck).map((f) => relative(DIST, f)).join(', ')})`);
