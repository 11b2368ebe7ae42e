#!/usr/bin/env bash
# edgecache: cache-hit throughput served from the memory tier vs the disk tier, in one run.
#
# All on 127.0.0.1:
#   1. starts loadtests/sized-origin.mjs (GET /size/N = N bytes, Cache-Control: public, max-age=3600)
#   2. starts TWO edgecache processes side by side (same jar, same JVM options, same CPUs):
#        tiered  - memory 256MiB / maxObjectBytes 64KiB over disk 1GiB / maxObjectBytes 64MiB /
#                  chunkBytes 512KiB: bodies > 64KiB are streamed from the disk tier on every hit
#        memonly - memory 256MiB / maxObjectBytes 8MiB, no disk: every size is a memory hit
#   3. fills each size on each edge and checks `Cache-Status: edgecache; hit`
#   4. runs wrk on every (edge, size) ROUNDS times, reversing the order every other round;
#      around every run reads /metrics edgecache_served_bytes_total{source=...} to prove where
#      the bytes came from (and that the origin saw nothing)
#   5. writes loadtests/results/disk-vs-memory.md; stops everything it started (trap on EXIT)
#
# Knobs (environment):
#   DURATION=10s ROUNDS=2 WARMUP=3s THREADS=2 CONNECTIONS=32 SIZES="16384 131072 1048576"
#   OBJECTS=1   distinct bodies per size (/size/N/o0 ...; wrk spreads requests with hot-set.lua):
#               with 1 a disk hit reads from LevelDB's 4 MiB memtable, with 64 from its table files
#   PIN=1 SERVER_CPUS=0 LOAD_CPUS=1    pin edgecache+origin to SERVER_CPUS, wrk to LOAD_CPUS
#   EDGECACHE_JAR=proxy/target/edgecache.jar REBUILD=0 EDGECACHE_JAVA_OPTS="-Xms1g -Xmx1g"
#   ORIGIN_PORT=18100 TIERED_PORT=18180 TIERED_ADMIN_PORT=19180 MEMONLY_PORT=18181 MEMONLY_ADMIN_PORT=19181
#   STARTUP_TIMEOUT=60 QUIET_WAIT=30 QUIET_MAX=0.3 KEEP_WORK=0
#   RESULTS=loadtests/results/disk-vs-memory.md
set -Eeuo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HERE="$ROOT/loadtests"
LOG_TAG="disk-vs-memory"

DURATION="${DURATION:-10s}"
ROUNDS="${ROUNDS:-2}"
WARMUP="${WARMUP:-3s}"
THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-32}"
SIZES="${SIZES:-16384 131072 1048576}"
OBJECTS="${OBJECTS:-1}"
PIN="${PIN:-1}"
SERVER_CPUS="${SERVER_CPUS:-0}"
LOAD_CPUS="${LOAD_CPUS:-1}"
EDGECACHE_JAR="${EDGECACHE_JAR:-$ROOT/proxy/target/edgecache.jar}"
REBUILD="${REBUILD:-0}"
EDGECACHE_JAVA_OPTS="${EDGECACHE_JAVA_OPTS:--Xms1g -Xmx1g}"
ORIGIN_PORT="${ORIGIN_PORT:-18100}"
TIERED_PORT="${TIERED_PORT:-18180}"
TIERED_ADMIN_PORT="${TIERED_ADMIN_PORT:-19180}"
MEMONLY_PORT="${MEMONLY_PORT:-18181}"
MEMONLY_ADMIN_PORT="${MEMONLY_ADMIN_PORT:-19181}"
STARTUP_TIMEOUT="${STARTUP_TIMEOUT:-60}"
QUIET_WAIT="${QUIET_WAIT:-30}"
QUIET_MAX="${QUIET_MAX:-0.3}"
KEEP_WORK="${KEEP_WORK:-0}"
RESULTS="${RESULTS:-$HERE/results/disk-vs-memory.md}"
MEM_MAX_OBJECT=65536 # tiered memory.maxObjectBytes (64KiB): bigger bodies are disk-only

WORK=""
# shellcheck source=loadtests/bench-lib.sh
source "$HERE/bench-lib.sh"

for c in node curl wrk java ss awk taskset; do command -v "$c" >/dev/null || die "$c is required"; done
NPROC="$(nproc)"
SRV_PIN="" LOAD_PIN=""
if [[ "$PIN" == 1 ]]; then
  if ((NPROC >= 2)); then SRV_PIN="$SERVER_CPUS"; LOAD_PIN="$LOAD_CPUS"; else warn "PIN=1 needs >= 2 CPUs; unpinned"; fi
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/edgecache-dvm.XXXXXX")"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
RAW="$HERE/results/raw/disk-vs-memory-$STAMP"
mkdir -p "$RAW" "$(dirname "$RESULTS")" "$WORK/disk"
TSV="$RAW/runs.tsv"
printf 'round\tedge\tsize\trps\tp50_ms\tp99_ms\tmax_ms\tnon2xx\tsocket_errors\tdisk_bytes\tmemory_bytes\torigin_bytes\torigin_requests\tserver_cpu\twrk_cpu\tother_cpu\n' >"$TSV"
LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"

for p in "$ORIGIN_PORT" "$TIERED_PORT" "$TIERED_ADMIN_PORT" "$MEMONLY_PORT" "$MEMONLY_ADMIN_PORT"; do
  port_free "$p" || die "port $p on 127.0.0.1 is in use (override with *_PORT variables)"
done

# ---------------------------------------------------------------- origin
ORIGIN_URL="http://127.0.0.1:$ORIGIN_PORT"
start_bg origin "$SRV_PIN" node "$HERE/sized-origin.mjs" --host 127.0.0.1 --port "$ORIGIN_PORT" --max-age 3600
ORIGIN_PID=$LAST_PID
wait_http origin "$ORIGIN_PID" "$ORIGIN_URL/__count" 200 || die "origin did not start"
origin_count() { curl -fsS --max-time 5 "$ORIGIN_URL/__count" | sed -E 's/^\{"requests":([0-9]+).*/\1/'; }

# ---------------------------------------------------------------- edgecache x2
ensure_jar
read -r -a JOPTS <<<"$EDGECACHE_JAVA_OPTS"
EDGE_GC="$(jvm_gc "$SRV_PIN" "${JOPTS[@]}")"
cat >"$WORK/tiered.json" <<EOF
{
  "listen": { "host": "127.0.0.1", "port": $TIERED_PORT },
  "admin": { "host": "127.0.0.1", "port": $TIERED_ADMIN_PORT },
  "origins": [ { "name": "sized-origin", "url": "$ORIGIN_URL", "hosts": ["*"] } ],
  "accessLog": { "enabled": false },
  "memory": { "maxBytes": "256MiB", "maxObjectBytes": "64KiB" },
  "disk": { "path": "$WORK/disk", "maxBytes": "1GiB", "maxObjectBytes": "64MiB", "chunkBytes": "512KiB" }
}
EOF
cat >"$WORK/memonly.json" <<EOF
{
  "listen": { "host": "127.0.0.1", "port": $MEMONLY_PORT },
  "admin": { "host": "127.0.0.1", "port": $MEMONLY_ADMIN_PORT },
  "origins": [ { "name": "sized-origin", "url": "$ORIGIN_URL", "hosts": ["*"] } ],
  "accessLog": { "enabled": false },
  "memory": { "maxBytes": "256MiB", "maxObjectBytes": "8MiB" },
  "disk": { "path": null }
}
EOF
cp "$WORK/tiered.json" "$WORK/memonly.json" "$RAW/"

declare -A PORT_OF=([tiered]=$TIERED_PORT [memonly]=$MEMONLY_PORT)
declare -A ADMIN_OF=([tiered]=$TIERED_ADMIN_PORT [memonly]=$MEMONLY_ADMIN_PORT)
declare -A PID_OF=()
for e in tiered memonly; do
  start_bg "$e" "$SRV_PIN" java "${JOPTS[@]}" -jar "$JAR" --config "$WORK/$e.json"
  PID_OF[$e]=$LAST_PID
done
for e in tiered memonly; do
  wait_http "$e" "${PID_OF[$e]}" "http://127.0.0.1:${ADMIN_OF[$e]}/readyz" 200 || die "edgecache ($e) did not become ready"
  log "edgecache $e up on :${PORT_OF[$e]} (admin :${ADMIN_OF[$e]}, pid ${PID_OF[$e]})"
done

# expected tier of a hit on EDGE for SIZE
expected_source() { if [[ "$1" == tiered ]] && (($2 > MEM_MAX_OBJECT)); then echo disk; else echo memory; fi; }

# ---------------------------------------------------------------- fill & verify HIT
# A disk write completes asynchronously after the response, so the 2nd request may still miss:
# retry (bounded) until a hit.
# the paths of SIZE: /size/SIZE alone, or OBJECTS distinct ones
paths() { if ((OBJECTS == 1)); then echo "/size/$1"; else for ((o = 0; o < OBJECTS; o++)); do echo "/size/$1/o$o"; done; fi; }
for size in $SIZES; do
  for e in tiered memonly; do
   for path in $(paths "$size"); do
    url="http://127.0.0.1:${PORT_OF[$e]}$path"
    hit=0
    for ((i = 1; i <= 40; i++)); do
      res="$(curl -sS --max-time 10 -D "$WORK/h.txt" -o /dev/null -w '%{http_code} %{size_download}' "$url" || echo 'ERR 0')"
      [[ "$res" == "200 $size" ]] || die "$e $url: expected '200 $size', got '$res'"
      if tr -d '\r' <"$WORK/h.txt" | grep -Eiq '^cache-status:.*edgecache;[[:space:]]*hit([[:space:]]*[;,]|[[:space:]]*$)'; then
        hit=1; break
      fi
      sleep 0.25
    done
    ((hit)) || die "$e $url: no cache hit after 40 requests; last headers: $(tr -d '\r' <"$WORK/h.txt" | tr '\n' '|')"
    tr -d '\r' <"$WORK/h.txt" >"$RAW/$e-$size.hit-headers.txt"
    log "$e $path: HIT after $i request(s) (expected source: $(expected_source "$e" "$size"))"
   done
  done
done
curl -fsS "http://127.0.0.1:$TIERED_ADMIN_PORT/stats" >"$RAW/tiered-stats-after-fill.json" || true

# ---------------------------------------------------------------- measure
WRK_CMD="wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency"
run_wrk() { # run_wrk EDGE SIZE DURATION OUTFILE
  local cmd=(wrk "-t$THREADS" "-c$CONNECTIONS" "-d$3" --latency "http://127.0.0.1:${PORT_OF[$1]}/size/$2")
  ((OBJECTS == 1)) || cmd=(wrk "-t$THREADS" "-c$CONNECTIONS" "-d$3" --latency -s "$HERE/hot-set.lua"
    "http://127.0.0.1:${PORT_OF[$1]}" -- "/size/$2/o" "$OBJECTS")
  [[ -n "$LOAD_PIN" ]] && cmd=(taskset -c "$LOAD_PIN" "${cmd[@]}")
  "${cmd[@]}" >"$4" 2>&1 || { warn "wrk failed ($1 /size/$2):"; cat "$4" >&2; return 1; }
}

declare -a CASES=()
for size in $SIZES; do CASES+=("tiered:$size" "memonly:$size"); done

if [[ "$WARMUP" != 0 && "$WARMUP" != 0s ]]; then
  for c in "${CASES[@]}"; do
    log "warm-up ${c%%:*} /size/${c#*:} for $WARMUP (not recorded)"
    run_wrk "${c%%:*}" "${c#*:}" "$WARMUP" "$RAW/warmup-${c%%:*}-${c#*:}.txt" || true
  done
fi

FAILED=0
SB='edgecache_served_bytes_total{source='
for ((r = 1; r <= ROUNDS; r++)); do
  order=("${CASES[@]}")
  if ((r % 2 == 0)); then order=(); for ((i = ${#CASES[@]} - 1; i >= 0; i--)); do order+=("${CASES[$i]}"); done; fi
  for c in "${order[@]}"; do
    e="${c%%:*}" size="${c#*:}" out="$RAW/round$r-${c%%:*}-${c#*:}.txt" ap="${ADMIN_OF[${c%%:*}]}"
    wait_quiet
    d0="$(metric "$ap" "${SB}\"disk\"}")"; m0="$(metric "$ap" "${SB}\"memory\"}")"; o0="$(metric "$ap" "${SB}\"origin\"}")"
    oc0="$(origin_count)"
    read -r busy0 total0 < <(cpu_ticks); srv0="$(tree_ticks "${PID_OF[$e]}")"; wrk0="$(child_ticks)"; all0="$(all_started_ticks)"
    log "round $r/$ROUNDS: $e /size/$size ($WRK_CMD)"
    if ! run_wrk "$e" "$size" "$DURATION" "$out"; then FAILED=1; continue; fi
    read -r busy1 total1 < <(cpu_ticks); srv1="$(tree_ticks "${PID_OF[$e]}")"; wrk1="$(child_ticks)"; all1="$(all_started_ticks)"
    d1="$(metric "$ap" "${SB}\"disk\"}")"; m1="$(metric "$ap" "${SB}\"memory\"}")"; o1="$(metric "$ap" "${SB}\"origin\"}")"
    oc1="$(origin_count)"
    read -r srv_cpu wrk_cpu other_cpu < <(awk -v n="$NPROC" -v b=$((busy1 - busy0)) -v t=$((total1 - total0)) \
      -v s=$((srv1 - srv0)) -v w=$((wrk1 - wrk0)) -v a=$((all1 - all0)) \
      'BEGIN { c = t / n; if (c <= 0) c = 1; x = b - a - w; if (x < 0) x = 0; printf "%.2f %.2f %.2f\n", s / c, w / c, x / c }')
    rps="$(awk '/^Requests\/sec:/{print $2}' "$out")"
    p50="$(to_ms "$(awk '$1=="50%"{print $2}' "$out")")"
    p99="$(to_ms "$(awk '$1=="99%"{print $2}' "$out")")"
    mx="$(to_ms "$(awk '$1=="Latency" && NF>=5 {print $4}' "$out")")"
    non2xx="$(awk '/Non-2xx or 3xx responses:/{print $NF}' "$out")"
    serr="$(awk '/Socket errors:/{sub(/^.*Socket errors: */,""); print}' "$out")"
    dd=$((d1 - d0)) dm=$((m1 - m0)) dorg=$((o1 - o0)) doc=$((oc1 - oc0))
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$e" "$size" "$rps" "$p50" "$p99" "$mx" \
      "${non2xx:-0}" "${serr:-}" "$dd" "$dm" "$dorg" "$doc" "$srv_cpu" "$wrk_cpu" "$other_cpu" >>"$TSV"
    log "  -> $rps req/s, p50 $p50 ms, p99 $p99 ms; served bytes disk $dd memory $dm origin $dorg; origin requests $doc; CPU server $srv_cpu wrk $wrk_cpu other $other_cpu${non2xx:+; NON-2XX $non2xx}${serr:+; socket errors: $serr}"
    want="$(expected_source "$e" "$size")"
    if [[ -n "$non2xx" || -n "$serr" ]]; then warn "$e /size/$size: errors in wrk output"; FAILED=1; fi
    if ((doc != 0 || dorg != 0)); then warn "$e /size/$size: the origin was reached during the run"; FAILED=1; fi
    if [[ "$want" == disk ]] && ((dm * 100 > dd)); then warn "$e /size/$size: expected disk hits, memory served $dm bytes"; FAILED=1; fi
    if [[ "$want" == memory ]] && ((dd * 100 > dm)); then warn "$e /size/$size: expected memory hits, disk served $dd bytes"; FAILED=1; fi
  done
done

for e in tiered memonly; do
  curl -fsS "http://127.0.0.1:${ADMIN_OF[$e]}/stats" >"$RAW/$e-stats-end.json" || true
  curl -fsS "http://127.0.0.1:${ADMIN_OF[$e]}/metrics" >"$RAW/$e-metrics-end.txt" || true
  log_problems "$e" >"$RAW/$e-log-problems.txt"
  if [[ -s "$RAW/$e-log-problems.txt" ]]; then warn "$e log has WARN/ERROR lines:"; sed 's/^/    /' "$RAW/$e-log-problems.txt" >&2; fi
done
for e in tiered memonly; do alive "${PID_OF[$e]}" || { warn "edgecache $e died during the run"; FAILED=1; }; done

# ---------------------------------------------------------------- report
META="$RAW/meta.json"
M_HOST="$(uname -srm)" M_CPU="$(awk -F': *' '/^model name/{print $2; exit}' /proc/cpuinfo)" \
M_MEM="$(awk '/^MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo)" \
M_FS="$(df -PT "$WORK" | awk 'NR==2{print $2 " on " $1}')" \
M_PIN="$(if [[ -n "$SRV_PIN" ]]; then echo "both edgecache JVMs and the origin on CPU $SRV_PIN, wrk on CPU $LOAD_PIN (taskset)"; else echo "none"; fi)" \
M_LOAD="$LOAD_START at start, $(cut -d' ' -f1-3 /proc/loadavg) at end" \
M_EDGE="${EDGE_VERSION:-unknown} (java $(java -version 2>&1 | awk -F'"' 'NR==1{print $2}'), $EDGECACHE_JAVA_OPTS${EDGE_GC:+, $EDGE_GC})" \
M_WRK="$WRK_CMD" M_OBJECTS="$OBJECTS" M_DURATION="$DURATION" M_ROUNDS="$ROUNDS" M_WARMUP="$WARMUP" M_NPROC="$NPROC" M_RAW="${RAW#"$ROOT"/}" \
node -e '
const e = process.env;
require("fs").writeFileSync(process.argv[1], JSON.stringify({
  date: new Date().toISOString().replace(/\.\d+Z$/, "Z"), host: e.M_HOST, cpu: e.M_CPU, nproc: e.M_NPROC,
  memory: e.M_MEM, filesystem: e.M_FS, pinning: e.M_PIN, loadavg: e.M_LOAD, edgecache: e.M_EDGE,
  wrk: e.M_WRK, objects: Number(e.M_OBJECTS), duration: e.M_DURATION, rounds: e.M_ROUNDS, warmup: e.M_WARMUP, rawDir: e.M_RAW }, null, 2));
' "$META"
node - "$TSV" "$META" "$RESULTS" "$WORK/tiered.json" "$WORK/memonly.json" "$FAILED" <<'EOF'
const fs = require('fs');
const [tsvPath, metaPath, out, tieredCfg, memCfg, failed] = process.argv.slice(2);
const meta = JSON.parse(fs.readFileSync(metaPath, 'utf8'));
const lines = fs.readFileSync(tsvPath, 'utf8').trim().split('\n');
const head = lines.shift().split('\t');
const runs = lines.map((l) => Object.fromEntries(l.split('\t').map((v, i) => [head[i], v])));
const num = (v) => (v === '' || v === undefined ? NaN : Number(v));
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : 'n/a');
const kib = (s) => (s >= 1048576 ? `${s / 1048576} MiB` : `${s / 1024} KiB`);
const sizes = [...new Set(runs.map((r) => Number(r.size)))].sort((a, b) => a - b);
function agg(edge, size) {
  const rs = runs.filter((r) => r.edge === edge && Number(r.size) === size && r.rps !== '');
  if (!rs.length) return null;
  const rps = rs.map((r) => num(r.rps));
  const src = rs.reduce((a, r) => ({ disk: a.disk + num(r.disk_bytes), memory: a.memory + num(r.memory_bytes), origin: a.origin + num(r.origin_bytes) }), { disk: 0, memory: 0, origin: 0 });
  return {
    rps: mean(rps), min: Math.min(...rps), max: Math.max(...rps),
    mibs: mean(rps) * size / 1048576,
    p50: mean(rs.map((r) => num(r.p50_ms))), p99: mean(rs.map((r) => num(r.p99_ms))),
    cpu: mean(rs.map((r) => num(r.server_cpu))), wrkCpu: mean(rs.map((r) => num(r.wrk_cpu))),
    perCore: mean(rs.map((r) => num(r.rps) / Math.max(num(r.server_cpu), 0.01))),
    src: src.disk > src.memory ? 'disk' : 'memory', srcBytes: src,
  };
}
const L = [];
L.push('# edgecache: disk-tier vs memory-tier cache hits', '');
L.push(`Generated by \`loadtests/disk-vs-memory.sh\` on ${meta.date}.${failed !== '0' ? ' **The script reported problems: see the warnings in its output and the raw files.**' : ''}`, '');
L.push('| | |', '|---|---|');
L.push(`| machine | ${meta.host}, ${meta.cpu}, ${meta.nproc} CPUs, ${meta.memory} |`);
L.push(`| disk tier filesystem | ${meta.filesystem} (temp dir) |`);
L.push(`| edgecache | ${meta.edgecache} |`);
L.push(`| pinning | ${meta.pinning} |`);
L.push(`| load | \`${meta.wrk}\` on ${meta.objects > 1 ? `${meta.objects} URLs per size (\`hot-set.lua\`, random order), so disk hits read LevelDB's table files` : 'one URL per run, so disk hits read LevelDB\'s memtable'}, ${meta.rounds} round(s), order reversed every other round, ${meta.warmup} unrecorded warm-up per case |`);
L.push(`| load average | ${meta.loadavg} |`);
L.push(`| raw output | \`${meta.rawDir}/\` (git-ignored) |`, '');
L.push('Two edgecache processes ran side by side for the whole run (same jar, JVM options and CPU), each idle while the other was measured:', '');
L.push('- **tiered** (the disk configuration): `memory` 256MiB, `maxObjectBytes` 64KiB; `disk` 1GiB, `maxObjectBytes` 64MiB, `chunkBytes` 512KiB (the default). 16 KiB bodies are memory hits; bodies above 64 KiB are never promoted to memory and are streamed from the disk tier on every hit.');
L.push('- **memonly** (the memory reference): `memory` 256MiB, `maxObjectBytes` 8MiB, `disk.path` null. Every size is a memory hit.', '');
L.push('```json', fs.readFileSync(tieredCfg, 'utf8').trim(), '```', '');
L.push('## Results', '');
L.push('Mean over rounds. MiB/s is body bytes (req/s x size). "source" is where `edgecache_served_bytes_total{source=...}` grew during the measured runs on that edge; the origin served no request during any measured run unless flagged below.', '');
L.push('| size | tiered: source | tiered req/s | tiered MiB/s | tiered p50 / p99 ms | memonly: source | memonly req/s | memonly MiB/s | memonly p50 / p99 ms | **req/s ratio tiered/memonly** | per-server-core ratio |');
L.push('|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|');
for (const s of sizes) {
  const t = agg('tiered', s), m = agg('memonly', s);
  if (!t || !m) { L.push(`| ${kib(s)} | ${t ? t.src : 'failed'} | | | | ${m ? m.src : 'failed'} | | | | | |`); continue; }
  L.push(`| ${kib(s)} | ${t.src} | ${fmt(t.rps)} (${fmt(t.min)}–${fmt(t.max)}) | ${fmt(t.mibs)} | ${fmt(t.p50, 2)} / ${fmt(t.p99, 2)} | ${m.src} | ${fmt(m.rps)} (${fmt(m.min)}–${fmt(m.max)}) | ${fmt(m.mibs)} | ${fmt(m.p50, 2)} / ${fmt(m.p99, 2)} | **${fmt(t.rps / m.rps, 2)}** | ${fmt(t.perCore / m.perCore, 2)} |`);
}
L.push('', 'At 16 KiB both edges serve from memory: that row is a control (the tiered configuration should not cost anything on memory hits). "per-server-core ratio" compares req/s divided by the edge JVM\'s own CPU use, which other load on the machine disturbs less than raw req/s.', '');
L.push('## Served bytes by source (sum over measured runs)', '');
L.push('| edge | size | disk | memory | origin |', '|---|---|---:|---:|---:|');
for (const s of sizes) for (const e of ['tiered', 'memonly']) {
  const a = agg(e, s); if (!a) continue;
  L.push(`| ${e} | ${kib(s)} | ${fmt(a.srcBytes.disk)} | ${fmt(a.srcBytes.memory)} | ${fmt(a.srcBytes.origin)} |`);
}
L.push('', '## Every run', '');
L.push('| round | edge | size | req/s | p50 ms | p99 ms | max ms | non-2xx | socket errors | origin requests | CPU edge / wrk / other (cores) |');
L.push('|---:|---|---|---:|---:|---:|---:|---:|---|---:|---|');
for (const r of runs) {
  const warnOther = num(r.other_cpu) > 0.3 ? ' ⚠' : '';
  L.push(`| ${r.round} | ${r.edge} | ${kib(Number(r.size))} | ${fmt(num(r.rps))} | ${r.p50_ms} | ${r.p99_ms} | ${r.max_ms} | ${r.non2xx || 0} | ${r.socket_errors || ''} | ${r.origin_requests} | ${r.server_cpu} / ${r.wrk_cpu} / ${r.other_cpu}${warnOther} |`);
}
L.push('', '⚠: processes this script did not start used more than 0.3 cores during the run.', '');
const wrkBound = [];
for (const s of sizes) for (const e of ['tiered', 'memonly']) { const a = agg(e, s); if (a && a.wrkCpu >= 0.95) wrkBound.push(`${e} ${kib(s)} (wrk ${a.wrkCpu.toFixed(2)} cores, edge ${a.cpu.toFixed(2)})`); }
L.push('## Caveats', '');
if (wrkBound.length) L.push(`- **Load-generator bound:** ${wrkBound.join('; ')}. wrk had its one core to itself and used all of it, so those req/s are a floor for the edge, not its limit; where that is the memonly side, the raw tiered/memonly ratio understates the gap and the per-server-core ratio is the better comparison.`);
L.push('- The disk tier was written during this run, so its reads were served from the OS page cache: this measures edgecache\'s disk read path (LevelDB lookups, 512 KiB chunks, CRC32C checks, disk worker threads, copying into the response), not a cold disk. With a cold cache or a slow device disk hits would cost more; the script does not drop caches (that would disturb the whole shared machine).');
L.push('- One hot URL per run: every request hits the same object, so index lookups and the chunks are always hot. A large working set would add index and page-cache misses.');
L.push('- A disk entry no larger than `memory.maxObjectBytes` (64 KiB) is promoted to memory on its second read, which is why the disk-only sizes are above 64 KiB. The tiered 16 KiB row is a memory hit and serves as a control.');
L.push('- Loopback only, 2 shared CPUs; each edge JVM saw one CPU (one event loop, its GC choice as above). Absolute numbers say little about production hardware; compare within the run.');
L.push('- The idle edge and the origin stayed up while the other edge was measured; "other" excludes them (it is CPU used by processes this script did not start).', '');
fs.writeFileSync(out, L.join('\n') + '\n');
console.log(L.filter((l) => l.startsWith('| 1') || l.startsWith('| size') ).join('\n'));
EOF
log "wrote ${RESULTS#"$ROOT"/} (raw output in ${RAW#"$ROOT"/})"
exit "$FAILED"
