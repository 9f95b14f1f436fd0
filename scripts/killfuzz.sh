#!/usr/bin/env bash
# Kill fuzz: interrupts pea in the middle of operations and checks that nothing was corrupted,
# wedged or leaked. Not run by the test suite (it takes ~50 min and needs a quiet host); rerun it
# after changes to the engine's create/start/stop/remove paths, networks, images or the API.
#
#   scripts/killfuzz.sh [-p PEA] [-d "20 50 ... marks"] [-s "KILL TERM INT"] [-o REGEX] [-D DIR]
#
# PEA is a binary built by scripts/build.sh (its -registry and -service beside it; default
# /tmp/pea-fuzz, built when missing). The store is DIR/root and DIR/run (default /tmp/fuzz-store).
#
# Every operation below is started, and after each DELAY (ms) a SIGNAL goes to its target: the pea
# process itself; for some operations another process that pea waits for or that pea started:
#   cleanup  the `pea container cleanup` that conmon's --exit-command runs (restart policy)
#   conmon   the container's conmon while `pea run` / `pea stop` waits for the exit
#   init     the container's first process while `pea run` / `pea stop` waits
#   service  `pea system service` in the middle of an API request (curl --unix-socket)
# For those the delay counts from the moment the target exists. The delay "marks" (in the default
# list) is a round of its own: each operation whose target is pea is first run with PEA_TRACE=1 to
# list the trace marks it passes (internal/trace), then once for each mark with PEA_TRACE_KILL,
# so that it is killed (or sent SIGTERM/SIGINT) exactly there. After each case:
#   1. `ps -a`, `pod ps`, `images`, `network ls`, `volume ls` each answer within 2 s (no wedged lock);
#   2. `PRAGMA integrity_check` of root/pea.db is ok;
#   3. the operation's repair runs clean: the object is removed, or the operation retried;
#   4. after SIGTERM or SIGINT to pea, a verb that changes state (internal/cli/interrupt.go) has
#      finished or not begun (the last two fields of OPS below).
# After each (signal, delay) round: `pod rm -fa; rm -fa; system reset -f`, then nothing of the
# store is left on the host: mounts under DIR, processes naming DIR or in a cgroup of one of its
# containers, cgroups named after its containers and pods, its networks' PEA-* chains and the
# rules naming its containers, its bridges, pea's temporary directories in /tmp.
#
# Deterministic kill points for tests: PEA_TRACE_KILL (internal/trace, tests/killpoints_test.go).
# Output: one line per problem (FAIL ...), and a summary: cases run, cases whose signal came
# after the operation had finished (the target was gone), problems. Exit status 1 on problems.
# The registry for pull/push is tools/loopregistry on 127.0.0.1 (pea's in-memory test registry).
set -uo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
P=/tmp/pea-fuzz
D=/tmp/fuzz-store
DELAYS="20 50 90 140 200 300 450 marks"
SIGS="KILL TERM INT"
ONLY=.
while getopts p:d:s:o:D: f; do
  case $f in
    p) P=$OPTARG ;; d) DELAYS=$OPTARG ;; s) SIGS=$OPTARG ;; o) ONLY=$OPTARG ;; D) D=$OPTARG ;;
    *) sed -n 2,30p "$0"; exit 2 ;;
  esac
done
[ -x "$P" ] || ./scripts/build.sh "$P" >/dev/null || exit 1
export PATH=$PATH:/usr/local/go/bin GOEXPERIMENT=jsonv2,nogreenteagc
REG=$P-loopreg
[ -x "$REG" ] || go build -o "$REG" ./tools/loopregistry || exit 1
for t in curl sqlite3 iptables-save pgrep; do command -v $t >/dev/null || { echo "killfuzz: $t missing"; exit 1; }; done

S=(--root "$D/root" --runroot "$D/run")
SOCK=$D/api.sock
REGPORT=$((20000 + RANDOM % 20000))
REGADDR=127.0.0.1:$REGPORT
SUMMARY=$D-cases.txt # one line per case: operation, delay (or mark), signal, signalled|late
: >"$SUMMARY"
problems=0 cases=0 late=0
pea() { "$P" "${S[@]}" "$@"; }
q() { "$P" "${S[@]}" "$@" >/dev/null 2>&1; }
fail() { problems=$((problems + 1)); echo "FAIL [$case] $*" | tee -a "$D/problems"; }

rm -rf "$D"; mkdir -p "$D/ctx" "$D/kube"
: >"$D/ids"; : >"$D/chains"; : >"$D/bridges"; : >"$D/problems"

# What the store is made of before each round.
bbtar=$D/bb.tar
if [ -f /tmp/pm/bb.tar ]; then cp /tmp/pm/bb.tar "$bbtar"; else
  r=$D/bbroot; mkdir -p "$r/bin" "$r/etc" "$r/tmp" "$r/proc" "$r/sys" "$r/dev"
  cp /bin/busybox "$r/bin/busybox"
  for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$r/bin/$a"; done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$r/etc/passwd"
  tar --numeric-owner -C "$r" -cf "$bbtar" . && rm -rf "$r"
fi
printf 'FROM localhost/bb\nRUN echo hi > /x\n' >"$D/ctx/Containerfile"
echo secret-data >"$D/secret.txt"
cat >"$D/kube/play.yaml" <<'Y'
apiVersion: v1
kind: ConfigMap
metadata:
  name: kfcm
data:
  color: blue
---
apiVersion: v1
kind: Secret
metadata:
  name: kfsec
stringData:
  password: hunter2
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: kfpvc
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Mi
---
apiVersion: v1
kind: Pod
metadata:
  name: kfplay
spec:
  containers:
  - name: main
    image: localhost/bb
    command: [sleep, "1000"]
    env:
    - name: COLOR
      valueFrom:
        configMapKeyRef: {name: kfcm, key: color}
    - name: PASS
      valueFrom:
        secretKeyRef: {name: kfsec, key: password}
    volumeMounts:
    - {name: data, mountPath: /data}
    - {name: cfg, mountPath: /cfg}
    - {name: sec, mountPath: /sec}
  volumes:
  - name: data
    persistentVolumeClaim: {claimName: kfpvc}
  - name: cfg
    configMap: {name: kfcm}
  - name: sec
    secret: {secretName: kfsec}
Y

"$REG" "$REGADDR" >"$D/registry.log" 2>&1 &
regpid=$!
trap 'kill $regpid 2>/dev/null; [ -n "${svcpid:-}" ] && kill -9 $svcpid 2>/dev/null' EXIT

base() {
  q image exists localhost/bb || q import --change 'CMD ["/bin/sh"]' "$bbtar" localhost/bb || echo "killfuzz: cannot import busybox"
}
base
q push --tls-verify=false localhost/bb "$REGADDR/fuzz/bb:src" || echo "killfuzz: push to the loopback registry failed"

# helpers for the operations' set-ups and repairs
running() { [ "$(pea inspect -f '{{.State.Status}}' "$1" 2>/dev/null)" = running ] || { q rm -f -t0 "$1"; q run -d --name "$1" localhost/bb sleep 1000; }; }
ispaused() { [ "$(pea inspect -f '{{.State.Status}}' "$1" 2>/dev/null)" = paused ]; }
podup() { q pod exists "$1" || { q pod create --name "$1"; q run -d --pod "$1" --name "$1-m" localhost/bb sleep 1000; }; q pod start "$1"; }
absent() { ! q "$@" exists "${@: -1}"; }
svc_up() {
  rm -f "$SOCK"
  env --default-signal "$P" "${S[@]}" system service -t 0 "unix://$SOCK" >>"$D/service.log" 2>&1 &
  svcpid=$!
  for _ in $(seq 200); do [ -S "$SOCK" ] && curl -s --unix-socket "$SOCK" http://d/_ping >/dev/null && return 0; sleep 0.02; done
  echo "killfuzz: the API service did not start"; return 1
}
svc_down() { [ -n "${svcpid:-}" ] && { kill -TERM "$svcpid" 2>/dev/null; wait "$svcpid" 2>/dev/null; }; svcpid=; }
api() { curl -s -f -o /dev/null --max-time 20 --unix-socket "$SOCK" "$@"; }
api_create() { api -X POST -H 'Content-Type: application/json' -d '{"Image":"localhost/bb","Cmd":["sleep","1000"]}' "http://d/v1.41/containers/create?name=$1"; }

# name ^ target ^ set-up ^ operation (pea's arguments) ^ repair (must succeed) ^ effect ^ undone
# For the verbs that hold SIGTERM, SIGINT and SIGHUP until they finish (internal/cli/interrupt.go),
# the effect checks that the operation was done when pea got one of those, and undone that it was
# not begun (a signal before the verb's work began, which has its default effect): one must hold.
# The set-up and repair are bash; the operation is split on spaces (quotes are not honoured, but
# an argument of the form sh:'...' is not needed: use the repair to check).
OPS=$(cat <<'EOF'
exec-d^pea^running kfx1^exec -d kfx1 sleep 10$case_n^pea exec kfx1 true^pea exec kfx1 ps | grep -q " sleep 10$case_n\$"^true
exec-attached^pea^running kfx1^exec kfx1 sleep 1^pea exec kfx1 true^^
restart-t^pea^running kfx2^restart -t 1 kfx2^q restart -t 0 kfx2 && pea exec kfx2 true^[ "$(pea inspect -f {{.State.Status}} kfx2)" = running ]^true
stop-t^pea^running kfx3^stop -t 1 kfx3^q stop -t 0 kfx3 && q start kfx3 && pea exec kfx3 true^[ "$(pea inspect -f {{.State.Status}} kfx3)" = exited ]^[ "$(pea inspect -f {{.State.Status}} kfx3)" = running ]
pod-restart^pea^podup kfp1^pod restart kfp1^q pod restart kfp1 && pea exec kfp1-m true^[ "$(pea pod inspect -f {{.State}} kfp1)" = Running ]^true
pod-kill^pea^podup kfp2^pod kill kfp2^q pod kill kfp2; q pod start kfp2 && pea exec kfp2-m true^[ "$(pea inspect -f {{.State.Status}} kfp2-m)" = exited ]^[ "$(pea inspect -f {{.State.Status}} kfp2-m)" = running ]
run-restart-cleanup^cleanup:kfr1^q rm -f -t0 kfr1^run -d --name kfr1 --restart on-failure:5 localhost/bb sh -c exit\ 3^q rm -f -t0 kfr1 && q run -d --name kfr1 --restart on-failure:1 localhost/bb false && sleep 1.5 && q rm -f kfr1^^
run-port^pea^q rm -f -t0 kfr2^run -d --name kfr2 -p 18391:80 localhost/bb sleep 1000^q rm -f -t0 kfr2 && q run -d --name kfr2 -p 18391:80 localhost/bb sleep 1000 && q rm -f -t0 kfr2^[ "$(pea inspect -f {{.State.Status}} kfr2)" = running ]^! q container exists kfr2
net-connect^pea^q network exists kfn1 || q network create kfn1; running kfx4; q network disconnect -f kfn1 kfx4^network connect kfn1 kfx4^q network disconnect -f kfn1 kfx4; q network connect kfn1 kfx4 && pea exec kfx4 true^[ "$(pea inspect -f "{{len .NetworkSettings.Networks}}" kfx4)" = 2 ]^[ "$(pea inspect -f "{{len .NetworkSettings.Networks}}" kfx4)" = 1 ]
net-disconnect^pea^q network exists kfn1 || q network create kfn1; running kfx4; q network connect kfn1 kfx4^network disconnect kfn1 kfx4^q network disconnect -f kfn1 kfx4; q network connect kfn1 kfx4 && q network disconnect kfn1 kfx4 && pea exec kfx4 true^[ "$(pea inspect -f "{{len .NetworkSettings.Networks}}" kfx4)" = 1 ]^[ "$(pea inspect -f "{{len .NetworkSettings.Networks}}" kfx4)" = 2 ]
kube-play^pea^q kube down $D/kube/play.yaml; q volume rm -f kfpvc; q secret rm kfsec^kube play $D/kube/play.yaml^q kube down $D/kube/play.yaml; q volume rm -f kfpvc; q secret rm kfsec; q kube play $D/kube/play.yaml && pea exec kfplay-main cat /cfg/color /sec/password && q kube down $D/kube/play.yaml^^
pull^pea^q rmi -f $REGADDR/fuzz/bb:src^pull -q --tls-verify=false $REGADDR/fuzz/bb:src^q rmi -f $REGADDR/fuzz/bb:src; q pull --tls-verify=false $REGADDR/fuzz/bb:src && q run --rm $REGADDR/fuzz/bb:src true^^
push^pea^q commit -q kfx1 kfpush 2>/dev/null || { running kfx1; q commit kfx1 kfpush; }^push --tls-verify=false kfpush $REGADDR/fuzz/pushed:$case_n^q push --tls-verify=false kfpush $REGADDR/fuzz/pushed:$case_n && q pull --tls-verify=false $REGADDR/fuzz/pushed:$case_n^^
commit^pea^running kfx1; q rmi -f kfcommit^commit kfx1 kfcommit^q rmi -f kfcommit; q commit kfx1 kfcommit && q run --rm kfcommit true && q rmi kfcommit^^
save^pea^rm -f $D/save.tar^save -o $D/save.tar localhost/bb^if [ -e $D/save.tar ]; then q load -i $D/save.tar; else q save -o $D/save.tar localhost/bb; fi^^
load^pea^q rmi -f kfsaved; [ -f $D/saved.tar ] || { q tag localhost/bb kfsaved && q save -o $D/saved.tar kfsaved && q rmi kfsaved; }^load -i $D/saved.tar^q rmi -f kfsaved; q load -i $D/saved.tar && q run --rm kfsaved true && q rmi kfsaved^^
import^pea^q rmi -f kfimp^import $bbtar kfimp^q rmi -f kfimp; q import $bbtar kfimp && q run --rm kfimp true && q rmi kfimp^^
volume-rm^pea^q volume exists kfv1 || { q volume create kfv1; q run --rm -v kfv1:/d localhost/bb sh -c 'seq 1000 >/d/x'; }^volume rm kfv1^q volume rm -f kfv1; q volume create kfv1 && q run --rm -v kfv1:/d localhost/bb true && q volume rm kfv1^! q volume exists kfv1^q volume exists kfv1
volume-prune^pea^for v in kfv2 kfv3 kfv4; do q volume create $v; done^volume prune -f^q volume prune -f && q volume create kfv2 && q volume rm kfv2^! q volume exists kfv3^q volume exists kfv2 && q volume exists kfv3 && q volume exists kfv4
secret-create^pea^q secret rm kfs1^secret create kfs1 $D/secret.txt^q secret rm kfs1; q secret create kfs1 $D/secret.txt && q run --rm --secret kfs1 localhost/bb cat /run/secrets/kfs1 && q secret rm kfs1^q secret inspect kfs1^! q secret inspect kfs1
secret-rm^pea^q secret inspect kfs2 || q secret create kfs2 $D/secret.txt^secret rm kfs2^q secret rm kfs2; q secret create kfs2 $D/secret.txt && q secret rm kfs2^! q secret inspect kfs2^q secret inspect kfs2
system-prune^pea^q run --name kfdead localhost/bb true; q tag localhost/bb kfprune; q volume create kfv5; q network exists kfn2 || q network create kfn2^system prune -a -f --volumes^q system prune -a -f --volumes; base; q run --rm localhost/bb true^! q container exists kfdead && ! q volume exists kfv5^q container exists kfdead && q volume exists kfv5
rmi-used^pea^q rm -f -t0 kfu1; q import $bbtar kfused && q run -d --name kfu1 kfused sleep 1000^rmi -f kfused^q rm -f -t0 kfu1; q rmi -f kfused; q import $bbtar kfused && q rmi kfused^! q image exists kfused && ! q container exists kfu1^q image exists kfused && q container exists kfu1
rename^pea^q container exists kfn-b && q rename kfn-b kfn-a; running kfn-a^rename kfn-a kfn-b^{ q container exists kfn-b && q rename kfn-b kfn-a; true; } && q rename kfn-a kfn-c && q rename kfn-c kfn-a && pea exec kfn-a true^q container exists kfn-b^q container exists kfn-a
update^pea^running kfx5^update --memory 64m --cpu-shares 512 kfx5^q update --memory 96m kfx5 && pea exec kfx5 true^[ "$(pea inspect -f {{.HostConfig.Memory}} kfx5)" = 67108864 ]^[ "$(pea inspect -f {{.HostConfig.Memory}} kfx5)" != 67108864 ]
pause^pea^running kfx6^pause kfx6^q unpause kfx6; q pause kfx6 && q unpause kfx6 && pea exec kfx6 true^ispaused kfx6^[ "$(pea inspect -f {{.State.Status}} kfx6)" = running ]
unpause^pea^running kfx7; ispaused kfx7 || q pause kfx7^unpause kfx7^q unpause kfx7; pea exec kfx7 true^[ "$(pea inspect -f {{.State.Status}} kfx7)" = running ]^ispaused kfx7
conmon-run^conmon:kfw1^q rm -f -t0 kfw1^run --name kfw1 localhost/bb sleep 2^q rm -f -t0 kfw1 && q run --name kfw1 localhost/bb true && q rm kfw1^^
init-run^init:kfw2^q rm -f -t0 kfw2^run --name kfw2 localhost/bb sleep 2^q rm -f -t0 kfw2 && q run --name kfw2 localhost/bb true && q rm kfw2^^
conmon-stop^conmon:kfw3^running kfw3; pea exec kfw3 true^stop -t 2 kfw3^q stop -t 0 kfw3; q start kfw3 && pea exec kfw3 true^^
init-stop^init:kfw4^running kfw4; pea exec kfw4 true^stop -t 2 kfw4^q stop -t 0 kfw4; q start kfw4 && pea exec kfw4 true^^
api-create^service^q rm -f -t0 kfa1^api_create kfa1^q rm -f -t0 kfa1; svc_up && api_create kfa1 && api -X POST http://d/v1.41/containers/kfa1/start && api -X DELETE "http://d/v4.3.1/libpod/containers/kfa1?force=true&t=0"; r=$?; svc_down; [ $r = 0 ]^^
api-start^service^q rm -f -t0 kfa2; q create --name kfa2 localhost/bb sleep 1000^api -X POST http://d/v1.41/containers/kfa2/start^q rm -f -t0 kfa2; svc_up && api_create kfa2 && api -X POST http://d/v1.41/containers/kfa2/start; r=$?; svc_down; [ $r = 0 ] && pea exec kfa2 true && q rm -f -t0 kfa2^^
api-rm^service^running kfa3^api -X DELETE "http://d/v4.3.1/libpod/containers/kfa3?force=true&t=0"^q rm -f -t0 kfa3; svc_up && api_create kfa3 && api -X DELETE "http://d/v1.41/containers/kfa3?force=1"; r=$?; svc_down; [ $r = 0 ] && ! q container exists kfa3^^
EOF
)

# target PID for the non-pea targets (empty until it exists)
target_pid() { # kind name
  local id
  case $1 in
    cleanup) pgrep -n -f -- "$D/run container cleanup" ;;
    conmon) id=$(pea inspect -f '{{.Id}}' "$2" 2>/dev/null) && [ -n "$id" ] && pgrep -n -f -- "conmon .*-c $id" ;;
    init) [ "$(pea inspect -f '{{.State.Status}}' "$2" 2>/dev/null)" = running ] && pea inspect -f '{{.State.Pid}}' "$2" 2>/dev/null | grep -v '^0$' ;;
  esac
}

# Records what on the host belongs to this store while it exists, to find it after the reset.
record() {
  { pea ps -aq --no-trunc; pea pod ps -q --no-trunc; } 2>/dev/null >>"$D/ids"
  local c name sub
  for c in "$D"/root/networks/*.conflist; do
    [ -f "$c" ] || continue
    name=$(basename "$c" .conflist)
    grep -o '"bridge": *"[^"]*"' "$c" | sed 's/.*"\([^"]*\)"$/\1/' >>"$D/bridges"
    for sub in $(grep -o '"subnet": *"[^"]*"' "$c" | sed 's/.*"\([^"]*\)"$/\1/'); do
      h=$(printf '%s\0%s\0%s' "$D/root/networks" "$name" "$sub" | sha256sum | cut -c1-12)
      echo "PEA-MASQ-$h PEA-FWD-$h" | tr ' ' '\n' >>"$D/chains"
    done
  done
}

check() { # after each case
  local v t0
  for v in "ps -a" "pod ps" "images" "network ls" "volume ls"; do
    # shellcheck disable=SC2086
    timeout 2 "$P" "${S[@]}" $v >/dev/null 2>"$D/err"
    case $? in 0) ;; 124) fail "\`$v\` did not answer within 2 s (wedged lock?)" ;; *) fail "\`$v\` failed: $(head -c 300 "$D/err")" ;; esac
  done
  v=$(sqlite3 "$D/root/pea.db" 'PRAGMA integrity_check' 2>&1)
  [ "$v" = ok ] || fail "integrity_check: $v"
}

orphans() { # with every container gone: once the images, volumes and secrets are removed too,
  # nothing of them is left in the store (a killed pull, load, commit or removal leaving files
  # that nothing names and only system reset would delete)
  q rmi -fa || fail "rmi -fa: $(pea rmi -fa 2>&1 | tail -2)"
  q volume rm -fa || fail "volume rm -fa: $(pea volume rm -fa 2>&1 | tail -2)"
  for s in $(pea secret ls -q 2>/dev/null); do q secret rm "$s"; done
  q network prune -f
  for _ in $(seq 50); do [ -z "$(ls -A "$D/root/trash" 2>/dev/null)" ] && break; sleep 0.1; done
  local out
  out=$(cd "$D" && find root/images/layers root/images/blobs root/images/tmp root/containers root/volumes root/kube root/image-mounts root/trash \
      run/containers run/etc run/exits run/mounts run/image-mounts run/volume-mounts run/network/cni-cache/results run/network/cni-cache/pending run/network/netns \
      -mindepth 1 -maxdepth 2 2>/dev/null | grep -v -e '^root/images/blobs/sha256$' -e '^run/exits/removed-' -e '^run/exits/.swept$'
    find run/network/ipam -type f ! -name lock ! -name 'last_reserved_ip*' 2>/dev/null | sed 's/$/ (a lease)/' | head -20)
  [ -z "$out" ] || fail "left in the store with no container, image, volume or secret: $(echo "$out" | tr '\n' ' ')"
}

leaks() { # after a round's reset: what of this store is left on the host
  sort -u -o "$D/ids" "$D/ids"
  local out
  out=$(
    awk -v d="$D/" 'index($2, d) == 1 {print "mount " $2}' /proc/self/mounts
    for p in $(pgrep -f -- "$D/"); do [ "$p" = "$regpid" ] || echo "process $(tr '\0' ' ' </proc/$p/cmdline 2>/dev/null)"; done
    while read -r id; do
      [ -n "$id" ] || continue
      find /sys/fs/cgroup -maxdepth 4 -type d -name "*$id*" 2>/dev/null | sed 's/^/cgroup /'
      iptables-save 2>/dev/null | grep -F "pea ports $id" | sed 's/^/rule /'
    done <"$D/ids"
    iptables-save 2>/dev/null | grep -E '^:PEA-' | cut -d' ' -f1 | tr -d : | grep -xF -f <(sort -u "$D/chains"; echo none) | sed 's/^/chain /'
    for b in $(sort -u "$D/bridges"); do
      # a bridge another store claimed since (its conflist is named in pea's host-wide claims)
      grep -q "^bridge $b .*\"$D/" /var/lib/pea-host/network-claims 2>/dev/null ||
        ! grep -q "^bridge $b " /var/lib/pea-host/network-claims 2>/dev/null || continue
      ip link show "$b" >/dev/null 2>&1 && echo "bridge $b"
    done
    find /tmp -maxdepth 1 -newer "$D/started" \( -name 'pea-exec-*' -o -name 'pea-scp-*' -o -name 'pea-run-*' -o -name 'pea-build-*' -o -name 'pea-api-cp-*' \) 2>/dev/null | sed 's/^/tmp (maybe another session'"'"'s) /'
  )
  [ -z "$out" ] || fail "left after the reset: $(echo "$out" | head -20 | tr '\n' ';')"
}

touch "$D/started"
case=setup
case_n=0
# One case: the operation of the current line, signalled after $delay ms, or (mark mode) killed by
# itself at trace mark $1 (PEA_TRACE_KILL; with SIGTERM/SIGINT, that signal is sent there).
run_case() {
  local mark=${1:-} envkill=()
  case_n=$((case_n + 1))
  case="$name $delay ms SIG$sig"
  if [ -n "$mark" ]; then
    case="$name at '$mark' SIG$sig"
    envkill=(PEA_TRACE_KILL="$mark")
    [ "$sig" = KILL ] || envkill=(PEA_TRACE_KILL="SIG$sig:$mark")
  fi
  eval "$setup" >/dev/null 2>&1 </dev/null
  # The operation: pea's arguments, or an API request with the service as the target.
  eval "args=($op)"
  if [ "$target" = service ]; then
    svc_up || { fail "service did not start"; return; }
    eval "$op" &
    opid=$!
    sleep "$(printf '0.%03d' "$delay")"
    if kill -0 "$svcpid" 2>/dev/null && kill -0 "$opid" 2>/dev/null; then kill -"$sig" "$svcpid"; hit=signalled; else late=$((late + 1)); hit=late; kill -TERM "$svcpid"; fi
    for _ in $(seq 100); do kill -0 "$svcpid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$svcpid" 2>/dev/null && { fail "the service outlived SIG$sig by 10 s"; kill -9 "$svcpid"; }
    wait "$svcpid" 2>/dev/null; svcpid=
    wait "$opid" 2>/dev/null
  else
    env --default-signal "${envkill[@]}" "$P" "${S[@]}" "${args[@]}" >"$D/op.out" 2>&1 </dev/null &
    opid=$!
    tpid=$opid
    if [ -n "$mark" ]; then
      hit=late
    elif [ "$target" != pea ]; then
      tpid=
      for _ in $(seq 300); do tpid=$(target_pid "${target%%:*}" "${target#*:}"); [ -n "$tpid" ] && break; kill -0 $opid 2>/dev/null || break; sleep 0.01; done
    fi
    if [ -z "$mark" ]; then
      sleep "$(printf '0.%03d' "$delay")"
      if [ -n "$tpid" ] && kill -0 "$tpid" 2>/dev/null; then kill -"$sig" "$tpid"; hit=signalled; else late=$((late + 1)); hit=late; fi
    fi
    # pea must end: at once after SIGKILL; after SIGTERM/SIGINT once it finished or undid
    # (an attached exec or run passes those to the container's process, which may ignore it)
    for _ in $(seq 150); do kill -0 $opid 2>/dev/null || break; sleep 0.1; done
    if kill -0 $opid 2>/dev/null; then
      [ "$target" = pea ] && [ "$sig" != KILL ] && [[ $op != exec\ * && $op != run\ * ]] && fail "pea still running 15 s after SIG$sig: $(tr '\0' ' ' </proc/$opid/cmdline)"
      [ "$target" != pea ] && fail "pea still running 15 s after SIG$sig of its $target: $(tr '\0' ' ' </proc/$opid/cmdline)"
      kill -9 $opid
    fi
    wait $opid 2>/dev/null
    st=$?
    [ -n "$mark" ] && { [ $st -gt 128 ] && hit=signalled || late=$((late + 1)); }
  fi
  cases=$((cases + 1))
  echo "$name ${mark:-$delay} $sig $hit" >>"$SUMMARY"
  record
  check
  if [ -n "$effect" ] && [ "$target" = pea ] && [ "$sig" != KILL ] && ! (eval "$effect") >/dev/null 2>&1 </dev/null &&
    ! (eval "$undone") >/dev/null 2>&1 </dev/null; then
    fail "SIG$sig cut the operation in the middle: neither ($effect) nor ($undone)"
  fi
  out=$( (eval "$repair") 2>&1 </dev/null) || fail "repair failed: $repair: $(echo "$out" | tail -3 | tr '\n' ' ')"
  check
}

# The marks an operation passes (PEA_TRACE=1), but those of its very end.
marks_of() {
  eval "$setup" >/dev/null 2>&1 </dev/null
  eval "args=($op)"
  PEA_TRACE=1 "$P" "${S[@]}" "${args[@]}" 2>&1 >/dev/null </dev/null | sed -n 's/^trace *[0-9.]* ms *+ *[0-9.]*  //p' | grep -vx -e done -e 'command finished' | sort -u
  (eval "$repair") >/dev/null 2>&1 </dev/null
}

for sig in $SIGS; do
  for delay in $DELAYS; do
    base
    while IFS='^' read -r -u 9 name target setup op repair effect undone; do
      [[ $name =~ $ONLY ]] || continue
      if [ "$delay" != marks ]; then
        run_case
      elif [ "$target" = pea ]; then
        marks=$(marks_of) # all of it (its repair included) before the first case
        while read -r -u 8 mark; do [ -z "$mark" ] || run_case "$mark"; done 8<<<"$marks"
      fi
    done 9<<<"$OPS"
    case="reset after SIG$sig at $delay ms"
    record
    q pod rm -fa -t0 || fail "pod rm -fa"
    q rm -fa -t0 || fail "rm -fa: $(pea rm -fa -t0 2>&1 | tail -2)"
    orphans
    q system reset -f || fail "system reset -f: $(pea system reset -f 2>&1 | tail -2)"
    leaks
    echo "round SIG$sig $delay ms done: $cases cases, $late late, $problems problems"
  done
done
echo "killfuzz: $cases cases ($late with the target already gone at the signal), $problems problems"
[ -s "$D/problems" ] && { echo "problems:"; cat "$D/problems"; }
kill $regpid 2>/dev/null
rm -rf "$D"
echo "cases by operation (signalled/late): see $SUMMARY"
[ "$problems" = 0 ]
