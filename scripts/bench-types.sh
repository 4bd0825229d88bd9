#!/usr/bin/env bash
# npm run bench:types [-- RUNS]: how long a consumer of the published types takes to type-check,
# with the TypeScript this repository installs and with TypeScript 5.9 (npx), and how much
# declaration text it loads. Builds dist/, then compiles bench/types/*.ts in a scratch project that
# depends on this package (a symlink), as a user's project would: strict, NodeNext, no `lib` (so
# the DOM's, TypeScript's default), @types/node; with skipLibCheck (what most projects set) and
# without (every declaration file checked: TypeScript's libs, @types/node's, this package's).
# floor.ts imports nothing of the package: its rows are what the compiler costs with that
# configuration alone, the part of every other row this package has no say in.
# VIM25_PACKAGE=DIR measures another built checkout instead (e.g. main's, for a before/after);
# consumer.ts needs the typed managed objects, so there only baseline.ts and floor.ts run unless
# VIM25_FILES names the files ("consumer.ts floor.ts").
# Prints the fastest and the median of RUNS runs (default 5) of tsc's own Check and Total times
# (wall clock: on a busy machine the fastest run is the one least disturbed), of the process's
# CPU time (user + sys, /usr/bin/time; TypeScript 7 checks on several threads), and the number of
# types the checker created (the same on any machine).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /usr/bin/time ] || { echo "bench:types needs /usr/bin/time (Debian: apt-get install time)" >&2; exit 1; }
ROOT=$PWD
RUNS=${1:-5}
PACKAGE=${VIM25_PACKAGE:-$ROOT}
[ -n "${VIM25_PACKAGE:-}" ] || npm run --silent build >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/node_modules"
ln -s "$PACKAGE" "$work/node_modules/vim25-soap"
ln -s "$ROOT/node_modules/@types" "$work/node_modules/@types"
cp bench/types/*.ts "$work/"
echo '{ "name": "consumer", "private": true, "type": "module" }' > "$work/package.json"
ts59=$(npx -y -p typescript@5.9 -c 'command -v tsc')
ts7="$ROOT/node_modules/.bin/tsc"

config() {   # config FILE SKIPLIBCHECK
  printf '{ "compilerOptions": { "target": "ES2022", "module": "NodeNext", "moduleResolution": "NodeNext", "strict": true, "noEmit": true, "skipLibCheck": %s, "types": ["node"] }, "files": ["%s"] }\n' "$2" "$1" > "$work/tsconfig.json"
}

# What a consumer reads: every declaration file of the package, and those the consumer's program loads.
bytes() { if [ $# -gt 0 ]; then cat "$@" | wc -c; else echo 0; fi; }
mapfile -t published < <(find "$PACKAGE/dist" -name '*.d.ts' -o -name '*.d.cts')
config consumer.ts true
real=$(realpath "$PACKAGE/dist")
mapfile -t loaded < <(cd "$work" && "$ts59" -p tsconfig.json --listFilesOnly | while read -r f; do r=$(realpath "$f"); [[ $r == "$real"/* ]] && echo "$r"; done)
echo "published declarations (.d.ts, .d.cts): ${#published[@]} files, $(bytes "${published[@]}") bytes; consumer.ts loads ${#loaded[@]} of them, $(bytes "${loaded[@]}") bytes"

files="baseline.ts consumer.ts floor.ts"
[ -z "${VIM25_PACKAGE:-}" ] || files="baseline.ts floor.ts"
files=${VIM25_FILES:-$files}
for file in $files; do
  for skip in true false; do
    config "$file" "$skip"
    for compiler in "$ts7" "$ts59"; do
      version=$("$compiler" -v | sed "s/^Version /TypeScript /")
      # Per run: check (s), total (s), CPU user+sys of the process (s), types created.
      for _ in $(seq "$RUNS"); do
        (cd "$work" && /usr/bin/time -f 'cpu %U %S' "$compiler" -p tsconfig.json --extendedDiagnostics 2>&1) |
          awk '/^Check time/ { c = $3 } /^Total time/ { t = $3 } /^Types:/ { n = $2 } /^cpu / { u = $2 + $3 } END { sub("s", "", c); sub("s", "", t); print c, t, u, n }'
      done > "$work/times"
      col() { cut -d' ' -f"$1" "$work/times" | sort -n | tr '\n' ' '; }
      awk -v f="$file" -v s="$([ "$skip" = true ] && echo 'skipLibCheck on' || echo 'skipLibCheck off')" -v v="$version" -v c="$(col 1)" -v t="$(col 2)" -v u="$(col 3)" -v n="$(col 4)" 'BEGIN {
        k = split(c, cs, " "); split(t, ts, " "); split(u, us, " "); split(n, ns, " "); m = int((k + 1) / 2)
        printf "%-12s %-16s %-17s check %.2f s (median %.2f)  total %.2f s (median %.2f)  cpu %.2f s (median %.2f)  %d types\n", f, s, v, cs[1], cs[m], ts[1], ts[m], us[1], us[m], ns[1] }'
    done
  done
done
