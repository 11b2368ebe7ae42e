#!/usr/bin/env bash
# edgecache: bulk purge (tag, prefix, all) over ~1,000,000 cached entries, and whether the event
# loops stall meanwhile.
#
# All on 127.0.0.1:
#   1. starts loadtests/sized-origin.mjs (/p/<n>: 32-byte body, Cache-Control: public,
#      max-age=3600, Surrogate-Key: group-<n mod 100>)
#   2. starts ONE edgecache, memory tier only (memory.maxBytes 2GiB, JVM -Xms4g -Xmx4g, GC log)
#   3. fills it through HTTP: wrk + loadtests/fill-unique.lua asks for /p/0 .. /p/TARGET-1 once
#      each, until GET /stats says memory.entries >= TARGET, wrk ends, or FILL_MAX seconds pass
#   4. starts loadtests/probe.mjs: GETs of one hot cached URL (/p/0) at a fixed low rate,
#      latency of each request recorded from its scheduled send time
#   5. after BASELINE seconds, runs the admin purges one by one, GAP seconds apart, timing each
#      with curl and reading /stats before and after:
#        tag group-7 | prefix .../p/1 | prefix .../p/99999 (narrow: few matches, full scan) | all
#      and checks with `Cache-Control: only-if-cached` that a purged URL is gone and an
#      unrelated one still a hit (no origin traffic)
#   6. slices the probe's samples into windows (before, during each purge, after) and writes
#      loadtests/results/purge-1m.md; stops everything it started (trap on EXIT)
#
# Knobs (environment):
#   TARGET=1000000 FILL_MAX=330 FILL_THREADS=2 FILL_CONNECTIONS=128
#   PROBE_RATE=200 PROBE_CONNECTIONS=4 BASELINE=10 GAP=5 ALL_PURGE=1
#   EDGECACHE_JAVA_OPTS="-Xms4g -Xmx4g" MEMORY_MAX=2GiB
#   PIN=0 (1: edgecache+origin on SERVER_CPUS, wrk and probe on LOAD_CPUS)
#   ORIGIN_PORT=18200 EDGE_PORT=18280 EDGE_ADMIN_PORT=19280 STARTUP_TIMEOUT=60 KEEP_WORK=0
#   EDGECACHE_JAR=proxy/target/edgecache.jar REBUILD=0 RESULTS=loadtests/results/purge-1m.md
set -Eeuo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HERE="$ROOT/loadtests"
LOG_TAG="purge-bench"

TARGET="${TARGET:-1000000}"
FILL_MAX="${FILL_MAX:-330}"
FILL_THREADS="${FILL_THREADS:-2}"
FILL_CONNECTIONS="${FILL_CONNECTIONS:-128}"
PROBE_RATE="${PROBE_RATE:-200}"
PROBE_CONNECTIONS="${PROBE_CONNECTIONS:-4}"
BASELINE="${BASELINE:-10}"
GAP="${GAP:-5}"
ALL_PURGE="${ALL_PURGE:-1}"
EDGECACHE_JAVA_OPTS="${EDGECACHE_JAVA_OPTS:--Xms4g -Xmx4g}"
MEMORY_MAX="${MEMORY_MAX:-2GiB}"
PIN="${PIN:-0}"
SERVER_CPUS="${SERVER_CPUS:-0}"
LOAD_CPUS="${LOAD_CPUS:-1}"
ORIGIN_PORT="${ORIGIN_PORT:-18200}"
EDGE_PORT="${EDGE_PORT:-18280}"
EDGE_ADMIN_PORT="${EDGE_ADMIN_PORT:-19280}"
STARTUP_TIMEOUT="${STARTUP_TIMEOUT:-60}"
KEEP_WORK="${KEEP_WORK:-0}"
EDGECACHE_JAR="${EDGECACHE_JAR:-$ROOT/proxy/target/edgecache.jar}"
REBUILD="${REBUILD:-0}"
RESULTS="${RESULTS:-$HERE/results/purge-1m.md}"
QUIET_WAIT=0 QUIET_MAX=1
HOT_PATH=/p/0

WORK=""
# shellcheck source=loadtests/bench-lib.sh
source "$HERE/bench-lib.sh"

for c in node curl wrk java ss awk; do command -v "$c" >/dev/null || die "$c is required"; done
NPROC="$(nproc)"
SRV_PIN="" LOAD_PIN=""
if [[ "$PIN" == 1 ]]; then
  if ((NPROC >= 2)) && command -v taskset >/dev/null; then SRV_PIN="$SERVER_CPUS"; LOAD_PIN="$LOAD_CPUS"; else warn "PIN=1 needs taskset and >= 2 CPUs; unpinned"; fi
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/edgecache-purge.XXXXXX")"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
RAW="$HERE/results/raw/purge-1m-$STAMP"
mkdir -p "$RAW" "$(dirname "$RESULTS")"
LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
for p in "$ORIGIN_PORT" "$EDGE_PORT" "$EDGE_ADMIN_PORT"; do
  port_free "$p" || die "port $p on 127.0.0.1 is in use (override with *_PORT variables)"
done

ADMIN="http://127.0.0.1:$EDGE_ADMIN_PORT"
EDGE="http://127.0.0.1:$EDGE_PORT"
ORIGIN_URL="http://127.0.0.1:$ORIGIN_PORT"
now_ms() { date +%s%3N; }
entries() { # memory.entries from GET /stats (empty on failure)
  curl -fsS --max-time 30 "$ADMIN/stats" 2>/dev/null | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{console.log(JSON.parse(s).memory.entries)}catch(e){console.log("")}})'
}
origin_count() { curl -fsS --max-time 5 "$ORIGIN_URL/__count" | sed -E 's/^\{"requests":([0-9]+).*/\1/'; }

# ---------------------------------------------------------------- origin + edgecache
start_bg origin "$SRV_PIN" node "$HERE/sized-origin.mjs" --host 127.0.0.1 --port "$ORIGIN_PORT" --max-age 3600 --tiny 32 --groups 100
ORIGIN_PID=$LAST_PID
wait_http origin "$ORIGIN_PID" "$ORIGIN_URL/__count" 200 || die "origin did not start"

ensure_jar
read -r -a JOPTS <<<"$EDGECACHE_JAVA_OPTS"
EDGE_GC="$(jvm_gc "$SRV_PIN" "${JOPTS[@]}")"
cat >"$WORK/edgecache.json" <<EOF
{
  "listen": { "host": "127.0.0.1", "port": $EDGE_PORT },
  "admin": { "host": "127.0.0.1", "port": $EDGE_ADMIN_PORT },
  "origins": [ { "name": "sized-origin", "url": "$ORIGIN_URL", "hosts": ["*"] } ],
  "accessLog": { "enabled": false },
  "memory": { "maxBytes": "$MEMORY_MAX", "maxObjectBytes": "64KiB" },
  "disk": { "path": null }
}
EOF
cp "$WORK/edgecache.json" "$RAW/"
start_bg edgecache "$SRV_PIN" java "${JOPTS[@]}" "-Xlog:gc:file=$WORK/gc.log:timemillis,uptime" -jar "$JAR" --config "$WORK/edgecache.json"
EDGE_PID=$LAST_PID
wait_http edgecache "$EDGE_PID" "$ADMIN/readyz" 200 || die "edgecache did not become ready"
log "edgecache up on :$EDGE_PORT (admin :$EDGE_ADMIN_PORT, pid $EDGE_PID, $EDGECACHE_JAVA_OPTS, ${EDGE_GC:-?})"

heap_after_full_gc() { # KiB of heap in use right after a full collection (jcmd GC.run)
  jcmd "$EDGE_PID" GC.run >/dev/null 2>&1 || { echo ""; return; }
  jcmd "$EDGE_PID" GC.heap_info 2>/dev/null | awk '/total .*used/{for(i=1;i<=NF;i++) if($i=="used"){v=$(i+1); sub(/K,?$/,"",v); print v; exit}}'
}
HEAP_EMPTY_KIB="$(heap_after_full_gc)"
log "heap after a full GC, empty cache: ${HEAP_EMPTY_KIB:-?} KiB"

on_cleanup() {
  [[ -n "${RAW:-}" && -d "$RAW" && -n "${WORK:-}" ]] || return 0
  cp "$WORK/edgecache.log" "$RAW/edgecache.log" 2>/dev/null || true
  cp "$WORK/gc.log" "$RAW/gc.log" 2>/dev/null || true
}

# ---------------------------------------------------------------- fill
FILL_T0=$SECONDS
FILL_START_MS=$(now_ms)
log "filling: wrk -t$FILL_THREADS -c$FILL_CONNECTIONS -d${FILL_MAX}s fill-unique.lua (/p/0 .. /p/$((TARGET - 1))) until memory.entries >= $TARGET (at most ${FILL_MAX}s)"
start_bg fill-wrk "$LOAD_PIN" wrk "-t$FILL_THREADS" "-c$FILL_CONNECTIONS" "-d${FILL_MAX}s" -s "$HERE/fill-unique.lua" "$EDGE" -- "$TARGET" "$FILL_THREADS" 0
FILL_PID=$LAST_PID
n=0 last_log=0
while :; do
  sleep 2
  n="$(entries)"; n="${n:-0}"
  if ((n >= TARGET)); then log "  reached $n entries after $((SECONDS - FILL_T0)) s"; break; fi
  if ! alive "$FILL_PID"; then log "  wrk ended after $((SECONDS - FILL_T0)) s at $n entries"; break; fi
  if ((SECONDS - FILL_T0 > FILL_MAX + 10)); then warn "fill still running after $((FILL_MAX + 10)) s; stopping it"; break; fi
  if ((SECONDS - last_log >= 15)); then
    log "  $n entries after $((SECONDS - FILL_T0)) s ($(awk -v n="$n" -v t=$((SECONDS - FILL_T0)) 'BEGIN{printf "%.0f", n / (t > 0 ? t : 1)}')/s)"
    last_log=$SECONDS
  fi
  alive "$EDGE_PID" || die "edgecache died during the fill; log tail: $(tail -n 20 "$WORK/edgecache.log")"
done
kill -INT "$FILL_PID" 2>/dev/null || true # wrk prints its summary on SIGINT
for _ in $(seq 1 100); do alive "$FILL_PID" || break; sleep 0.1; done
stop_bg "$FILL_PID"
FILL_SECS=$(( (($(now_ms) - FILL_START_MS) + 500) / 1000 ))
cp "$WORK/fill-wrk.log" "$RAW/fill-wrk.txt"
sleep 2
curl -fsS "$ADMIN/stats" >"$RAW/stats-after-fill.json"
FILLED="$(entries)"
HEAP_FULL_KIB="$(heap_after_full_gc)"
curl -fsS "$ADMIN/stats" >"$RAW/stats-after-gc.json"
log "heap after a full GC with $FILLED entries: ${HEAP_FULL_KIB:-?} KiB"
FILL_ORIGIN="$(origin_count)"
FILL_NON2XX="$(awk '/Non-2xx or 3xx responses:/{print $NF}' "$WORK/fill-wrk.log")"
FILL_SOCKERR="$(awk '/Socket errors:/{sub(/^.*Socket errors: */,""); print}' "$WORK/fill-wrk.log")"
log "fill done: $FILLED entries in ${FILL_SECS}s; origin served $FILL_ORIGIN requests${FILL_NON2XX:+; NON-2XX $FILL_NON2XX}${FILL_SOCKERR:+; socket errors: $FILL_SOCKERR}"
((FILLED > 0)) || die "nothing was stored"
((FILLED >= TARGET)) || warn "reached only $FILLED of $TARGET entries"

# hot URL for the probe, must be a hit
curl -fsS -o /dev/null -D "$WORK/hot.h" "$EDGE$HOT_PATH" || die "GET $HOT_PATH failed"
tr -d '\r' <"$WORK/hot.h" | grep -Eiq '^cache-status:.*edgecache;[[:space:]]*hit' || die "$HOT_PATH is not a cache hit: $(tr -d '\r' <"$WORK/hot.h" | grep -i cache-status)"

# ---------------------------------------------------------------- probe + purges
SAMPLES="$WORK/probe.tsv"
: >"$SAMPLES"
start_bg probe "$LOAD_PIN" node "$HERE/probe.mjs" run --url "$EDGE$HOT_PATH" --rate "$PROBE_RATE" --connections "$PROBE_CONNECTIONS" --duration 600 --out "$SAMPLES"
PROBE_PID=$LAST_PID
# control probe: same schedule straight to the origin (node, no JVM involved). Latency spikes that
# show in both probes at once come from the machine (scheduler, kernel, other tenants), not from
# edgecache's event loops.
CONTROL_SAMPLES="$WORK/control.tsv"
: >"$CONTROL_SAMPLES"
start_bg control-probe "$LOAD_PIN" node "$HERE/probe.mjs" run --url "$ORIGIN_URL/size/32" --rate "$PROBE_RATE" --connections "$PROBE_CONNECTIONS" --duration 600 --out "$CONTROL_SAMPLES"
CONTROL_PID=$LAST_PID
WINDOWS="$WORK/windows.tsv"
: >"$WINDOWS"
STEPS="$RAW/purges.tsv"
printf 'name\tbody\thttp_code\tresponse\tcurl_s\tstart_ms\tend_ms\tentries_before\tentries_after\tspot_gone\tspot_kept\n' >"$STEPS"
sleep 1 # let the probe connect
B0=$(now_ms)
log "probe: GET $HOT_PATH at $PROBE_RATE req/s over $PROBE_CONNECTIONS connections; baseline ${BASELINE}s"
sleep "$BASELINE"
printf 'before (baseline)\t%s\t%s\n' "$B0" "$(now_ms)" >>"$WINDOWS"

# only_if_cached PATH: HTTP status of a cache-only lookup (200 = stored, 504 = not stored)
only_if_cached() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H 'Cache-Control: only-if-cached' "$EDGE$1"; }

FAILED=0
# purge NAME JSON GONE-PATH KEPT-PATH
purge() {
  local name="$1" body="$2" gone="$3" kept="$4" before after t0 t1 res code resp secs sg sk
  before="$(entries)"
  t0=$(now_ms)
  res="$(curl -sS --max-time 300 -o "$WORK/purge.out" -w '%{http_code} %{time_total}' -X POST -H 'Content-Type: application/json' \
    --data "$body" "$ADMIN/purge" || echo 'ERR 0')"
  t1=$(now_ms)
  code="${res%% *}" secs="${res#* }"
  resp="$(tr -d '\n' <"$WORK/purge.out" 2>/dev/null || true)"
  after="$(entries)"
  sg=-; [[ "$gone" == - ]] || sg="$(only_if_cached "$gone")"; sk=-; [[ "$kept" == - ]] || sk="$(only_if_cached "$kept")"
  printf 'purge: %s\t%s\t%s\n' "$name" "$t0" "$t1" >>"$WINDOWS"
  printf 'purge: %s, +1 s\t%s\t%s\n' "$name" "$t0" "$((t1 + 1000))" >>"$WINDOWS"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$body" "$code" "$resp" "$secs" "$t0" "$t1" "$before" "$after" "$gone=$sg" "$kept=$sk" >>"$STEPS"
  log "purge $name: HTTP $code $resp in ${secs}s (entries $before -> $after); only-if-cached: purged $gone -> $sg (want 504), kept $kept -> $sk (want 200)"
  [[ "$code" == 200 ]] || { warn "purge $name answered $code"; FAILED=1; }
  [[ "$sg" == 504 || "$gone" == - ]] || { warn "purge $name: $gone is still cached ($sg)"; FAILED=1; }
  [[ "$sk" == 200 || "$kept" == - ]] || { warn "purge $name: $kept is no longer cached ($sk)"; FAILED=1; }
  alive "$EDGE_PID" || die "edgecache died during purge $name"
  sleep "$GAP"
  printf 'after %s (%s s)\t%s\t%s\n' "$name" "$GAP" "$((t1 + 1000))" "$(now_ms)" >>"$WINDOWS"
}

# spot-check URLs (all below TARGET): KEPT matches none of the purges but "all"; DEEP1 is a deep
# /p/1... key; /p/99999 exists only when TARGET > 99999
k=$((TARGET - 1))
while ((k > 0)) && [[ "$k" == 1* || "$k" == 99999* || $((k % 100)) == 7 ]]; do k=$((k - 1)); done
KEPT="/p/$k"
d=1; while ((d * 10 + 2 < TARGET)); do d=$((d * 10 + 2)); done
DEEP1="/p/$d"
N99999=-; ((TARGET > 99999)) && N99999=/p/99999
purge "tag group-7" '{"tags":["group-7"]}' /p/107 /p/108
purge "prefix /p/1" "{\"prefixes\":[\"$EDGE/p/1\"]}" "$DEEP1" "$KEPT"
purge "prefix /p/99999" "{\"prefixes\":[\"$EDGE/p/99999\"]}" "$N99999" "$KEPT"
if [[ "$ALL_PURGE" == 1 ]]; then
  purge "all" '{"all":true}' "$KEPT" -
fi

log "stopping the probe"
kill -TERM "$PROBE_PID" "$CONTROL_PID" 2>/dev/null || true
for _ in $(seq 1 100); do alive "$PROBE_PID" || alive "$CONTROL_PID" || break; sleep 0.1; done
stop_bg "$PROBE_PID"; stop_bg "$CONTROL_PID"
cp "$WORK/control-probe.log" "$RAW/control-probe.txt"
cp "$CONTROL_SAMPLES" "$RAW/control-samples.tsv"
node "$HERE/probe.mjs" summarize --samples "$CONTROL_SAMPLES" --windows "$WINDOWS" --json >"$RAW/control-windows.json"
cp "$WORK/probe.log" "$RAW/probe.txt"
cp "$SAMPLES" "$RAW/probe-samples.tsv"
cp "$WINDOWS" "$RAW/windows.tsv"
node "$HERE/probe.mjs" summarize --samples "$SAMPLES" --windows "$WINDOWS" --json >"$RAW/windows.json"
node "$HERE/probe.mjs" summarize --samples "$SAMPLES" --windows "$WINDOWS"
log "control probe (straight to the origin), same windows:"
node "$HERE/probe.mjs" summarize --samples "$CONTROL_SAMPLES" --windows "$WINDOWS" | cut -f1,3-

curl -fsS "$ADMIN/stats" >"$RAW/stats-end.json" || true
curl -fsS "$ADMIN/metrics" >"$RAW/metrics-end.txt" || true
grep 'edgecache.purge' "$WORK/edgecache.log" >"$RAW/purge-log-lines.txt" || true
log_problems edgecache >"$RAW/edgecache-log-problems.txt"
if [[ -s "$RAW/edgecache-log-problems.txt" ]]; then warn "edgecache log has WARN/ERROR lines:"; sed 's/^/    /' "$RAW/edgecache-log-problems.txt" >&2; fi
alive "$EDGE_PID" || { warn "edgecache died"; FAILED=1; }
cp "$WORK/gc.log" "$RAW/gc.log" 2>/dev/null || true

# ---------------------------------------------------------------- report
M_DATE="$(date -u '+%Y-%m-%d %H:%M:%SZ')" M_HOST="$(uname -srm)" M_CPU="$(awk -F': *' '/^model name/{print $2; exit}' /proc/cpuinfo)" \
M_MEM="$(awk '/^MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo)" M_NPROC="$NPROC" \
M_PIN="$(if [[ -n "$SRV_PIN" ]]; then echo "edgecache and origin on CPU $SRV_PIN, wrk and probe on CPU $LOAD_PIN"; else echo "none: everything shares all $NPROC CPUs"; fi)" \
M_LOAD="$LOAD_START at start, $(cut -d' ' -f1-3 /proc/loadavg) at end" \
M_EDGE="${EDGE_VERSION:-unknown} (java $(java -version 2>&1 | awk -F'"' 'NR==1{print $2}'), $EDGECACHE_JAVA_OPTS${EDGE_GC:+, $EDGE_GC})" \
M_HEAP_EMPTY="$HEAP_EMPTY_KIB" M_HEAP_FULL="$HEAP_FULL_KIB" M_MEMORY_MAX="$MEMORY_MAX" \
M_TARGET="$TARGET" M_FILLED="$FILLED" M_FILL_SECS="$FILL_SECS" M_FILL_ORIGIN="$FILL_ORIGIN" M_FILL_MAX="$FILL_MAX" \
M_FILL_CMD="wrk -t$FILL_THREADS -c$FILL_CONNECTIONS -d${FILL_MAX}s -s loadtests/fill-unique.lua $EDGE -- $TARGET $FILL_THREADS 0" \
M_FILL_ERR="${FILL_NON2XX:+non-2xx $FILL_NON2XX }${FILL_SOCKERR:+socket errors: $FILL_SOCKERR}" \
M_PROBE="node loadtests/probe.mjs run --url $EDGE$HOT_PATH --rate $PROBE_RATE --connections $PROBE_CONNECTIONS" \
M_DAMON="$(damon_note)" M_RAW="${RAW#"$ROOT"/}" M_FAILED="$FAILED" M_BASELINE="$BASELINE" M_GAP="$GAP" \
node - "$RAW" "$RESULTS" "$WORK/edgecache.json" <<'EOF'
const fs = require('fs');
const [raw, out, cfgPath] = process.argv.slice(2);
const e = process.env;
const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : 'n/a');
const tsv = (p) => { const [h, ...ls] = fs.readFileSync(p, 'utf8').trim().split('\n'); const k = h.split('\t'); return ls.map((l) => Object.fromEntries(l.split('\t').map((v, i) => [k[i], v]))); };
const steps = tsv(`${raw}/purges.tsv`);
const windows = JSON.parse(fs.readFileSync(`${raw}/windows.json`, 'utf8'));
const control = JSON.parse(fs.readFileSync(`${raw}/control-windows.json`, 'utf8'));
const stats = JSON.parse(fs.readFileSync(`${raw}/stats-after-fill.json`, 'utf8'));
const problems = fs.existsSync(`${raw}/edgecache-log-problems.txt`) ? fs.readFileSync(`${raw}/edgecache-log-problems.txt`, 'utf8').trim() : '';
const purgeLog = fs.existsSync(`${raw}/purge-log-lines.txt`) ? fs.readFileSync(`${raw}/purge-log-lines.txt`, 'utf8').trim() : '';
// GC pauses (G1/Serial/Parallel "Pause ... 12.345ms") with their wall-clock end time
const gc = [];
if (fs.existsSync(`${raw}/gc.log`)) {
  for (const l of fs.readFileSync(`${raw}/gc.log`, 'utf8').split('\n')) {
    const m = /\[(\d{12,})ms\].*?(GC\(\d+\) Pause.*?) (\d+\.\d+)ms$/.exec(l);
    // the full collections jcmd GC.run asks for (heap measurement) are the script's, not edgecache's
    if (m && !m[2].includes('(Diagnostic Command)')) gc.push({ end: Number(m[1]), what: m[2], ms: Number(m[3]) });
  }
}
const L = [];
L.push('# edgecache: bulk purge over ~1M cached entries', '');
L.push(`Generated by \`loadtests/purge-bench.sh\` on ${e.M_DATE}.${e.M_FAILED !== '0' ? ' **The script reported problems: see its warnings and the raw files.**' : ''}`, '');
L.push('| | |', '|---|---|');
L.push(`| machine | ${e.M_HOST}, ${e.M_CPU}, ${e.M_NPROC} CPUs, ${e.M_MEM} |`);
L.push(`| edgecache | ${e.M_EDGE}, memory tier only |`);
L.push(`| pinning | ${e.M_PIN} |`);
L.push(`| load average | ${e.M_LOAD} |`);
if (e.M_DAMON) L.push(`| kernel memory monitor | ${e.M_DAMON} (see caveats) |`);
L.push(`| raw output | \`${e.M_RAW}/\` (git-ignored): probe samples, GC log, edgecache log, stats |`, '');
L.push('```json', fs.readFileSync(cfgPath, 'utf8').trim(), '```', '');
L.push('## Fill', '');
const reached = Number(e.M_FILLED) >= Number(e.M_TARGET);
L.push(`- \`${e.M_FILL_CMD}\`, stopped as soon as \`GET /stats\` showed memory.entries >= ${fmt(Number(e.M_TARGET))} (bounded at ${e.M_FILL_MAX} s).`);
L.push(`- **${fmt(Number(e.M_FILLED))} entries** in ${e.M_FILL_SECS} s (${fmt(Number(e.M_FILLED) / Number(e.M_FILL_SECS))} stores/s through HTTP)${reached ? '' : ` — **target ${fmt(Number(e.M_TARGET))} not reached**`}; memory tier ${fmt(stats.memory.bytes / 1048576)} MiB by its own weighing, ${fmt(stats.memory.evictions)} evictions, ${fmt(stats.memory.rejected)} rejected; origin requests ${fmt(Number(e.M_FILL_ORIGIN))}.${e.M_FILL_ERR ? ' wrk: ' + e.M_FILL_ERR : ''}`);
L.push('- Each entry: `/p/<n>`, 32-byte body, `Cache-Control: public, max-age=3600`, `Surrogate-Key: group-<n mod 100>`.', '');
if (e.M_HEAP_EMPTY && e.M_HEAP_FULL && fs.existsSync(`${raw}/stats-after-gc.json`)) {
  const g = JSON.parse(fs.readFileSync(`${raw}/stats-after-gc.json`, 'utf8')).memory;
  const grew = (Number(e.M_HEAP_FULL) - Number(e.M_HEAP_EMPTY)) * 1024;
  const unweighed = grew - g.bytes;
  L.push('## Heap after a full GC', '');
  L.push('`jcmd <pid> GC.run`, then `GC.heap_info`, once before the fill and once after it (no load meanwhile).', '');
  L.push('| | |', '|---|---|');
  L.push(`| heap in use, empty cache | ${fmt(Number(e.M_HEAP_EMPTY) / 1024)} MiB |`);
  L.push(`| heap in use, ${fmt(g.entries)} entries | ${fmt(Number(e.M_HEAP_FULL) / 1024)} MiB |`);
  L.push(`| grown by | **${fmt(grew / 1048576)} MiB** (${fmt(grew / g.entries)} B per entry) |`);
  L.push(`| memory tier by its own weighing | ${fmt(g.bytes / 1048576)} MiB (${fmt(g.bytes / g.entries)} B per entry), bound \`memory.maxBytes\` ${e.M_MEMORY_MAX} |`);
  L.push(`| heap the weigher does not count | ${fmt(unweighed / 1048576)} MiB (${fmt(unweighed / g.entries)} B per entry, ${fmt(100 * unweighed / grew, 1)}% of the growth) |`, '');
}
L.push('## Purges', '');
L.push(`Run one at a time on the admin port (\`curl -X POST /purge\`), ${e.M_GAP} s apart, while the probe ran. "time" is curl's \`time_total\` (request to complete answer). The last two columns are \`Cache-Control: only-if-cached\` lookups right after the purge (504 = not stored, 200 = still stored; no origin traffic).`, '');
L.push('| purge | body | answer | time | entries before → after | purged URL | untouched URL |');
L.push('|---|---|---|---:|---|---|---|');
for (const s of steps) {
  L.push(`| ${s.name} | \`${s.body}\` | ${s.http_code} \`${s.response}\` | **${fmt(Number(s.curl_s) * 1000)} ms** | ${fmt(Number(s.entries_before))} → ${fmt(Number(s.entries_after))} | ${s.spot_gone} | ${s.spot_kept} |`);
}
L.push('', '## Probe: hit latency on the traffic port', '');
L.push(`\`${e.M_PROBE}\`: a fixed schedule (open loop); latency counts from each request's scheduled send time, so a stall shows in full. Windows by scheduled time; "purge: X" is from sending the purge until its answer, "+1 s" extends that by a second.`, '');
L.push('The **control** columns are a second probe with the same schedule sent straight to the origin (a node process; no JVM in the path): a spike that shows in both at once is the machine, not edgecache.', '');
L.push('| window | length | requests | p50 ms | p99 ms | p99.9 ms | max ms | errors | non-2xx | non-hits | control p99 ms | control max ms |');
L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
windows.forEach((w, i) => {
  const c = control[i] || {};
  L.push(`| ${w.name} | ${fmt((w.to - w.from) / 1000, 2)} s | ${w.count} | ${fmt(w.p50, 2)} | ${fmt(w.p99, 2)} | ${fmt(w.p999, 2)} | ${fmt(w.max, 2)} | ${w.errors} | ${w.non2xx} | ${w.nonHits} | ${fmt(c.p99, 2)} | ${fmt(c.max, 2)} |`);
});
L.push('', 'non-hits after "all" are expected: the probe\'s own URL was purged and refilled by its next request.');
const from = Math.min(...windows.map((w) => w.from)), to = Math.max(...windows.map((w) => w.to));
const during = gc.filter((g) => g.end >= from && g.end <= to);
L.push('', '## GC pauses while the probe ran', '');
if (!during.length) L.push('None logged.');
else {
  L.push('| ended (ms after baseline start) | pause | ms | in window |', '|---:|---|---:|---|');
  for (const g of during) {
    const inW = windows.filter((w) => w.name.startsWith('purge:') && !w.name.endsWith('+1 s') && g.end >= w.from && g.end - g.ms <= w.to).map((w) => w.name).join(', ');
    L.push(`| ${g.end - from} | ${g.what} | ${fmt(g.ms, 2)} | ${inW || '-'} |`);
  }
}
L.push('', `GC pauses over the whole run (fill included; not counting the two full collections \`jcmd GC.run\` asks for to measure the heap): ${gc.length}, longest ${fmt(Math.max(0, ...gc.map((g) => g.ms)), 1)} ms.`, '');
const fillGc = gc.filter((g) => g.end < from);
L.push('## Caveats', '');
L.push(`- The fill is only the set-up. With ~${fmt(Number(e.M_FILLED))} entries resident the heap holds about ${fmt(stats.memory.bytes / 1048576)} MiB of cache weight (more in JVM objects); G1 paused ${fillGc.length} times during the fill, longest ${fmt(Math.max(0, ...fillGc.map((g) => g.ms)), 1)} ms, on 2 shared cores. Those pauses are not in the probe windows.`);
if (e.M_DAMON) L.push(`- **Machine:** ${e.M_DAMON}. On this VM, while a process keeps a multi-GiB heap resident, every process (the control probe to the node origin included) sees latency spikes of tens of ms about every 0.5–0.6 s, also with no purge and no GC; they stop when the JVM exits. That inflates the baseline p99/max here as much as the purge windows; compare edge vs control and purge windows vs baseline.`);
L.push('- A purge window holds few samples (200 req/s x its length), so its p99 is close to its max; the "+1 s" windows and the max column are the more robust stall indicators.');
L.push('- Loopback, 2 shared CPUs, unpinned unless stated above: the purge worker thread, the two event loops, GC threads, both probes and the origin all share 2 cores. Absolute numbers say little about production hardware.', '');
L.push('## edgecache log', '');
L.push('Purge lines:', '', '```', purgeLog || '(none)', '```', '');
L.push('WARN/ERROR lines:', '', '```', problems || '(none)', '```', '');
fs.writeFileSync(out, L.join('\n') + '\n');
EOF
log "wrote ${RESULTS#"$ROOT"/} (raw output in ${RAW#"$ROOT"/})"
exit "$FAILED"
