// What the published declarations must not name: the library's internals (what src/internals.ts
// exports, whatever else is marked @internal), nor an exported symbol or a global-registry one
// (Symbol.for), a key that would open every client to any code holding it. A symbol declared for
// a type-level brand, not exported, is no key. tsc leaves @internal declarations out
// (stripInternal, tsconfig.build.json); this finds what it did not.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from './paths.ts';

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

/** The names src/internals.ts exports. */
function internalNames(): string[] {
  const source = readFileSync(join(ROOT, 'src/internals.ts'), 'utf8');
  return [...source.matchAll(/^export (?:declare )?(?:const|let|function|interface|type|class|enum) (\w+)/gm)].map((m) => m[1]!);
}

/** Each line of a declaration file (.d.ts, .d.cts) under `dir` that names an internal, as `file:line: what`. */
export function declarationProblems(dir: string): string[] {
  const names = internalNames();
  const rules: [RegExp, string][] = [
    [/['"][^'"]*\/internals(?:\.(?:c?[jt]s|d\.c?ts))?['"]/, 'imports the internals module'],
    [/Symbol\.for\(|export declare const \w+: unique symbol/, 'exports a symbol'],
    [/@internal\b/, 'keeps an @internal declaration (stripInternal off?)'],
    ...(names.length ? [[new RegExp(`\\b(?:${names.join('|')})\\b`), `names an export of src/internals.ts (${names.join(', ')})`] as [RegExp, string]] : []),
  ];
  const problems: string[] = [];
  for (const file of walk(dir).filter((f) => /\.d\.c?ts$/.test(f))) {
    readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
      for (const [re, what] of rules) if (re.test(line)) problems.push(`${relative(dir, file)}:${i + 1}: ${what}`);
    });
  }
  return problems;
}
