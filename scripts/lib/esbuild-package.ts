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
//
// Two changes to what the sources say (issue 34), both about what a process loads:
// - the module that loads tough-cookie first runs lazy-tldts.ts, which defers tldts's load (its
//   public-suffix trie) to tough-cookie's first public-suffix lookup; see there;
// - Node's built-in modules come from process.getBuiltinModule (Node >= 20.16), not from an ES
//   import. An ES import of a built-in makes its module namespace, which reads every export: on
//   Node 22 and later `node:http`'s WebSocket, CloseEvent and MessageEvent getters load Node's own
//   undici, and with it web streams, zlib, http2 and worker_threads (Node 24: 249 internal modules
//   loaded instead of 195, ~4 MB of peak RSS). Each importer gets the object getBuiltinModule
//   returns (what the namespace's default export is) and the names it imports read off it once.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
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

/** How the library loads tough-cookie (src/transport/cookies.ts): its CommonJS build, through require. */
const LOADS_TOUGH_COOKIE = /createRequire\(import\.meta\.url\)\(\s*'tough-cookie'\s*\)/;
const LAZY_TLDTS = join(ROOT, 'scripts/lib/lazy-tldts.ts');

/**
 * Puts lazy-tldts.ts before every module of src/ that loads tough-cookie. The build fails if none
 * does: the bundle would then pay tldts's load again without anyone noticing.
 */
export const lazyTldts: esbuild.Plugin = {
  name: 'lazy-tldts',
  setup(build) {
    let rewritten = 0;
    build.onStart(() => {
      rewritten = 0;
    });
    // The package says it has no side effects (so that unused modules drop out); this one is all side effect.
    build.onResolve({ filter: /[\\/]lazy-tldts\.ts$/ }, (args) => (args.path === LAZY_TLDTS ? { path: LAZY_TLDTS, sideEffects: true } : undefined));
    build.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (!LOADS_TOUGH_COOKIE.test(source)) return undefined;
      rewritten++;
      return { contents: `import ${JSON.stringify(LAZY_TLDTS)};\n${source}`, loader: 'ts' };
    });
    build.onEnd((result) => {
      if (result.errors.length === 0 && rewritten === 0) {
        return { errors: [{ text: `lazy-tldts: no module of src/ loads tough-cookie as ${String(LOADS_TOUGH_COOKIE)}; update scripts/lib/esbuild-package.ts` }] };
      }
      return undefined;
    });
  },
};

/** One `import … from 'node:…'` of a module (type-only imports and specifiers dropped). */
const NODE_IMPORT = /^[ \t]*import\s+(?!type\s)([^;'"]*?)\s+from\s*['"](node:[^'"]+)['"]/gm;

interface BuiltinImport {
  default?: string;
  names: string[];
  namespace: boolean;
}

/** What `source` imports from `id`, or undefined if none of its imports of `id` reads as one. */
export function builtinImport(source: string, id: string): BuiltinImport | undefined {
  let found: BuiltinImport | undefined;
  for (const [, clause, from] of source.matchAll(NODE_IMPORT)) {
    if (from !== id) continue;
    const got: BuiltinImport = (found ??= { names: [], namespace: false });
    const braces = /\{([^}]*)\}/.exec(clause!);
    const head = clause!.replace(/\{[^}]*\}/, '').split(',').map((x) => x.trim()).filter(Boolean);
    for (const part of head) {
      if (/^\*\s+as\s+/.test(part)) got.namespace = true;
      else if (/^[\w$]+$/.test(part)) got.default = part;
      else return undefined;
    }
    for (const item of (braces?.[1] ?? '').split(',').map((x) => x.trim()).filter(Boolean)) {
      if (/^type\s/.test(item)) continue;
      const name = /^([\w$]+)(\s+as\s+[\w$]+)?$/.exec(item)?.[1];
      if (!name) return undefined;
      if (name !== 'default' && !got.names.includes(name)) got.names.push(name);
    }
  }
  return found;
}

/**
 * Resolves each `import … from 'node:…'` of the package's own modules to a module of its own that
 * takes the built-in from process.getBuiltinModule and exports what the importer names. A
 * namespace import (`* as`), an import it cannot read, and dynamic imports stay as they are.
 */
export const builtinsByGetter: esbuild.Plugin = {
  name: 'builtins-by-getter',
  setup(build) {
    const root = build.initialOptions.absWorkingDir ?? ROOT;
    const sources = new Map<string, string>();
    const own = (file: string): boolean => file === LAZY_TLDTS || (!relative(join(root, 'src'), file).startsWith('..') && !isAbsolute(relative(join(root, 'src'), file)));
    build.onResolve({ filter: /^node:/ }, (args) => {
      if (args.kind !== 'import-statement' || !own(args.importer)) return undefined;
      let source = sources.get(args.importer);
      if (source === undefined) sources.set(args.importer, (source = readFileSync(args.importer, 'utf8')));
      const what = builtinImport(source, args.path);
      if (!what || what.namespace) return undefined;
      const names = [...what.names].sort();
      return { path: `${args.path}?${names.join(',')}`, namespace: 'node-builtin', pluginData: { id: args.path, names } };
    });
    build.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (args) => {
      const { id, names } = args.pluginData as { id: string; names: string[] };
      const lines = [`const m = process.getBuiltinModule(${JSON.stringify(id)});`, 'export default m;', ...names.map((n) => `export const ${n} = m.${n};`)];
      return { contents: `${lines.join('\n')}\n`, loader: 'js' };
    });
  },
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
    plugins: [lazyTldts, builtinsByGetter],
    logLevel: 'warning',
  });
  return result.metafile;
}
