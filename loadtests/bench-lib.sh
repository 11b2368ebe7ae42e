# shellcheck shell=bash
# Shared helpers for the scripts in loadtests/ other than run.sh (sourced, not run).
#
# Provides: log/warn/die, a process registry with a cleanup trap (every started process is
# stopped by PID on EXIT/INT/TERM; the temp dir is removed unless KEEP_WORK=1), start_bg,
# port_free, wait_http, jar copying, /proc CPU accounting and wait_quiet, an nginx origin
# serving files (start_file_origin), edgecache's config for one origin (write_edge_config), and
# the image's JDK and its options (common.sh).
# The sourcing script must set ROOT, HERE, WORK (may be empty until created), KEEP_WORK,
# STARTUP_TIMEOUT, QUIET_WAIT, QUIET_MAX and LOG_TAG before calling these.

source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

log()  { printf '[%s %(%H:%M:%S)T] %s\n' "$LOG_TAG" -1 "$*"; }
warn() { printf '[%s %(%H:%M:%S)T] WARNING: %s\n' "$LOG_TAG" -1 "$*" >&2; }
die()  { printf '[%s %(%H:%M:%S)T] ERROR: %s\n' "$LOG_TAG" -1 "$*" >&2; exit 1; }

declare -a PIDS=()
# alive PID: the process exists and is not a zombie (an exited, not yet reaped child)
alive() { local st; st="$(sed -E 's/^.*\) ([A-Za-z]).*$/\1/' "/proc/$1/stat" 2>/dev/null)" || return 1; [[ -n "$st" && "$st" != Z ]]; }
declare -A PID_NAME=()

# Called from the EXIT trap. Scripts may define on_cleanup() for last words (it runs first,
# while the processes still live).
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if declare -F on_cleanup >/dev/null; then on_cleanup || true; fi
  local pid
  for pid in "${PIDS[@]}"; do
    if alive "$pid"; then
      log "stopping ${PID_NAME[$pid]} (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
  local deadline=$((SECONDS + 20))
  for pid in "${PIDS[@]}"; do
    while alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
    if alive "$pid"; then
      warn "${PID_NAME[$pid]} (pid $pid) did not stop; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  if [[ -n "${WORK:-}" && -d "$WORK" ]]; then
    if [[ "$KEEP_WORK" == 1 ]]; then log "kept work dir $WORK"; else rm -rf "$WORK"; fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start_bg NAME CPUS CMD... : run CMD in the background (pinned to CPUS unless empty),
# stdout+stderr to $WORK/NAME.log; sets LAST_PID.
start_bg() {
  local name="$1" cpus="$2"; shift 2
  if [[ -n "$cpus" ]]; then
    taskset -c "$cpus" "$@" >"$WORK/$name.log" 2>&1 &
  else
    "$@" >"$WORK/$name.log" 2>&1 &
  fi
  LAST_PID=$!
  PIDS+=("$LAST_PID")
  PID_NAME[$LAST_PID]="$name"
}

# stop_bg PID: stop one started process now (TERM, then KILL after 20 s)
stop_bg() {
  local pid="$1" deadline=$((SECONDS + 20))
  if alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    while alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
    alive "$pid" && kill -KILL "$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null || true
}

port_free() { [[ -z "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]]; }

# wait_http NAME PID URL [expect-code]: poll URL until it answers (expect-code, default any)
wait_http() {
  local name="$1" pid="$2" url="$3" want="${4:-}" code deadline=$((SECONDS + STARTUP_TIMEOUT))
  while ((SECONDS < deadline)); do
    if ! alive "$pid"; then
      warn "$name exited during startup; last log lines:"
      tail -n 30 "$WORK/$name.log" >&2 || true
      return 1
    fi
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url" 2>/dev/null || true)"
    if [[ "$code" != 000 && ( -z "$want" || "$code" == "$want" ) ]]; then return 0; fi
    sleep 0.2
  done
  warn "$name did not answer $url${want:+ with $want} within ${STARTUP_TIMEOUT}s; last log lines:"
  tail -n 30 "$WORK/$name.log" >&2 || true
  return 1
}

# ensure_jar: build the jar if missing (or REBUILD=1), then copy it to $WORK/edgecache.jar so
# a rebuild during the run cannot swap it under the JVM. Sets JAR and EDGE_VERSION.
ensure_jar() {
  if [[ "${REBUILD:-0}" == 1 || ! -f "$EDGECACHE_JAR" ]]; then
    log "building edgecache (mvn -q -B -DskipTests package)"
    (cd "$ROOT" && mvn -q -B -DskipTests package) || die "edgecache build failed"
    [[ -f "$EDGECACHE_JAR" ]] || die "build did not produce $EDGECACHE_JAR"
  fi
  cp "$EDGECACHE_JAR" "$WORK/edgecache.jar"
  JAR="$WORK/edgecache.jar"
  EDGE_VERSION="$(timeout 30 java -jar "$JAR" --version 2>/dev/null | head -n1 || true)"
  # what the jar was built from (a dirty tree means uncommitted changes were in the build); the
  # checkout's commit says nothing about a jar from elsewhere (EDGECACHE_JAR=/tmp/before.jar), so
  # such a jar is named by its path
  local built
  built="jar built $(date -u -r "$EDGECACHE_JAR" '+%Y-%m-%d %H:%M:%SZ')"
  if [[ "$(realpath "$EDGECACHE_JAR")" == "$(realpath "$ROOT/proxy/target/edgecache.jar" 2>/dev/null)" ]]; then
    EDGE_SOURCE="$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown), $built"
  else
    EDGE_SOURCE="$EDGECACHE_JAR, not this checkout's build; $built"
  fi
  EDGE_VERSION="${EDGE_VERSION:-unknown} [$EDGE_SOURCE]"
}

# jvm_gc [taskset-cpus] JAVA-OPTS...: the GC the JVM would pick
jvm_gc() {
  local cpus="$1"; shift
  local -a pre=()
  [[ -n "$cpus" ]] && pre=(taskset -c "$cpus")
  "${pre[@]}" java "$@" -XX:+PrintFlagsFinal -version 2>/dev/null \
    | awk '$2 ~ /^Use(Serial|Parallel|G1|Z|Shenandoah|Epsilon)GC$/ && $4 == "true" {print $2}' | head -n1
}

# metric ADMIN-PORT NAME{LABELS}: one sample value from /metrics (0 if absent), as an integer
metric() {
  local text
  text="$(curl -fsS --max-time 10 "http://127.0.0.1:$1/metrics" 2>/dev/null || true)"
  awk -v k="$2" '!found && index($0, k " ") == 1 { v = $2; found = 1 } END { printf "%.0f\n", found ? v : 0 }' <<<"$text"
}

source "$(dirname "${BASH_SOURCE[0]}")/cpu-lib.sh"
all_started_ticks() { local p t=0; for p in "${PIDS[@]}"; do t=$((t + $(tree_ticks "$p"))); done; echo "$t"; }

# wait_quiet: wait (at most QUIET_WAIT s) until processes this script did not start use less
# than QUIET_MAX cores, sampled over 1 s.
wait_quiet() {
  ((QUIET_WAIT > 0)) || return 0
  local start=$SECONDS b0 t0 b1 t1 o0 o1 other n
  n="$(nproc)"
  while :; do
    read -r b0 t0 < <(cpu_ticks); o0="$(all_started_ticks)"
    sleep 1
    read -r b1 t1 < <(cpu_ticks); o1="$(all_started_ticks)"
    other="$(awk -v n="$n" -v b=$((b1 - b0)) -v t=$((t1 - t0)) -v o=$((o1 - o0)) \
      'BEGIN { c = t / n; if (c <= 0) c = 1; x = (b - o) / c; if (x < 0) x = 0; printf "%.2f", x }')"
    if awk -v x="$other" -v m="$QUIET_MAX" 'BEGIN { exit !(x < m) }'; then
      ((SECONDS - start > 1)) && log "  machine quiet after $((SECONDS - start))s (other load $other cores)"
      return 0
    fi
    if ((SECONDS - start >= QUIET_WAIT)); then
      warn "other processes still use $other cores after ${QUIET_WAIT}s; measuring anyway"
      return 0
    fi
  done
}

# log_problems NAME: WARN/ERROR lines of $WORK/NAME.log (up to 20), for the report
log_problems() { grep -E ' (WARN|ERROR) |Exception|OutOfMemory' "$WORK/$1.log" 2>/dev/null | head -n 20 || true; }

# damon_note: one line about DAMON (kdamond) if the kernel runs it (read-only sysfs); empty otherwise.
# On the development VM a kdamond with a "pageout" scheme samples physical memory every 500 ms,
# and while a process keeps a multi-GiB heap resident every process on the box sees periodic
# stalls of tens of ms.
damon_note() {
  local d=/sys/kernel/mm/damon/admin/kdamonds st ops smp act out=""
  [[ -d "$d" ]] || return 0
  for k in "$d"/[0-9]*; do
    st="$(cat "$k/state" 2>/dev/null || true)"
    [[ "$st" == on ]] || continue
    ops="$(cat "$k/contexts/0/operations" 2>/dev/null || true)"
    smp="$(cat "$k/contexts/0/monitoring_attrs/intervals/sample_us" 2>/dev/null || true)"
    act="$(cat "$k/contexts/0/schemes/0/action" 2>/dev/null || true)"
    out+="kdamond ${k##*/} on (ops ${ops:-?}, sample ${smp:-?} us, scheme ${act:-none}); "
  done
  printf '%s' "${out%; }"
}

# start_file_origin PORT: nginx on 127.0.0.1:PORT (in $WORK/origin), 2 workers, serving files:
# /size/1024 and /size/102400 with Cache-Control "public, max-age=3600", /pass/1k (1 KiB) with
# "no-store". Waits until it answers; dies if it does not.
start_file_origin() {
  local port="$1" og="$WORK/origin"
  mkdir -p "$og/www/size" "$og/www/pass" "$og/tmp" "$og/logs"
  head -c 1024 /dev/zero | tr '\0' 'a' >"$og/www/size/1024"
  head -c 102400 /dev/urandom >"$og/www/size/102400"
  head -c 1024 /dev/zero | tr '\0' 'p' >"$og/www/pass/1k"
  chmod -R a+rX "$og"
  [[ "$(id -u)" == 0 ]] && chown -R nobody:nogroup "$og/tmp" "$og/logs"
  {
    nginx_conf_head "$og" 2
    cat <<EOF
  server {
    listen 127.0.0.1:$port backlog=4096;
    root $og/www;
    default_type application/octet-stream;
    location /size/ { add_header Cache-Control "public, max-age=3600" always; }
    location /pass/ { add_header Cache-Control "no-store" always; }
  }
}
EOF
  } >"$og/nginx.conf"
  start_bg origin "" nginx -p "$og" -c "$og/nginx.conf" -e "$og/logs/error.log"
  wait_http origin "$LAST_PID" "http://127.0.0.1:$port/size/1024" 200 || die "the origin did not start"
}

# write_edge_config OUT EDGE_PORT ADMIN_PORT ORIGIN_PORT: conf/proxy.json with listen and admin
# on 127.0.0.1, one origin for every host, the access log off and no disk tier
write_edge_config() {
  node - "$ROOT/conf/proxy.json" "$@" <<'EOF'
const fs = require('fs');
const [src, dst, port, admin, origin] = process.argv.slice(2);
const c = JSON.parse(fs.readFileSync(src, 'utf8'));
c.listen = { ...(c.listen || {}), host: '127.0.0.1', port: Number(port) };
c.admin = { ...(c.admin || {}), host: '127.0.0.1', port: Number(admin) };
c.origins = [{ name: 'origin', url: `http://127.0.0.1:${origin}`, hosts: ['*'] }];
c.accessLog = { ...(c.accessLog || {}), enabled: false };
c.disk = { ...(c.disk || {}), path: null };
fs.writeFileSync(dst, JSON.stringify(c, null, 2) + '\n');
EOF
}
