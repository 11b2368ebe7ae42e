#!/usr/bin/env bash
# edgecache load test: edgecache vs nginx proxy_cache vs varnish, cache-hit path.
#
# One run, all on 127.0.0.1:
#   1. starts loadtests/origin.mjs (1 KiB body, Cache-Control: public, max-age=3600)
#   2. starts edgecache, nginx (proxy_cache) and, if installed, varnish in front of it
#   3. warms each cache and checks the 2nd request is a HIT
#   4. runs wrk against each in turn, ROUNDS times, alternating the order
#   5. prints a table and writes loadtests/results/latest.md
#   6. stops everything it started (trap on EXIT)
#
# Knobs (environment):
#   DURATION=15s  ROUNDS=2  WARMUP=5s  THREADS=2  CONNECTIONS=64  URL_PATH=/bench/1k  BODY_SIZE=1024
#   PIN=1                  pin servers to SERVER_CPUS and wrk to LOAD_CPUS (needs >= 2 CPUs)
#   SERVER_CPUS=0 LOAD_CPUS=1
#   SKIP_EDGECACHE=1 SKIP_NGINX=1 SKIP_VARNISH=1   leave a server out (SKIP_EDGECACHE is for
#                          testing the harness while edgecache cannot serve yet)
#   REBUILD=1              rebuild proxy/target/edgecache.jar even if it exists
#   EDGECACHE_JAR=path     jar to run (default proxy/target/edgecache.jar)
#   EDGECACHE_JAVA_OPTS="-Xms1g -Xmx1g"   JVM options for edgecache
#   ORIGIN_PORT=18000 EDGE_PORT=18080 EDGE_ADMIN_PORT=19090 NGINX_PORT=18081 VARNISH_PORT=18082
#   STARTUP_TIMEOUT=60     seconds to wait for a server to come up
#   RESULTS=loadtests/results/latest.md   KEEP_WORK=1 keeps the temp dir (configs, logs)
#   NO_INSTALL=1           never apt-get install missing nginx/wrk/varnish
#   QUIET_WAIT=60 QUIET_MAX=0.25   before each measured run, wait up to QUIET_WAIT s until
#                          processes this script did not start use < QUIET_MAX cores
set -Eeuo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HERE="$ROOT/loadtests"

DURATION="${DURATION:-15s}"
ROUNDS="${ROUNDS:-2}"
WARMUP="${WARMUP:-5s}"
THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-64}"
URL_PATH="${URL_PATH:-/bench/1k}"
BODY_SIZE="${BODY_SIZE:-1024}"
PIN="${PIN:-1}"
SERVER_CPUS="${SERVER_CPUS:-0}"
LOAD_CPUS="${LOAD_CPUS:-1}"
SKIP_EDGECACHE="${SKIP_EDGECACHE:-0}"
SKIP_NGINX="${SKIP_NGINX:-0}"
SKIP_VARNISH="${SKIP_VARNISH:-0}"
REBUILD="${REBUILD:-0}"
EDGECACHE_JAR="${EDGECACHE_JAR:-$ROOT/proxy/target/edgecache.jar}"
EDGECACHE_JAVA_OPTS="${EDGECACHE_JAVA_OPTS:--Xms1g -Xmx1g}"
ORIGIN_PORT="${ORIGIN_PORT:-18000}"
EDGE_PORT="${EDGE_PORT:-18080}"
EDGE_ADMIN_PORT="${EDGE_ADMIN_PORT:-19090}"
NGINX_PORT="${NGINX_PORT:-18081}"
VARNISH_PORT="${VARNISH_PORT:-18082}"
STARTUP_TIMEOUT="${STARTUP_TIMEOUT:-60}"
RESULTS="${RESULTS:-$HERE/results/latest.md}"
KEEP_WORK="${KEEP_WORK:-0}"
QUIET_WAIT="${QUIET_WAIT:-60}"
QUIET_MAX="${QUIET_MAX:-0.25}"
NO_INSTALL="${NO_INSTALL:-0}"

log()  { printf '[loadtest %(%H:%M:%S)T] %s\n' -1 "$*"; }
warn() { printf '[loadtest %(%H:%M:%S)T] WARNING: %s\n' -1 "$*" >&2; }
die()  { printf '[loadtest %(%H:%M:%S)T] ERROR: %s\n' -1 "$*" >&2; exit 1; }

# ---------------------------------------------------------------- processes & cleanup
declare -a PIDS=()
declare -A PID_NAME=()
WORK=""
ORIGIN_URL="http://127.0.0.1:${ORIGIN_PORT}"

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "${ORIGIN_PID:-}" ]] && kill -0 "$ORIGIN_PID" 2>/dev/null; then
    local c
    c="$(curl -fsS --max-time 2 "$ORIGIN_URL/__count" 2>/dev/null || true)"
    [[ -n "$c" ]] && log "origin final count: $c"
  fi
  local pid
  for pid in "${PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      log "stopping ${PID_NAME[$pid]} (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
  local deadline=$((SECONDS + 15))
  for pid in "${PIDS[@]}"; do
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      warn "${PID_NAME[$pid]} (pid $pid) did not stop; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  if [[ -n "$WORK" && -d "$WORK" ]]; then
    if [[ "$KEEP_WORK" == 1 ]]; then
      log "kept work dir $WORK"
    else
      rm -rf "$WORK"
    fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start NAME CPUS CMD... : run CMD in the background (pinned to CPUS when pinning), log to $WORK/NAME.log
start_bg() {
  local name="$1" cpus="$2"; shift 2
  if [[ -n "$cpus" ]]; then
    taskset -c "$cpus" "$@" >"$WORK/$name.log" 2>&1 &
  else
    "$@" >"$WORK/$name.log" 2>&1 &
  fi
  local pid=$!
  PIDS+=("$pid")
  PID_NAME[$pid]="$name"
  LAST_PID=$pid
}

port_free() { [[ -z "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]]; }

# wait_http NAME PID URL [expect-code]: poll URL until it answers (expect-code, default any) or timeout
wait_http() {
  local name="$1" pid="$2" url="$3" want="${4:-}" code deadline=$((SECONDS + STARTUP_TIMEOUT))
  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
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

origin_count() { curl -fsS --max-time 2 "$ORIGIN_URL/__count" | sed -E 's/^\{"requests":([0-9]+).*/\1/'; }

# ---------------------------------------------------------------- tools
need_pkg() { # need_pkg COMMAND DEBIAN_PACKAGE [optional]
  local cmd="$1" pkg="$2" optional="${3:-}"
  command -v "$cmd" >/dev/null 2>&1 && return 0
  if [[ "$NO_INSTALL" != 1 && "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    log "$cmd missing: apt-get install -y $pkg"
    if [[ -z "${APT_UPDATED:-}" ]]; then
      DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 || true
      APT_UPDATED=1
    fi
    # policy-rc.d exit 101: don't let the package start a system-wide daemon on port 80/6081
    local prc=/usr/sbin/policy-rc.d created_prc=0
    if [[ ! -e "$prc" ]]; then printf '#!/bin/sh\nexit 101\n' >"$prc"; chmod +x "$prc"; created_prc=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null 2>&1 || true
    if [[ "$created_prc" == 1 ]]; then rm -f "$prc"; fi
  fi
  command -v "$cmd" >/dev/null 2>&1 && return 0
  [[ -n "$optional" ]] && return 1
  die "$cmd not found (Debian package $pkg); install it or re-run as root"
}

# nginx and varnishd live in /usr/sbin, which a non-root PATH may lack
PATH="$PATH:/usr/sbin:/sbin"
for c in node curl ss awk; do command -v "$c" >/dev/null || die "$c is required"; done
need_pkg wrk wrk
[[ "$SKIP_NGINX" == 1 ]] || need_pkg nginx nginx
HAVE_VARNISH=0
if [[ "$SKIP_VARNISH" != 1 ]]; then
  if need_pkg varnishd varnish optional; then HAVE_VARNISH=1; else warn "varnish not available: skipping it"; fi
fi

NPROC="$(nproc)"
SRV_PIN="" LOAD_PIN=""
if [[ "$PIN" == 1 ]]; then
  if ((NPROC >= 2)) && command -v taskset >/dev/null; then
    SRV_PIN="$SERVER_CPUS"; LOAD_PIN="$LOAD_CPUS"
  else
    warn "PIN=1 needs taskset and >= 2 CPUs; running unpinned"
  fi
fi
if [[ -n "$SRV_PIN" ]]; then
  SRV_NCPU="$(taskset -c "$SRV_PIN" nproc)"
else
  SRV_NCPU="$NPROC"
fi

LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
if awk -v l="${LOAD_START%% *}" -v n="$NPROC" 'BEGIN{exit !(l > n / 2)}'; then
  warn "load average is already $LOAD_START on $NPROC CPU(s): something else is running, expect noisy numbers"
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/edgecache-loadtest.XXXXXX")"
chmod 755 "$WORK" # nginx workers / varnish child may run as an unprivileged user
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
RAW="$HERE/results/raw/$STAMP"
mkdir -p "$RAW" "$(dirname "$RESULTS")"
TSV="$RAW/runs.tsv"
printf 'round\tserver\trps\tp50_ms\tp99_ms\torigin_fetches\tnon2xx\tsocket_errors\tserver_cpu\twrk_cpu\tother_cpu\n' >"$TSV"

for p in "$ORIGIN_PORT" "$EDGE_PORT" "$EDGE_ADMIN_PORT" "$NGINX_PORT" "$VARNISH_PORT"; do
  port_free "$p" || die "port $p on 127.0.0.1 is in use (override with *_PORT variables)"
done

declare -a SERVERS=()
declare -A PORT_OF=() PID_OF=() VERSION_OF=() NOTE_OF=()

# ---------------------------------------------------------------- origin
start_bg origin "$SRV_PIN" node "$HERE/origin.mjs" --host 127.0.0.1 --port "$ORIGIN_PORT" --size "$BODY_SIZE" --max-age 3600
ORIGIN_PID=$LAST_PID
wait_http origin "$ORIGIN_PID" "$ORIGIN_URL/__count" 200 || die "origin did not start"
log "origin up on $ORIGIN_URL"

# ---------------------------------------------------------------- edgecache
if [[ "$SKIP_EDGECACHE" != 1 ]]; then
  if [[ "$REBUILD" == 1 || ! -f "$EDGECACHE_JAR" ]]; then
    log "building edgecache (mvn -q -B -DskipTests package)"
    (cd "$ROOT" && mvn -q -B -DskipTests package) || die "edgecache build failed"
    [[ -f "$EDGECACHE_JAR" ]] || die "build did not produce $EDGECACHE_JAR"
  fi
  # Derive the config from conf/proxy.json so keys added later keep their defaults;
  # override only addresses, the origin and the memory budget (memory tier only).
  node - "$ROOT/conf/proxy.json" "$WORK/edgecache.json" "$EDGE_PORT" "$EDGE_ADMIN_PORT" "$ORIGIN_URL" <<'EOF'
const fs = require('fs');
const [src, dst, port, adminPort, originUrl] = process.argv.slice(2);
let cfg = {};
try { cfg = JSON.parse(fs.readFileSync(src, 'utf8')); } catch (e) { console.error(`(no usable ${src}: ${e.message}; using minimal config)`); }
cfg.listen = { ...(cfg.listen || {}), host: '127.0.0.1', port: Number(port) };
cfg.admin = { ...(cfg.admin || {}), host: '127.0.0.1', port: Number(adminPort) };
cfg.origins = [{ name: 'loadtest-origin', url: originUrl, hosts: ['*'] }];
cfg.memory = { ...(cfg.memory || {}), maxBytes: '256MiB', maxObjectBytes: '8MiB' };
if (cfg.disk) cfg.disk = { ...cfg.disk, path: null };
// like nginx's access_log off in its generated config (ACCESS_LOG=1 keeps it on)
if (process.env.ACCESS_LOG !== '1') cfg.accessLog = { ...(cfg.accessLog || {}), enabled: false };
fs.writeFileSync(dst, JSON.stringify(cfg, null, 2) + '\n');
EOF
  cp "$WORK/edgecache.json" "$RAW/edgecache.json"
  read -r -a JOPTS <<<"$EDGECACHE_JAVA_OPTS"
  EDGE_GC="$( (if [[ -n "$SRV_PIN" ]]; then taskset -c "$SRV_PIN" java "${JOPTS[@]}" -XX:+PrintFlagsFinal -version; else java "${JOPTS[@]}" -XX:+PrintFlagsFinal -version; fi) 2>/dev/null \
      | awk '$2 ~ /^Use(Serial|Parallel|G1|Z|Shenandoah|Epsilon)GC$/ && $4 == "true" {print $2}' | head -n1)"
  # run a private copy: a rebuild during the run must not swap the jar under the JVM
  cp "$EDGECACHE_JAR" "$WORK/edgecache.jar"
  EDGE_VERSION="$(timeout 30 java -jar "$WORK/edgecache.jar" --version 2>/dev/null | head -n1 || true)"
  start_bg edgecache "$SRV_PIN" java "${JOPTS[@]}" -jar "$WORK/edgecache.jar" --config "$WORK/edgecache.json"
  EDGE_PID=$LAST_PID
  if wait_http edgecache "$EDGE_PID" "http://127.0.0.1:$EDGE_ADMIN_PORT/readyz" 200; then
    SERVERS+=(edgecache); PORT_OF[edgecache]=$EDGE_PORT; PID_OF[edgecache]=$EDGE_PID
    VERSION_OF[edgecache]="${EDGE_VERSION:-unknown} (java $(java -version 2>&1 | awk -F'"' 'NR==1{print $2}'), ${EDGECACHE_JAVA_OPTS}${EDGE_GC:+, $EDGE_GC})"
    log "edgecache up on :$EDGE_PORT (admin :$EDGE_ADMIN_PORT, pid $EDGE_PID)"
  else
    NOTE_OF[edgecache]="did not become ready (GET /readyz on admin port)"
    FAILED=1
  fi
fi

# ---------------------------------------------------------------- nginx
if [[ "$SKIP_NGINX" != 1 ]]; then
  NG="$WORK/nginx"
  mkdir -p "$NG/cache" "$NG/tmp" "$NG/logs"
  NG_USER=""
  if [[ "$(id -u)" == 0 ]]; then
    # workers drop to nobody when the master is root; let them write the cache
    NG_USER="user nobody nogroup;"
    chown -R nobody:nogroup "$NG"
  fi
  cat >"$NG/nginx.conf" <<EOF
# generated by loadtests/run.sh
$NG_USER
worker_processes $SRV_NCPU;
pid $NG/nginx.pid;
error_log $NG/logs/error.log warn;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  keepalive_timeout 65s;
  client_body_temp_path $NG/tmp/client;
  proxy_temp_path       $NG/tmp/proxy;
  fastcgi_temp_path     $NG/tmp/fastcgi;
  uwsgi_temp_path       $NG/tmp/uwsgi;
  scgi_temp_path        $NG/tmp/scgi;
  # cache metadata in shared memory, bodies in files (served from the page cache)
  proxy_cache_path $NG/cache levels=1:2 keys_zone=edge:16m max_size=256m inactive=60m use_temp_path=off;
  open_file_cache max=10000 inactive=60s;

  upstream origin {
    server 127.0.0.1:$ORIGIN_PORT;
    keepalive 64;
  }
  server {
    listen 127.0.0.1:$NGINX_PORT backlog=4096;
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_cache edge;
      proxy_cache_key \$scheme\$host\$request_uri;
      # origin Cache-Control/Expires take precedence; this is only the fallback
      # for responses without freshness information
      proxy_cache_valid 200 301 404 1m;
      proxy_cache_lock on;
      proxy_cache_revalidate on;
      proxy_cache_use_stale updating error timeout;
      add_header X-Cache-Status \$upstream_cache_status always;
    }
  }
}
EOF
  cp "$NG/nginx.conf" "$RAW/nginx.conf"
  nginx -t -p "$NG" -c "$NG/nginx.conf" -e "$NG/logs/error.log" >"$WORK/nginx-t.log" 2>&1 \
    || { cat "$WORK/nginx-t.log" >&2; die "nginx config test failed"; }
  start_bg nginx "$SRV_PIN" nginx -p "$NG" -c "$NG/nginx.conf" -e "$NG/logs/error.log"
  NGINX_PID=$LAST_PID
  if wait_http nginx "$NGINX_PID" "http://127.0.0.1:$NGINX_PORT/__nginx_up"; then
    SERVERS+=(nginx); PORT_OF[nginx]=$NGINX_PORT; PID_OF[nginx]=$NGINX_PID
    VERSION_OF[nginx]="$(nginx -v 2>&1 | sed 's/^nginx version: //') (worker_processes $SRV_NCPU, proxy_cache)"
    log "nginx up on :$NGINX_PORT (pid $NGINX_PID, $SRV_NCPU worker(s))"
  else
    NOTE_OF[nginx]="did not start"; FAILED=1
  fi
fi

# ---------------------------------------------------------------- varnish
if [[ "$HAVE_VARNISH" == 1 ]]; then
  VN="$WORK/varnish"
  mkdir -p "$VN"
  VJAIL=()
  # as root, varnishd wants to drop to the varnish/vcache users; they need to reach -n
  if [[ "$(id -u)" == 0 ]]; then chmod 755 "$VN"; else VJAIL=(-j none); fi
  start_bg varnish "$SRV_PIN" varnishd -F "${VJAIL[@]}" -n "$VN" \
    -a "127.0.0.1:$VARNISH_PORT" -b "127.0.0.1:$ORIGIN_PORT" -T none -s malloc,256m
  VARNISH_PID=$LAST_PID
  if wait_http varnish "$VARNISH_PID" "http://127.0.0.1:$VARNISH_PORT/__varnish_up"; then
    SERVERS+=(varnish); PORT_OF[varnish]=$VARNISH_PORT; PID_OF[varnish]=$VARNISH_PID
    VERSION_OF[varnish]="$(varnishd -V 2>&1 | head -n1 | sed -E 's/^varnishd \((.*) revision.*/\1/') (-s malloc,256m, builtin VCL)"
    log "varnish up on :$VARNISH_PORT (pid $VARNISH_PID)"
  else
    warn "varnish did not start; skipping it"
    NOTE_OF[varnish]="did not start (see log)"
  fi
fi

((${#SERVERS[@]} > 0)) || die "no server to test"

# ---------------------------------------------------------------- warm & verify HIT
is_hit() { # is_hit SERVER HEADERS-FILE
  case "$1" in
    edgecache) grep -Eiq '^cache-status:.*edgecache;[[:space:]]*hit([[:space:]]*[;,]|[[:space:]]*$)' "$2" ;;
    nginx)     grep -Eiq '^x-cache-status:[[:space:]]*HIT[[:space:]]*$' "$2" ;;
    varnish)   grep -Eiq '^x-varnish:[[:space:]]*[0-9]+[[:space:]]+[0-9]+[[:space:]]*$' "$2" ;;
  esac
}

declare -a READY=()
for s in "${SERVERS[@]}"; do
  url="http://127.0.0.1:${PORT_OF[$s]}$URL_PATH"
  before="$(origin_count)"
  ok=1
  for i in 1 2; do
    res="$(curl -sS --max-time 5 -D "$WORK/$s.h$i" -o "$WORK/$s.b$i" -w '%{http_code} %{size_download}' "$url" || echo 'ERR 0')"
    tr -d '\r' <"$WORK/$s.h$i" >"$WORK/$s.h$i.txt" 2>/dev/null || : >"$WORK/$s.h$i.txt"
    if [[ "$res" != "200 $BODY_SIZE" ]]; then
      warn "$s request $i: expected '200 $BODY_SIZE', got '$res'"; ok=0
    fi
  done
  after="$(origin_count)"
  cp "$WORK/$s.h2.txt" "$RAW/$s.second-response-headers.txt"
  if ((ok)) && is_hit "$s" "$WORK/$s.h2.txt"; then
    log "$s: 2nd request is a HIT (origin fetches while warming: $((after - before)))"
    READY+=("$s")
  else
    warn "$s: 2nd request is NOT a cache hit; its headers:"
    sed 's/^/    /' "$WORK/$s.h2.txt" >&2
    NOTE_OF[$s]="2nd request was not a cache HIT; not benchmarked"
    FAILED=1
  fi
done
((${#READY[@]} > 0)) || die "no server passed the warm-up HIT check"

# ---------------------------------------------------------------- benchmark
# to_ms, cpu_ticks, tree_ticks, child_ticks: shared with the other benchmarks
source "$(dirname "${BASH_SOURCE[0]}")/cpu-lib.sh"

# wait_quiet: before a measured run, wait (at most QUIET_WAIT seconds) until processes this
# script did not start use less than QUIET_MAX cores, sampled over 1 s.
wait_quiet() {
  ((QUIET_WAIT > 0)) || return 0
  local start=$SECONDS b0 t0 b1 t1 o0 o1 p other
  while :; do
    read -r b0 t0 < <(cpu_ticks); o0=0; for p in "${PIDS[@]}"; do o0=$((o0 + $(tree_ticks "$p"))); done
    sleep 1
    read -r b1 t1 < <(cpu_ticks); o1=0; for p in "${PIDS[@]}"; do o1=$((o1 + $(tree_ticks "$p"))); done
    other="$(awk -v n="$NPROC" -v b=$((b1 - b0)) -v t=$((t1 - t0)) -v o=$((o1 - o0)) \
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

run_wrk() { # run_wrk SERVER DURATION OUTFILE
  local s="$1" d="$2" out="$3" url="http://127.0.0.1:${PORT_OF[$1]}$URL_PATH"
  local cmd=(wrk "-t$THREADS" "-c$CONNECTIONS" "-d$d" --latency "$url")
  if [[ -n "$LOAD_PIN" ]]; then cmd=(taskset -c "$LOAD_PIN" "${cmd[@]}"); fi
  "${cmd[@]}" >"$out" 2>&1 || { warn "wrk failed against $s:"; cat "$out" >&2; return 1; }
}

if [[ "$WARMUP" != 0 && "$WARMUP" != 0s ]]; then
  for s in "${READY[@]}"; do
    log "warm-up: $s for $WARMUP (not recorded)"
    run_wrk "$s" "$WARMUP" "$RAW/warmup-$s.txt" || true
  done
fi

WRK_CMD="wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency http://127.0.0.1:PORT$URL_PATH"
for ((r = 1; r <= ROUNDS; r++)); do
  order=("${READY[@]}")
  if ((r % 2 == 0)); then # reverse the order on even rounds
    order=(); for ((i = ${#READY[@]} - 1; i >= 0; i--)); do order+=("${READY[$i]}"); done
  fi
  for s in "${order[@]}"; do
    out="$RAW/round$r-$s.txt"
    wait_quiet
    before="$(origin_count)"
    log "round $r/$ROUNDS: $s ($WRK_CMD on :${PORT_OF[$s]})"
    read -r busy0 total0 < <(cpu_ticks)
    srv0="$(tree_ticks "${PID_OF[$s]}")"; org0="$(tree_ticks "$ORIGIN_PID")"; wrk0="$(child_ticks)"
    if ! run_wrk "$s" "$DURATION" "$out"; then
      printf '%s\t%s\t\t\t\t\t\twrk failed\t\t\t\n' "$r" "$s" >>"$TSV"; FAILED=1; continue
    fi
    read -r busy1 total1 < <(cpu_ticks)
    srv1="$(tree_ticks "${PID_OF[$s]}")"; org1="$(tree_ticks "$ORIGIN_PID")"; wrk1="$(child_ticks)"
    # in cores: 1.00 = one CPU fully busy for the whole run
    read -r srv_cpu wrk_cpu other_cpu < <(awk -v n="$NPROC" -v b=$((busy1 - busy0)) -v t=$((total1 - total0)) \
      -v s=$((srv1 - srv0)) -v o=$((org1 - org0)) -v w=$((wrk1 - wrk0)) \
      'BEGIN { c = t / n; if (c <= 0) c = 1; x = b - s - o - w; if (x < 0) x = 0; printf "%.2f %.2f %.2f\n", s / c, w / c, x / c }')
    after="$(origin_count)"
    rps="$(awk '/^Requests\/sec:/{print $2}' "$out")"
    p50="$(to_ms "$(awk '$1=="50%"{print $2}' "$out")")"
    p99="$(to_ms "$(awk '$1=="99%"{print $2}' "$out")")"
    non2xx="$(awk '/Non-2xx or 3xx responses:/{print $NF}' "$out")"
    serr="$(awk '/Socket errors:/{sub(/^.*Socket errors: */,""); print}' "$out")"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$s" "$rps" "$p50" "$p99" "$((after - before))" "${non2xx:-0}" "${serr:-}" "$srv_cpu" "$wrk_cpu" "$other_cpu" >>"$TSV"
    log "  -> $rps req/s, p50 ${p50} ms, p99 ${p99} ms, origin fetches $((after - before)), CPU (cores) server $srv_cpu / wrk $wrk_cpu / other $other_cpu${non2xx:+, non-2xx $non2xx}${serr:+, socket errors: $serr}"
  done
done

# ---------------------------------------------------------------- report
META="$RAW/meta.json"
{
  printf '{\n'
  printf '  "date": "%s",\n' "$(date -u '+%Y-%m-%d %H:%M:%SZ')"
  printf '  "host": "%s",\n' "$(uname -srm)"
  printf '  "cpu": "%s",\n' "$(awk -F': *' '/^model name/{print $2; exit}' /proc/cpuinfo 2>/dev/null)"
  printf '  "nproc": %s,\n' "$NPROC"
  printf '  "memory": "%s",\n' "$(awk '/^MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  printf '  "pinning": "%s",\n' "$(if [[ -n "$SRV_PIN" ]]; then echo "servers and origin on CPU $SRV_PIN, wrk on CPU $LOAD_PIN (taskset)"; else echo "none (servers and wrk share all $NPROC CPUs)"; fi)"
  printf '  "loadavg": "%s at start, %s at end",\n' "$LOAD_START" "$(cut -d' ' -f1-3 /proc/loadavg)"
  printf '  "wrk": "%s",\n' "$WRK_CMD"
  printf '  "wrkVersion": "%s",\n' "$(wrk -v 2>&1 | head -n1 | awk '{print $1, $2}')"
  printf '  "node": "%s",\n' "$(node -v)"
  printf '  "urlPath": "%s", "bodySize": %s, "duration": "%s", "warmup": "%s", "rounds": %s,\n' "$URL_PATH" "$BODY_SIZE" "$DURATION" "$WARMUP" "$ROUNDS"
  printf '  "originTotal": %s,\n' "$(origin_count)"
  printf '  "rawDir": "%s",\n' "${RAW#"$ROOT"/}"
  printf '  "versions": {'
  sep=""
  for s in edgecache nginx varnish; do
    [[ -n "${VERSION_OF[$s]:-}" ]] || continue
    printf '%s"%s": "%s"' "$sep" "$s" "${VERSION_OF[$s]//\"/\\\"}"; sep=", "
  done
  printf '},\n  "notes": {'
  sep=""
  for s in edgecache nginx varnish; do
    [[ -n "${NOTE_OF[$s]:-}" ]] || continue
    printf '%s"%s": "%s"' "$sep" "$s" "${NOTE_OF[$s]//\"/\\\"}"; sep=", "
  done
  printf '}\n}\n'
} >"$META"

node "$HERE/report.mjs" "$TSV" "$META" "$RESULTS"
log "wrote ${RESULTS#"$ROOT"/} (raw wrk output in ${RAW#"$ROOT"/})"
exit "${FAILED:-0}"
