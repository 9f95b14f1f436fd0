#!/usr/bin/env bash
# Runs pea's whole test suite on a fresh Debian 12 machine (as root): installs what is missing,
# runs the unit and end-to-end tests, then checks that nothing was left behind.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/usr/local/go/bin
export GOEXPERIMENT=jsonv2,nogreenteagc # as scripts/build.sh builds pea
./scripts/deps.sh
./scripts/testdeps.sh
before=$(mktemp)
./scripts/leakcheck.sh snapshot > "$before"
status=0
go vet ./... || status=1
go vet -tags pea_split ./... || status=1 # pea as build.sh builds it: no HTTP, registry helper
go vet -tags pea_profile ./internal/cli || status=1 # the CPU profiler's build
# -p 1: the end-to-end and network tests look at host-wide state (links, iptables rules),
# so packages run one after another.
go test -p 1 -count=1 -timeout 30m ./... || status=1
./scripts/leakcheck.sh compare "$before" || status=1
rm -f "$before"
exit $status
