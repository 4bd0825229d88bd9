#!/usr/bin/env bash
# Builds the vcsim harness (test/vcsim) and prints the binary's path (cached; see build-go.sh).
exec bash "$(dirname "$0")/build-go.sh" test/vcsim vcsim-harness
