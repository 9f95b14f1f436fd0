#!/usr/bin/env bash
# Writes cmd/pea/linkorder.txt: the Go functions that pea's commands run, the short ones first,
# in which order scripts/build.sh has the linker lay out pea's text (see tools/linkorder).
#
# It builds pea with its symbols and without an order, and in a throw-away store samples with perf
# (call stacks included, so callers count too) three sets of commands, each run many times: the
# ones that must start fastest (version and the listings of an empty store), other short ones (the
# listings, inspect, pod inspect, stats and top of a running pod), and those that run containers
# (create, start, run --rm, exec, stop, rm). The file lists the first set's functions, then the
# second's that are not in the first, then the third's, each in the order the linker would give
# them anyway (their address in the unordered build), so packages stay together. A smaller first
# set is the point: the functions an empty listing runs then lie in fewer 64 KiB windows. A
# function too short to be sampled is missed, and costs at most a page fault.
#
# Usage: scripts/linkorder.sh [RUNS [OUT]]   (default 1000 runs of each short command, ~3 minutes;
# OUT defaults to cmd/pea/linkorder.txt)
# Needs root, perf (apt-get install linux-perf), binutils, and what the tests need (crun, conmon,
# busybox-static). Everything it makes is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-1000}
out=${2:-cmd/pea/linkorder.txt}
case $runs in '' | *[!0-9]* | 0) echo "linkorder.sh: RUNS is a number of runs above 0, not '$runs'" >&2; exit 2 ;; esac
for tool in perf:linux-perf nm:binutils busybox:busybox-static; do
  command -v "${tool%%:*}" >/dev/null || { echo "linkorder.sh: ${tool%%:*} not found (apt-get install ${tool#*:})" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/pea-linkorder-XXXXXX)
bin=$tmp/pea
p() { "$bin" --root "$tmp/root" --runroot "$tmp/run" "$@"; }
cleanup() {
  if [ -x "$bin" ]; then
    p pod rm -fa -t 0 >/dev/null 2>&1 || true
    p rm -fa -t 0 >/dev/null 2>&1 || true
    # The default network's bridge and firewall chains are the host's: system reset removes
    # them (network rm refuses the default network).
    p system reset -f >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

PEA_KEEP_SYMBOLS=1 PEA_LINKORDER=off ./scripts/build.sh "$bin" >&2

mkdir -p "$tmp"/rootfs/{bin,etc,tmp,proc,sys,dev}
cp "$(command -v busybox)" "$tmp/rootfs/bin/busybox"
for a in sh true sleep; do ln -s busybox "$tmp/rootfs/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' >"$tmp/rootfs/etc/passwd"
tar --numeric-owner -C "$tmp/rootfs" -cf "$tmp/bb.tar" .

# check FILE: each command line in FILE runs, once, without an error (the samples are taken with
# errors ignored, and a profile of error paths would be of no use).
check() {
  local line
  while read -r line; do
    # shellcheck disable=SC2086 # a line is split into words on purpose
    p $line >/dev/null 2>"$tmp/err" || { echo "linkorder.sh: pea $line: $(cat "$tmp/err")" >&2; exit 1; }
  done <"$1"
}

# record FILE N COMMAND... : perf samples of N runs of each command line (one per argument).
record() {
  local data=$1 n=$2
  shift 2
  printf '%s\n' "$@" >"$tmp/cmds"
  check "$tmp/cmds"
  perf record -q -g -F 25000 -e cpu-clock -o "$data" -- bash -c '
    n=$1 bin=$2 root=$3 run=$4
    while read -r line; do
      for ((i = 0; i < n; i++)); do $bin --root $root --runroot $run $line >/dev/null 2>&1 || true; done
    done <"$5"' _ "$n" "$bin" "$tmp/root" "$tmp/run" "$tmp/cmds" >/dev/null 2>&1
}
record "$tmp/empty.data" "$runs" version "ps -a" "pod ps"
p import --change 'ENV PATH=/bin' "$tmp/bb.tar" localhost/bb >/dev/null
p pod create --name lp >/dev/null
p run -d --pod lp --name lc localhost/bb sleep 1000 >/dev/null
record "$tmp/short.data" "$runs" --help "ps -a" "pod ps" "ps -a --format {{.Names}}" "inspect lc" \
  "pod inspect lp" "pod stats --no-stream lp" "images" "pod top lp"
p pod rm -fa -t 0 >/dev/null
long=$((runs / 20 + 1))
printf '%s\n' "create --name c1 localhost/bb true" "start -a c1" "rm c1" \
  "run --rm --network none localhost/bb true" "pod create --name p1" "pod start p1" \
  "run -d --pod p1 --name c2 localhost/bb sleep 1000" "exec c2 true" "pod stop -t 0 p1" "pod rm -f p1" >"$tmp/cycle"
check "$tmp/cycle"
perf record -q -g -F 25000 -e cpu-clock -o "$tmp/long.data" -- bash -c '
  for ((i = 0; i < $1; i++)); do
    while read -r line; do $2 --root $3 --runroot $4 $line >/dev/null 2>&1 || true; done <"$5"
  done' _ "$long" "$bin" "$tmp/root" "$tmp/run" "$tmp/cycle" >/dev/null 2>&1

# The Go symbols of the build, with their addresses; perf names ABI0 functions with .abi0.
# Names may hold spaces (generic instantiations over interface and struct shapes): fields are
# tab-separated from here on, and the sorts bytewise.
export LC_ALL=C
nm "$bin" | awk '$2 ~ /^[tT]$/ { a = $1; sub(/^[^ ]+ [^ ]+ /, ""); print a "\t" $0 }' >"$tmp/syms"
names() {
  perf script -i "$1" -F ip,sym,dso 2>/dev/null |
    awk -v b="($bin)" 'index($0, b) { sub(/^[ \t]*[0-9a-f]+ /, ""); sub(/ \([^()]*\)$/, ""); print }' |
    sed 's/\.abi0$//' | sort -u
}
# Every command runs every package's initialisation, and the runtime reads the function tables of
# two functions it never runs (for the stack an asynchronous preemption needs): too short or not
# run, so not sampled, they join the first set by name.
{
  names "$tmp/empty.data"
  awk -F '\t' '$2 ~ /\.(map\.)?init(\.[0-9]+)?$/ { print $2 }' "$tmp/syms"
  printf '%s\n' runtime.asyncPreempt runtime.wbBufFlush
} | sort -u >"$tmp/tier0"
names "$tmp/short.data" | comm -23 - "$tmp/tier0" >"$tmp/tier1"
names "$tmp/long.data" | sort -u - "$tmp/tier0" "$tmp/tier1" | comm -23 - <(sort -u "$tmp/tier0" "$tmp/tier1") >"$tmp/tier2"
order() { awk -F '\t' 'NR == FNR { want[$0] = 1; next } ($2 in want) { print $1 "\t" $2 }' "$1" "$tmp/syms" | sort | awk -F '\t' '!seen[$2]++ { print $2 }'; }
{
  echo "# The functions pea's commands run, in the order scripts/build.sh has the linker lay them out"
  echo "# (tools/linkorder). Written by scripts/linkorder.sh from perf samples of short commands ($runs"
  echo "# runs each), then of commands that run containers ($long cycles); regenerate it after large"
  echo "# changes. Names the linker does not know are ignored."
  order "$tmp/tier0"
  order "$tmp/tier1"
  order "$tmp/tier2"
} >"$out"
echo "linkorder.sh: $out: $(grep -vc '^#' "$out") functions ($(order "$tmp/tier0" | wc -l) from an empty store's listings and version, $(order "$tmp/tier1" | wc -l) more from other short commands)" >&2
