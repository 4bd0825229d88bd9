#!/usr/bin/env bash
# setup.sh [all | demo | node]: installs what the tests (all, the default), the demo against the
# local simulator (demo: Go and govmomi's sources, for the vcsim harness) or the demo against a
# real server (node: npm packages only) need; a quick no-op when everything is already there.
#
# System packages come from Debian's apt, as root or through sudo. Without either (or without
# apt) it installs nothing: it says which packages are missing and the command that installs
# them, and exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
case "$what" in all | demo | node) ;; *) echo "usage: $0 [all | demo | node]" >&2; exit 2 ;; esac

need=()
why=()
want() { need+=("$1"); why+=("$1 ($2)"); }
if [ "$what" != node ]; then
  command -v go >/dev/null 2>&1 || want golang-go "builds the vcsim harness"
  [ -d /usr/share/gocode/src/github.com/vmware/govmomi/simulator ] || want golang-github-vmware-govmomi-dev "the simulator the harness is built on"
fi
if [ "$what" = all ]; then
  command -v xmllint >/dev/null 2>&1 || want libxml2-utils "xmllint: the conformance tests validate requests against the schema"
  /usr/bin/python3 -c 'import pyVmomi' >/dev/null 2>&1 || want python3-pyvmomi "the pyvmomi peer in the harness tests"
  command -v xmlsec1 >/dev/null 2>&1 || want xmlsec1 "the harness checks WS-Security signatures with it"
  command -v redis-server >/dev/null 2>&1 || want redis-server "the fleet tests' session store (a private one per test file)"
fi
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else sudo="none"; fi
  fi
  if [ "$sudo" = none ] || ! command -v apt-get >/dev/null 2>&1; then
    {
      echo "setup: missing Debian packages, and no root, sudo or apt-get to install them with:"
      printf '  %s\n' "${why[@]}"
      echo "Install them as root, then run this again:"
      echo "  apt-get update && apt-get install -y --no-install-recommends ${need[*]}"
      echo "(Elsewhere: Go with govmomi's sources at /usr/share/gocode/src/github.com/vmware/govmomi,"
      echo " xmllint, xmlsec1 and Python's pyVmomi. The demo against a real server needs none of them:"
      echo " VC_URL=https://host/sdk VC_USER=… VC_PASSWORD=… npm run demo.)"
    } >&2
    exit 1
  fi
  echo "setup: installing ${need[*]} with ${sudo:+sudo }apt-get" >&2
  $sudo apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${need[@]}" >&2
fi

# npm ci when node_modules is missing or older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund >&2
fi

[ "$what" = node ] && exit 0
bash scripts/build-vcsim.sh >/dev/null
[ "$what" = demo ] && exit 0
bash test/peers/build-govmomi.sh >/dev/null
# The Node.js releases the command line's start-up test runs (test/unit/cli-startup.test.ts: V8's
# compile cache on 22 and 24, none on 20), and CI's matrix: from the npm registry, cached.
bash scripts/node-matrix.sh 20 22 24 >/dev/null
