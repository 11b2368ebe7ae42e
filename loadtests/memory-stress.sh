#!/usr/bin/env bash
# Memory stress of the shipped configuration (not part of CI). One command, as root:
#
#   bash loadtests/memory-stress.sh                  # 180 s under a 2 GiB memory cgroup
#   DURATION=300 bash loadtests/memory-stress.sh
#   SLOW_READERS=0 bash loadtests/memory-stress.sh   # without the slow readers
#
# Runs proxy/target/edgecache.jar (built if missing) with the k8s ConfigMap's proxy.json
# (disk tier on, in a temp dir; listeners moved to 127.0.0.1; access log off so stdout stays
# small; its cluster section as a one-member cluster on 127.0.0.1:ORIGIN_PORT+1) and the
# Dockerfile's JVM flags (its JAVA_TOOL_OPTIONS and -XX:+ExitOnOutOfMemoryError),
# inside a memory cgroup limited like the StatefulSet (LIMIT, default 2G; cgroup v1
# memory.limit_in_bytes or v2 memory.max, whichever the machine has), so the JVM sizes its heap
# from the limit as in the container. Load, all at once for DURATION seconds, against an origin
# on loopback (loadtests/sized-origin.mjs):
#   - small fills: every request a new 1 KiB object        (wrk, unique-path.lua)
#   - 1 MiB fills: every request a new 1 MiB object        (wrk, unique-path.lua)
#   - hits: 200 objects of 16 KiB                          (wrk, hot-set.lua)
#   - slow readers: 200 connections reading 8 MiB objects at ~128 KiB/s (slow-readers.mjs)
# Every 5 s it records the cgroup's memory use and /stats. It reports OOM (the JVM exited, the
# cgroup killed it, or an OutOfMemoryError was logged) or no OOM, checks the proxy still serves,
# and writes loadtests/results/memory-stress.md. Exit status 0 only for no OOM.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-180}
SLOW_READERS=${SLOW_READERS:-200}
LIMIT=${LIMIT:-2G}
ORIGIN_PORT=${ORIGIN_PORT:-18300}
PORT=${PORT:-18380}
ADMIN_PORT=${ADMIN_PORT:-18390}
JAR=$ROOT/proxy/target/edgecache.jar
RESULT=$ROOT/loadtests/results/memory-stress.md
WORK=$(mktemp -d /tmp/edgecache-memory-stress.XXXXXX)
PIDS=()

for tool in java node wrk python3 curl; do
  command -v "$tool" >/dev/null || { echo "memory-stress: $tool is needed" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "memory-stress: run as root (it creates a memory cgroup)" >&2; exit 2; }
if [ ! -f "$JAR" ]; then
  (cd "$ROOT" && mvn -q -B -DskipTests package)
fi

for port in "$PORT" "$ADMIN_PORT" "$ORIGIN_PORT" "$((ORIGIN_PORT + 1))"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "memory-stress: port $port is in use (set PORT, ADMIN_PORT, ORIGIN_PORT)" >&2; exit 2
  fi
done

# ---------------------------------------------------------------- cgroup
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  CG=/sys/fs/cgroup/edgecache-stress-$$
  mkdir "$CG"
  echo "$LIMIT" > "$CG/memory.max"
  echo 0 > "$CG/memory.swap.max" 2>/dev/null || true
  CG_KIND="cgroup v2 memory.max"
  usage() { cat "$CG/memory.current"; }
  ooms() { awk '$1 == "oom_kill" {print $2}' "$CG/memory.events"; }
else
  CG=/sys/fs/cgroup/memory/edgecache-stress-$$
  mkdir "$CG"
  echo "$LIMIT" > "$CG/memory.limit_in_bytes"
  [ -f "$CG/memory.memsw.limit_in_bytes" ] && echo "$LIMIT" > "$CG/memory.memsw.limit_in_bytes" || true
  CG_KIND="cgroup v1 memory.limit_in_bytes"
  usage() { cat "$CG/memory.usage_in_bytes"; }
  ooms() { awk '$1 == "oom_kill" {print $2}' "$CG/memory.oom_control"; }
fi

cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  # anything still in the cgroup was started here (the proxy): end it, then remove the cgroup
  for p in $(cat "$CG/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
  for _ in 1 2 3 4 5; do rmdir "$CG" 2>/dev/null && break; sleep 1; done
}
trap cleanup EXIT

# ---------------------------------------------------------------- config and flags
python3 - "$ROOT/k8s/configmap.yaml" "$WORK" "$PORT" "$ADMIN_PORT" "$ORIGIN_PORT" > "$WORK/proxy.json" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
block = text.split("proxy.json: |", 1)[1]
lines = [l[4:] for l in block.splitlines()[1:] if l.startswith("    ") or not l.strip()]
cfg = json.loads("\n".join(lines))
work, port, admin, origin = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
cfg["listen"].update(host="127.0.0.1", port=port)
cfg["admin"].update(host="127.0.0.1", port=admin)
cfg["admin"].pop("token", None)
cfg["origins"] = [{"name": "origin", "url": f"http://127.0.0.1:{origin}", "hosts": ["*"]}]
cfg["disk"]["path"] = work + "/cache"
cfg["accessLog"] = {"enabled": False}
if cfg.get("cluster", {}).get("enabled"):
    # the ConfigMap's cluster, as a one-member cluster on loopback (Hazelcast's heap included)
    c = cfg["cluster"]
    c.pop("kubernetes", None)
    c.pop("advertiseUrl", None)
    c.update(bind=f"127.0.0.1:{origin + 1}", members=[f"127.0.0.1:{origin + 1}"], eventBusPort=0,
             token="memory-stress-cluster-token")
print(json.dumps(cfg, indent=2))
PY
TOOL_OPTS=$(sed -n 's/^ENV JAVA_TOOL_OPTIONS="\(.*\)"$/\1/p' "$ROOT/Dockerfile")
ENTRY_OPTS=$(sed -n 's/^ENTRYPOINT \["java", \(.*\), "-jar".*/\1/p' "$ROOT/Dockerfile" | tr -d '",')
in_cgroup() { bash -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG" "$@"; }
HEAP_SEEN=$(JAVA_TOOL_OPTIONS="$TOOL_OPTS" in_cgroup java -XshowSettings:vm -version 2>&1 \
  | sed -n 's/.*Max. Heap Size (Estimated): //p')

# ---------------------------------------------------------------- origin and proxy
node "$ROOT/loadtests/sized-origin.mjs" --port "$ORIGIN_PORT" --tiny 1024 --max-size $((16 << 20)) \
  > "$WORK/origin.log" 2>&1 &
PIDS+=($!)
# not through the in_cgroup function: a backgrounded function is a subshell, and $! must be java
JAVA_TOOL_OPTIONS="$TOOL_OPTS" bash -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG" java $ENTRY_OPTS \
  -Xlog:gc:file="$WORK/gc.log" -jar "$JAR" --config "$WORK/proxy.json" > "$WORK/proxy.out" 2> "$WORK/proxy.err" &
JAVA_PID=$!
PIDS+=($JAVA_PID)
for _ in $(seq 1 120); do
  curl -fs "http://127.0.0.1:$ADMIN_PORT/readyz" >/dev/null 2>&1 && break
  kill -0 "$JAVA_PID" 2>/dev/null || { echo "memory-stress: the proxy did not start:"; cat "$WORK/proxy.err"; exit 1; }
  sleep 0.5
done
echo "memory-stress: proxy pid $JAVA_PID in $CG_KIND $LIMIT (JVM max heap $HEAP_SEEN), ${DURATION}s of load; work dir $WORK"

# ---------------------------------------------------------------- load
URL=http://127.0.0.1:$PORT
wrk -t1 -c8 -d"${DURATION}s" -s "$ROOT/loadtests/unique-path.lua" "$URL" -- /p/ 1 > "$WORK/wrk-small.txt" 2>&1 &
PIDS+=($!)
wrk -t1 -c4 -d"${DURATION}s" -s "$ROOT/loadtests/unique-path.lua" "$URL" -- /size/1048576/fill- 1 > "$WORK/wrk-1mib.txt" 2>&1 &
PIDS+=($!)
wrk -t1 -c8 -d"${DURATION}s" -s "$ROOT/loadtests/hot-set.lua" "$URL" -- /size/16384/hot- 200 > "$WORK/wrk-hits.txt" 2>&1 &
PIDS+=($!)
node "$ROOT/loadtests/slow-readers.mjs" --port "$PORT" --clients "$SLOW_READERS" --seconds "$DURATION" \
  --path-prefix /size/8388608/slow- --objects 8 > "$WORK/slow.txt" 2>&1 &
PIDS+=($!)

PEAK=0
printf 'second\tcgroup_bytes\tmemory_bytes\tmemory_max\tdisk_entries\tsheds\n' > "$WORK/monitor.tsv"
START=$(date +%s)
while [ $(( $(date +%s) - START )) -lt "$DURATION" ] && kill -0 "$JAVA_PID" 2>/dev/null; do
  sleep 5
  U=$(usage); [ "$U" -gt "$PEAK" ] && PEAK=$U
  S=$(curl -fs -m 5 "http://127.0.0.1:$ADMIN_PORT/stats" || echo '{}')
  echo "$S" | python3 -c "import json,sys; s=json.load(sys.stdin); m=s.get('memory',{}); d=s.get('disk',{}); print('\t'.join(str(x) for x in [$(( $(date +%s) - START )), $U, m.get('bytes'), m.get('maxBytes'), d.get('entries'), m.get('sheds')]))" >> "$WORK/monitor.tsv"
done
sleep 2

# ---------------------------------------------------------------- verdict
ALIVE=no; kill -0 "$JAVA_PID" 2>/dev/null && ALIVE=yes
SERVING=no
[ "$ALIVE" = yes ] && curl -fs -m 10 "$URL/p/999999999" -o /dev/null && SERVING=yes
OOM_LOGGED=$( (grep -cE "java.lang.OutOfMemoryError|OutOfMemoryError:" "$WORK/proxy.out" "$WORK/proxy.err" 2>/dev/null || true) | awk -F: '{s+=$2} END {print s+0}')
CG_OOMS=$(ooms || echo 0)
STATS=$(curl -fs -m 5 "http://127.0.0.1:$ADMIN_PORT/stats" || echo '{}')
HEAP_PEAK=$(grep -o '[0-9]*M->[0-9]*M' "$WORK/gc.log" | sed 's/.*->//; s/M//' | sort -n | tail -1)
GCS=$(grep -c 'Pause' "$WORK/gc.log" || true)
FULL=$(grep -c 'Pause Full' "$WORK/gc.log" || true)
reqs() { sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$1"; }
if [ "$ALIVE" = yes ] && [ "$SERVING" = yes ] && [ "$OOM_LOGGED" = 0 ] && [ "${CG_OOMS:-0}" = 0 ]; then
  VERDICT="no OOM: alive and serving after ${DURATION}s"
else
  VERDICT="OOM or failure: alive=$ALIVE serving=$SERVING OutOfMemoryError lines=$OOM_LOGGED cgroup oom_kill=${CG_OOMS:-?}"
fi

mkdir -p "$(dirname "$RESULT")"
{
  echo "# Memory stress of the shipped configuration"
  echo
  echo "Run: $(date -u '+%Y-%m-%d %H:%M UTC'), \`bash loadtests/memory-stress.sh\` (DURATION=$DURATION), $(nproc) CPUs,"
  echo "$(java -version 2>&1 | head -1). Commit $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')."
  echo
  echo "**Result: $VERDICT.**"
  echo
  echo "| what | value |"
  echo "| --- | --- |"
  echo "| memory limit | $LIMIT ($CG_KIND) |"
  echo "| JVM flags | \`$ENTRY_OPTS\`, JAVA_TOOL_OPTIONS \`$TOOL_OPTS\` (the Dockerfile's) |"
  echo "| max heap as the JVM saw it | $HEAP_SEEN |"
  echo "| config | k8s/configmap.yaml proxy.json (disk tier on; listeners on 127.0.0.1; access log off) |"
  echo "| small fills (1 KiB, all misses) | $(reqs "$WORK/wrk-small.txt") requests |"
  echo "| 1 MiB fills (all misses) | $(reqs "$WORK/wrk-1mib.txt") requests |"
  echo "| hits (200 x 16 KiB) | $(reqs "$WORK/wrk-hits.txt") requests |"
  echo "| slow readers ($SLOW_READERS x 8 MiB at ~128 KiB/s) | $(cat "$WORK/slow.txt" | tail -1) |"
  echo "| peak cgroup memory (5 s samples) | $((PEAK >> 20)) MiB |"
  echo "| largest heap after a GC | ${HEAP_PEAK:-?} MiB ($GCS pauses, $FULL full) |"
  echo "| /stats at the end | \`$(echo "$STATS" | python3 -c "import json,sys; s=json.load(sys.stdin); m=s.get('memory',{}); d=s.get('disk',{}); print(f\"memory {m.get('entries')} entries {m.get('bytes')} of {m.get('maxBytes')} B, sheds {m.get('sheds')}; disk {d.get('entries')} entries {d.get('bytes')} B\")" 2>/dev/null || echo '?')\` |"
  echo
  echo "Samples every 5 s (cgroup bytes, memory tier bytes and bound, disk entries, sheds):"
  echo
  echo '```'
  cat "$WORK/monitor.tsv"
  echo '```'
} > "$RESULT"
echo "memory-stress: $VERDICT (report: $RESULT)"
[[ "$VERDICT" == no\ OOM* ]]
