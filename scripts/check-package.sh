#!/usr/bin/env bash
# check-package.sh: the package as users get it. Packs the tarball (npm pack, which builds
# through `prepare`), checks what it ships, installs it into a fresh temporary project (its
# size measured there, with no optional peer), and runs consumers of the installed package
# against the vcsim harness (started without the WSDL bundle, which users do not have):
#   - esm.mjs                  import { … } from 'vim25-soap'
#   - cjs.cjs                  require('vim25-soap') (Node >= 20.19 requires an ES module)
#   - TypeScript, CommonJS and ESM consumers, type-checked (strict, skipLibCheck off) under
#     module node16 and nodenext with TypeScript 5.9 and with this repository's TypeScript (7),
#     and a CommonJS one under module commonjs without esModuleInterop (TypeScript 5.9 reads the
#     package's "types" there), then run.
#   - the generated declarations, which consumers do not re-check (// @ts-nocheck, see
#     scripts/cjs-types.ts), checked here with the pragma removed, by both compilers.
#   - `vim25-soap/redis` with its optional peer ioredis installed, skipLibCheck off: the package's
#     declarations check; ioredis's own need @types/redis-errors (the README says so).
# Then installs this clone's HEAD as a git dependency, which must build itself (prepare).
# Writes reports/package.json: the tarball's and the install's sizes, which the README states.
# Needs Go for the harness (scripts/setup.sh) and the npm registry (or its cache) for the
# package's dependencies and typescript@5.9. KEEP=1 keeps the temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TS7="$ROOT/node_modules/typescript/bin/tsc"
TS59_VERSION=5.9.3
work=$(mktemp -d "${TMPDIR:-/tmp}/vim25-soap-pack.XXXXXX")
harness_pid=""
cleanup() {
  exec 3>&- 2>/dev/null || true   # closing its stdin stops the harness
  [ -n "$harness_pid" ] && wait "$harness_pid" 2>/dev/null || true
  if [ -n "${KEEP:-}" ]; then echo "check-package: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
say() { printf 'check-package: %s\n' "$*" >&2; }
fail() { say "FAIL: $*"; exit 1; }

# --- the tarball ---------------------------------------------------------------------------
# The build's own output (prepare) comes first on stdout; the JSON report is the rest.
npm pack --silent --pack-destination "$work" --json | sed -n '/^\[/,$p' >"$work/pack.json"
tgz="$work/$(node -e 'console.log(require(process.argv[1])[0].filename)' "$work/pack.json")"
node - "$work/pack.json" <<'EOF' || exit 1
const [info] = require(process.argv[2]);
const files = info.files.map((f) => f.path);
const pkg = require(process.cwd() + '/package.json');
const problems = [];
for (const f of files) {
  if (f.endsWith('.map')) problems.push(`ships a source map: ${f}`);
  if (f.startsWith('src/') || f.startsWith('test/') || f.startsWith('scripts/')) problems.push(`ships ${f}`);
}
// Every file an export condition names is in the tarball.
const targets = (v) => (typeof v === 'string' ? [v] : Object.values(v).flatMap(targets));
for (const [subpath, v] of Object.entries(pkg.exports)) {
  for (const t of targets(v)) if (!files.includes(t.replace(/^\.\//, ''))) problems.push(`exports["${subpath}"] names ${t}, not in the tarball`);
}
for (const f of ['LICENSE', 'README.md', 'package.json']) if (!files.includes(f)) problems.push(`${f} missing`);
const big = info.files.filter((f) => f.size > 500_000).map((f) => `${f.path} ${(f.size / 1e3).toFixed(0)} kB`);
console.error(`check-package: ${info.filename}: ${info.entryCount} files, ${(info.size / 1e3).toFixed(0)} kB packed, ${(info.unpackedSize / 1e3).toFixed(0)} kB unpacked; files over 500 kB: ${big.join(', ') || 'none'}`);
if (problems.length) { console.error(problems.map((p) => `check-package: FAIL: ${p}`).join('\n')); process.exit(1); }
EOF

# --- a fresh project installs it ------------------------------------------------------------
app="$work/app"
mkdir -p "$app"
echo '{ "name": "consumer", "private": true }' >"$app/package.json"
(cd "$app" && npm install --silent --no-audit --no-fund "$tgz" >/dev/null)
[ -e "$app/node_modules/soap" ] && fail "the optional peer soap (node-soap) was installed"
packages=$(cd "$app" && npm ls --all --parseable | tail -n +2 | wc -l)
kb=$(du -sk --apparent-size "$app/node_modules" | cut -f1)
own=$(du -sk --apparent-size "$app/node_modules/vim25-soap" | cut -f1)
say "install size: node_modules $((kb / 1024)) MiB ($kb KiB, ${packages} packages), of which vim25-soap $own KiB; no soap/axios"
# The record the README's figures of the package come from (test/unit/readme-figures.test.ts).
mkdir -p reports
node - "$work/pack.json" "$packages" "$kb" "$own" "$(npm -v)" >reports/package.json <<'EOF'
const [packJson, packages, kb, own, npm] = process.argv.slice(2);
const [info] = require(packJson);
console.log(JSON.stringify({
  recordedBy: 'scripts/check-package.sh',
  date: new Date().toISOString().slice(0, 10),
  npm,
  node: process.version,
  tarball: { file: info.filename, files: info.entryCount, packedBytes: info.size, unpackedBytes: info.unpackedSize },
  install: { packages: Number(packages), nodeModulesKiB: Number(kb), ownKiB: Number(own) },
}, null, 2));
EOF
say "wrote reports/package.json"
# The TypeScript consumers' tools, not counted above.
(cd "$app" && npm install --silent --no-audit --no-fund "typescript@$TS59_VERSION" '@types/node@^20.19' >/dev/null)
TS59="$app/node_modules/typescript/bin/tsc"

# --- the harness (no WSDL bundle: users have none) ------------------------------------------
bin=$(bash scripts/build-vcsim.sh)
mkfifo "$work/harness.in"
"$bin" <"$work/harness.in" >"$work/harness.json" &
harness_pid=$!
exec 3>"$work/harness.in"
for _ in $(seq 100); do [ -s "$work/harness.json" ] && break; sleep 0.1; done
[ -s "$work/harness.json" ] || fail "the harness did not start"
export HARNESS_INFO="$work/harness.json"

# --- consumers ------------------------------------------------------------------------------
# The same scenario in every flavour: connect with the harness's CA, log in, CurrentTime (a
# Date), a refused login caught as a typed VimFault, logout, close.
body='
  const info = JSON.parse(readFileSync(process.env.HARNESS_INFO!, "utf8"));
  const client = await VimClient.connect(info.url, { tls: { ca: readFileSync(info.certFile) } });
  await client.login({ username: info.username, password: info.password });
  const now: Date = await client.call("CurrentTime", client.ref("ServiceInstance", "ServiceInstance"));
  if (!(now instanceof Date)) throw new Error("CurrentTime is not a Date");
  const about: AboutInfo = client.about;
  // @ts-expect-error not a vim25 method: the call signature is typed from the WSDL
  const typed = () => client.call("NoSuchMethod", client.ref("ServiceInstance", "ServiceInstance"));
  void typed;
  let refused = false;
  try { await client.login({ username: info.username, password: "wrong" }); } catch (err) { refused = isVimFault(err, "InvalidLogin"); }
  if (!refused) throw new Error("a wrong password was not an InvalidLogin VimFault");
  await client.logout();
  await client.close();
  console.log(`${FLAVOUR}: ${about.fullName}, server time ${now.toISOString()}, InvalidLogin caught`);
'
js_body=$(printf '%s' "$body" | sed -e 's/process.env.HARNESS_INFO!/process.env.HARNESS_INFO/' -e 's/: Date = / = /' -e 's/: AboutInfo = / = /' -e '/@ts-expect-error/d')

cat >"$app/esm.mjs" <<EOF
import { readFileSync } from 'node:fs';
import { VimClient, isVimFault } from 'vim25-soap';
const FLAVOUR = 'ESM import';
${js_body}
EOF
cat >"$app/cjs.cjs" <<EOF
const { readFileSync } = require('node:fs');
const { VimClient, isVimFault } = require('vim25-soap');
const FLAVOUR = 'CommonJS require';
(async () => {
${js_body}
})().catch((err) => { console.error(err); process.exitCode = 1; });
EOF
(cd "$app" && node esm.mjs && node cjs.cjs)
# The installed command (package.json bin), as an operator runs it.
(cd "$app" && VC_URL="$(node -p "require('$work/harness.json').url")" VC_CA="$(node -p "require('$work/harness.json').certFile")" \
  npx --no-install vim25-soap about --json | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{if(JSON.parse(s)._typeName!=='AboutInfo')process.exit(1)})") ||
  fail "the vim25-soap command does not run from the installed package"

ts_project() {   # ts_project <dir> <type> <module>
  mkdir -p "$1"
  echo "{ \"type\": \"$2\" }" >"$1/package.json"
  cat >"$1/tsconfig.json" <<EOF
{ "compilerOptions": { "module": "$3", "target": "es2022", "strict": true, "skipLibCheck": false,
  "types": ["node"], "typeRoots": ["$app/node_modules/@types"], "outDir": "out" }, "files": ["main.ts"] }
EOF
}
# module commonjs, no esModuleInterop (a CommonJS project of the older kind): TypeScript 5.9
# resolves the package as node10 does, by its "types" (the ES module declarations); a default
# import of a node: module there fails ("Module '"node:net"' has no default export").
for module in node16 nodenext commonjs; do
  for ts in 5.9 7; do
    tsc=$TS59; [ "$ts" = 7 ] && tsc=$TS7
    # CommonJS: `import` compiles to require(); top-level await is not available.
    d="$app/ts-cjs-$module-$ts"
    ts_project "$d" commonjs "$module"
    cat >"$d/main.ts" <<EOF
import { readFileSync } from 'node:fs';
import { VimClient, isVimFault, type AboutInfo } from 'vim25-soap';
const FLAVOUR = 'TypeScript $ts, module $module, CommonJS';
async function main(): Promise<void> {
${body}
}
main().catch((err: unknown) => { console.error(err); process.exitCode = 1; });
EOF
    [ "$module" = commonjs ] && continue
    d="$app/ts-esm-$module-$ts"
    ts_project "$d" module "$module"
    cat >"$d/main.ts" <<EOF
import { readFileSync } from 'node:fs';
import { VimClient, isVimFault, type AboutInfo } from 'vim25-soap';
const FLAVOUR = 'TypeScript $ts, module $module, ESM';
${body}
EOF
  done
done
for d in "$app"/ts-*; do
  tsc=$TS59; case "$d" in *-7) tsc=$TS7 ;; esac
  (cd "$d" && node "$tsc" -p . ) || fail "$(basename "$d") does not type-check"
  grep -q 'require("vim25-soap")' "$d/out/main.js" && kind=require || kind=import
  case "$d" in *ts-cjs-*) [ "$kind" = require ] || fail "$(basename "$d") did not compile to require()" ;; esac
  (cd "$d" && node out/main.js)
done
# --- the generated declarations themselves --------------------------------------------------
# dist/generated/{types,methods,managed,paths}.d.cts open with // @ts-nocheck, so that a consumer
# with skipLibCheck off does not re-check 1.7 MB of generated interfaces (scripts/cjs-types.ts).
# Here they are checked, the pragma removed, by both compilers: strict, skipLibCheck off.
dist="$app/node_modules/vim25-soap/dist"
nocheck=$(cd "$dist" && grep -rlx '// @ts-nocheck' --include='*.d.ts' --include='*.d.cts' . | sort | tr '\n' ' ')
[ "$nocheck" = "./generated/managed.d.cts ./generated/methods.d.cts ./generated/paths.d.cts ./generated/types.d.cts " ] ||
  fail "// @ts-nocheck is in: ${nocheck:-no file}; expected the four generated declaration files only"
gen="$work/generated-check"
mkdir -p "$gen"
for f in $nocheck; do sed '/^\/\/ @ts-nocheck$/d' "$dist/$f" >"$gen/$(basename "$f")"; done
echo '{ "type": "module" }' >"$gen/package.json"
cat >"$gen/tsconfig.json" <<EOF
{ "compilerOptions": { "module": "nodenext", "target": "es2022", "lib": ["es2022"], "strict": true,
  "skipLibCheck": false, "noEmit": true, "types": [] }, "include": ["*.d.cts"] }
EOF
for tsc in "$TS59" "$TS7"; do
  (cd "$gen" && node "$tsc" -p .) || fail "the generated declarations do not type-check with $(node "$tsc" -v | sed "s/^Version/TypeScript/")"
done
say "the generated declarations type-check, pragma removed, with TypeScript $TS59_VERSION and 7"

# --- vim25-soap/redis, its optional peer installed ---------------------------------------------
# The package's declarations check; ioredis's own (6.1) import redis-errors, which ships no types
# (TS7016 under strict with skipLibCheck off) until @types/redis-errors is installed.
(cd "$app" && npm install --silent --no-audit --no-fund 'ioredis@^6' >/dev/null)
d="$app/ts-redis"
ts_project "$d" module nodenext
cat >"$d/main.ts" <<'EOF'
import { RedisSessionStore, type RedisSessionStoreOptions } from 'vim25-soap/redis';
import { SessionBroker, type SessionStore } from 'vim25-soap';
const options: RedisSessionStoreOptions = { url: 'redis://127.0.0.1:6379', prefix: 'vim25:', redis: { connectTimeout: 1000 } };
const store: SessionStore = new RedisSessionStore(options);
console.log(typeof SessionBroker, typeof store.get);
EOF
for tsc in "$TS59" "$TS7"; do
  v=$(node "$tsc" -v | sed 's/^Version/TypeScript/')
  out=$(cd "$d" && node "$tsc" -p . --noEmit 2>&1) && { say "vim25-soap/redis, $v: type-checks without @types/redis-errors (ioredis's declarations fixed?)"; continue; }
  others=$(printf '%s\n' "$out" | grep -E '\([0-9]+,[0-9]+\): error' | grep -v 'node_modules/ioredis/' || true)
  [ -z "$others" ] || fail "vim25-soap/redis does not type-check with $v:"$'\n'"$out"
  say "vim25-soap/redis, $v, without @types/redis-errors: $(printf '%s\n' "$out" | grep -c ': error TS') errors, all in ioredis's declarations ($(printf '%s\n' "$out" | grep -oE "error TS[0-9]+|module '[^']+'" | sort -u | xargs))"
done
(cd "$app" && npm install --silent --no-audit --no-fund @types/redis-errors >/dev/null)
for tsc in "$TS59" "$TS7"; do
  (cd "$d" && node "$tsc" -p . --noEmit) || fail "vim25-soap/redis does not type-check with $(node "$tsc" -v | sed "s/^Version/TypeScript/") and @types/redis-errors"
done
say "vim25-soap/redis type-checks (skipLibCheck off) with @types/redis-errors installed"

# --- a git dependency builds itself (prepare) -------------------------------------------------
# From this clone's committed HEAD, as `npm install github:owner/vim25-soap#ref` would.
if git rev-parse --verify -q HEAD >/dev/null; then
  gitapp="$work/gitapp"
  mkdir -p "$gitapp"
  echo '{ "name": "git-consumer", "private": true }' >"$gitapp/package.json"
  (cd "$gitapp" && npm install --silent --no-audit --no-fund "git+file://$ROOT#$(git -C "$ROOT" rev-parse HEAD)" >/dev/null)
  [ -f "$gitapp/node_modules/vim25-soap/dist/index.js" ] || fail "the git dependency has no dist/ (prepare did not build it)"
  (cd "$gitapp" && node -e "if (typeof require('vim25-soap').VimClient !== 'function') process.exit(1)" &&
    node --input-type=module -e "import { VimClient } from 'vim25-soap'; if (typeof VimClient !== 'function') process.exit(1)") ||
    fail "the git dependency does not load"
  say "git dependency (HEAD $(git -C "$ROOT" rev-parse --short HEAD)): built by prepare, loads with import and require"
fi
say "OK"
