#!/usr/bin/env bash
# edgecache speed scenarios, side by side: edgecache vs nginx proxy_cache vs Varnish vs Apache
# Traffic Server (when installed), every server in front of the same origin, in one run.
#
# All on 127.0.0.1:
#   1. starts the origin: nginx on ORIGIN_PORT answers /pass/1k itself (1 KiB, Cache-Control:
#      no-store) and passes everything else to loadtests/sized-origin.mjs, which counts what reaches it
#   2. starts edgecache (conf/proxy.json with listen, admin, origins and disk.path changed, access
#      log off), nginx proxy_cache, varnishd -s malloc and traffic_server, each with a generated
#      config in a temp dir (no system file is touched)
#   3. fills every scenario's objects in every server; the second request must be a hit
#   4. ROUNDS times: every scenario, every server in turn (order reversed every other round):
#      WARMUP of unrecorded load, then DURATION measured with wrk, CPU and origin fetches counted
#   5. warm-up scenario: each server restarted with an empty cache and loaded from the moment it
#      answers; req/s second by second for WARM_SECONDS
#   6. writes results/latest.md, latest.csv, latest-warmup.csv and latest.png; stops all it started
#
# Scenarios (SCENARIOS, in this order): hit1k hit100k hit1m zipf paced1k pass1k warmup.
# Knobs, defaults and how to read the output: loadtests/README.md.
set -Eeuo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HERE="$ROOT/loadtests"
LOG_TAG="loadtest"
RUN_START=$SECONDS

ALL_SCENARIOS="hit1k hit100k hit1m zipf paced1k pass1k warmup"
SCENARIOS="${SCENARIOS:-$ALL_SCENARIOS}"
DURATION="${DURATION:-8s}"
WARMUP="${WARMUP:-3s}"
ROUNDS="${ROUNDS:-3}"
THREADS="${THREADS:-1}"
CONNECTIONS="${CONNECTIONS:-50}"
WARM_SECONDS="${WARM_SECONDS:-10}"
WARM_OF="${WARM_OF:-hit1k}"
ZIPF_KEYS="${ZIPF_KEYS:-10000}"
ZIPF_S="${ZIPF_S:-1.0}"
ZIPF_SEED="${ZIPF_SEED:-12345}"
# paced1k: each connection waits this long after a response (loadtests/paced.lua)
PACED_DELAY_MS="${PACED_DELAY_MS:-2}"
PASS_ORIGIN_ALONE="${PASS_ORIGIN_ALONE:-1}"
PIN="${PIN:-0}"
SERVER_CPUS="${SERVER_CPUS:-0}"
LOAD_CPUS="${LOAD_CPUS:-1}"
SKIP_EDGECACHE="${SKIP_EDGECACHE:-0}"
SKIP_NGINX="${SKIP_NGINX:-0}"
SKIP_VARNISH="${SKIP_VARNISH:-0}"
SKIP_ATS="${SKIP_ATS:-0}"
REBUILD="${REBUILD:-0}"
EDGECACHE_JAR="${EDGECACHE_JAR:-$ROOT/proxy/target/edgecache.jar}"
source "$HERE/common.sh"
# the java that runs edgecache, as in the image (Dockerfile: JDK 25): unless JAVA names one, a
# JDK 25 under /usr/lib/jvm when there is one, else the java on PATH
JAVA="${JAVA:-$(image_java)}"
# the image's flags (Dockerfile) with the heap fixed instead of a share of a container's memory
EDGECACHE_JAVA_OPTS="${EDGECACHE_JAVA_OPTS:-$EDGE_JVM_OPTS}"
# empty: listen.transport as conf/proxy.json ships it ("auto"); or io_uring, epoll, nio
EDGE_TRANSPORT="${EDGE_TRANSPORT:-}"
EDGE_EVENT_LOOPS="${EDGE_EVENT_LOOPS:-}"
PROFILE="${PROFILE:-0}"
# empty: the machine's TCP congestion control as it is; e.g. cubic: set for the run (root), restored at exit
TCP_CC="${TCP_CC:-}"
PROFILE_SETTINGS="${PROFILE_SETTINGS:-profile}"
ORIGIN_PORT="${ORIGIN_PORT:-18000}"
ORIGIN_NODE_PORT="${ORIGIN_NODE_PORT:-18001}"
EDGE_PORT="${EDGE_PORT:-18080}"
EDGE_ADMIN_PORT="${EDGE_ADMIN_PORT:-19090}"
NGINX_PORT="${NGINX_PORT:-18081}"
VARNISH_PORT="${VARNISH_PORT:-18082}"
ATS_PORT="${ATS_PORT:-18083}"
STARTUP_TIMEOUT="${STARTUP_TIMEOUT:-60}"
RESULTS="${RESULTS:-$HERE/results/latest.md}"
KEEP_WORK="${KEEP_WORK:-0}"
NO_INSTALL="${NO_INSTALL:-0}"
QUIET_WAIT="${QUIET_WAIT:-15}"
QUIET_TOTAL="${QUIET_TOTAL:-300}"
QUIET_MAX="${QUIET_MAX:-0.25}"
ACCESS_LOG="${ACCESS_LOG:-0}"

WORK=""
# shellcheck source=loadtests/bench-lib.sh
source "$HERE/bench-lib.sh"

# quiet: bench-lib's wait_quiet, bounded in total by QUIET_TOTAL seconds over the whole run, so
# that a machine that never calms down delays the run by minutes, not by an hour
QUIET_SPENT=0
quiet() {
  local per="$QUIET_WAIT" left=$((QUIET_TOTAL - QUIET_SPENT)) t0=$SECONDS
  ((left > 0)) || return 0
  ((left < per)) && QUIET_WAIT=$left
  wait_quiet
  QUIET_WAIT=$per
  QUIET_SPENT=$((QUIET_SPENT + SECONDS - t0))
  ((QUIET_SPENT < QUIET_TOTAL)) || warn "waited ${QUIET_SPENT}s in all for a quiet machine (QUIET_TOTAL): no more waiting in this run"
}

# ---------------------------------------------------------------- scenarios
declare -A SC_PATH=([hit1k]=/size/1024 [hit100k]=/size/102400 [hit1m]=/size/1048576
  [zipf]=/z/1 [paced1k]=/size/1024 [pass1k]=/pass/1k [warmup]=/size/1024)
case "$WARM_OF" in hit1k | pass1k) SC_PATH[warmup]="${SC_PATH[$WARM_OF]}" ;; *) echo "WARM_OF must be hit1k or pass1k, not '$WARM_OF'" >&2; exit 2 ;; esac
declare -A SC_SIZE=([hit1k]=1024 [hit100k]=102400 [hit1m]=1048576 [zipf]=1024 [paced1k]=1024 [pass1k]=1024
  [warmup]=1024)
declare -a MEASURED=() # every selected scenario but warmup, in the canonical order
WANT_WARMUP=0
for sc in $SCENARIOS; do
  [[ " $ALL_SCENARIOS " == *" $sc "* ]] || die "unknown scenario '$sc' in SCENARIOS (expected some of: $ALL_SCENARIOS)"
done
for sc in $ALL_SCENARIOS; do
  [[ " $SCENARIOS " == *" $sc "* ]] || continue
  if [[ "$sc" == warmup ]]; then WANT_WARMUP=1; else MEASURED+=("$sc"); fi
done
((${#MEASURED[@]} > 0 || WANT_WARMUP)) || die "SCENARIOS is empty"
((ROUNDS >= 1)) || die "ROUNDS must be at least 1"

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
    # policy-rc.d exit 101: don't let the package start a system-wide daemon
    local prc=/usr/sbin/policy-rc.d created_prc=0
    if [[ ! -e "$prc" ]]; then printf '#!/bin/sh\nexit 101\n' >"$prc"; chmod +x "$prc"; created_prc=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null 2>&1 || true
    if [[ "$created_prc" == 1 ]]; then rm -f "$prc"; fi
  fi
  command -v "$cmd" >/dev/null 2>&1 && return 0
  [[ -n "$optional" ]] && return 1
  die "$cmd not found (Debian package $pkg); install it or re-run as root"
}

# nginx, varnishd and traffic_server may live in /usr/sbin, which a non-root PATH may lack
PATH="$PATH:/usr/sbin:/sbin"
for c in node curl ss awk pgrep; do command -v "$c" >/dev/null || die "$c is required"; done
need_pkg wrk wrk
need_pkg nginx nginx # the origin is an nginx too
HAVE_VARNISH=0 HAVE_ATS=0 HAVE_GNUPLOT=0
if [[ "$SKIP_VARNISH" != 1 ]]; then
  if need_pkg varnishd varnish optional; then HAVE_VARNISH=1; else warn "varnish not installed (package varnish): skipping it"; fi
fi
if [[ "$SKIP_ATS" != 1 ]]; then
  if need_pkg traffic_server trafficserver optional; then HAVE_ATS=1; else warn "Apache Traffic Server not installed (package trafficserver): skipping it"; fi
fi
if need_pkg gnuplot gnuplot-nox optional; then HAVE_GNUPLOT=1; else warn "gnuplot not installed (package gnuplot-nox): no chart"; fi

NPROC="$(nproc)"
SRV_PIN="" LOAD_PIN=""
if [[ "$PIN" == 1 ]]; then
  if ((NPROC >= 2)) && command -v taskset >/dev/null; then
    SRV_PIN="$SERVER_CPUS"; LOAD_PIN="$LOAD_CPUS"
  else
    warn "PIN=1 needs taskset and >= 2 CPUs; running unpinned"
  fi
fi
if [[ -n "$SRV_PIN" ]]; then SRV_NCPU="$(taskset -c "$SRV_PIN" nproc)"; else SRV_NCPU="$NPROC"; fi

LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
if awk -v l="${LOAD_START%% *}" -v n="$NPROC" 'BEGIN{exit !(l > n / 2)}'; then
  warn "load average is already $LOAD_START on $NPROC CPU(s): something else is running, expect noisy numbers"
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/edgecache-loadtest.XXXXXX")"
chmod 755 "$WORK" # nginx workers and the varnish child may run as an unprivileged user
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
RAW="$HERE/results/raw/$STAMP"
mkdir -p "$RAW/wrk" "$(dirname "$RESULTS")"
TSV="$RAW/runs.tsv"
SERIES="$RAW/warmup-series.tsv"
printf 'scenario\tserver\tround\trps\tp50_ms\tp99_ms\trequests\torigin_fetches\tnon2xx\tsocket_errors\tserver_cpu\torigin_cpu\twrk_cpu\tother_cpu\tready_ms\n' >"$TSV"
printf 'server\tround\tsecond\trps\tp50_ms\tp99_ms\tnon2xx\n' >"$SERIES"

for p in "$ORIGIN_PORT" "$ORIGIN_NODE_PORT" "$EDGE_PORT" "$EDGE_ADMIN_PORT" "$NGINX_PORT" "$VARNISH_PORT" "$ATS_PORT"; do
  port_free "$p" || die "port $p on 127.0.0.1 is in use (override with *_PORT variables)"
done

declare -a SERVERS=() # started and answering
declare -A PORT_OF=([edgecache]=$EDGE_PORT [nginx]=$NGINX_PORT [varnish]=$VARNISH_PORT [ats]=$ATS_PORT [origin]=$ORIGIN_PORT)
declare -A PID_OF=() VERSION_OF=() NOTE_OF=() READY_MS=()
FAILED=0

# every socket of the run is made after this: the setting applies to all servers alike
if [[ -n "$TCP_CC" ]]; then
  TCP_CC_BEFORE="$(sysctl -n net.ipv4.tcp_congestion_control)"
  sysctl -q -w "net.ipv4.tcp_congestion_control=$TCP_CC" >/dev/null 2>&1 \
    || { TCP_CC_BEFORE=""; die "TCP_CC=$TCP_CC: cannot set net.ipv4.tcp_congestion_control (needs root and one of: $(sysctl -n net.ipv4.tcp_available_congestion_control))"; }
  log "TCP congestion control for this run: $TCP_CC (was $TCP_CC_BEFORE; restored at exit)"
fi

# ---------------------------------------------------------------- origin
# nginx in front so that the pass-through scenario's origin is not the bottleneck (a node
# http server answers fewer requests per CPU second than the proxies forward); the cacheable
# objects come from sized-origin.mjs, whose counter proves the hit scenarios never reach it.
ORIGIN_URL="http://127.0.0.1:$ORIGIN_PORT"
NODE_URL="http://127.0.0.1:$ORIGIN_NODE_PORT"
start_bg origin-node "$SRV_PIN" node "$HERE/sized-origin.mjs" --host 127.0.0.1 --port "$ORIGIN_NODE_PORT" --max-age 3600 --zipf-size 1024
ORIGIN_NODE_PID=$LAST_PID
OG="$WORK/origin"
mkdir -p "$OG/www/pass" "$OG/tmp" "$OG/logs"
head -c "${SC_SIZE[pass1k]}" /dev/zero | tr '\0' 'p' >"$OG/www/pass/1k"
NG_USER="" # nginx's workers (origin and peer) drop to nobody when the master is root
if [[ "$(id -u)" == 0 ]]; then
  NG_USER="user nobody nogroup;"
  chown -R nobody:nogroup "$OG"
fi
{
echo "# origin, generated by loadtests/run.sh"
nginx_conf_head "$OG" "$SRV_NCPU"
cat <<EOF
  upstream counted { server 127.0.0.1:$ORIGIN_NODE_PORT; keepalive 32; }
  server {
    listen 127.0.0.1:$ORIGIN_PORT backlog=4096;
    # total requests served, read by the runner around pass-through runs
    location = /__status { stub_status; }
    location /pass/ {
      root $OG/www;
      default_type application/octet-stream;
      add_header Cache-Control "no-store" always;
    }
    location / {
      proxy_pass http://counted;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
EOF
} >"$OG/nginx.conf"
cp "$OG/nginx.conf" "$RAW/origin-nginx.conf"
nginx -t -p "$OG" -c "$OG/nginx.conf" -e "$OG/logs/error.log" >"$WORK/origin-nginx-t.log" 2>&1 \
  || { cat "$WORK/origin-nginx-t.log" >&2; die "origin nginx config test failed"; }
start_bg origin "$SRV_PIN" nginx -p "$OG" -c "$OG/nginx.conf" -e "$OG/logs/error.log"
ORIGIN_PID=$LAST_PID
PID_OF[origin]=$ORIGIN_PID
wait_http origin-node "$ORIGIN_NODE_PID" "$NODE_URL/__count" 200 || die "sized-origin.mjs did not start"
wait_http origin "$ORIGIN_PID" "$ORIGIN_URL/__status" 200 || die "origin nginx did not start"
log "origin up on $ORIGIN_URL (nginx, $SRV_NCPU worker(s)) in front of sized-origin.mjs on $NODE_URL"

# requests that reached sized-origin.mjs (the cacheable objects)
origin_count() { curl -fsS --max-time 5 "$NODE_URL/__count" | sed -E 's/^\{"requests":([0-9]+).*/\1/'; }
# requests the origin nginx served (stub_status counts the status request itself too)
origin_nginx_count() { curl -fsS --max-time 5 "$ORIGIN_URL/__status" | awk 'NR == 3 { print $3 }'; }
# fetch_count SCENARIO: the counter that shows that scenario's origin fetches
fetch_count() { if [[ "$1" == pass1k ]]; then origin_nginx_count; else origin_count; fi; }
# fetch_delta SCENARIO BEFORE AFTER
fetch_delta() { if [[ "$1" == pass1k ]]; then echo $(($3 - $2 - 1)); else echo $(($3 - $2)); fi; }
origin_ticks() { echo $(($(tree_ticks "$ORIGIN_PID") + $(tree_ticks "$ORIGIN_NODE_PID"))); }

on_cleanup() {
  local c
  if [[ -n "${TCP_CC_BEFORE:-}" ]]; then
    sysctl -q -w "net.ipv4.tcp_congestion_control=$TCP_CC_BEFORE" || warn "could not restore tcp_congestion_control=$TCP_CC_BEFORE"
  fi
  c="$(curl -fsS --max-time 2 "$NODE_URL/__count" 2>/dev/null || true)"
  [[ -n "$c" ]] && log "sized-origin final count: $c"
  return 0
}

# ---------------------------------------------------------------- servers
# Each server has a launch_* (start it with its config; the config is written once, before the
# first start) and a wipe_* (empty its cache while it is stopped), so the warm-up scenario can
# restart it exactly as it was first started.
ready_url() { if [[ "$1" == edgecache ]]; then echo "http://127.0.0.1:$EDGE_ADMIN_PORT/readyz"; else echo "http://127.0.0.1:${PORT_OF[$1]}/__up"; fi; }

# wait_ready NAME PID: poll every 20 ms until the server answers (edgecache: GET /readyz on the
# admin port answers 200; the others: any HTTP answer on the traffic port). Sets READY_MS[NAME]
# to the milliseconds since START_US.
wait_ready() {
  local name="$1" pid="$2" url code want="" deadline=$((SECONDS + STARTUP_TIMEOUT))
  url="$(ready_url "$name")"
  [[ "$name" == edgecache ]] && want=200
  while ((SECONDS < deadline)); do
    if ! alive "$pid"; then
      warn "$name exited during startup; last log lines:"
      tail -n 30 "$WORK/$name.log" >&2 || true
      return 1
    fi
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url" 2>/dev/null || true)"
    if [[ "$code" != 000 && ( -z "$want" || "$code" == "$want" ) ]]; then
      READY_MS[$name]=$(((${EPOCHREALTIME/./} - START_US) / 1000))
      return 0
    fi
    sleep 0.02
  done
  warn "$name did not answer $url${want:+ with $want} within ${STARTUP_TIMEOUT}s; last log lines:"
  tail -n 30 "$WORK/$name.log" >&2 || true
  return 1
}

# start_server NAME [EXTRA-ARGS...]: launch, wait until ready; sets PID_OF[NAME]
start_server() {
  local name="$1"; shift
  [[ -f "$WORK/$name.log" ]] && mv "$WORK/$name.log" "$WORK/$name.$(date +%s%N).log"
  START_US=${EPOCHREALTIME/./}
  "launch_$name" "$@"
  PID_OF[$name]=$LAST_PID
  wait_ready "$name" "$LAST_PID" || return 1
  # traffic_server widens its net and accept threads to every CPU once started, whatever its
  # exec_thread.affinity: pin them back
  if [[ "$name" == ats && -n "$SRV_PIN" ]]; then taskset -a -p -c "$SRV_PIN" "$LAST_PID" >/dev/null; fi
}

# stop_server NAME: stop it (TERM, then KILL after 20 s) and forget its PID
stop_server() {
  local pid="${PID_OF[$1]:-}" p
  [[ -n "$pid" ]] || return 0
  stop_bg "$pid"
  local -a keep=()
  for p in "${PIDS[@]}"; do [[ "$p" == "$pid" ]] || keep+=("$p"); done
  PIDS=("${keep[@]}")
  unset 'PID_OF[$1]'
}

# --- edgecache
if [[ "$SKIP_EDGECACHE" != 1 ]]; then
  ensure_jar
  read -r -a JOPTS <<<"$(image_jvm_flags "$JAVA") $EDGECACHE_JAVA_OPTS" # the image's jvm.args first
  # conf/proxy.json as shipped, with only the addresses, the origin and disk.path changed, and
  # the access log off like the peers' (ACCESS_LOG=1 keeps it)
  node - "$ROOT/conf/proxy.json" "$WORK/edgecache.json" "$EDGE_PORT" "$EDGE_ADMIN_PORT" "$ORIGIN_URL" "$ACCESS_LOG" "$EDGE_TRANSPORT" "$EDGE_EVENT_LOOPS" <<'EOF'
const fs = require('fs');
const [src, dst, port, adminPort, originUrl, accessLog, transport, loops] = process.argv.slice(2);
const cfg = JSON.parse(fs.readFileSync(src, 'utf8'));
cfg.listen = { ...(cfg.listen || {}), host: '127.0.0.1', port: Number(port) };
if (transport) cfg.listen.transport = transport;
if (loops) cfg.listen.eventLoops = Number(loops);
cfg.admin = { ...(cfg.admin || {}), host: '127.0.0.1', port: Number(adminPort) };
cfg.origins = [{ name: 'loadtest-origin', url: originUrl, hosts: ['*'] }];
if (cfg.disk) cfg.disk = { ...cfg.disk, path: null };
if (accessLog !== '1') cfg.accessLog = { ...(cfg.accessLog || {}), enabled: false };
fs.writeFileSync(dst, JSON.stringify(cfg, null, 2) + '\n');
EOF
  cp "$WORK/edgecache.json" "$RAW/edgecache.json"
  JAVA_BIN="$(readlink -f "$(command -v "$JAVA")")" || die "JAVA=$JAVA not found"
  JCMD="$(dirname "$JAVA_BIN")/jcmd"
  PROBE_OPTS=() # the options without a flight recording, which the probe would write too
  for o in "${JOPTS[@]}"; do [[ "$o" == -XX:StartFlightRecording* ]] || PROBE_OPTS+=("$o"); done
  EDGE_GC="$( (if [[ -n "$SRV_PIN" ]]; then taskset -c "$SRV_PIN" "$JAVA" "${PROBE_OPTS[@]}" -XX:+PrintFlagsFinal -version; else "$JAVA" "${PROBE_OPTS[@]}" -XX:+PrintFlagsFinal -version; fi) 2>/dev/null \
    | awk '$2 ~ /^Use(Serial|Parallel|G1|Z|Shenandoah|Epsilon)GC$/ && $4 == "true" {print $2}' | head -n1)"
  JAVA_VERSION="$("$JAVA" -version 2>&1 | awk -F'"' 'NR==1{print $2}')"
  launch_edgecache() { start_bg edgecache "$SRV_PIN" "$JAVA" "${JOPTS[@]}" "$@" -jar "$JAR" --config "$WORK/edgecache.json"; }
  wipe_edgecache() { :; } # memory tier only: a new JVM starts empty
  if start_server edgecache; then
    SERVERS+=(edgecache)
    EDGE_RUNS_ON="$(curl -s "http://127.0.0.1:$EDGE_ADMIN_PORT/api/status" \
      | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{console.log(JSON.parse(s).build.transport||"")}catch(e){}})' || true)"
    VERSION_OF[edgecache]="$EDGE_VERSION (java $JAVA_VERSION, ${JOPTS[*]}${EDGE_GC:+, $EDGE_GC}${EDGE_RUNS_ON:+, $EDGE_RUNS_ON})"
    log "edgecache up on :$EDGE_PORT (admin :$EDGE_ADMIN_PORT, pid ${PID_OF[edgecache]}, ready after ${READY_MS[edgecache]} ms)"
  else
    NOTE_OF[edgecache]="did not become ready (GET /readyz on the admin port)"; FAILED=1
  fi
fi

# --- nginx proxy_cache
if [[ "$SKIP_NGINX" != 1 ]]; then
  NG="$WORK/nginx"
  mkdir -p "$NG/cache" "$NG/tmp" "$NG/logs"
  [[ -n "$NG_USER" ]] && chown -R nobody:nogroup "$NG"
  {
  echo "# generated by loadtests/run.sh"
  nginx_conf_head "$NG" "$SRV_NCPU"
  cat <<EOF
  sendfile on;
  # tcp_nopush stays off (nginx's default): on, every 100 KiB hit from the cache file waited
  # ~40 ms for a delayed ACK here (1.5k req/s instead of 18k)
  # cache metadata in shared memory, bodies in files (served from the page cache)
  proxy_cache_path $NG/cache levels=1:2 keys_zone=edge:16m max_size=256m inactive=60m use_temp_path=off;
  open_file_cache max=20000 inactive=60s;

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
      # proxy_cache_lock stays off (nginx's default): with it, requests for a URL whose answer
      # cannot be stored (the pass-through scenario) queue behind each other and poll for the
      # lock every 500 ms, so that row would measure the lock instead of the proxy
      proxy_cache_revalidate on;
      proxy_cache_use_stale updating error timeout;
      add_header X-Cache-Status \$upstream_cache_status always;
    }
  }
}
EOF
  } >"$NG/nginx.conf"
  cp "$NG/nginx.conf" "$RAW/nginx.conf"
  nginx -t -p "$NG" -c "$NG/nginx.conf" -e "$NG/logs/error.log" >"$WORK/nginx-t.log" 2>&1 \
    || { cat "$WORK/nginx-t.log" >&2; die "nginx config test failed"; }
  launch_nginx() { start_bg nginx "$SRV_PIN" nginx -p "$NG" -c "$NG/nginx.conf" -e "$NG/logs/error.log"; }
  # moved aside, not deleted: deleting 10k cache files took 4-13 s here (the temp dir goes at exit)
  wipe_nginx() {
    mv "$NG/cache" "$NG/cache.old.${EPOCHREALTIME/./}"
    mkdir "$NG/cache"
    [[ -z "$NG_USER" ]] || chown nobody:nogroup "$NG/cache"
  }
  if start_server nginx; then
    SERVERS+=(nginx)
    VERSION_OF[nginx]="$(nginx -v 2>&1 | sed 's/^nginx version: //') (worker_processes $SRV_NCPU, proxy_cache)"
    log "nginx up on :$NGINX_PORT (pid ${PID_OF[nginx]}, $SRV_NCPU worker(s))"
  else
    NOTE_OF[nginx]="did not start"; FAILED=1
  fi
fi

# --- varnish
if [[ "$HAVE_VARNISH" == 1 ]]; then
  VN="$WORK/varnish"
  mkdir -p "$VN"
  VJAIL=()
  # as root, varnishd drops to the varnish/vcache users, which need to reach -n
  if [[ "$(id -u)" == 0 ]]; then chmod 755 "$VN"; else VJAIL=(-j none); fi
  launch_varnish() {
    start_bg varnish "$SRV_PIN" varnishd -F "${VJAIL[@]}" -n "$VN" \
      -a "127.0.0.1:$VARNISH_PORT" -b "127.0.0.1:$ORIGIN_PORT" -T none -s malloc,256m
  }
  wipe_varnish() { :; } # malloc storage: a new child starts empty
  if start_server varnish; then
    SERVERS+=(varnish)
    VERSION_OF[varnish]="$(varnishd -V 2>&1 | head -n1 | sed -E 's/^varnishd \((.*) revision.*/\1/') (-s malloc,256m, built-in VCL)"
    log "varnish up on :$VARNISH_PORT (pid ${PID_OF[varnish]})"
  else
    warn "varnish did not start; skipping it"
    NOTE_OF[varnish]="did not start (see its log with KEEP_WORK=1)"
  fi
fi

# --- Apache Traffic Server
if [[ "$HAVE_ATS" == 1 ]]; then
  AT="$WORK/ats"
  mkdir -p "$AT/etc" "$AT/cache" "$AT/log" "$AT/run" "$AT/var"
  # a runroot keeps every path of traffic_server inside the temp dir
  cat >"$AT/runroot.yaml" <<EOF
prefix: $AT
exec_prefix: /usr
bindir: /usr/bin
sbindir: /usr/sbin
sysconfdir: $AT/etc
datadir: $AT/var
includedir: /usr/include
libdir: /usr/lib/trafficserver
libexecdir: /usr/lib/trafficserver/modules
plugindir: /usr/lib/trafficserver/modules
localstatedir: $AT/var
runtimedir: $AT/run
logdir: $AT/log
cachedir: $AT/cache
EOF
  cat >"$AT/etc/records.config" <<EOF
# generated by loadtests/run.sh
CONFIG proxy.config.http.server_ports STRING $ATS_PORT:ipv4:ip-in=127.0.0.1
# stay the user that started it (no switch to the package's account), no crash-log helper
CONFIG proxy.config.admin.user_id STRING #-1
CONFIG proxy.config.crash_log_helper STRING NULL
CONFIG proxy.config.exec_thread.autoconfig INT 0
CONFIG proxy.config.exec_thread.limit INT $SRV_NCPU
CONFIG proxy.config.exec_thread.affinity INT 0
CONFIG proxy.config.reverse_proxy.enabled INT 1
CONFIG proxy.config.url_remap.remap_required INT 1
CONFIG proxy.config.http.cache.http INT 1
CONFIG proxy.config.http.wait_for_cache INT 1
CONFIG proxy.config.cache.ram_cache.size INT 268435456
CONFIG proxy.config.cache.ram_cache_cutoff INT 4194304
CONFIG proxy.config.log.logging_enabled INT 0
CONFIG proxy.config.net.connections_throttle INT 10000
CONFIG proxy.config.body_factory.enable_customizations INT 0
CONFIG proxy.config.diags.debug.enabled INT 0
EOF
  printf 'map / http://127.0.0.1:%s/\n' "$ORIGIN_PORT" >"$AT/etc/remap.config"
  # RAM cache in front of one small cache file in the temp dir
  printf '%s 512M\n' "$AT/cache" >"$AT/etc/storage.config"
  cat >"$AT/etc/ip_allow.yaml" <<'EOF'
ip_allow:
  - apply: in
    ip_addrs: 127.0.0.1
    action: allow
EOF
  for f in plugin.config hosting.config volume.config cache.config parent.config splitdns.config socks.config ssl_multicert.config; do
    : >"$AT/etc/$f"
  done
  [[ -d /etc/trafficserver/body_factory ]] && cp -r /etc/trafficserver/body_factory "$AT/etc/"
  cp "$AT/etc/records.config" "$RAW/ats-records.config"
  launch_ats() { start_bg ats "$SRV_PIN" traffic_server --run-root="$AT/runroot.yaml"; }
  wipe_ats() { rm -f "$AT/cache/cache.db"; } # recreated empty at the next start
  if start_server ats; then
    SERVERS+=(ats)
    VERSION_OF[ats]="ATS $(traffic_server -V 2>&1 | awk '/Traffic Server/ {print $3; exit}') ($SRV_NCPU exec threads, RAM cache 256MiB over a 512MiB cache file)"
    log "Apache Traffic Server up on :$ATS_PORT (pid ${PID_OF[ats]})"
  else
    warn "Apache Traffic Server did not start; skipping it (its diags: KEEP_WORK=1, $AT/log/diags.log)"
    tail -n 20 "$AT/log/diags.log" >&2 2>/dev/null || true
    NOTE_OF[ats]="did not start"
    stop_server ats
  fi
fi

((${#SERVERS[@]} > 0)) || die "no server to test"

# ---------------------------------------------------------------- fill & check
is_hit_header() { # is_hit_header SERVER HEADERS-FILE: the server's own hit marker (ATS sends none by default)
  case "$1" in
    edgecache) grep -Eiq '^cache-status:.*edgecache;[[:space:]]*hit([[:space:]]*[;,]|[[:space:]]*$)' "$2" ;;
    nginx)     grep -Eiq '^x-cache-status:[[:space:]]*HIT[[:space:]]*$' "$2" ;;
    varnish)   grep -Eiq '^x-varnish:[[:space:]]*[0-9]+[[:space:]]+[0-9]+[[:space:]]*$' "$2" ;;
    *)         return 0 ;;
  esac
}

# get SERVER PATH HEADERS-FILE: one GET, headers (CR stripped) to the file; prints "CODE BYTES"
get() {
  local res
  res="$(curl -sS --max-time 10 -D "$3.raw" -o /dev/null -w '%{http_code} %{size_download}' "http://127.0.0.1:${PORT_OF[$1]}$2" 2>/dev/null)" || true
  tr -d '\r' <"$3.raw" >"$3" 2>/dev/null || : >"$3"
  echo "${res:-000 0}"
}

# check_hit SCENARIO SERVER: fill the object, then ask again until the answer is a hit: the
# origin's counter did not move and the server's own marker says so (a fill may be committed
# just after its response, hence the retries)
check_hit() {
  local sc="$1" s="$2" path="${SC_PATH[$1]}" size="${SC_SIZE[$1]}" h="$WORK/check-$1-$2.txt" res b a i
  res="$(get "$s" "$path" "$h")"
  if [[ "$res" != "200 $size" ]]; then warn "$s $path: expected '200 $size', got '$res'"; return 1; fi
  for ((i = 1; i <= 40; i++)); do
    b="$(origin_count)"; res="$(get "$s" "$path" "$h")"; a="$(origin_count)"
    if [[ "$res" != "200 $size" ]]; then warn "$s $path: expected '200 $size', got '$res'"; return 1; fi
    if ((a == b)) && is_hit_header "$s" "$h"; then cp "$h" "$RAW/$sc-$s.hit-headers.txt"; return 0; fi
    sleep 0.25
  done
  warn "$s $path: no cache hit after 40 requests; last response headers:"
  sed 's/^/    /' "$h" >&2
  return 1
}

# check_pass SERVER: two requests for /pass/1k must both reach the origin
check_pass() {
  local s="$1" path="${SC_PATH[pass1k]}" h="$WORK/check-pass1k-$1.txt" res b a i
  for i in 1 2; do
    b="$(origin_nginx_count)"; res="$(get "$s" "$path" "$h")"; a="$(origin_nginx_count)"
    if [[ "$res" != "200 ${SC_SIZE[pass1k]}" ]] || (($(fetch_delta pass1k "$b" "$a") != 1)); then
      warn "$s $path: request $i answered '$res' with $(fetch_delta pass1k "$b" "$a") origin request(s) (expected 200, 1)"
      return 1
    fi
  done
  cp "$h" "$RAW/pass1k-$s.headers.txt"
}

# prepare SCENARIO SERVER: fill and check; on failure the pair is left out of the run
prepare() {
  local sc="$1" s="$2" b a out
  case "$sc" in
    pass1k) check_pass "$s" ;;
    zipf)
      b="$(origin_count)"
      out="$(node "$HERE/warm-keys.mjs" --base "http://127.0.0.1:${PORT_OF[$s]}" --prefix /z/ --count "$ZIPF_KEYS")" \
        || { warn "$s: filling /z/1../z/$ZIPF_KEYS failed: $out"; return 1; }
      a="$(origin_count)"
      log "  $s: filled $ZIPF_KEYS Zipf keys, $((a - b)) origin fetches ($out)"
      check_hit "$sc" "$s"
      ;;
    *) check_hit "$sc" "$s" ;;
  esac
}

declare -A RUNNABLE=() PAIR_NOTE=()
for sc in "${MEASURED[@]}"; do
  log "preparing $sc (${SC_PATH[$sc]})"
  for s in "${SERVERS[@]}"; do
    if prepare "$sc" "$s"; then
      RUNNABLE["$sc $s"]=1
    else
      PAIR_NOTE["$sc $s"]="failed the fill/hit check; not measured"
      FAILED=1
    fi
  done
done

if [[ " ${SERVERS[*]} " == *" edgecache "* ]]; then
  EDGE_LOOPS="$(cat /proc/"${PID_OF[edgecache]}"/task/*/comm 2>/dev/null | grep -c '^vert.x-eventloo' || true)"
  log "edgecache runs $EDGE_LOOPS event-loop thread(s)"
fi

# ---------------------------------------------------------------- measurement
run_wrk() { # run_wrk SCENARIO SERVER DURATION OUTFILE
  local sc="$1" s="$2" d="$3" out="$4" url="http://127.0.0.1:${PORT_OF[$2]}"
  local -a cmd=(wrk "-t$THREADS" "-c$CONNECTIONS" "-d$d" --latency)
  if [[ "$sc" == zipf ]]; then
    cmd+=(-s "$HERE/zipf.lua" "$url" -- "$ZIPF_KEYS" "$ZIPF_S" "$ZIPF_SEED")
  elif [[ "$sc" == paced1k ]]; then
    cmd+=(-s "$HERE/paced.lua" "$url${SC_PATH[$sc]}" -- "$PACED_DELAY_MS")
  else
    cmd+=("$url${SC_PATH[$sc]}")
  fi
  if [[ -n "$LOAD_PIN" ]]; then cmd=(taskset -c "$LOAD_PIN" "${cmd[@]}"); fi
  "${cmd[@]}" >"$out" 2>&1 || { warn "wrk failed against $s ($sc):"; cat "$out" >&2; return 1; }
}

# wrk_field FILE rps|requests|p50|p99|non2xx|errors
wrk_field() {
  case "$2" in
    rps)      awk '/^Requests\/sec:/ {print $2}' "$1" ;;
    requests) awk '/ requests in / {print $1}' "$1" ;;
    p50)      to_ms "$(awk '$1 == "50%" {print $2}' "$1")" ;;
    p99)      to_ms "$(awk '$1 == "99%" {print $2}' "$1")" ;;
    non2xx)   awk '/Non-2xx or 3xx responses:/ {print $NF}' "$1" ;;
    errors)   awk '/Socket errors:/ {sub(/^.*Socket errors: */, ""); print}' "$1" ;;
  esac
}

# cpu_snapshot SERVER-PID: "busy total server origin started wrk" in clock ticks, taken at once
cpu_snapshot() {
  local busy total srv ong ond all=0 wrk t
  read -r busy total < <(cpu_ticks)
  wrk="$(child_ticks)"
  { read -r srv; read -r ong; read -r ond; while read -r t; do all=$((all + t)); done; } \
    < <(trees_ticks "$1" "$ORIGIN_PID" "$ORIGIN_NODE_PID" "${PIDS[@]}")
  echo "$busy $total $srv $((ong + ond)) $all $wrk"
}

# cpu_cores SNAPSHOT-BEFORE SNAPSHOT-AFTER: "server origin wrk other" in cores (1.00 = one CPU
# busy for the whole time); other = busy time of everything this script did not start
cpu_cores() {
  awk -v n="$NPROC" -v a="$1" -v b="$2" 'BEGIN {
    split(a, x, " "); split(b, y, " ")
    c = (y[2] - x[2]) / n; if (c <= 0) c = 1
    o = (y[1] - x[1]) - (y[5] - x[5]) - (y[6] - x[6]); if (o < 0) o = 0
    printf "%.2f %.2f %.2f %.2f\n", (y[3] - x[3]) / c, (y[4] - x[4]) / c, (y[6] - x[6]) / c, o / c }'
}

# measure SCENARIO SERVER ROUND: unrecorded WARMUP, then DURATION measured
measure() {
  local sc="$1" s="$2" r="$3" out="$RAW/wrk/$1-r$3-$2.txt" before after s0 s1 srv org wrkc oth
  local rps req p50 p99 non2xx serr fetches
  quiet
  if [[ "$WARMUP" != 0 && "$WARMUP" != 0s ]]; then
    run_wrk "$sc" "$s" "$WARMUP" "$RAW/wrk/$sc-r$r-$s-warmup.txt" || true
  fi
  before="$(fetch_count "$sc")"
  s0="$(cpu_snapshot "${PID_OF[$s]}")"
  if ! run_wrk "$sc" "$s" "$DURATION" "$out"; then
    printf '%s\t%s\t%s\t\t\t\t\t\t\twrk failed\t\t\t\t\t\n' "$sc" "$s" "$r" >>"$TSV"; FAILED=1; return 0
  fi
  s1="$(cpu_snapshot "${PID_OF[$s]}")"
  after="$(fetch_count "$sc")"
  read -r srv org wrkc oth < <(cpu_cores "$s0" "$s1")
  rps="$(wrk_field "$out" rps)"; req="$(wrk_field "$out" requests)"
  p50="$(wrk_field "$out" p50)"; p99="$(wrk_field "$out" p99)"
  non2xx="$(wrk_field "$out" non2xx)"; serr="$(wrk_field "$out" errors)"
  fetches="$(fetch_delta "$sc" "$before" "$after")"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n' "$sc" "$s" "$r" "$rps" "$p50" "$p99" "$req" "$fetches" \
    "${non2xx:-0}" "$serr" "$srv" "$org" "$wrkc" "$oth" >>"$TSV"
  log "  $s: $rps req/s, p50 $p50 ms, p99 $p99 ms, origin fetches $fetches, CPU server $srv / origin $org / wrk $wrkc / other $oth${non2xx:+, non-2xx $non2xx}${serr:+, socket errors: $serr}"
  if [[ "$sc" != pass1k ]] && ((fetches > 0)); then warn "$s ($sc): $fetches request(s) reached the origin during a hit run"; fi
}

# servers_for SCENARIO: the servers measured in it (plus the origin alone for pass-through)
servers_for() {
  local sc="$1" s
  for s in "${SERVERS[@]}"; do [[ -n "${RUNNABLE["$sc $s"]:-}" ]] && echo "$s"; done
  if [[ "$sc" == pass1k && "$PASS_ORIGIN_ALONE" == 1 ]]; then echo origin; fi
}

# in_order ROUND NAME...: the names, reversed on even rounds
in_order() {
  local r="$1"; shift
  local -a l=("$@")
  if ((r % 2 == 0)); then
    local i; for ((i = ${#l[@]} - 1; i >= 0; i--)); do echo "${l[$i]}"; done
  else
    printf '%s\n' "${l[@]}"
  fi
}

WRK_CMD="wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency"
for ((r = 1; r <= ROUNDS; r++)); do
  for sc in "${MEASURED[@]}"; do
    mapfile -t list < <(servers_for "$sc")
    ((${#list[@]} > 0)) || continue
    mapfile -t order < <(in_order "$r" "${list[@]}")
    log "round $r/$ROUNDS, $sc (${SC_PATH[$sc]}): ${order[*]}"
    for s in "${order[@]}"; do measure "$sc" "$s" "$r"; done
  done
done

# ---------------------------------------------------------------- profiles of the measured scenarios
if [[ "$PROFILE" == 1 && " ${SERVERS[*]} " == *" edgecache "* ]]; then
  mkdir -p "$RAW/jfr"
  for sc in "${MEASURED[@]}"; do
    [[ -n "${RUNNABLE["$sc edgecache"]:-}" ]] || continue
    jfr="$RAW/jfr/edgecache-$sc.jfr"
    log "profile: $sc on edgecache for $DURATION (JFR settings=$PROFILE_SETTINGS, not part of the results)"
    "$JCMD" "${PID_OF[edgecache]}" JFR.start name="$sc" settings="$PROFILE_SETTINGS" filename="$jfr" >>"$RAW/jfr/jcmd.log" 2>&1 \
      || { warn "jcmd JFR.start failed (see ${RAW#"$ROOT"/}/jfr/jcmd.log)"; continue; }
    run_wrk "$sc" edgecache "$DURATION" "$RAW/jfr/wrk-$sc.txt" || true
    "$JCMD" "${PID_OF[edgecache]}" JFR.stop name="$sc" >>"$RAW/jfr/jcmd.log" 2>&1 || warn "jcmd JFR.stop failed"
    log "  -> ${jfr#"$ROOT"/} ($(wrk_field "$RAW/jfr/wrk-$sc.txt" rps) req/s while recording)"
  done
fi

# ---------------------------------------------------------------- warm-up scenario
# measure_warmup SERVER ROUND [JVM-ARGS...]: restart the server with an empty cache and load it
# from the moment it answers, in WARM_SECONDS back-to-back 1-second wrk runs. ROUND "profile"
# records nothing in the results (the run made for PROFILE=1).
measure_warmup() {
  local s="$1" r="$2"; shift 2
  local dir="$RAW/wrk/warmup-r$r-$s" before after s0 s1 t0 t1 i f srv org wrkc oth
  local req=0 non2xx=0 rps p50 p99 serr="" q n e
  local -a p50s=() p99s=()
  mkdir -p "$dir"
  stop_server "$s"
  "wipe_$s"
  quiet
  before="$(origin_count)"
  if ! start_server "$s" "$@"; then
    [[ "$r" == profile ]] || printf 'warmup\t%s\t%s\t\t\t\t\t\t\tdid not restart\t\t\t\t\t\n' "$s" "$r" >>"$TSV"
    FAILED=1; return 1
  fi
  s0="$(cpu_snapshot "${PID_OF[$s]}")"
  t0=${EPOCHREALTIME/./}
  for ((i = 1; i <= WARM_SECONDS; i++)); do run_wrk warmup "$s" 1s "$dir/s$i.txt" || true; done
  t1=${EPOCHREALTIME/./}
  s1="$(cpu_snapshot "${PID_OF[$s]}")"
  after="$(origin_count)"
  read -r srv org wrkc oth < <(cpu_cores "$s0" "$s1")
  for ((i = 1; i <= WARM_SECONDS; i++)); do
    f="$dir/s$i.txt"
    q="$(wrk_field "$f" requests)"; req=$((req + ${q:-0}))
    n="$(wrk_field "$f" non2xx)"; non2xx=$((non2xx + ${n:-0}))
    e="$(wrk_field "$f" errors)"; [[ -n "$e" ]] && serr="$e"
    p50s+=("$(wrk_field "$f" p50)"); p99s+=("$(wrk_field "$f" p99)")
    [[ "$r" == profile ]] || printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$r" "$i" "$(wrk_field "$f" rps)" "${p50s[-1]}" "${p99s[-1]}" "${n:-0}" >>"$SERIES"
  done
  rps="$(awk -v q="$req" -v t=$((t1 - t0)) 'BEGIN { printf "%.2f", (t > 0 ? q / (t / 1e6) : 0) }')"
  p50="$(printf '%s\n' "${p50s[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')"
  p99="$(printf '%s\n' "${p99s[@]}" | sort -g | tail -n1)"
  if [[ "$r" != profile ]]; then
    printf 'warmup\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$r" "$rps" "$p50" "$p99" "$req" "$((after - before))" \
      "$non2xx" "$serr" "$srv" "$org" "$wrkc" "$oth" "${READY_MS[$s]}"
  fi >>"$TSV"
  log "  $s: ready after ${READY_MS[$s]} ms; first ${WARM_SECONDS} s: $rps req/s (per second: $(for ((i = 1; i <= WARM_SECONDS; i++)); do printf '%.0f ' "$(wrk_field "$dir/s$i.txt" rps)"; done)), origin fetches $((after - before)), CPU server $srv / origin $org / wrk $wrkc / other $oth"
}

if ((WANT_WARMUP)); then
  for ((r = 1; r <= ROUNDS; r++)); do
    mapfile -t order < <(in_order "$r" "${SERVERS[@]}")
    log "round $r/$ROUNDS, warmup (restart, ${SC_PATH[warmup]} for ${WARM_SECONDS} s from the first answer): ${order[*]}"
    for s in "${order[@]}"; do measure_warmup "$s" "$r" || warn "$s did not restart"; done
  done
  if [[ "$PROFILE" == 1 && " ${SERVERS[*]} " == *" edgecache "* && -n "${PID_OF[edgecache]:-}" ]]; then
    mkdir -p "$RAW/jfr"
    jfr="$RAW/jfr/edgecache-warmup.jfr"
    log "profile: warmup on edgecache (JFR from JVM start, not part of the results)"
    if measure_warmup edgecache profile "-XX:StartFlightRecording=name=warmup,settings=$PROFILE_SETTINGS,filename=$jfr"; then
      "$JCMD" "${PID_OF[edgecache]}" JFR.stop name=warmup >>"$RAW/jfr/jcmd.log" 2>&1 || warn "jcmd JFR.stop failed"
      log "  -> ${jfr#"$ROOT"/}"
    fi
  fi
fi

# ---------------------------------------------------------------- report
# meta.tsv: "section<TAB>key<TAB>value" lines for report.mjs
{
  m() { printf 'meta\t%s\t%s\n' "$1" "$2"; }
  m date "$(date -u '+%Y-%m-%d %H:%M:%SZ')"
  m host "$(uname -srm)"
  m tcp "congestion control $(sysctl -n net.ipv4.tcp_congestion_control 2>/dev/null || echo '?')${TCP_CC:+ (TCP_CC, for this run)}, default qdisc $(sysctl -n net.core.default_qdisc 2>/dev/null || echo '?'), lo qdisc $(tc qdisc show dev lo 2>/dev/null | awk '{print $2; exit}')"
  m cpu "$(awk -F': *' '/^model name/{print $2; exit}' /proc/cpuinfo 2>/dev/null)"
  m nproc "$NPROC"
  m memory "$(awk '/^MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  if [[ -n "$SRV_PIN" ]]; then m pinning "servers and origin on CPU $SRV_PIN, wrk on CPU $LOAD_PIN (taskset)"
  else m pinning "none: servers, origin and wrk share all $NPROC CPUs"; fi
  m loadavg "$LOAD_START at start, $(cut -d' ' -f1-3 /proc/loadavg) at end"
  m wrk "$WRK_CMD"
  m wrkVersion "$(wrk -v 2>&1 | head -n1 | awk '{print $1, $2}')"
  m duration "$DURATION"; m warmup "$WARMUP"; m rounds "$ROUNDS"; m warmSeconds "$WARM_SECONDS"; m warmOf "$WARM_OF"
  m zipfKeys "$ZIPF_KEYS"; m zipfS "$ZIPF_S"; m zipfSeed "$ZIPF_SEED"; m pacedDelayMs "$PACED_DELAY_MS"
  m scenarios "$SCENARIOS"
  m origin "nginx $(nginx -v 2>&1 | sed 's/^nginx version: nginx\///') ($SRV_NCPU worker(s)) answering /pass/1k itself, in front of sized-origin.mjs (node $(node -v))"
  m edgeEventLoops "${EDGE_LOOPS:-}"
  m elapsedSeconds "$((SECONDS - RUN_START))"
  m quietSpent "$QUIET_SPENT"
  m rawDir "${RAW#"$ROOT"/}"
  [[ "$PROFILE" == 1 && -d "$RAW/jfr" ]] && m profileDir "${RAW#"$ROOT"/}/jfr"
  m gnuplot "$HAVE_GNUPLOT"
  for sc in $ALL_SCENARIOS; do printf 'path\t%s\t%s\n' "$sc" "${SC_PATH[$sc]}"; done
  for s in edgecache nginx varnish ats; do
    [[ -n "${VERSION_OF[$s]:-}" ]] && printf 'version\t%s\t%s\n' "$s" "${VERSION_OF[$s]}"
    [[ -n "${NOTE_OF[$s]:-}" ]] && printf 'note\t%s\t%s\n' "$s" "${NOTE_OF[$s]}"
  done
  for k in "${!PAIR_NOTE[@]}"; do printf 'note\t%s\t%s\n' "${k// /: }" "${PAIR_NOTE[$k]}"; done
} >"$RAW/meta.tsv"

node "$HERE/report.mjs" "$RAW" "$RESULTS"
log "wrote ${RESULTS#"$ROOT"/}, ${RESULTS%.md}.csv, ${RESULTS%.md}-warmup.csv$( ((HAVE_GNUPLOT)) && echo ", ${RESULTS%.md}.png") (raw output in ${RAW#"$ROOT"/}) after $((SECONDS - RUN_START)) s"
exit "$FAILED"
