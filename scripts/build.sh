#!/usr/bin/env bash
# Builds pea into $1 (default ./pea), and its registry helper into $1-registry. Every build of
# pea goes through here: setup.sh, the test harness and the benchmark, so that what is tested and
# measured is what gets installed.
#
# pea is linked statically against musl when musl-gcc is present (deps.sh installs musl-tools).
# The only C in pea is SQLite (mattn/go-sqlite3); with glibc, the dynamic loader and glibc's
# start-up (which asks the CPU for its features and caches with dozens of cpuid instructions, each
# a VM exit on a virtual machine) cost about 0.7 ms on every command, more than all of pea's own
# start-up. Measured on the 2-core VM: `pea version` 3.7 ms (glibc, dynamic) against 2.7 ms
# (musl, static); a C-free Go binary would save the same but give up the C SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/usr/local/go/bin
out=${1:-pea}
# encoding/json on Go's v2 engine (same v1 behaviour, decoding 2-3x faster): listings decode one
# JSON config and state per container, and `pea pod ps` of 100 pods went 11.2 ms -> 8.7 ms.
# test.sh runs the unit tests under the same setting.
#
# The collector is Go's previous one (nogreenteagc), not Go 1.26's default "Green Tea": the new one
# writes mark bits at the end of every small-object span as the span is first used, so each span
# costs a process two fresh pages instead of one. A pea command lives for milliseconds and never
# collects (cli.Main turns the collector off until 256 MiB), so it pays that and gains nothing:
# measured on the 2-core VM, 400 interleaved runs, `version` 1.77 -> 1.56 ms and an empty `ps -a`
# 2.40 -> 2.28 ms (~60 fewer page faults of 400). The verbs that may run long (logs -f, attach,
# stats, kube play...) collect with the older collector, which Go 1.26 still fully supports.
export GOEXPERIMENT=${GOEXPERIMENT:+$GOEXPERIMENT,}jsonv2,nogreenteagc
#
# Four executables (the third and fourth, the API and CRI services, are below): pea, and beside it "$out-registry", the registry helper that pea runs for
# pulls, pushes and `import URL`. pea is built with the pea_split tag, which leaves HTTP and TLS
# out of it: they cost every command ~0.23 ms of start-up (see internal/image/helper.go). The
# helper is pure Go, so it needs no C library at all.
#
# PEA_KEEP_SYMBOLS=1 keeps the symbol table (no -s -w), for profilers and scripts/startup-phases.sh;
# the code is the same.
strip='-s -w'
[ "${PEA_KEEP_SYMBOLS:-}" = 1 ] && strip=''
#
# pea is built with six small changes to the Go runtime and os, which take work off the start of
# every command (two threads, the cgroup files, two stack copies, three profile samples, a
# probe child before the first process start):
# tools/rtpatch explains and writes them as an overlay of the installed toolchain's files, under
# .build/ (ignored by git). Where they do not apply (a Go version they were not written for) pea
# is built with the runtime as it is, and says so.
overlay=()
if rt=$(go run ./tools/rtpatch -goroot "$(go env GOROOT)" -o .build/rtpatch); then
  overlay=(-overlay "$rt")
else
  echo "build.sh: building with the unchanged Go runtime: pea works, its commands start slower; tools/rtpatch's anchors need updating for this Go" >&2
fi
#
# And with its functions laid out in the order cmd/pea/linkorder.txt gives: those the short
# commands run first, together, so that a command faults in fewer pages of the binary (a Go linker
# changed by tools/linkorder, run through -toolexec; scripts/linkorder.sh writes the file).
# PEA_LINKORDER=off links with the toolchain's linker as it is; so does a Go the change does not fit.
toolexec=()
if [ "${PEA_LINKORDER:-}" != off ]; then
  if te=$(go run ./tools/linkorder -goroot "$(go env GOROOT)" -o .build/linkorder -order cmd/pea/linkorder.txt); then
    toolexec=(-toolexec "$te")
  else
    echo "build.sh: linking with the toolchain's linker as it is: pea works, its commands start slower; tools/linkorder's anchors need updating for this Go" >&2
  fi
fi
tags="netgo osusergo sqlite_omit_load_extension"
CGO_ENABLED=0 go build -tags "$tags" -trimpath -ldflags "$strip" -o "$out-registry" ./cmd/pea-registry
# The API service (`pea system service`, internal/api) is a third executable, "$out-service": it
# links HTTP and the engine (with SQLite's C), and runs long, so it needs none of pea's start-up
# work.
# The CRI service (`pea system cri`, internal/cri) is a fourth, "$out-cri", for the same reasons:
# it links gRPC and the engine.
for svc in service cri; do
  if command -v musl-gcc >/dev/null; then
    CC=musl-gcc go build -tags "$tags" -trimpath -ldflags "$strip -linkmode external -extldflags \"-static\"" -o "$out-$svc" ./cmd/pea-$svc
  else
    go build -tags "$tags" -trimpath -ldflags "$strip" -o "$out-$svc" ./cmd/pea-$svc
  fi
done
if command -v musl-gcc >/dev/null; then
  CC=musl-gcc exec go build "${overlay[@]}" "${toolexec[@]}" -tags "$tags pea_split" -trimpath \
    -ldflags "$strip -linkmode external -extldflags \"-static\"" -o "$out" ./cmd/pea
fi
echo "build.sh: musl-gcc not found (apt-get install musl-tools); building a dynamically linked pea" >&2
exec go build "${overlay[@]}" "${toolexec[@]}" -tags "$tags pea_split" -trimpath -o "$out" ./cmd/pea
