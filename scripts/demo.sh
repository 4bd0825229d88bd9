#!/usr/bin/env bash
# npm run demo: installs what it needs, starts vcsim locally, and runs scripts/demo.ts against it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node --import tsx scripts/demo.ts "$@"
