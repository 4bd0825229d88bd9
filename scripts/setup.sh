#!/usr/bin/env bash
# Installs what the tests, the demo and the benchmark need, on a fresh Debian machine as root
# (or with sudo); a quick no-op when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v go >/dev/null 2>&1 || need+=(golang-go)
[ -d /usr/share/gocode/src/github.com/vmware/govmomi/simulator ] || need+=(golang-github-vmware-govmomi-dev)
command -v xmllint >/dev/null 2>&1 || need+=(libxml2-utils)
/usr/bin/python3 -c 'import pyVmomi' >/dev/null 2>&1 || need+=(python3-pyvmomi)
command -v xmlsec1 >/dev/null 2>&1 || need+=(xmlsec1)
# The fleet tests' session store (test/harness/redis.ts starts a private one per test file).
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${need[*]}" >&2
  $sudo apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${need[@]}" >&2
fi

# npm ci when node_modules is missing or older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund >&2
fi

bash scripts/build-vcsim.sh >/dev/null
bash test/peers/build-govmomi.sh >/dev/null
