#!/usr/bin/env bash
# Lists what pea's tests could leave behind on the host: conmon, container, health check timer,
# aardvark-dns (pea's, in a store's run root) and pasta (on a store's namespace) processes, overlay
# and namespace mounts, veth links and bridges, /run/netns entries, CNI and pea firewall rules,
# host-local leases, cgroups, claims in pea's host-wide network claim registry, pea's temporary
# directories in /tmp (exec sockets, scp archives, the API service's build contexts and copies, pea compose's sockets) and the rootless tests' users' processes. "snapshot" prints the list; "compare FILE" fails when anything
# appears that was not in FILE.
set -uo pipefail
export LC_ALL=C
snapshot() {
  # live processes only: a zombie holds nothing but its PID until init reaps it
  ps -eo stat=,args= | awk '$1 !~ /^Z/ && ($2 ~ /conmon$/ || $2 ~ /catatonit$/ || $2 == "/catatonit" || / healthcheck timer / || ($2 ~ /aardvark-dns$/ && /\/network\/aardvark-dns /) || ($2 ~ /pasta$/ && /\/network\/netns\//)) {$1=""; print "process" $0}' | sort -u
  awk '$3 == "overlay" || $3 == "nsfs" {print "mount " $2}' /proc/self/mounts | grep -E 'pea' | sort
  ip -o link 2>/dev/null | awk -F': ' '{print "link " $2}' | sed 's/@.*//' | grep -E '^link (veth|pea)' | sort
  ls /run/netns 2>/dev/null | sed 's/^/netns /'
  iptables-save 2>/dev/null | grep -E 'CNI|pea' | sed -E 's/\[[0-9:]+\]//; s/^/rule /' | sort -u
  # bridge names and subnets (internal/network/claims.go): kind, name, conflist (not its inode and time)
  grep -v '^#' /var/lib/pea-host/network-claims 2>/dev/null | awk '{$3=$4=""; print "claim " $0}'
  ls /var/lib/pea-host 2>/dev/null | grep -vx network-claims | sed 's/^/claim-dir /' # a temporary file left
  find /sys/fs/cgroup -maxdepth 3 -type d \( -name 'pea*' -o -name '*pod-*' \) 2>/dev/null | sed 's/^/cgroup /' | sort
  # pea's own temporary directories outside a store (an exec's console socket with a run root
  # too long for it, image scp's archive, the API service's build contexts and copies) and a
  # rootless user's default run root
  find "${TMPDIR:-/tmp}" -maxdepth 1 \( -name 'pea-exec-*' -o -name 'pea-scp-*' -o -name 'pea-run-*' -o -name 'pea-build-*' -o -name 'pea-api-cp-*' -o -name 'pea-compose-*' \) 2>/dev/null | sed 's/^/tmp /' | sort
  # processes of the rootless tests' users (internal/rootless: pause processes, slirp4netns, fuse-overlayfs)
  ps -eo stat=,uid=,args= | awk '$1 !~ /^Z/ && $2 >= 52700 && $2 < 52800 {$1=""; print "rootless-process" $0}' | sort -u
}
case ${1:-snapshot} in
  snapshot) snapshot | sort -u ;;
  compare)
    new=$(comm -13 "$2" <(snapshot | sort -u))
    if [[ -n $new ]]; then
      echo "leak check: the tests left these behind:"; echo "$new"; exit 1
    fi
    echo "leak check: nothing left behind" ;;
esac
