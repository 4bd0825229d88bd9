#!/usr/bin/env bash
# npm run demo: installs what it needs, starts vcsim locally, and runs scripts/demo.ts against it.
# With VC_URL set it runs against that server instead, and needs only the npm packages (no Go,
# no simulator). Neither needs the WSDL bundle.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${VC_URL:-}" ]; then bash scripts/setup.sh node; else bash scripts/setup.sh demo; fi
exec node --import tsx scripts/demo.ts "$@"
