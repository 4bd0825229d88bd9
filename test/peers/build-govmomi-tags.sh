#!/usr/bin/env bash
# Builds the govmomi tagging peer (test/peers/govmomi-tags) and prints the binary's path (cached; see scripts/build-go.sh).
exec bash "$(dirname "$0")/../../scripts/build-go.sh" test/peers/govmomi-tags govmomi-tags-peer
