#!/usr/bin/env bash
# Builds the vcsim harness (test/vcsim) offline against Debian's govmomi sources and prints
# the binary's path. The build is cached by a hash of its inputs, so repeated runs reuse it.
set -euo pipefail
cd "$(dirname "$0")/.."
export GO111MODULE=off GOPATH=/usr/share/gocode
export GOCACHE="${GOCACHE:-$PWD/.cache/go-build}"
key=$( (cat test/vcsim/*.go; go version; dpkg-query -W -f='${Version}' golang-github-vmware-govmomi-dev 2>/dev/null || true) | sha256sum | cut -c1-16)
out=".cache/vcsim/vcsim-harness-$key"
if [ ! -x "$out" ]; then
  mkdir -p .cache/vcsim
  rm -f .cache/vcsim/vcsim-harness-*
  (cd test/vcsim && go build -o "../../$out.tmp" .)
  mv "$out.tmp" "$out"
fi
echo "$PWD/$out"
