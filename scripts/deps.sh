#!/usr/bin/env bash
# Installs what pea needs on a fresh Debian 12 machine (as root) and prepares the host:
# the OCI runtime, the monitor, the infra process, CNI plugins, firewall tools, and busybox-static
# for the local test image. Idempotent; quiet when everything is present.
set -euo pipefail
# linux-perf: scripts/linkorder.sh samples pea's commands with it (and a test runs that script).
# docker-compose (v1, Python, on docker-py; installed without its recommended docker.io daemon): the
# API tests run a compose project against `pea system service`.
# slirp4netns, uidmap: rootless pea (internal/rootless): user-mode networking, subordinate ID maps.
# passt: its pasta, --network pasta (podman 5's user-mode networking; internal/network/pasta.go).
# fuse-overlayfs, fuse3 (fusermount3): root filesystems of rootless containers with a user
# namespace of their own (--userns keep-id|auto, --uidmap), owners shifted by the FUSE daemon.
# podman: tests/api_libpod_test.go drives its client (podman --url unix://...) against the service's
# libpod endpoints; it needs no daemon and no storage of its own. Of the files it brings under
# /etc/containers pea reads only registries.conf, whose Debian copy is all comments (no search
# list, no insecure registries): pea behaves as without it. The tests give the client
# CONTAINERS_CONF=/dev/null and a home of its own.
# aardvark-dns: answers DNS on networks of the user's (internal/network/dns.go), podman's server
# (Debian puts it in /usr/lib/podman; podman's netavark brings it too).
# gpg, gpg-agent: `image sign` and `push --sign-by` sign with gpg (the user's keyring), and
# `image trust show` reads key files' identities with it; the tests make throw-away keys.
# (Verifying signatures on pull needs neither: the registry helper has its own OpenPGP.)
pkgs=(crun conmon catatonit aardvark-dns slirp4netns passt uidmap fuse-overlayfs fuse3 containernetworking-plugins iptables busybox-static iproute2 procps jq curl docker-registry gcc musl-tools sqlite3 zstd linux-perf docker-compose podman gpg gpg-agent)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The registry package starts a service we do not want listening on the host.
if command -v systemctl >/dev/null && systemctl is-active -q docker-registry 2>/dev/null; then
  systemctl disable --now docker-registry >/dev/null 2>&1 || true
fi
# crun refuses a hybrid cgroup v1 layout in which hugetlb is not mounted; mount it when the host
# has v1 controllers but not that one.
if [[ $(stat -f -c %T /sys/fs/cgroup) != cgroup2fs ]] && grep -qw hugetlb /proc/cgroups \
   && ! grep -q ' /sys/fs/cgroup/hugetlb ' /proc/mounts; then
  mkdir -p /sys/fs/cgroup/hugetlb
  mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb
fi
# A rootless pea's containers reach the network through slirp4netns, which opens /dev/net/tun:
# Debian's udev rules make it 0666; a host without udev (this VM) leaves the kernel's 0600.
if [[ -c /dev/net/tun ]] && [[ $(stat -c %a /dev/net/tun) != 666 ]]; then
  chmod 0666 /dev/net/tun
fi
# A rootless container with a user namespace of its own (--userns keep-id) gets its root
# filesystem from fuse-overlayfs, which opens /dev/fuse: the same udev rules make it 0666.
if [[ -c /dev/fuse ]] && [[ $(stat -c %a /dev/fuse) != 666 ]]; then
  chmod 0666 /dev/fuse
fi
if ! command -v go >/dev/null && [[ ! -x /usr/local/go/bin/go ]]; then
  echo "Go is missing: install Go 1.26 at /usr/local/go" >&2
  exit 1
fi
