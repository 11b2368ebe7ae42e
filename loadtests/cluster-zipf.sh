#!/usr/bin/env bash
# edgecache cluster: origin fetches and hit ratio of a Zipf workload on 1, 2 and 3 nodes, in
# replicated and in sharded mode (README, "Running a cluster").
#
# All on 127.0.0.1:
#   1. starts loadtests/sized-origin.mjs (/p/<n>: BODY-byte body, Cache-Control: public,
#      max-age=3600; GET /__count counts what it served)
#   2. for each MODE in MODES and each N in NODES: starts N edgecache nodes (memory tier only,
#      cluster.enabled, static members list, a cluster name of their own), waits until every
#      node's /readyz is 200 and its GET /cluster lists N trusted members. MODE "none" runs N
#      independent nodes without a cluster section: the baseline, today's replicas behind a
#      load balancer
#   3. runs loadtests/zipf-client.mjs: REQUESTS requests drawn from a Zipf(s=ZIPF_S)
#      distribution over KEYS keys (same seeded sequence in every configuration), request i to
#      node i mod N, CONCURRENCY in flight, all with "Host: zipf.test" (as behind a load
#      balancer: the cache key includes the host); classifies each answer by the node's own
#      Cache-Status member (hit / peer fill / miss)
#   4. reads the origin's counter before and after, and each node's peer-fill metrics; stops
#      the nodes
#   5. writes a table to RESULTS (loadtests/results/cluster-zipf.md); raw JSON, configs and
#      logs go to loadtests/results/raw/cluster-zipf-<stamp>/ (git-ignored)
# Every process it starts is stopped by PID on exit (trap), also on Ctrl-C.
#
# Knobs (environment):
#   MODES="none replicated sharded" NODES="1 2 3" KEYS=10000 REQUESTS=100000 ZIPF_S=1.0 SEED=42
#   CONCURRENCY=32 BODY=1024 MEMORY_MAX=64MiB (per node; keeps all 10k keys of 1 KiB)
#   EDGECACHE_JAVA_OPTS="-Xms256m -Xmx512m" ORIGIN_PORT=18400 BASE_PORT=18400 (node i: traffic
#   BASE_PORT+i, admin BASE_PORT+1000+i) CLUSTER_PORT=5900 (node i: bind CLUSTER_PORT+10i+1,
#   event bus CLUSTER_PORT+10i+2) STARTUP_TIMEOUT=90 KEEP_WORK=0
#   ATTEMPTS=3: a configuration in which a node exits during the run (it should not; a process
#   outside the script killing it is what was seen) is run again, up to this many times; the
#   last attempt is reported with the exited nodes named in the errors column
#   EDGECACHE_JAR=proxy/target/edgecache.jar REBUILD=0 RESULTS=loadtests/results/cluster-zipf.md
set -Eeuo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HERE="$ROOT/loadtests"
LOG_TAG="cluster-zipf"

MODES="${MODES:-none replicated sharded}"
NODES="${NODES:-1 2 3}"
KEYS="${KEYS:-10000}"
REQUESTS="${REQUESTS:-100000}"
ZIPF_S="${ZIPF_S:-1.0}"
SEED="${SEED:-42}"
CONCURRENCY="${CONCURRENCY:-32}"
BODY="${BODY:-1024}"
MEMORY_MAX="${MEMORY_MAX:-64MiB}"
EDGECACHE_JAVA_OPTS="${EDGECACHE_JAVA_OPTS:--Xms256m -Xmx512m}"
# what Hazelcast asks of Java 17+ (without them it only warns)
HAZELCAST_JAVA_OPTS="--add-modules java.se --add-exports java.base/jdk.internal.ref=ALL-UNNAMED --add-opens java.base/java.lang=ALL-UNNAMED --add-opens java.base/java.nio=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED --add-opens java.management/sun.management=ALL-UNNAMED --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED"
ORIGIN_PORT="${ORIGIN_PORT:-18400}"
BASE_PORT="${BASE_PORT:-18400}"
CLUSTER_PORT="${CLUSTER_PORT:-5900}"
STARTUP_TIMEOUT="${STARTUP_TIMEOUT:-90}"
ATTEMPTS="${ATTEMPTS:-3}"
KEEP_WORK="${KEEP_WORK:-0}"
EDGECACHE_JAR="${EDGECACHE_JAR:-$ROOT/proxy/target/edgecache.jar}"
REBUILD="${REBUILD:-0}"
RESULTS="${RESULTS:-$HERE/results/cluster-zipf.md}"
QUIET_WAIT=0 QUIET_MAX=1

WORK=""
# shellcheck source=loadtests/bench-lib.sh
source "$HERE/bench-lib.sh"

for c in node curl java ss awk; do command -v "$c" >/dev/null || die "$c is required"; done
MAX_N=0
for n in $NODES; do ((n > MAX_N)) && MAX_N=$n; done
((MAX_N >= 1 && MAX_N <= 9)) || die "NODES: 1 to 9 nodes per configuration"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/edgecache-cluster-zipf.XXXXXX")"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
RAW="$HERE/results/raw/cluster-zipf-$STAMP"
mkdir -p "$RAW" "$(dirname "$RESULTS")"
traffic_port() { echo $((BASE_PORT + $1)); }
admin_port() { echo $((BASE_PORT + 1000 + $1)); }
bind_port() { echo $((CLUSTER_PORT + 10 * $1 + 1)); }
bus_port() { echo $((CLUSTER_PORT + 10 * $1 + 2)); }
for p in "$ORIGIN_PORT"; do port_free "$p" || die "port $p on 127.0.0.1 is in use"; done
for ((i = 1; i <= MAX_N; i++)); do
  for p in "$(traffic_port "$i")" "$(admin_port "$i")" "$(bind_port "$i")" "$(bus_port "$i")"; do
    port_free "$p" || die "port $p on 127.0.0.1 is in use (override BASE_PORT / CLUSTER_PORT)"
  done
done

# a token for this run only; the nodes read it as cluster.token "env:EDGECACHE_CLUSTER_TOKEN"
EDGECACHE_CLUSTER_TOKEN="$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
export EDGECACHE_CLUSTER_TOKEN

ORIGIN_URL="http://127.0.0.1:$ORIGIN_PORT"
origin_count() { curl -fsS --max-time 5 "$ORIGIN_URL/__count" | sed -E 's/^\{"requests":([0-9]+).*/\1/'; }
json_get() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const o=JSON.parse(s);let v=o;for(const k of process.argv[1].split("."))v=v==null?undefined:v[k];console.log(v===undefined?"":typeof v==="object"?JSON.stringify(v):v)})' "$1"; }

# members N ADMIN-PORT: how many trusted members GET /cluster lists (empty if it does not answer)
trusted_members() {
  curl -fsS --max-time 5 "http://127.0.0.1:$1/cluster" 2>/dev/null \
    | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{const o=JSON.parse(s);console.log((o.members||[]).filter(m=>m.trusted!==false).length)}catch(e){console.log("")}})' || true
}

# peer_fills ADMIN-PORT: "outcome=count ..." from edgecache_peer_fills_total (empty if absent)
peer_fills() {
  curl -fsS --max-time 10 "http://127.0.0.1:$1/metrics" 2>/dev/null \
    | awk '/^edgecache_peer_fills_total\{/ { o = $0; sub(/.*outcome="/, "", o); sub(/".*/, "", o); c[o] += $NF }
           END { for (k in c) printf "%s=%.0f ", k, c[k] }' || true
}

# ---------------------------------------------------------------- origin
start_bg origin "" node "$HERE/sized-origin.mjs" --host 127.0.0.1 --port "$ORIGIN_PORT" --max-age 3600 --tiny "$BODY"
ORIGIN_PID=$LAST_PID
wait_http origin "$ORIGIN_PID" "$ORIGIN_URL/__count" 200 || die "origin did not start"
ensure_jar
read -r -a JOPTS <<<"$EDGECACHE_JAVA_OPTS $HAZELCAST_JAVA_OPTS"
log "origin on :$ORIGIN_PORT; $EDGE_VERSION"

on_cleanup() {
  [[ -n "${RAW:-}" && -d "$RAW" && -n "${WORK:-}" ]] || return 0
  cp "$WORK"/*.log "$RAW/" 2>/dev/null || true
}

# ---------------------------------------------------------------- one configuration
# retry_or_die ATTEMPT MESSAGE PID...: stop the nodes; give up on the last attempt, else warn
retry_or_die() {
  local attempt="$1" msg="$2" pid; shift 2
  for pid in "$@"; do stop_bg "$pid"; done
  ((attempt < ATTEMPTS)) || die "$msg"
  warn "$msg (attempt $attempt of $ATTEMPTS; trying again)"
}

ROWS=()
run_config() {
  local mode="$1" n="$2" attempt="$3" name="zipf-$mode-$n-$STAMP" i members pids=() before after fetches out
  local -a seeds=()
  for ((i = 1; i <= n; i++)); do seeds+=("\"127.0.0.1:$(bind_port "$i")\""); done
  local seed_list
  seed_list="$(IFS=,; echo "${seeds[*]}")"
  log "== $mode, $n node(s)"
  for ((i = 1; i <= n; i++)); do
    local cfg="$WORK/$mode-$n-node$i.json"
    local cluster=""
    if [[ "$mode" != none ]]; then
      cluster=",
  \"cluster\": {
    \"enabled\": true,
    \"name\": \"$name\",
    \"bind\": \"127.0.0.1:$(bind_port "$i")\",
    \"members\": [$seed_list],
    \"mode\": \"$mode\",
    \"token\": \"env:EDGECACHE_CLUSTER_TOKEN\",
    \"eventBusPort\": $(bus_port "$i")
  }"
    fi
    cat >"$cfg" <<EOF
{
  "listen": { "host": "127.0.0.1", "port": $(traffic_port "$i") },
  "admin": { "host": "127.0.0.1", "port": $(admin_port "$i") },
  "origins": [ { "name": "zipf-origin", "url": "$ORIGIN_URL", "hosts": ["*"] } ],
  "accessLog": { "enabled": false },
  "memory": { "maxBytes": "$MEMORY_MAX", "maxObjectBytes": "64KiB", "fillBufferBytes": "32MiB" }$cluster
}
EOF
    cp "$cfg" "$RAW/"
    start_bg "$mode-$n-node$i" "" java "${JOPTS[@]}" -jar "$JAR" --config "$cfg"
    pids+=("$LAST_PID")
  done
  for ((i = 1; i <= n; i++)); do
    wait_http "$mode-$n-node$i" "${pids[$((i - 1))]}" "http://127.0.0.1:$(admin_port "$i")/readyz" 200 \
      || { retry_or_die "$attempt" "$mode, $n node(s): node $i did not become ready" "${pids[@]}"; return 1; }
  done
  local deadline=$((SECONDS + STARTUP_TIMEOUT))
  for ((i = 1; i <= n; i++)); do
    [[ "$mode" == none ]] && break
    while members="$(trusted_members "$(admin_port "$i")")"; [[ "$members" != "$n" ]]; do
      ((SECONDS < deadline)) || { retry_or_die "$attempt" "$mode, $n node(s): node $i's GET /cluster lists ${members:-no answer} trusted member(s), expected $n" "${pids[@]}"; return 1; }
      sleep 0.2
    done
  done
  log "   $n node(s) ready${cluster:+, each lists $n trusted member(s)}"

  local urls=""
  for ((i = 1; i <= n; i++)); do urls+="${urls:+,}http://127.0.0.1:$(traffic_port "$i")"; done
  before="$(origin_count)"
  out="$(node "$HERE/zipf-client.mjs" --urls "$urls" --keys "$KEYS" --requests "$REQUESTS" --s "$ZIPF_S" \
    --seed "$SEED" --concurrency "$CONCURRENCY" --prefix /p/)" || die "$mode, $n node(s): zipf client failed"
  after="$(origin_count)"
  fetches=$((after - before))
  local dead=""
  for ((i = 1; i <= n; i++)); do
    if ! alive "${pids[$((i - 1))]}"; then
      dead+=" node$i"
      warn "$mode, $n node(s): node $i exited during the run; last log lines:"
      tail -n 5 "$WORK/$mode-$n-node$i.log" >&2 || true
    fi
  done
  echo "$out" >"$RAW/$mode-$n-client.json"
  local entries="" e
  for ((i = 1; i <= n; i++)); do
    e="$(curl -fsS --max-time 10 "http://127.0.0.1:$(admin_port "$i")/stats" 2>/dev/null | json_get memory.entries || true)"
    entries+="${entries:+ / }${e:-?}"
  done
  local fills=""
  for ((i = 1; i <= n; i++)); do fills+="node$i: $(peer_fills "$(admin_port "$i")")"$'\n'; done
  printf '%s' "$fills" >"$RAW/$mode-$n-peer-fills.txt"
  local outcomes
  outcomes="$(printf '%s' "$fills" | awk '{ for (f = 2; f <= NF; f++) { split($f, kv, "="); c[kv[1]] += kv[2] } }
    END { s = ""; for (k in c) s = s (s ? ", " : "") k " " c[k]; print (s ? s : "-") }')"
  for ((i = 1; i <= n; i++)); do stop_bg "${pids[$((i - 1))]}"; done

  local hit peer miss errors non2xx ms distinct per_node
  hit="$(json_get hit <<<"$out")"; peer="$(json_get peer <<<"$out")"; miss="$(json_get miss <<<"$out")"
  errors="$(json_get errors <<<"$out")"; non2xx="$(json_get non2xx <<<"$out")"; ms="$(json_get elapsedMs <<<"$out")"
  distinct="$(json_get distinctKeys <<<"$out")"; per_node="$(json_get distinctPerNodeSum <<<"$out")"
  local row
  row="$(awk -v mode="$mode" -v n="$n" -v r="$REQUESTS" -v f="$fetches" -v h="$hit" -v p="$peer" -v m="$miss" \
    -v e="$errors" -v x="$non2xx" -v ms="$ms" -v d="$distinct" -v pn="$per_node" -v o="$outcomes" -v dead="$dead" -v ent="$entries" 'BEGIN {
      printf "| %s | %d | %d | %d | %.3f | %.3f | %d | %s | %d | %d | %.1f | %s | %d / %d%s | %.1f |",
        mode, n, r, f, 1 - f / r, h / r, p, o, d, pn, f / d, ent, e, x, dead == "" ? "" : " (exited:" dead ")", ms / 1000 }')"
  if [[ -n "$dead" && "$attempt" -lt "$ATTEMPTS" ]]; then
    warn "$mode, $n node(s): attempt $attempt of $ATTEMPTS lost a node; not counted, trying again"
    return 1
  fi
  ROWS+=("$row")
  log "   origin fetches $fetches (distinct keys $distinct, per-node sum $per_node), node hits $hit, peer fills $peer, misses $miss, errors $errors"
}

for mode in $MODES; do
  for n in $NODES; do
    for ((attempt = 1; ; attempt++)); do run_config "$mode" "$n" "$attempt" && break; done
  done
done

# ---------------------------------------------------------------- report
{
  echo "# Cluster: origin fetches of a Zipf workload over 1–$MAX_N nodes"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $EDGE_VERSION, JVM opts \`$EDGECACHE_JAVA_OPTS\` (+ Hazelcast's --add-opens)."
  echo "Workload: $REQUESTS GETs, Zipf s=$ZIPF_S over $KEYS keys (seed $SEED, the same sequence in every row),"
  echo "request i to node i mod N (one Host for all), $CONCURRENCY in flight; $BODY-byte bodies, max-age 3600; memory tier"
  echo "$MEMORY_MAX per node, no disk tier; every configuration starts cold."
  echo "Command: \`MODES=\"$MODES\" NODES=\"$NODES\" KEYS=$KEYS REQUESTS=$REQUESTS ZIPF_S=$ZIPF_S MEMORY_MAX=$MEMORY_MAX bash loadtests/cluster-zipf.sh\`"
  echo
  echo "| mode | nodes | requests | origin fetches | cluster hit ratio (1 − fetches/requests) | node hit ratio | peer fills (client) | peer fills (metrics) | distinct keys | Σ distinct keys per node | fetches / distinct key | memory entries per node at the end | errors / non-2xx | seconds |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "- *origin fetches*: requests the origin served during the run (its own counter)."
  echo "- *node hit ratio*: answers whose Cache-Status says \`hit\` at the node asked."
  echo "- *peer fills (client)*: answers whose Cache-Status carries \`detail=\"peer …\"\` (filled from the"
  echo "  key's owner); *(metrics)*: \`edgecache_peer_fills_total\` summed over the nodes, by outcome."
  echo "- *distinct keys*: different keys in the whole sequence, the least any cache must fetch;"
  echo "  *Σ distinct keys per node*: the different keys each node was asked for, added up: what"
  echo "  N independent caches (replicated mode) must fetch. See README, \"Running a cluster\"."
} >"$RESULTS"
cp "$RESULTS" "$RAW/"
log "wrote $RESULTS"
cat "$RESULTS"
