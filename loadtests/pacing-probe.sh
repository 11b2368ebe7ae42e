#!/usr/bin/env bash
# What a response's write pattern costs the kernel under the machine's TCP congestion control:
# loadtests/pacing-probe.c (no HTTP stack, no cache) answers wrk with the same response written in
# one writev, as a head write and a body write, or as a head write and a sendfile, and this script
# measures the server's CPU per response and how many of its responses waited for TCP's pacing
# timer (tcp_pace_kick), for each congestion control in CCS.
#
#   bash loadtests/pacing-probe.sh                         # 102400 bytes, the machine's congestion control
#   CCS="bbr cubic" SIZES="102400 1048576" bash loadtests/pacing-probe.sh   # as root: each in turn, restored at exit
#
# The probe runs on SERVER_CPU (0) and wrk alone on LOAD_CPU (1), `wrk -t1 -c32` for DURATION
# (5s) after 2 s of unrecorded load, ROUNDS (3) times per mode, the modes alternated. Prints one
# line per run (req/s, CPU µs per response from /proc, pacing-timer expiries per response from
# `perf record -e timer:hrtimer_expire_entry` over the run when perf is installed, the pacing rate
# `ss -ti` shows mid-run) and the medians per congestion control, size and mode.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
SIZES="${SIZES:-102400}"
MODES="${MODES:-writev split sendfile}"
CCS="${CCS:-}"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-5}"
SERVER_CPU="${SERVER_CPU:-0}"
LOAD_CPU="${LOAD_CPU:-1}"
PORT="${PORT:-25300}"

die() { echo "pacing-probe: $*" >&2; exit 1; }
for t in gcc wrk taskset ss; do command -v "$t" >/dev/null || die "$t not found"; done
HAVE_PERF=0
command -v perf >/dev/null && perf stat -e timer:hrtimer_expire_entry -o /dev/null true 2>/dev/null && HAVE_PERF=1

WORK="$(mktemp -d /tmp/pacing-probe.XXXXXX)"
CC_BEFORE="$(sysctl -n net.ipv4.tcp_congestion_control)"
SRV=""
cleanup() {
  [[ -n "$SRV" ]] && kill "$SRV" 2>/dev/null && wait "$SRV" 2>/dev/null
  if [[ "$(sysctl -n net.ipv4.tcp_congestion_control)" != "$CC_BEFORE" ]]; then
    sysctl -q -w "net.ipv4.tcp_congestion_control=$CC_BEFORE" || echo "pacing-probe: could not restore $CC_BEFORE" >&2
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
gcc -O2 -Wall -o "$WORK/probe" "$HERE/pacing-probe.c" || die "the probe did not build"

HZ="$(getconf CLK_TCK)"
ticks() { awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$1/stat"; }
median() { sort -n | awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]; else print "n/a"}'; }

echo "machine: $(nproc) CPUs, $(uname -r); lo qdisc $(tc qdisc show dev lo 2>/dev/null | awk '{print $2; exit}'), default qdisc $(sysctl -n net.core.default_qdisc)"
declare -A US=() KICKS=()
for cc in ${CCS:-$CC_BEFORE}; do
  if [[ "$cc" != "$(sysctl -n net.ipv4.tcp_congestion_control)" ]]; then
    sysctl -q -w "net.ipv4.tcp_congestion_control=$cc" >/dev/null 2>&1 \
      || die "cannot set tcp_congestion_control=$cc (needs root and one of: $(sysctl -n net.ipv4.tcp_available_congestion_control))"
  fi
  for size in $SIZES; do
    for ((round = 1; round <= ROUNDS; round++)); do
      order="$MODES"
      ((round % 2 == 0)) && order="$(echo "$MODES" | tr ' ' '\n' | tac | tr '\n' ' ')"
      for mode in $order; do
        taskset -c "$SERVER_CPU" "$WORK/probe" "$mode" "$PORT" "$size" &
        SRV=$!
        for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
        taskset -c "$LOAD_CPU" wrk -t1 -c32 -d2s "http://127.0.0.1:$PORT/" >/dev/null
        t0="$(ticks "$SRV")"
        if ((HAVE_PERF)); then
          perf record -q -e timer:hrtimer_expire_entry -a -o "$WORK/timers.data" -- sleep "$DURATION" 2>/dev/null &
          PERF=$!
        fi
        (sleep "$((DURATION / 2))"; ss -tin state established "( sport = :$PORT )" >"$WORK/ss.txt") &
        SS=$!
        taskset -c "$LOAD_CPU" wrk -t1 -c32 -d"${DURATION}s" "http://127.0.0.1:$PORT/" >"$WORK/wrk.txt"
        t1="$(ticks "$SRV")"
        if ((HAVE_PERF)); then wait "$PERF"; fi
        wait "$SS"
        kill "$SRV"; wait "$SRV" 2>/dev/null || true; SRV=""
        reqs="$(awk '/requests in/{print $1}' "$WORK/wrk.txt")"
        rps="$(awk '/^Requests\/sec/{printf "%.0f", $2}' "$WORK/wrk.txt")"
        us="$(awk -v t="$((t1 - t0))" -v hz="$HZ" -v n="$reqs" 'BEGIN{printf "%.1f", t / hz * 1e6 / n}')"
        kicks="n/a"
        if ((HAVE_PERF)); then
          kicks="$(perf script -i "$WORK/timers.data" 2>/dev/null | grep -c 'function=tcp_pace_kick' || true)"
          kicks="$(awk -v k="$kicks" -v n="$reqs" 'BEGIN{printf "%.2f", k / n}')"
        fi
        rate="$(grep -o 'pacing_rate [0-9.]*[A-Za-z]*' "$WORK/ss.txt" | awk '{print $2}' | sort | uniq -c | sort -nr | awk 'NR==1{print $2}')"
        printf '%-6s %8s B  %-8s round %d: %7s req/s  %6s us/response  pacing timers/response %s  pacing_rate %s\n' \
          "$cc" "$size" "$mode" "$round" "$rps" "$us" "$kicks" "${rate:-none}"
        US[$cc/$size/$mode]+="$us "
        KICKS[$cc/$size/$mode]+="$kicks "
      done
    done
  done
done
echo
echo "medians (CPU us per response, pacing timers per response):"
for cc in ${CCS:-$CC_BEFORE}; do
  for size in $SIZES; do
    for mode in $MODES; do
      printf '%-6s %8s B  %-8s %6s us  %s timers\n' "$cc" "$size" "$mode" \
        "$(echo "${US[$cc/$size/$mode]}" | tr ' ' '\n' | grep . | median)" \
        "$(echo "${KICKS[$cc/$size/$mode]}" | tr ' ' '\n' | grep . | median)"
    done
  done
done
