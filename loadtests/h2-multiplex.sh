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
# which round stalled or went wrong, and fails if anything is still held after every client left
# (both gauges back to 0). Stops everything it started (bench-lib.sh's trap on EXIT).
#
# Knobs: ROUNDS=300 SIZE=3000000 DISK_MAX=64MiB EDGECACHE_JAR=proxy/target/edgecache.jar REBUILD=0
#        ORIGIN_PORT=18400 EDGE_PORT=18480 EDGE_TLS_PORT=18443 EDGE_ADMIN_PORT=19480 KEEP_WORK=0
set -Eeuo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HERE="$ROOT/loadtests"
LOG_TAG="h2-multiplex"
ROUNDS="${ROUNDS:-300}"
SIZE="${SIZE:-3000000}"
DISK_MAX="${DISK_MAX:-64MiB}"
EDGECACHE_JAR="${EDGECACHE_JAR:-$ROOT/proxy/target/edgecache.jar}"
ORIGIN_PORT="${ORIGIN_PORT:-18400}"
EDGE_PORT="${EDGE_PORT:-18480}"
EDGE_TLS_PORT="${EDGE_TLS_PORT:-18443}"
EDGE_ADMIN_PORT="${EDGE_ADMIN_PORT:-19480}"
STARTUP_TIMEOUT="${STARTUP_TIMEOUT:-60}"
KEEP_WORK="${KEEP_WORK:-0}"

WORK=""
# shellcheck source=loadtests/bench-lib.sh
source "$HERE/bench-lib.sh"

for c in node java curl openssl ss; do command -v "$c" >/dev/null || die "$c is required"; done
for p in "$ORIGIN_PORT" "$EDGE_PORT" "$EDGE_TLS_PORT" "$EDGE_ADMIN_PORT"; do
  port_free "$p" || die "port $p on 127.0.0.1 is in use (override with *_PORT variables)"
done
WORK="$(mktemp -d "${TMPDIR:-/tmp}/edgecache-h2-multiplex.XXXXXX")"
ensure_jar

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=edge.test \
  -keyout "$WORK/edge.key" -out "$WORK/edge.crt" 2>/dev/null
start_bg origin "" node "$HERE/sized-origin.mjs" --host 127.0.0.1 --port "$ORIGIN_PORT"
wait_http origin "$LAST_PID" "http://127.0.0.1:$ORIGIN_PORT/__count" 200 || die "origin did not start"
cat > "$WORK/proxy.json" <<JSON
{"listen": {"host": "127.0.0.1", "port": $EDGE_PORT, "eventLoops": 2,
            "tls": {"port": $EDGE_TLS_PORT, "certFile": "$WORK/edge.crt", "keyFile": "$WORK/edge.key"}},
 "admin": {"host": "127.0.0.1", "port": $EDGE_ADMIN_PORT},
 "origins": [{"name": "sized", "url": "http://127.0.0.1:$ORIGIN_PORT", "hosts": ["*"]}],
 "memory": {"maxBytes": "8MiB", "maxObjectBytes": "64KiB"},
 "disk": {"path": "$WORK/cache", "maxBytes": "$DISK_MAX", "chunkBytes": "64KiB"},
 "startup": {"warmup": "0s"}}
JSON
start_bg edgecache "" java -jar "$JAR" --config "$WORK/proxy.json"
wait_http edgecache "$LAST_PID" "http://127.0.0.1:$EDGE_ADMIN_PORT/readyz" 200 || die "edgecache did not start"
log "$EDGE_VERSION"

set +e
java -Djdk.internal.httpclient.disableHostnameVerification=true "$HERE/H2Multiplex.java" "$EDGE_TLS_PORT" "$ROUNDS" "$SIZE"
rc=$?
set -e
log "disk evictions during the run: $(metric "$EDGE_ADMIN_PORT" 'edgecache_cache_evictions_total{tier="disk"}')"
# every client is gone: nothing may stay held (chunk buffers, chunks kept for readers)
for _ in $(seq 1 20); do
  held="$(metric "$EDGE_ADMIN_PORT" 'edgecache_disk_held_for_readers_bytes{tier="disk"}')"
  buffers="$(metric "$EDGE_ADMIN_PORT" edgecache_disk_chunk_buffers)"
  [[ "$held" == 0 && "$buffers" == 0 ]] && break
  sleep 0.5
done
log "afterwards: bytes held for readers $held, chunk buffers $buffers"
if [[ $rc -eq 0 && ( "$held" != 0 || "$buffers" != 0 ) ]]; then
  warn "something is still held after every client left"
  rc=1
fi
if [[ $rc -ne 0 ]]; then
  warn "last lines of the proxy log:"
  grep -v '"GET ' "$WORK/edgecache.log" | tail -20 >&2
fi
exit $rc
