#!/usr/bin/env bash
# Where the time of one short pea command goes, phase by phase, from the execve to the process's
# end: the kernel's exec, C's start-up, the Go runtime's, the package inits, and pea's own steps.
#
# A profiler says little here: most of a 2 ms command is page faults, thread creation and
# waiting, spread thinly over many functions. Instead this puts uprobes (perf probe) on the
# entry of a few functions that mark the phases, records them with the exec and exit tracepoints
# over many runs, and prints the median time between consecutive marks. Each uprobe hit costs a
# few microseconds (a trap), so the total is ~0.05 ms above the command's real time. perf records
# system-wide (-a) and keeps the processes that hit a probe: recording only the command's tasks
# makes every thread the runtime creates inherit perf's events, which tripled the time from
# runtime.main to main.main (three thread creations: sysmon, the collector's start, cgo's
# template thread).
#
# Reading it: exec done -> go_entry is C's start-up (musl, pea's two constructors); go_entry ->
# main_main the Go runtime's and the package inits; sqlite_open -> schema_check the database's
# open (SQLite's start, the WAL index, the schema).
#
# Usage: scripts/startup-phases.sh [-n RUNS] [-b PEA] -- PEA-ARGUMENTS...
#   e.g. scripts/startup-phases.sh -n 300 -- --root /tmp/s/root --runroot /tmp/s/run ps -a
# Without -b it builds pea with its symbols (build.sh, PEA_KEEP_SYMBOLS=1); a pea given with -b
# must have them. Needs root, perf (apt-get install linux-perf) and binutils. The probes are
# removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=200
bin=
while getopts n:b: opt; do
  case $opt in
    n) runs=$OPTARG ;;
    b) bin=$OPTARG ;;
    *) sed -n '19,23p' "$0" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ "${1:-}" = -- ] && shift
[ $# -gt 0 ] || { sed -n '19,23p' "$0" >&2; exit 2; }
case $runs in '' | *[!0-9]* | 0) echo "startup-phases: -n wants a number of runs above 0, not '$runs'" >&2; exit 2 ;; esac
for tool in perf:linux-perf readelf:binutils nm:binutils; do
  command -v "${tool%%:*}" >/dev/null || { echo "startup-phases: ${tool%%:*} is not installed (apt-get install ${tool#*:})" >&2; exit 1; }
done

work=$(mktemp -d)
group=pea_phases_$$
cleanup() {
  perf probe -q -d "$group:*" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

if [ -z "$bin" ]; then
  PEA_KEEP_SYMBOLS=1 ./scripts/build.sh "$work/pea" >/dev/null
  bin=$work/pea
fi
[ -x "$bin" ] || { echo "startup-phases: $bin is not an executable" >&2; exit 2; }
bin=$(readlink -f "$bin")

# The marks, in the order a command reaches them: the event's name, and the function whose
# entry it is.
marks=(
  c_start _start
  go_entry runtime.rt0_go.abi0
  schedinit runtime.schedinit
  runtime_main runtime.main
  main_main main.main
  cli_main pea/internal/cli.Main
  store_first_use 'pea/internal/engine.(*Runtime).state'
  sqlite_open pea/internal/sqlite.Open
  schema_check 'pea/internal/state.(*Store).migrate'
  boot_check 'pea/internal/engine.(*Runtime).refreshIfRebooted'
  os_exit os.Exit
)

# A probe is placed at a file offset: the symbol's address less its segment's load address.
segments=$(readelf -lW "$bin" | awk '$1 == "LOAD" { print $2, $3, $5 }')
symbols=$(nm "$bin")
placed=0
for ((i = 0; i < ${#marks[@]}; i += 2)); do
  name=${marks[i]} sym=${marks[i + 1]}
  addr=$(awk -v s="$sym" '$3 == s { print $1; exit }' <<<"$symbols")
  if [ -z "$addr" ]; then
    echo "startup-phases: no symbol $sym in $bin (stripped?); that mark is left out" >&2
    continue
  fi
  off=
  while read -r o v sz; do
    if ((16#$addr >= v && 16#$addr < v + sz)); then
      off=$(printf '0x%x' $((16#$addr - v + o)))
      break
    fi
  done <<<"$segments"
  [ -n "$off" ] || { echo "startup-phases: $sym is in no loaded segment" >&2; continue; }
  perf probe -q -x "$bin" -a "$group:m$(printf '%02d' $((i / 2)))_$name=$off" >/dev/null 2>&1 || {
    echo "startup-phases: cannot place a probe on $sym" >&2
    continue
  }
  placed=$((placed + 1))
done
[ $placed -gt 0 ] || { echo "startup-phases: no probe could be placed" >&2; exit 1; }

perf record -q -a -o "$work/perf.data" -e "$group:*" \
  -e syscalls:sys_enter_execve -e sched:sched_process_exec \
  -e syscalls:sys_enter_exit_group -e sched:sched_process_exit \
  -- sh -c 'n=$1; shift; i=0; while [ $i -lt $n ]; do "$@" >/dev/null 2>&1; i=$((i + 1)); done' sh "$runs" "$bin" "$@" \
  >/dev/null 2>&1

# Per process that hit a probe: the first time of each event, in order; then the median time
# between consecutive events over the runs.
perf script -i "$work/perf.data" -F pid,time,event 2>/dev/null | awk -v group="$group" '
  function label(e) {
    sub(":$", "", e)
    if (e == "syscalls:sys_enter_execve") return "execve"
    if (e == "sched:sched_process_exec") return "exec done"
    if (e == "syscalls:sys_enter_exit_group") return "exit_group"
    if (e == "sched:sched_process_exit") return "process gone"
    sub("^" group ":m[0-9]+_", "", e)
    return e
  }
  {
    pid = $1; t = $2; sub(":$", "", t); e = label($3)
    if ((pid, e) in seen) next
    seen[pid, e] = 1
    if ($3 ~ "^" group ":") probed[pid] = 1
    n[pid]++; ev[pid, n[pid]] = e; at[pid, n[pid]] = t
  }
  END {
    for (pid in n) {
      if (!(pid in probed)) continue
      for (k = 2; k <= n[pid]; k++) {
        tr = ev[pid, k - 1] " -> " ev[pid, k]
        if (!(tr in order)) order[tr] = ++ntr
        printf "%d\t%s\t%.4f\n", order[tr], tr, (at[pid, k] - at[pid, k - 1]) * 1000
      }
      printf "%d\t%s\t%.4f\n", 999, "whole (first mark to last)", (at[pid, n[pid]] - at[pid, 1]) * 1000
    }
  }' | sort -t "$(printf '\t')" -k1,1n -k3,3g | awk -F '\t' '
  function flush() { if (cnt) printf "%8.3f ms  %-45s (%d runs)\n", v[int((cnt + 1) / 2)], cur, cnt }
  $2 != cur { flush(); cur = $2; cnt = 0 }
  { v[++cnt] = $3 }
  END { flush() }'
echo "(medians of $runs runs of: pea $*; each probe adds a few µs)"
