// Part of the package's bundle: scripts/lib/esbuild-package.ts runs it before the module that
// loads tough-cookie (issue 34). tough-cookie's CommonJS build requires tldts when it loads, and
// tldts's load builds its public-suffix trie, a hash loop over ~10 000 labels: the only code of a
// short process that reaches V8's optimizing tiers (on Node 24, 6.6 MB of a short process's peak
// RSS of 76 MB, and ~10 ms of its CPU).
// tough-cookie asks tldts for a public suffix (getDomain) to check a cookie's Domain attribute
// and to list the parent domains of a host it looks cookies up for; for an IP address, or a
// string that is no hostname, tldts answers null before it looks at its list.
//
// So, before tough-cookie loads, tldts's slot in require's cache gets a stand-in whose functions
// load the real tldts on the first call that needs the list and hand that call, and every later
// one, to it. Until then getDomain answers what tldts's own parser (tldts-core, of which tldts is
// a build) answers for inputs it settles before the lookup. tough-cookie reads `getDomain` off the
// object at each use, so it gets tldts's answers throughout. Nothing else changes: tough-cookie
// is the one in node_modules (the jar's classes are those `require('tough-cookie')` gives), and
// where the application loaded tough-cookie or tldts before the library, nothing is done.
import Module, { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

/** tldts's exports (7.x). */
const EXPORTS = ['getDomain', 'getDomainWithoutSuffix', 'getFullDomain', 'getHostname', 'getPublicSuffix', 'getSubdomain', 'parse'] as const;

type Tldts = Record<(typeof EXPORTS)[number], (...args: unknown[]) => unknown>;

interface TldtsCore {
  getEmptyResult(): { domain: string | null };
  parseImpl(url: unknown, step: number, suffixLookup: () => never, options: unknown, result: { domain: string | null }): { domain: string | null };
}

/** tldts-core's parseImpl step that stops at the registrable domain (its FLAG.DOMAIN). */
const DOMAIN = 3;

/** Thrown by the suffix lookup the parser is given: the answer needs the list. */
const NEEDS_LIST = Symbol('needs the public-suffix list');

const version = (packageJson: string): unknown => (JSON.parse(readFileSync(packageJson, 'utf8')) as { version?: unknown }).version;

/** tldts-core as tldts resolves it, if it is the release tldts was built from (else its answers could differ). */
function matchingCore(tldtsFile: string): TldtsCore | undefined {
  try {
    const fromTldts = createRequire(tldtsFile);
    const tldtsVersion = version(fromTldts.resolve('tldts/package.json'));
    if (version(fromTldts.resolve('tldts-core/package.json')) !== tldtsVersion) return undefined;
    return fromTldts('tldts-core') as TldtsCore;
  } catch {
    return undefined;
  }
}

function deferTldts(): void {
  const require = createRequire(import.meta.url);
  let tldtsFile: string;
  try {
    tldtsFile = createRequire(require.resolve('tough-cookie')).resolve('tldts');
    if (require.cache[require.resolve('tough-cookie')] || require.cache[tldtsFile]) return;
  } catch {
    return; // tough-cookie's own require() reports what is missing
  }
  const cache = require.cache;
  const stand = new Module(tldtsFile) as NodeJS.Module;
  let real: Tldts | undefined;
  const load = (): Tldts => {
    if (!real) {
      if (cache[tldtsFile] === stand) delete cache[tldtsFile];
      real = require(tldtsFile) as Tldts;
    }
    return real;
  };
  let core: TldtsCore | undefined | null = null;
  const exports = Object.fromEntries(EXPORTS.map((name) => [name, (...args: unknown[]) => load()[name](...args)])) as Tldts;
  exports.getDomain = (url: unknown, options: unknown): unknown => {
    if (!real) {
      if (core === null) core = matchingCore(tldtsFile);
      if (core) {
        try {
          return core.parseImpl(url, DOMAIN, () => {
            throw NEEDS_LIST;
          }, options, core.getEmptyResult()).domain;
        } catch (err) {
          if (err !== NEEDS_LIST) throw err;
        }
      }
    }
    return load().getDomain(url, options);
  };
  // Another module that requires tldts before tough-cookie's first lookup gets the stand-in too:
  // a name it does not define (a later tldts's) is the real module's.
  const own = (key: string | symbol): boolean => Object.hasOwn(exports, key);
  stand.filename = tldtsFile;
  stand.exports = new Proxy(exports, {
    get: (target, key) => (own(key) ? target[key as keyof Tldts] : Reflect.get(load(), key)),
    has: (_target, key) => own(key) || key in load(),
    ownKeys: () => Reflect.ownKeys(load()),
    // Configurable, as a proxy must report a property its target lacks.
    getOwnPropertyDescriptor: (target, key) => {
      if (own(key)) return Reflect.getOwnPropertyDescriptor(target, key);
      const d = Reflect.getOwnPropertyDescriptor(load(), key);
      return d && { ...d, configurable: true };
    },
  });
  stand.loaded = true;
  cache[tldtsFile] = stand;
}

deferTldts();
