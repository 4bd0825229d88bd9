#!/usr/bin/env bash
# npm run bench: installs what it needs, builds the library (measured from dist/, as users run
# it) and the bench peers, then runs scripts/bench.ts (arguments passed on: --runs N, --only …).
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
exec node --import tsx scripts/bench.ts "$@"
