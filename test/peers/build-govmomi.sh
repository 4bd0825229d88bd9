#!/usr/bin/env bash
# Builds the govmomi peer (test/peers/govmomi) and prints the binary's path (cached; see scripts/build-go.sh).
exec bash "$(dirname "$0")/../../scripts/build-go.sh" test/peers/govmomi govmomi-peer
