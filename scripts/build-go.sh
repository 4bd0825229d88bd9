#!/usr/bin/env bash
# build-go.sh <source dir> <name>: builds a Go main of ours offline against Debian's govmomi
# sources (GO111MODULE=off, GOPATH=/usr/share/gocode) and prints the binary's path. The binary
# is cached in .cache/go/ by a hash of its sources, the Go version and the govmomi package
# version, so repeated runs reuse it.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$1
name=$2
export GO111MODULE=off GOPATH=/usr/share/gocode
export GOCACHE="${GOCACHE:-$PWD/.cache/go-build}"
key=$( (cat "$src"/*.go; go version; dpkg-query -W -f='${Version}' golang-github-vmware-govmomi-dev 2>/dev/null || true) | sha256sum | cut -c1-16)
out=".cache/go/$name-$key"
if [ ! -x "$out" ]; then
  mkdir -p .cache/go
  # Older builds go; files of this key stay, in case another build of it runs concurrently.
  find .cache/go -maxdepth 1 -name "$name-*" ! -name "$name-$key*" -delete
  (cd "$src" && go build -o "$OLDPWD/$out.$$.tmp" .)
  mv "$out.$$.tmp" "$out"
fi
echo "$PWD/$out"
