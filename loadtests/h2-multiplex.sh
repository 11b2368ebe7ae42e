#!/usr/bin/env bash
# edgecache: HTTP/2 soak with many large streams per connection, cancellations and a disk tier
# that turns over. One command:
#
#   bash loadtests/h2-multiplex.sh
#
# All on 127.0.0.1: starts loadtests/sized-origin.mjs and edgecache (HTTPS with a throw-away
# certificate, 2 event loops, memory tier 8MiB / maxObjectBytes 64KiB, disk tier DISK_MAX with
# 64 KiB chunks), then runs loadtests/H2Multiplex.java: ROUNDS connections, each fetching a new
# SIZE-byte URL twice at once (a miss and a request coalesced on its fill, followed from the
# disk), then 8 whole streams of it while 4 others are cancelled after 5,000 bytes. Every body is
# compared byte for byte; a stream that does not finish within 10 s fails the run. With the
# defaults the disk tier holds about 20 bodies, so eviction (and the admission policy evicting a
# fill at its commit) runs for most of the rounds. Writes nothing to results/: it passes or says
# which round stalled or went wrong. Stops everything it started (trap on EXIT).
#
# Knobs: ROUNDS=300 SIZE=3000000 DISK_MAX=64MiB EDGECACHE_JAR=proxy/target/edgecache.jar
#        ORIGIN_PORT=18400 EDGE_PORT=18480 EDGE_TLS_PORT=18443 EDGE_ADMIN_PORT=19480
set -Eeuo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HERE="$ROOT/loadtests"
ROUNDS="${ROUNDS:-300}"
SIZE="${SIZE:-3000000}"
DISK_MAX="${DISK_MAX:-64MiB}"
EDGECACHE_JAR="${EDGECACHE_JAR:-$ROOT/proxy/target/edgecache.jar}"
ORIGIN_PORT="${ORIGIN_PORT:-18400}"
EDGE_PORT="${EDGE_PORT:-18480}"
EDGE_TLS_PORT="${EDGE_TLS_PORT:-18443}"
EDGE_ADMIN_PORT="${EDGE_ADMIN_PORT:-19480}"

[[ -f "$EDGECACHE_JAR" ]] || { echo "h2-multiplex: no $EDGECACHE_JAR (mvn -B -DskipTests package)" >&2; exit 2; }
WORK="$(mktemp -d /tmp/edgecache-h2-multiplex.XXXXXX)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=edge.test \
  -keyout "$WORK/edge.key" -out "$WORK/edge.crt" 2>/dev/null
node "$HERE/sized-origin.mjs" --host 127.0.0.1 --port "$ORIGIN_PORT" > "$WORK/origin.log" 2>&1 &
PIDS+=($!)
cat > "$WORK/proxy.json" <<JSON
{"listen": {"host": "127.0.0.1", "port": $EDGE_PORT, "eventLoops": 2,
            "tls": {"port": $EDGE_TLS_PORT, "certFile": "$WORK/edge.crt", "keyFile": "$WORK/edge.key"}},
 "admin": {"host": "127.0.0.1", "port": $EDGE_ADMIN_PORT},
 "origins": [{"name": "sized", "url": "http://127.0.0.1:$ORIGIN_PORT", "hosts": ["*"]}],
 "memory": {"maxBytes": "8MiB", "maxObjectBytes": "64KiB"},
 "disk": {"path": "$WORK/cache", "maxBytes": "$DISK_MAX", "chunkBytes": "64KiB"},
 "startup": {"warmup": "0s"}}
JSON
java -jar "$EDGECACHE_JAR" --config "$WORK/proxy.json" > "$WORK/proxy.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 120); do
  grep -q "listening on" "$WORK/proxy.log" && break
  sleep 0.5
done
grep -q "listening on" "$WORK/proxy.log" || { echo "h2-multiplex: edgecache did not start" >&2; tail -20 "$WORK/proxy.log" >&2; exit 1; }

set +e
java -Djdk.internal.httpclient.disableHostnameVerification=true "$HERE/H2Multiplex.java" "$EDGE_TLS_PORT" "$ROUNDS" "$SIZE"
rc=$?
set -e
metrics() { curl -s "http://127.0.0.1:$EDGE_ADMIN_PORT/metrics"; }
evictions="$(metrics | grep -E '^edgecache_cache_evictions_total\{tier="disk"' | awk '{print $2}')"
echo "h2-multiplex: disk evictions during the run: ${evictions:-unknown}"
# every client is gone: nothing may stay held (chunk buffers, chunks kept for readers)
for _ in $(seq 1 20); do
  held="$(metrics | grep -E '^edgecache_disk_held_for_readers_bytes' | awk '{print $2}')"
  buffers="$(metrics | grep -E '^edgecache_disk_chunk_buffers ' | awk '{print $2}')"
  [[ "$held" == "0.0" && "$buffers" == "0.0" ]] && break
  sleep 0.5
done
echo "h2-multiplex: afterwards, bytes held for readers ${held:-unknown}, chunk buffers ${buffers:-unknown}"
if [[ $rc -eq 0 && ( "$held" != "0.0" || "$buffers" != "0.0" ) ]]; then
  echo "h2-multiplex: something is still held after every client left" >&2
  rc=1
fi
if [[ $rc -ne 0 ]]; then
  echo "h2-multiplex: last lines of the proxy log:" >&2
  grep -v '"GET ' "$WORK/proxy.log" | tail -20 >&2
fi
exit $rc
