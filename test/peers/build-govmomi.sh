#!/usr/bin/env bash
# Builds the govmomi peer (test/peers/govmomi) offline against Debian's govmomi sources and
# prints the binary's path; cached by a hash of its inputs, like scripts/build-vcsim.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
export GO111MODULE=off GOPATH=/usr/share/gocode
export GOCACHE="${GOCACHE:-$PWD/.cache/go-build}"
key=$( (cat test/peers/govmomi/*.go; go version; dpkg-query -W -f='${Version}' golang-github-vmware-govmomi-dev 2>/dev/null || true) | sha256sum | cut -c1-16)
out=".cache/peers/govmomi-peer-$key"
if [ ! -x "$out" ]; then
  mkdir -p .cache/peers
  # Older builds go; files of this key stay, in case another build of it runs concurrently.
  find .cache/peers -maxdepth 1 -name 'govmomi-peer-*' ! -name "govmomi-peer-$key*" -delete
  (cd test/peers/govmomi && go build -o "../../../$out.$$.tmp" .)
  mv "$out.$$.tmp" "$out"
fi
echo "$PWD/$out"
