#!/usr/bin/env bash
# record-suite.sh [runs]: measures the suite as the README states it and writes the record,
# reports/suite.json, that the README's figures come from (test/unit/readme-figures.test.ts fails
# when they differ):
#   - `npx vitest run` RUNS times (default 3) in this checkout: wall time and CPU time (user and
#     system time of the whole process tree: vitest, its workers and every process the tests
#     start), test files and tests, and the load average before each run (measure on an idle
#     machine: the figures are the machine's as much as the suite's);
#   - once in a copy of this working tree made outside it, as an outsider's clone is: no
#     ../shared, no wsdl/vim25, no WSDL bundle. What ran and passed there, and which test files
#     were left out (test/harness/bundle-gate.ts). The copy shares node_modules and .cache.
# With BUSY=N (issue 32's acceptance: `BUSY=2 bash scripts/record-suite.sh 10`), N `yes > /dev/null`
# loops keep the cores busy for the whole of it, every run gets one attempt, there is no outsider
# run, and the record is reports/suite-busy.json.
# Writes nothing when a test fails, but for the README's check itself (test/unit/readme-figures.test.ts),
# which fails while the README states the record this replaces: update the README from the new
# record and it passes. Needs what `npm test` needs (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
runs=${1:-3}
work=$(mktemp -d "${TMPDIR:-/tmp}/vim25-record-suite.XXXXXX")
busy=${BUSY:-0}
loops=()
stop_loops() { [ ${#loops[@]} -eq 0 ] || kill "${loops[@]}" 2>/dev/null || true; }
trap 'stop_loops; rm -rf "$work"' EXIT
if [ "$busy" -gt 0 ]; then
  ATTEMPTS=1
  for _ in $(seq "$busy"); do
    yes >/dev/null &
    loops+=($!)
  done
fi
say() { printf 'record-suite: %s\n' "$*" >&2; }

# one_run <dir> <name>: runs the suite in <dir>; leaves <name>.json (the run's summary,
# test/harness/summary-reporter.ts) and <name>.time ("wall user system load attempts") in $work.
# A failure in any file but the README's check (which compares the README with the record this
# script is about to replace) makes the run fail; a failed run is run again, up to $ATTEMPTS
# times in all (default 1), and the record keeps how many it took.
one_run() {
  local dir=$1 name=$2 load attempt
  local TIMEFORMAT='%R %U %S'
  for attempt in $(seq "${ATTEMPTS:-1}"); do
    read -r load _ </proc/loadavg
    rm -f "$work/$name.json"
    { time (cd "$dir" && env -u CI -u VIM25_WSDL_DIR VIM25_TEST_SUMMARY="$work/$name.json" npx vitest run >"$work/$name.log" 2>&1 || true); } 2>"$work/$name.time"
    if [ -s "$work/$name.json" ] && node -e '
      const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      process.exit(s.failedFiles.every((f) => f === "test/unit/readme-figures.test.ts") ? 0 : 1);' "$work/$name.json"; then
      echo "$(cat "$work/$name.time") $load $attempt" >"$work/$name.time"
      say "$name: $(tail -1 "$work/$name.time" | awk '{ printf "%s s wall, %.1f s CPU, load %s before, attempt %s", $1, $2 + $3, $4, $5 }'), $(cat "$work/$name.json")"
      return 0
    fi
    grep -E 'FAIL|Error' "$work/$name.log" | head -20 >&2 || true
    # The whole log outlives the run's directory: a failure under load may not come again.
    kept="${TMPDIR:-/tmp}/vim25-record-suite-$name-attempt$attempt-$(date +%s).log"
    cp "$work/$name.log" "$kept"
    say "the run $name in $dir failed (attempt $attempt); its log: $kept"
  done
  say "FAIL: the run $name failed; nothing recorded"
  exit 1
}

for i in $(seq "$runs"); do one_run "$ROOT" "run-$i"; done

out=reports/suite-busy.json
if [ "$busy" -gt 0 ]; then
  stop_loops
else
  # The outsider's clone: this working tree's files (tracked and untracked, not ignored), in a
  # directory whose parent has no shared/.
  copy="$work/outsider/vim25-soap"
  mkdir -p "$copy"
  git ls-files -z -co --exclude-standard | tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C "$copy"
  ln -s "$ROOT/node_modules" "$copy/node_modules"
  ln -s "$ROOT/.cache" "$copy/.cache"
  one_run "$copy" no-bundle
  out=reports/suite.json
fi

mkdir -p reports
node - "$work" "$runs" "$busy" >"$out" <<'EOF'
const { readFileSync } = require('node:fs');
const os = require('node:os');
const [work, runs, busy] = process.argv.slice(2);
const read = (name) => {
  const [wall, user, system, load, attempts] = readFileSync(`${work}/${name}.time`, 'utf8').trim().split(/\s+/).map(Number);
  return { wallSeconds: wall, cpuSeconds: Math.round((user + system) * 100) / 100, loadBefore: load, attempts, ...JSON.parse(readFileSync(`${work}/${name}.json`, 'utf8')) };
};
const record = {
  recordedBy: 'scripts/record-suite.sh',
  date: new Date().toISOString().slice(0, 10),
  node: process.version,
  cores: os.availableParallelism(),
  command: 'npx vitest run',
  ...(busy > 0 && { busyLoops: Number(busy) }),
  runs: Array.from({ length: Number(runs) }, (_, i) => read(`run-${i + 1}`)),
  ...(busy == 0 && { noBundle: read('no-bundle') }),
};
console.log(JSON.stringify(record, null, 2));
EOF
say "wrote $out"
