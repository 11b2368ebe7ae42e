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
#
# With IMAGE set (loadtests/image-stress.sh sets it) the proxy is that container image instead,
# run by podman as the StatefulSet runs it: --memory LIMIT, read-only root filesystem, a 64 MiB
# tmpfs on /tmp, a fresh named volume on the cache path, the config directory mounted read-only,
# all capabilities dropped, the image's own entry point and JAVA_TOOL_OPTIONS. OOM then also
# means podman's State.OOMKilled or a kill by signal, and the verdict adds the HEALTHCHECK.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-180}
SLOW_READERS=${SLOW_READERS:-200}
LIMIT=${LIMIT:-2G}
ORIGIN_PORT=${ORIGIN_PORT:-18300}
PORT=${PORT:-18380}
ADMIN_PORT=${ADMIN_PORT:-18390}
JAR=$ROOT/proxy/target/edgecache.jar
IMAGE=${IMAGE:-}
if [ -n "$IMAGE" ]; then
  RESULT=${RESULT:-$ROOT/loadtests/results/image-stress.md}
else
  RESULT=${RESULT:-$ROOT/loadtests/results/memory-stress.md}
fi
WORK=$(mktemp -d /tmp/edgecache-memory-stress.XXXXXX)
PIDS=()

TOOLS="java node wrk python3 curl"
[ -n "$IMAGE" ] && TOOLS="podman node wrk python3 curl"
for tool in $TOOLS; do
  command -v "$tool" >/dev/null || { echo "memory-stress: $tool is needed" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "memory-stress: run as root (it creates a memory cgroup)" >&2; exit 2; }
if [ -z "$IMAGE" ] && [ ! -f "$JAR" ]; then
  (cd "$ROOT" && mvn -q -B -DskipTests package)
fi

for port in "$PORT" "$ADMIN_PORT" "$ORIGIN_PORT" "$((ORIGIN_PORT + 1))"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "memory-stress: port $port is in use (set PORT, ADMIN_PORT, ORIGIN_PORT)" >&2; exit 2
  fi
done

# ---------------------------------------------------------------- cgroup
# The jar runs in a memory cgroup made here; the image in the one podman makes for the container
# (found through the container's first process once it runs: container_cgroup below).
CG=
if [ -n "$IMAGE" ]; then
  CG_KIND="podman run --memory"
  container_cgroup() {
    local pid line
    pid=$(podman inspect -f '{{.State.Pid}}' "$CID" 2>/dev/null) || return 1
    [ -n "$pid" ] && [ "$pid" != 0 ] || return 1
    if line=$(grep -m1 '^[0-9]*:memory:' "/proc/$pid/cgroup" 2>/dev/null); then
      CG=/sys/fs/cgroup/memory${line#*:memory:}
      CG_KIND="podman run --memory (cgroup v1 memory.limit_in_bytes)"
      usage() { cat "$CG/memory.usage_in_bytes" 2>/dev/null || echo 0; }
      ooms() { awk '$1 == "oom_kill" {print $2}' "$CG/memory.oom_control" 2>/dev/null || echo 0; }
    else
      line=$(grep -m1 '^0::' "/proc/$pid/cgroup")
      CG=/sys/fs/cgroup${line#0::}
      CG_KIND="podman run --memory (cgroup v2 memory.max)"
      usage() { cat "$CG/memory.current" 2>/dev/null || echo 0; }
      ooms() { awk '$1 == "oom_kill" {print $2}' "$CG/memory.events" 2>/dev/null || echo 0; }
    fi
  }
  usage() { echo 0; }
  ooms() { echo 0; }
elif [ -f /sys/fs/cgroup/cgroup.controllers ]; then
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

CID=
VOLUME=edgecache-stress-$$
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "$IMAGE" ]; then
    # the container and its volume were made here; podman removes the cgroup with the container
    [ -n "$CID" ] && podman rm -f -t 40 "$CID" >/dev/null 2>&1 || true
    podman volume rm -f "$VOLUME" >/dev/null 2>&1 || true
    return
  fi
  # anything still in the cgroup was started here (the proxy): end it, then remove the cgroup
  for p in $(cat "$CG/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
  for _ in 1 2 3 4 5; do rmdir "$CG" 2>/dev/null && break; sleep 1; done
}
trap cleanup EXIT

# ---------------------------------------------------------------- config and flags
DISK_PATH=$WORK/cache
[ -n "$IMAGE" ] && DISK_PATH=/var/cache/edgecache   # the volume, as in the StatefulSet
python3 - "$ROOT/k8s/configmap.yaml" "$DISK_PATH" "$PORT" "$ADMIN_PORT" "$ORIGIN_PORT" > "$WORK/proxy.json" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
block = text.split("proxy.json: |", 1)[1]
lines = [l[4:] for l in block.splitlines()[1:] if l.startswith("    ") or not l.strip()]
cfg = json.loads("\n".join(lines))
disk_path, port, admin, origin = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
cfg["listen"].update(host="127.0.0.1", port=port)
cfg["admin"].update(host="127.0.0.1", port=admin)
cfg["admin"].pop("token", None)
cfg["origins"] = [{"name": "origin", "url": f"http://127.0.0.1:{origin}", "hosts": ["*"]}]
cfg["disk"]["path"] = disk_path
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
if [ -n "$IMAGE" ]; then
  # what the image itself holds, not what this checkout's Dockerfile says
  TOOL_OPTS=$(podman image inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$IMAGE" | sed -n 's/^JAVA_TOOL_OPTIONS=//p')
  ENTRY_OPTS=$(podman image inspect -f '{{range .Config.Entrypoint}}{{.}} {{end}}' "$IMAGE" | sed 's/^java //; s/ -jar .*//')
  HEAP_SEEN=$(podman run --rm --memory "$LIMIT" --entrypoint java "$IMAGE" -XshowSettings:vm -version 2>&1 \
    | sed -n 's/.*Max. Heap Size (Estimated): //p')
else
  in_cgroup() { bash -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG" "$@"; }
  HEAP_SEEN=$(JAVA_TOOL_OPTIONS="$TOOL_OPTS" in_cgroup java -XshowSettings:vm -version 2>&1 \
    | sed -n 's/.*Max. Heap Size (Estimated): //p')
fi

# ---------------------------------------------------------------- origin and proxy
node "$ROOT/loadtests/sized-origin.mjs" --port "$ORIGIN_PORT" --tiny 1024 --max-size $((16 << 20)) \
  > "$WORK/origin.log" 2>&1 &
PIDS+=($!)
if [ -n "$IMAGE" ]; then
  # The StatefulSet's way: config directory read-only, cache volume, writable /tmp only (its
  # emptyDir has sizeLimit 64Mi; a tmpfs here, which is charged to the container's memory, so this
  # is the stricter case), no capabilities, no privilege escalation. Host network, so the
  # load reaches the listeners and the container reaches the origin on 127.0.0.1.
  # JDK_JAVA_OPTIONS adds to the image's flags without replacing JAVA_TOOL_OPTIONS: a GC log on
  # a mounted directory, and -Xshare:on so that a CDS archive the JVM cannot map stops the run.
  mkdir -p "$WORK/conf" "$WORK/log"
  mv "$WORK/proxy.json" "$WORK/conf/proxy.json"
  chmod 0755 "$WORK" "$WORK/conf"; chmod 0644 "$WORK/conf/proxy.json"; chown 10001:10001 "$WORK/log"
  podman volume create "$VOLUME" >/dev/null
  CID=$(podman run -d --name "edgecache-stress-$$" --network=host \
    --memory "$LIMIT" --memory-swap "$LIMIT" \
    --read-only --read-only-tmpfs=false --tmpfs /tmp:rw,exec,nosuid,nodev,size=64m,mode=1777 \
    --cap-drop=ALL --security-opt=no-new-privileges \
    -v "$VOLUME:/var/cache/edgecache" -v "$WORK/conf:/opt/edgecache/conf:ro" -v "$WORK/log:/var/log/edgecache" \
    -e EDGECACHE_ADMIN_PORT="$ADMIN_PORT" \
    -e JDK_JAVA_OPTIONS="-Xshare:on -Xlog:gc:file=/var/log/edgecache/gc.log${EXTRA_JAVA_OPTIONS:+ $EXTRA_JAVA_OPTIONS}" \
    "$IMAGE" 2>"$WORK/podman-run.err") || { cat "$WORK/podman-run.err"; exit 1; }
  CID=${CID:0:12}
  alive() { [ "$(podman inspect -f '{{.State.Running}}' "$CID" 2>/dev/null)" = true ]; }
  proxy_logs() { podman logs "$CID" > "$WORK/proxy.out" 2> "$WORK/proxy.err" || true; }
  GC_LOG=$WORK/log/gc.log
  WHO="container $CID ($IMAGE)"
  for _ in $(seq 1 40); do container_cgroup && break; sleep 0.25; done
else
  # not through the in_cgroup function: a backgrounded function is a subshell, and $! must be java
  JAVA_TOOL_OPTIONS="$TOOL_OPTS" bash -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG" java $ENTRY_OPTS \
    -Xlog:gc:file="$WORK/gc.log" ${EXTRA_JAVA_OPTIONS:-} -jar "$JAR" --config "$WORK/proxy.json" > "$WORK/proxy.out" 2> "$WORK/proxy.err" &
  JAVA_PID=$!
  PIDS+=($JAVA_PID)
  alive() { kill -0 "$JAVA_PID" 2>/dev/null; }
  proxy_logs() { :; }
  GC_LOG=$WORK/gc.log
  WHO="proxy pid $JAVA_PID"
fi
for _ in $(seq 1 120); do
  curl -fs "http://127.0.0.1:$ADMIN_PORT/readyz" >/dev/null 2>&1 && break
  alive || { proxy_logs; echo "memory-stress: the proxy did not start:"; cat "$WORK/proxy.out" "$WORK/proxy.err"; exit 1; }
  sleep 0.5
done
echo "memory-stress: $WHO in $CG_KIND $LIMIT (JVM max heap $HEAP_SEEN), ${DURATION}s of load; work dir $WORK"

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
printf 'second\tcgroup_bytes\tmemory_bytes\tmemory_max\tdisk_entries\tsheds\tdirect_bytes\n' > "$WORK/monitor.tsv"
START=$(date +%s)
while [ $(( $(date +%s) - START )) -lt "$DURATION" ] && alive; do
  sleep 5
  U=$(usage); [ "$U" -gt "$PEAK" ] && PEAK=$U
  S=$(curl -fs -m 5 "http://127.0.0.1:$ADMIN_PORT/stats" || echo '{}')
  # direct memory in use (Netty's own count, which edgecache exports), from /metrics
  DIRECT=$(curl -fs -m 5 "http://127.0.0.1:$ADMIN_PORT/metrics" 2>/dev/null \
    | awk '/^edgecache_direct_memory_used_bytes / {printf "%d", $2}' || true)
  echo "$S" | python3 -c "import json,sys; s=json.load(sys.stdin); m=s.get('memory',{}); d=s.get('disk',{}); print('\t'.join(str(x) for x in [$(( $(date +%s) - START )), $U, m.get('bytes'), m.get('maxBytes'), d.get('entries'), m.get('sheds'), '${DIRECT:-None}']))" >> "$WORK/monitor.tsv"
done
sleep 2

# ---------------------------------------------------------------- verdict
ALIVE=no; alive && ALIVE=yes
SERVING=no
[ "$ALIVE" = yes ] && curl -fs -m 10 "$URL/p/999999999" -o /dev/null && SERVING=yes
CG_OOMS=$(ooms || echo 0)
IMAGE_CHECKS=ok
if [ -n "$IMAGE" ]; then
  # podman's view: OOM-killed, or exited; the HEALTHCHECK (the image's, run now); what /tmp holds
  # (the StatefulSet gives it 64Mi); that the root filesystem refuses writes
  OOM_KILLED=$(podman inspect -f '{{.State.OOMKilled}}' "$CID")
  EXIT_CODE=$(podman inspect -f '{{.State.ExitCode}}' "$CID")
  HEALTHY=no; [ "$ALIVE" = yes ] && podman healthcheck run "$CID" >/dev/null 2>&1 && HEALTHY=yes
  TMP_USED=$(podman exec "$CID" du -sk /tmp 2>/dev/null | awk '{print $1 " KiB"}' || echo '?')
  ROOT_RO=no
  if [ "$ALIVE" = yes ]; then
    # as root in the container, so only a read-only mount can refuse it
    ROOT_WRITE=$(podman exec -u 0 "$CID" touch /opt/edgecache/write-test 2>&1 || true)
    [[ $ROOT_WRITE == *"Read-only file system"* ]] \
      && podman exec "$CID" sh -c 'touch /tmp/write-test && rm /tmp/write-test' && ROOT_RO=yes
  fi
  WHOAMI=$(podman exec "$CID" id -u 2>/dev/null || echo '?')
  [ "$OOM_KILLED" = false ] && [ "$HEALTHY" = yes ] && [ "$ROOT_RO" = yes ] && [ "$WHOAMI" = 10001 ] \
    || IMAGE_CHECKS="failed: OOMKilled=$OOM_KILLED exit=$EXIT_CODE healthy=$HEALTHY read-only root=$ROOT_RO uid=$WHOAMI"
fi
proxy_logs
OOM_LOGGED=$( (grep -cE "java.lang.OutOfMemoryError|OutOfMemoryError:" "$WORK/proxy.out" "$WORK/proxy.err" 2>/dev/null || true) | awk -F: '{s+=$2} END {print s+0}')
STATS=$(curl -fs -m 5 "http://127.0.0.1:$ADMIN_PORT/stats" || echo '{}')
HEAP_PEAK=$(grep -o '[0-9]*M->[0-9]*M' "$GC_LOG" | sed 's/.*->//; s/M//' | sort -n | tail -1)
GCS=$(grep -c 'Pause' "$GC_LOG" || true)
# direct memory (MaxDirectMemorySize) running out shows as full collections the JDK asks for
# (java.nio.Bits.reserveMemory calls System.gc() and waits) and as blocked event loops
DIRECT_GCS=$(grep -c 'Pause Full (System.gc())' "$GC_LOG" || true)
BLOCKED=$(cat "$WORK/proxy.out" "$WORK/proxy.err" 2>/dev/null | grep -c 'BlockedThreadChecker' || true)
# client connections closed because a write found no direct memory (nothing after the failed write is sent)
OOM_CLOSED=$(curl -fs -m 5 "http://127.0.0.1:$ADMIN_PORT/metrics" 2>/dev/null \
  | awk '/^edgecache_client_closed_out_of_memory_total / {printf "%d", $2}' || true)
FULL=$(grep -c 'Pause Full' "$GC_LOG" || true)
reqs() { sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$1"; }
if [ "$ALIVE" = yes ] && [ "$SERVING" = yes ] && [ "$OOM_LOGGED" = 0 ] && [ "${CG_OOMS:-0}" = 0 ] \
    && [ "$IMAGE_CHECKS" = ok ]; then
  VERDICT="no OOM: alive and serving after ${DURATION}s"
  [ -n "$IMAGE" ] && VERDICT="$VERDICT, HEALTHCHECK healthy"
elif [ "$IMAGE_CHECKS" != ok ]; then
  VERDICT="OOM or failure: alive=$ALIVE serving=$SERVING OutOfMemoryError lines=$OOM_LOGGED cgroup oom_kill=${CG_OOMS:-?} $IMAGE_CHECKS"
else
  VERDICT="OOM or failure: alive=$ALIVE serving=$SERVING OutOfMemoryError lines=$OOM_LOGGED cgroup oom_kill=${CG_OOMS:-?}"
fi

mkdir -p "$(dirname "$RESULT")"
if [ -n "$IMAGE" ]; then
  TITLE="Memory stress of the container image"
  COMMAND=${STRESS_COMMAND:-IMAGE=$IMAGE bash loadtests/memory-stress.sh}
  JAVA_SEEN=$(podman run --rm --entrypoint java "$IMAGE" -version 2>&1 || true)
  JAVA_SEEN="the image's $(echo "$JAVA_SEEN" | grep ' version ' | head -1)"
  FLAGS_FROM="the image's"
  CONFIG_NOTE="mounted read-only at /opt/edgecache/conf; disk tier on the volume at /var/cache/edgecache"
else
  TITLE="Memory stress of the shipped configuration"
  COMMAND="bash loadtests/memory-stress.sh"
  JAVA_SEEN=$(java -version 2>&1 | head -1)
  FLAGS_FROM="the Dockerfile's"
  CONFIG_NOTE="disk tier on"
fi
{
  echo "# $TITLE"
  echo
  echo "Run: $(date -u '+%Y-%m-%d %H:%M UTC'), \`$COMMAND\` (DURATION=$DURATION), $(nproc) CPUs,"
  echo "$JAVA_SEEN. Commit $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')."
  echo
  echo "**Result: $VERDICT.**"
  echo
  echo "| what | value |"
  echo "| --- | --- |"
  echo "| memory limit | $LIMIT ($CG_KIND) |"
  echo "| JVM flags | \`$ENTRY_OPTS\`, JAVA_TOOL_OPTIONS \`$TOOL_OPTS\` ($FLAGS_FROM) |"
  echo "| max heap as the JVM saw it | $HEAP_SEEN |"
  echo "| config | k8s/configmap.yaml proxy.json ($CONFIG_NOTE; listeners on 127.0.0.1; access log off) |"
  if [ -n "$IMAGE" ]; then
    echo "| container | \`--read-only\`, \`--tmpfs /tmp:rw,exec,nosuid,nodev,size=64m\`, named volume on /var/cache/edgecache, \`--cap-drop=ALL\`, uid $WHOAMI; JDK_JAVA_OPTIONS \`-Xshare:on\` (the CDS archive must map) + GC log |"
    echo "| podman State at the end | OOMKilled=$OOM_KILLED, running=$ALIVE, exit code $EXIT_CODE |"
    echo "| HEALTHCHECK (podman healthcheck run) | $HEALTHY |"
    echo "| root filesystem refuses writes, /tmp accepts them | $ROOT_RO |"
    echo "| /tmp in use at the end | $TMP_USED (StatefulSet emptyDir sizeLimit 64Mi) |"
  fi
  echo "| small fills (1 KiB, all misses) | $(reqs "$WORK/wrk-small.txt") requests |"
  echo "| 1 MiB fills (all misses) | $(reqs "$WORK/wrk-1mib.txt") requests |"
  echo "| hits (200 x 16 KiB) | $(reqs "$WORK/wrk-hits.txt") requests |"
  echo "| slow readers ($SLOW_READERS x 8 MiB at ~128 KiB/s) | $(cat "$WORK/slow.txt" | tail -1) |"
  echo "| peak cgroup memory (5 s samples) | $((PEAK >> 20)) MiB |"
  echo "| largest heap after a GC | ${HEAP_PEAK:-?} MiB ($GCS pauses, $FULL full) |"
  echo "| full GCs asked for by System.gc() (direct memory exhausted) | $DIRECT_GCS |"
  echo "| blocked event loop warnings (Vert.x BlockedThreadChecker) | $BLOCKED |"
  echo "| client connections closed for want of direct memory | ${OOM_CLOSED:-?} |"
  echo "| /stats at the end | \`$(echo "$STATS" | python3 -c "import json,sys; s=json.load(sys.stdin); m=s.get('memory',{}); d=s.get('disk',{}); print(f\"memory {m.get('entries')} entries {m.get('bytes')} of {m.get('maxBytes')} B, sheds {m.get('sheds')}; disk {d.get('entries')} entries {d.get('bytes')} B\")" 2>/dev/null || echo '?')\` |"
  echo
  echo "Samples every 5 s (cgroup bytes, memory tier bytes and bound, disk entries, sheds, direct buffer bytes; None: /stats or /metrics did not answer within 5 s):"
  echo
  echo '```'
  cat "$WORK/monitor.tsv"
  echo '```'
} > "$RESULT"
echo "memory-stress: $VERDICT (report: $RESULT)"
[[ "$VERDICT" == no\ OOM* ]]
