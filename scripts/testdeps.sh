#!/usr/bin/env bash
# Builds or unpacks the client tools the test suite drives pea with, where they are missing
# (scripts/test.sh runs it after deps.sh; setup.sh does not need them). Everything goes into
# .build/ (ignored by git). Idempotent.
set -euo pipefail
# The CRI tests (tests/cri_test.go) drive the real crictl against `pea system cri`. Debian 12 has
# no cri-tools package: where no crictl is on PATH, it is built from its Go module (the Go module
# proxy serves it) into .build/ (ignored by git); the first build takes about a minute and a half.
if ! command -v crictl >/dev/null; then
  cb="$(cd "$(dirname "$0")/.." && pwd)/.build/crictl"
  if [[ ! -x $cb/crictl ]]; then
    GOEXPERIMENT= GOFLAGS= GOBIN="$cb" PATH=$PATH:/usr/local/go/bin go install sigs.k8s.io/cri-tools/cmd/crictl@v1.37.0
  fi
fi
# Docker Compose v2 (the Go one podman users run with docker's socket; Debian 12 packages only
# v1): built from its Go module into .build/compose/ (ignored by git). Its go.mod has exclude
# directives, which `go install pkg@version` refuses, so the module's source is built in a copy;
# the first build takes about four minutes.
cc="$(cd "$(dirname "$0")/.." && pwd)/.build/compose"
if [[ ! -x $cc/docker-compose ]]; then
  export PATH=$PATH:/usr/local/go/bin
  src=$(GOEXPERIMENT= GOFLAGS= go mod download -json github.com/docker/compose/v2@v2.40.3 | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  tmp=$(mktemp -d)
  cp -r "$src/." "$tmp/"
  chmod -R u+w "$tmp"
  (cd "$tmp" && GOEXPERIMENT= GOFLAGS=-mod=mod go build -o "$cc/docker-compose" ./cmd)
  rm -rf "$tmp"
fi
# The API tests (tests/api_*_test.go) drive the real docker command line client against
# `pea system service`; no Docker daemon is installed or run. Where no client is on PATH, the
# client alone is unpacked from Debian's docker.io package into .build/ (ignored by git).
if ! command -v docker >/dev/null; then
  dc="$(dirname "$0")/../.build/docker-client"
  if [[ ! -x $dc/docker ]]; then
    tmp=$(mktemp -d)
    if ! (cd "$tmp" && apt-get download -qq docker.io >/dev/null 2>&1); then
      apt-get update -qq
      (cd "$tmp" && apt-get download -qq docker.io >/dev/null 2>&1)
    fi
    dpkg-deb -x "$tmp"/docker.io_*.deb "$tmp/x"
    mkdir -p "$dc"
    cp "$tmp/x/usr/bin/docker" "$dc/docker"
    rm -rf "$tmp"
  fi
fi
