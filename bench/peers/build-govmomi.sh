#!/usr/bin/env bash
# Builds the govmomi bench peer (bench/peers/govmomi) and prints the binary's path (cached; see scripts/build-go.sh).
exec bash "$(dirname "$0")/../../scripts/build-go.sh" bench/peers/govmomi govmomi-bench
