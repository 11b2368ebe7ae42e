#!/usr/bin/env bash
# edgecache against itself: two jars side by side on hits of one size, alternated, pinned.
#
#   JAR_A=/path/before.jar JAR_B=proxy/target/edgecache.jar TIER=disk SIZES="131072 1048576" \
#     bash loadtests/ab-jars.sh
#
# Starts loadtests/sized-origin.mjs and one edgecache per jar (conf/proxy.json with the addresses
# changed, access log off; TIER=memory: memory.maxObjectBytes 8MiB and no disk; TIER=disk: memory
# maxObjectBytes 64KiB over a disk tier in a temp dir, so every size above 64 KiB is a disk hit),
# both JVMs and the origin on CPU 0 and wrk alone on CPU 1 (taskset), so each jar is short of CPU
# and what it spends per request decides its rate. Fills every size on both, checks the second
# request is a hit with the origin's bytes, then ROUNDS times per size: WARMUP unrecorded, then
# `wrk -t1 -c32 -dDURATION --latency` on A and B, the order reversed every other round. Prints one
# line per run (req/s, p99, the jar's CPU per request from /proc: user + system time of its JVM
# over the run, JIT threads included, divided by wrk's request count, and the heap bytes it
# allocated per request: what its collector counted, `jvm_gc_memory_allocated_bytes_total` on the
# admin port, plus eden's use from `jstat`, before and after the run; unlike the CPU figure this
# hardly moves with other load on the machine) and the medians per jar;
# stops everything it started. TIER=pass asks for /pass/N instead (the origin answers N bytes
# with Cache-Control: no-store), so every request is a pass-through; the CPU per request is then
# the figure to compare, since the origin shares CPU 0 with both jars.
#
# Knobs: JAR_A (required) JAR_B (default proxy/target/edgecache.jar) TIER=memory|disk|pass SIZES="1048576"
#        ROUNDS=4 DURATION=8s WARMUP=3s JAVA_OPTS (common.sh's EDGE_JVM_OPTS: the image's options, a 1 GiB heap)
#        TRANSPORT= (listen.transport for both jars; empty: as conf/proxy.json ships it; TRANSPORT_A
#        and TRANSPORT_B set one jar's)
#        JAVA_A JAVA_B (the java that runs each jar; default: as run.sh, a JDK 25 under /usr/lib/jvm
#        when there is one, else the java on PATH; each gets the image's options for its version,
#        --sun-misc-unsafe-memory-access=allow from JDK 23 on. The same jar on two JDKs:
#        JAR_A=$JAR_B JAVA_A=java JAVA_B=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java)
#        CHUNK_A CHUNK_B (disk.chunkBytes of each jar, e.g. CHUNK_A=256KiB; empty: as conf/proxy.json)
#        SERVER_CPU=0 LOAD_CPU=1 PORT_BASE=24000 OBJECTS=1 (more: requests spread over that many
#        distinct bodies per size, /size/N/o0 ..., e.g. OBJECTS=64 at 1 MiB so that disk hits come
#        from LevelDB's table files rather than the 4 MiB memtable)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
JAR_A="${JAR_A:?set JAR_A to the jar to compare against}"
JAR_B="${JAR_B:-$ROOT/proxy/target/edgecache.jar}"
# shellcheck source=loadtests/common.sh
source "$HERE/common.sh"
JAVA_A="${JAVA_A:-$(image_java)}"
JAVA_B="${JAVA_B:-$(image_java)}"
TIER="${TIER:-memory}"
SIZES="${SIZES:-1048576}"
OBJECTS="${OBJECTS:-1}"
ROUNDS="${ROUNDS:-4}"
DURATION="${DURATION:-8s}"
WARMUP="${WARMUP:-3s}"
JAVA_OPTS="${JAVA_OPTS:-$EDGE_JVM_OPTS}"
SERVER_CPU="${SERVER_CPU:-0}"
LOAD_CPU="${LOAD_CPU:-1}"
PORT_BASE="${PORT_BASE:-24000}"
TRANSPORT="${TRANSPORT:-}"
declare -A TRANSPORT_OF=([A]="${TRANSPORT_A:-$TRANSPORT}" [B]="${TRANSPORT_B:-$TRANSPORT}")
declare -A CHUNK_OF=([A]="${CHUNK_A:-}" [B]="${CHUNK_B:-}")
ORIGIN_PORT=$PORT_BASE

die() { echo "ab-jars: $*" >&2; exit 1; }
for t in node wrk taskset curl java jstat; do command -v "$t" >/dev/null || die "$t not found"; done
for j in "$JAVA_A" "$JAVA_B"; do command -v "$j" >/dev/null || die "java $j not found"; done
[[ -f "$JAR_A" && -f "$JAR_B" ]] || die "JAR_A ($JAR_A) and JAR_B ($JAR_B) must both exist"
[[ "$TIER" == memory || "$TIER" == disk || "$TIER" == pass ]] || die "TIER must be memory, disk or pass"

WORK="$(mktemp -d /tmp/edgecache-ab.XXXXXX)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

taskset -c "$SERVER_CPU" node "$HERE/sized-origin.mjs" --host 127.0.0.1 --port "$ORIGIN_PORT" --max-age 3600 \
  >"$WORK/origin.log" 2>&1 &
PIDS+=($!)

declare -A PORT=([A]=$((PORT_BASE + 10)) [B]=$((PORT_BASE + 20)))
declare -A JVM=()
ROUTE=size
[[ "$TIER" == pass ]] && ROUTE=pass
for side in A B; do
  jar="JAR_$side"
  node - "$ROOT/conf/proxy.json" "$WORK/$side.json" "${PORT[$side]}" "$((PORT[$side] + 1))" \
    "http://127.0.0.1:$ORIGIN_PORT" "$TIER" "$WORK/disk-$side" "${TRANSPORT_OF[$side]}" "${CHUNK_OF[$side]}" <<'EOF'
const fs = require('fs');
const [src, dst, port, admin, origin, tier, diskPath, transport, chunk] = process.argv.slice(2);
const c = JSON.parse(fs.readFileSync(src, 'utf8'));
c.listen = { ...(c.listen || {}), host: '127.0.0.1', port: Number(port) };
if (transport) c.listen.transport = transport;
c.admin = { ...(c.admin || {}), host: '127.0.0.1', port: Number(admin) };
c.origins = [{ name: 'ab-origin', url: origin, hosts: ['*'] }];
c.accessLog = { ...(c.accessLog || {}), enabled: false };
if (tier === 'disk') {
  c.memory = { ...(c.memory || {}), maxObjectBytes: '64KiB' };
  c.disk = { ...(c.disk || {}), path: diskPath, maxBytes: '1GiB' };
  if (chunk) c.disk.chunkBytes = chunk;
} else {
  c.memory = { ...(c.memory || {}), maxObjectBytes: '8MiB' };
  c.disk = { ...(c.disk || {}), path: null };
}
fs.writeFileSync(dst, JSON.stringify(c, null, 2) + '\n');
EOF
  # shellcheck disable=SC2086
  java_bin="JAVA_$side"
  taskset -c "$SERVER_CPU" "${!java_bin}" $(image_jvm_flags "${!java_bin}") $JAVA_OPTS -jar "${!jar}" \
    --config "$WORK/$side.json" >"$WORK/$side.log" 2>&1 &
  PIDS+=($!)
  JVM[$side]=$!
done
for side in A B; do
  for _ in $(seq 1 300); do
    curl -sf -o /dev/null "http://127.0.0.1:$((PORT[$side] + 1))/readyz" && break
    sleep 0.2
  done
  curl -sf -o /dev/null "http://127.0.0.1:$((PORT[$side] + 1))/readyz" || { tail "$WORK/$side.log" >&2; die "$side did not start"; }
done

HZ="$(getconf CLK_TCK)"
# heap bytes JVM $1 (admin port $2) allocated so far: the sum its collector counted at each young
# collection (eden before it, less eden after the one before) plus what eden holds now
heap_allocated() {
  local counted eden
  counted="$(curl -s "http://127.0.0.1:$2/metrics" | awk '$1=="jvm_gc_memory_allocated_bytes_total"{printf "%.0f", $2}')"
  eden="$(jstat -gc "$1" | awk 'NR==2{printf "%.0f", $6 * 1024}')"
  echo $((${counted:-0} + ${eden:-0}))
}
# user + system CPU ticks of process $1 (every thread)
cpu_ticks() { awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$1/stat"; }
# the paths of size $1: /size/$1 alone, or OBJECTS distinct ones (/size/$1/o0 ...)
paths() {
  if ((OBJECTS == 1)); then echo "/$ROUTE/$1"; else for ((i = 0; i < OBJECTS; i++)); do echo "/$ROUTE/$1/o$i"; done; fi
}
for s in $SIZES; do
  for path in $(paths "$s"); do
    want="$(curl -s "http://127.0.0.1:$ORIGIN_PORT$path" | md5sum)"
    for side in A B; do
      url="http://127.0.0.1:${PORT[$side]}$path"
      for _ in 1 2 3 4 5 6 7 8 9 10; do
        curl -s -o /dev/null "$url"
        cs="$(curl -s -o "$WORK/body" -D - "$url" | tr -d '\r' | awk -F': ' 'tolower($1)=="cache-status"{print $2}')"
        [[ "$TIER" == pass || "$cs" == *"; hit"* ]] && break
        sleep 0.3
      done
      if [[ "$TIER" == pass ]]; then
        [[ "$cs" != *"; hit"* ]] || die "$side $url: a no-store response was served as a hit ($cs)"
      else
        [[ "$cs" == *"; hit"* ]] || die "$side $url: not a hit after filling ($cs)"
      fi
      [[ "$(md5sum <"$WORK/body")" == "$want" ]] || die "$side $url: bytes differ from the origin's"
    done
  done
done
# wrk's target for size $1 on port $2: the one URL, or hot-set.lua spreading requests over the OBJECTS paths
target() {
  if ((OBJECTS == 1)); then echo "http://127.0.0.1:$2/$ROUTE/$1"; else
    echo "-s $HERE/hot-set.lua http://127.0.0.1:$2 -- /$ROUTE/$1/o $OBJECTS"; fi
}

echo "ab-jars: A=$JAR_A ($("$JAVA_A" -version 2>&1 | head -n1)) B=$JAR_B ($("$JAVA_B" -version 2>&1 | head -n1)) tier=$TIER${CHUNK_A:+, disk.chunkBytes A=$CHUNK_A}${CHUNK_B:+, disk.chunkBytes B=$CHUNK_B}, both on CPU $SERVER_CPU, wrk on CPU $LOAD_CPU"
for s in $SIZES; do
  # shellcheck disable=SC2046
  for side in A B; do taskset -c "$LOAD_CPU" wrk -t1 -c32 -d"$WARMUP" $(target "$s" "${PORT[$side]}") >/dev/null; done
  : >"$WORK/rates"
  for r in $(seq 1 "$ROUNDS"); do
    order="A B"; ((r % 2)) || order="B A"
    for side in $order; do
      # shellcheck disable=SC2046
      t0="$(cpu_ticks "${JVM[$side]}")"
      h0="$(heap_allocated "${JVM[$side]}" "$((PORT[$side] + 1))")"
      out="$(taskset -c "$LOAD_CPU" wrk -t1 -c32 -d"$DURATION" --latency $(target "$s" "${PORT[$side]}"))"
      t1="$(cpu_ticks "${JVM[$side]}")"
      h1="$(heap_allocated "${JVM[$side]}" "$((PORT[$side] + 1))")"
      rps="$(awk '/Requests\/sec/{print $2}' <<<"$out")"
      p99="$(awk '$1=="99%"{print $2}' <<<"$out")"
      n="$(awk '/requests in/{print $1}' <<<"$out")"
      us="$(awk -v t="$((t1 - t0))" -v hz="$HZ" -v n="$n" 'BEGIN{printf "%.1f", (n > 0 ? t / hz * 1e6 / n : 0)}')"
      heap="$(awk -v b="$((h1 - h0))" -v n="$n" 'BEGIN{printf "%.0f", (n > 0 ? b / n : 0)}')"
      echo "size $s round $r $side: $rps req/s, p99 $p99, $us us CPU per request, $heap heap bytes per request"
      echo "$side $rps $us $heap" >>"$WORK/rates"
    done
  done
  for side in A B; do
    med="$(awk -v s="$side" '$1==s{print $2}' "$WORK/rates" | sort -n | awk '{a[NR]=$1} END{print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}')"
    cpu="$(awk -v s="$side" '$1==s{print $3}' "$WORK/rates" | sort -n | awk '{a[NR]=$1} END{print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}')"
    heap="$(awk -v s="$side" '$1==s{print $4}' "$WORK/rates" | sort -n | awk '{a[NR]=$1} END{print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}')"
    echo "size $s $side median: $med req/s, $cpu us CPU per request, $heap heap bytes per request"
  done
done
