#!/usr/bin/env bash
# npm run bench:types [-- RUNS]: how long a consumer of the published types takes to type-check,
# with the TypeScript this repository installs and with TypeScript 5.9 (npx), and the size of the
# published .d.ts. Builds dist/, then compiles bench/types/*.ts in a scratch project that depends
# on this package (a symlink), as a user's project would: strict, NodeNext, skipLibCheck.
# Prints the fastest and the median of RUNS runs (default 5) of tsc's own Check and Total times.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${1:-5}
npm run --silent build >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/node_modules"
ln -s "$ROOT" "$work/node_modules/vim25-soap"
ln -s "$ROOT/node_modules/@types" "$work/node_modules/@types"
cp bench/types/*.ts "$work/"
echo '{ "name": "consumer", "private": true, "type": "module" }' > "$work/package.json"
ts59=$(npx -y -p typescript@5.9 -c 'command -v tsc')

echo "published .d.ts: $(find dist -name '*.d.ts' -exec cat {} + | wc -c) bytes"
for file in baseline.ts consumer.ts; do
  printf '{ "compilerOptions": { "target": "ES2022", "module": "NodeNext", "moduleResolution": "NodeNext", "strict": true, "noEmit": true, "skipLibCheck": true, "types": ["node"] }, "files": ["%s"] }\n' "$file" > "$work/tsconfig.json"
  for compiler in "$ROOT/node_modules/.bin/tsc" "$ts59"; do
    version=$("$compiler" -v)
    for _ in $(seq "$RUNS"); do
      (cd "$work" && "$compiler" -p tsconfig.json --extendedDiagnostics) | awk '/^Check time/ { c = $3 } /^Total time/ { t = $3 } END { sub("s", "", c); sub("s", "", t); print c, t }'
    done | sort -n -k2 | awk -v f="$file" -v v="$version" '{ c[NR] = $1; t[NR] = $2 } END { m = int((NR + 1) / 2); printf "%-12s %-20s check %.2f s (median %.2f)  total %.2f s (median %.2f)\n", f, v, c[1], c[m], t[1], t[m] }'
  done
done
