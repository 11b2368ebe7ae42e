#!/usr/bin/env bash
# A cache hit over HTTPS (HTTP/1.1 keep-alive, TLS 1.3 as wrk's OpenSSL negotiates it): edgecache's
# HTTPS listener against nginx proxy_cache with TLS, in one run on this machine.
#
#   loadtests/tls-hit.sh   # JAR=proxy/target/edgecache.jar SIZE=1024 ROUNDS=3 DURATION=8s WARMUP=3s PRIME=15s
#   ENGINES="jdk openssl" loadtests/tls-hit.sh   # both listen.tls.engine values in the same run
#
# Starts an nginx origin (SIZE bytes, Cache-Control: max-age=3600), one edgecache per engine
# (memory tier, access log off, the image's heap flags) and nginx (proxy_cache, ssl, one worker
# per CPU) with one generated EC P-256 certificate; primes every cache (and edgecache's JIT: PRIME
# of load each), then runs `wrk -t1 -c50` against each in turn, the order reversed every other
# round, and prints req/s and p99 per round and the medians. Ports are picked at random in
# 20000-60000 and checked free; every process started is stopped by PID.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
JAR="${JAR:-$ROOT/proxy/target/edgecache.jar}"
SIZE="${SIZE:-1024}"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-8s}"
WARMUP="${WARMUP:-3s}"
# shellcheck source=loadtests/common.sh
source "$ROOT/loadtests/common.sh"
JAVA_OPTS="${JAVA_OPTS:-$EDGE_JVM_OPTS}"
ENGINES="${ENGINES:-jdk}" # listen.tls.engine values, one edgecache each: "jdk openssl" compares them
[[ -f "$JAR" ]] || { echo "no jar at $JAR (mvn -q -DskipTests package)" >&2; exit 1; }
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

WORK="$(mktemp -d /tmp/tls-hit.XXXXXX)"
declare -a PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  [[ "${KEEP_WORK:-0}" == 1 ]] || rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 40000))
    [[ -z "$(ss -Hltn "sport = :$p" 2>/dev/null)" ]] && { echo "$p"; return; }
  done
}
ORIGIN_PORT=$(free_port); NGINX_TLS=$(free_port)

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$WORK/key.pem" \
  -out "$WORK/cert.pem" -days 2 -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 2>/dev/null
mkdir -p "$WORK/www" "$WORK/o-tmp" "$WORK/n-tmp" "$WORK/cache"
head -c "$SIZE" /dev/zero | tr '\0' 'h' >"$WORK/www/obj"
USER_LINE=""
if [[ "$(id -u)" == 0 ]]; then USER_LINE="user nobody nogroup;"; chown -R nobody:nogroup "$WORK"; chmod 755 "$WORK"; fi
NCPU="$(nproc)"

common() { # common TMPDIR
  cat <<EOF
$USER_LINE
worker_processes $NCPU;
error_log $1/error.log warn;
daemon off;
events { worker_connections 4096; }
EOF
}
temps() { for t in client proxy fastcgi uwsgi scgi; do echo "  ${t}_temp_path $1/$t;" | sed 's/client_temp/client_body_temp/'; done; }

{ common "$WORK/o-tmp"; echo "pid $WORK/origin.pid;"; echo "http {"; echo "  access_log off;"; temps "$WORK/o-tmp"
  cat <<EOF
  server {
    listen 127.0.0.1:$ORIGIN_PORT;
    location / { root $WORK/www; default_type application/octet-stream; add_header Cache-Control "max-age=3600"; }
  }
}
EOF
} >"$WORK/origin.conf"
{ common "$WORK/n-tmp"; echo "pid $WORK/nginx.pid;"; echo "http {"; echo "  access_log off;"; temps "$WORK/n-tmp"
  cat <<EOF
  keepalive_requests 1000000;
  keepalive_timeout 65s;
  proxy_cache_path $WORK/cache levels=1:2 keys_zone=edge:16m max_size=256m inactive=60m use_temp_path=off;
  upstream origin { server 127.0.0.1:$ORIGIN_PORT; keepalive 64; }
  server {
    listen 127.0.0.1:$NGINX_TLS ssl http2 backlog=4096;
    ssl_certificate $WORK/cert.pem;
    ssl_certificate_key $WORK/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:SSL:10m;
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache edge;
      proxy_cache_valid 200 1h;
    }
  }
}
EOF
} >"$WORK/nginx.conf"

"$NGINX" -p "$WORK" -c "$WORK/origin.conf" >"$WORK/origin.log" 2>&1 & PIDS+=($!)
"$NGINX" -p "$WORK" -c "$WORK/nginx.conf" >"$WORK/nginx.log" 2>&1 & PIDS+=($!)
declare -A TLS_PORT=([nginx]=$NGINX_TLS)
SERVERS=()
for engine in $ENGINES; do
  name="edgecache-$engine"
  TLS_PORT[$name]=$(free_port)
  cat >"$WORK/$name.json" <<EOF
{
  "listen": { "host": "127.0.0.1", "port": $(free_port),
    "tls": { "port": ${TLS_PORT[$name]}, "certFile": "$WORK/cert.pem", "keyFile": "$WORK/key.pem", "engine": "$engine" } },
  "admin": { "host": "127.0.0.1", "port": $(free_port) },
  "origins": [ { "name": "origin", "url": "http://127.0.0.1:$ORIGIN_PORT", "hosts": ["*"] } ],
  "accessLog": { "enabled": false }
}
EOF
  # shellcheck disable=SC2086
  java $JAVA_OPTS -jar "$JAR" --config "$WORK/$name.json" >"$WORK/$name.log" 2>&1 & PIDS+=($!)
  SERVERS+=("$name")
done
SERVERS+=(nginx)

ready() { curl -ksf -o /dev/null --max-time 2 "https://127.0.0.1:${TLS_PORT[$1]}/obj"; }
for srv in "${SERVERS[@]}"; do
  for _ in $(seq 1 300); do ready "$srv" && break; sleep 0.1; done
  ready "$srv" || { echo "$srv did not answer:"; tail -20 "$WORK/$srv.log"; exit 1; }
  echo "$srv: $(openssl s_client -connect "127.0.0.1:${TLS_PORT[$srv]}" </dev/null 2>/dev/null | grep -m1 'New,')"
  # the JIT compiles edgecache's TLS path under load (its start-up warm-up runs plain HTTP only)
  wrk -t1 -c50 -d"${PRIME:-15s}" "https://127.0.0.1:${TLS_PORT[$srv]}/obj" >/dev/null 2>&1 || true
done

run() { # run NAME PORT ROUND
  wrk -t1 -c50 -d"$WARMUP" "https://127.0.0.1:$2/obj" >/dev/null 2>&1 || true
  local out; out="$(wrk -t1 -c50 -d"$DURATION" --latency "https://127.0.0.1:$2/obj" 2>&1)"
  local rps p99
  rps="$(awk '/^Requests\/sec/ {print $2}' <<<"$out")"
  p99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
  printf '%s\tround %s\t%s req/s\tp99 %s\n' "$1" "$3" "$rps" "$p99"
  echo "$rps" >>"$WORK/$1.rps"
}
for r in $(seq 1 "$ROUNDS"); do
  order=("${SERVERS[@]}")
  if ((r % 2 == 0)); then order=(); for ((i = ${#SERVERS[@]} - 1; i >= 0; i--)); do order+=("${SERVERS[$i]}"); done; fi
  for srv in "${order[@]}"; do run "$srv" "${TLS_PORT[$srv]}" "$r"; done
done
median() { sort -g "$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
N="$(median "$WORK/nginx.rps")"
for srv in "${SERVERS[@]}"; do
  M="$(median "$WORK/$srv.rps")"
  printf 'median %s: %s req/s, %s of nginx\n' "$srv" "$M" "$(awk -v e="$M" -v n="$N" 'BEGIN {printf "%.2f", e / n}')"
done
