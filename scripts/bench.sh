#!/usr/bin/env bash
# npm run bench: installs what it needs, builds the library (measured from dist/, as users run
# it) and the bench peers, then runs scripts/bench.ts (arguments passed on: --runs N, --only …)
# with our client on Node 24, the active LTS (issue 34: the primary row; bench/results.json),
# then the per-process and first-calls rows again on Node 20 and 22 (bench/results-node20.json,
# bench/results-node22.json), then the transfer rows (bench/transfer.ts, bench/transfer.json).
# Given --node or --out, only the one run asked for.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ ! -x /usr/bin/time ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "bench: installing time" >&2
  $sudo apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends time >&2
fi
npm run --silent build >&2
bash bench/peers/build-govmomi.sh >/dev/null
case " $* " in
  *" --node "*|*" --out "*) exec node --import tsx scripts/bench.ts "$@" ;;
esac
node24=$(bash scripts/node-matrix.sh 24)
node --import tsx scripts/bench.ts --node "$node24" "$@"
for major in 20 22; do
  bin=node
  [ "$major" = "$(node -p 'process.versions.node.split(".")[0]')" ] || bin=$(bash scripts/node-matrix.sh "$major")
  node --import tsx scripts/bench.ts --node "$(command -v "$bin")" --only process,first --clients vim25-soap,govmomi --runs 3 --out "bench/results-node$major.json"
done
# Transfers (issue 29): 1 GiB up and down a datastore and an OVA import, ours against govmomi (bench/transfer.json).
"$node24" --import tsx bench/transfer.ts --client dist
# What observability costs a call (issue 30): no subscriber, a no-op one, instrument() (bench/observe-cost.json).
"$node24" --import tsx bench/observe-cost.ts
