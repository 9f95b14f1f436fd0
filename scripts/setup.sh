#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (as root) and runs pea's main job: installs the Debian packages,
# builds and installs pea (and its Quadlet generators), builds a busybox image from busybox-static with no network, and runs a
# pod of two containers that talk over localhost.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/usr/local/go/bin
./scripts/deps.sh
./scripts/build.sh /usr/local/bin/pea
# pea's Quadlet as systemd's system and user generators (pea quadlet; see the script).
./scripts/install-generators.sh /usr/local/bin/pea
echo "installed /usr/local/bin/pea, its registry helper /usr/local/bin/pea-registry, its API service /usr/local/bin/pea-service, its CRI service /usr/local/bin/pea-cri ($(pea version --format '{{.Client.Version}}')) and its Quadlet generators (/usr/lib/systemd/{system,user}-generators/pea-*-generator)"

# A busybox image, made locally from Debian's busybox-static.
if ! pea image exists localhost/busybox:latest; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$tmp"/rootfs/{bin,etc,tmp,proc,sys,dev,root,var/www}
  chmod 1777 "$tmp/rootfs/tmp"
  cp /bin/busybox "$tmp/rootfs/bin/"
  for a in $(/bin/busybox --list); do [[ -e $tmp/rootfs/bin/$a ]] || ln -s busybox "$tmp/rootfs/bin/$a"; done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$tmp/rootfs/etc/passwd"
  echo 'root:x:0:' > "$tmp/rootfs/etc/group"
  tar --numeric-owner -C "$tmp/rootfs" -cf "$tmp/busybox.tar" .
  pea import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/bin/sh"]' "$tmp/busybox.tar" localhost/busybox:latest >/dev/null
  echo "built localhost/busybox:latest"
fi

# The main job: a pod whose two containers talk over the pod's shared localhost.
pea pod rm -f demo >/dev/null 2>&1 || true
pea pod create --name demo >/dev/null
pea run -d --pod demo --name demo-web busybox \
  sh -c 'mkdir -p /www && echo "hello from pea pod demo" > /www/index.html && httpd -f -p 8080 -h /www' >/dev/null
for _ in $(seq 50); do
  if out=$(pea run --rm --pod demo busybox wget -qO- http://127.0.0.1:8080/ 2>/dev/null); then break; fi
  sleep 0.1
done
echo "demo-client got: ${out:-nothing}"
pea pod ps
pea pod rm -f -t 0 demo >/dev/null
[[ ${out:-} == "hello from pea pod demo" ]]
