#!/usr/bin/env bash
# The first seconds after start on two JDKs, in alternated restarts: does a runtime warm the
# request path up faster?
#
#   bash loadtests/warmup-jdk.sh                     # JDK 17 (java) against the first JDK 25, ~8 min
#   JAVA_A=java JAVA_B=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java SCENARIOS=pass1k ROUNDS=5 bash loadtests/warmup-jdk.sh
#
# Starts nginx as the origin on 127.0.0.1:ORIGIN_PORT (files: /size/1024 with Cache-Control:
# max-age=3600, /pass/1k with no-store). Then ROUNDS times, for each scenario, for each JDK in
# turn (the order reversed every other round): starts the jar with an empty memory tier
# (conf/proxy.json with the addresses changed, access log off; the start-up warm-up as shipped),
# waits for /readyz, runs `wrk -t1 -c50` for WARM_SECONDS back-to-back 1-second runs, then for
# STEADY_SECONDS once more, and stops it. A JDK of 23 or later gets
# --sun-misc-unsafe-memory-access=allow first, as the image's jvm.args (Dockerfile).
# Writes RESULTS (loadtests/results/warmup-jdk.md): per scenario and JDK the first WARM_SECONDS'
# req/s and what the STEADY_SECONDS after them ran at, per round and as medians, the time from
# start to /readyz, and the warm-up's own log line. Raw wrk output in
# loadtests/results/raw/warmup-jdk-<stamp>/.
#
# Knobs: JAVA_A (java) JAVA_B (first /usr/lib/jvm/*25*/bin/java) SCENARIOS="pass1k hit1k"
# ROUNDS=3 WARM_SECONDS=10 STEADY_SECONDS=10 EDGECACHE_JAR EDGECACHE_JAVA_OPTS (as run.sh)
# ORIGIN_PORT=27000 EDGE_PORT=27080 ADMIN_PORT=27090 RESULTS KEEP_WORK=0
set -Eeuo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HERE="$ROOT/loadtests"
LOG_TAG="warmup-jdk"
JAVA_A="${JAVA_A:-java}"
SCENARIOS="${SCENARIOS:-pass1k hit1k}"
ROUNDS="${ROUNDS:-3}"
WARM_SECONDS="${WARM_SECONDS:-10}"
STEADY_SECONDS="${STEADY_SECONDS:-10}"
EDGECACHE_JAR="${EDGECACHE_JAR:-$ROOT/proxy/target/edgecache.jar}"
ORIGIN_PORT="${ORIGIN_PORT:-27000}"
EDGE_PORT="${EDGE_PORT:-27080}"
ADMIN_PORT="${ADMIN_PORT:-27090}"
RESULTS="${RESULTS:-$HERE/results/warmup-jdk.md}"
KEEP_WORK="${KEEP_WORK:-0}"
STARTUP_TIMEOUT="${STARTUP_TIMEOUT:-120}"
QUIET_WAIT="${QUIET_WAIT:-30}"
QUIET_MAX="${QUIET_MAX:-0.3}"
WORK=""
source "$HERE/bench-lib.sh"
JAVA_B="${JAVA_B:-$(image_java)}"
EDGECACHE_JAVA_OPTS="${EDGECACHE_JAVA_OPTS:-$EDGE_JVM_OPTS}"

declare -A PATH_OF=([hit1k]=/size/1024 [pass1k]=/pass/1k)
for s in $SCENARIOS; do [[ -n "${PATH_OF[$s]:-}" ]] || die "unknown scenario '$s' (pass1k hit1k)"; done
for c in nginx wrk curl node awk; do command -v "$c" >/dev/null || die "$c is required"; done
[[ "$JAVA_B" != java ]] || die "no JDK 25 under /usr/lib/jvm: name the second JDK with JAVA_B"
for j in "$JAVA_A" "$JAVA_B"; do command -v "$j" >/dev/null || die "java $j not found"; done
for v in ROUNDS WARM_SECONDS STEADY_SECONDS; do [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || die "$v is a whole number, not '${!v}'"; done
for p in "$ORIGIN_PORT" "$EDGE_PORT" "$ADMIN_PORT"; do port_free "$p" || die "port $p is in use"; done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/edgecache-warmup-jdk.XXXXXX")"
chmod 755 "$WORK"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
RAW="$HERE/results/raw/warmup-jdk-$STAMP"
mkdir -p "$RAW" "$(dirname "$RESULTS")"
ensure_jar

declare -A OPTS_OF=() NAME_OF=()
for side in A B; do
  var="JAVA_$side"; j="${!var}"
  spec="$(java_spec "$j")"
  [[ "$spec" =~ ^[0-9]+$ ]] || die "cannot read the Java version of $j"
  OPTS_OF[$side]="$(image_jvm_flags "$j") $EDGECACHE_JAVA_OPTS"
  OPTS_OF[$side]="${OPTS_OF[$side]# }"
  NAME_OF[$side]="JDK $spec ($("$j" -version 2>&1 | awk -F'"' 'NR==1{print $2}'), $j)"
done

start_file_origin "$ORIGIN_PORT"
write_edge_config "$WORK/edge.json" "$EDGE_PORT" "$ADMIN_PORT" "$ORIGIN_PORT"

rps_of() { awk '/^Requests\/sec:/ {print $2}' "$1"; }
req_of() { awk '/requests in/ {print $1}' "$1"; }
TSV="$RAW/runs.tsv"
printf 'scenario\tside\tround\tready_ms\tfirst_rps\tsteady_rps\tper_second\twarmup_line\n' >"$TSV"

# one_run SCENARIO SIDE ROUND
one_run() {
  local sc="$1" side="$2" r="$3" var="JAVA_$2" url t0 t1 ready i req=0 q f first steady per="" line
  local -a opts
  read -r -a opts <<<"${OPTS_OF[$side]}"
  url="http://127.0.0.1:$EDGE_PORT${PATH_OF[$sc]}"
  t0=${EPOCHREALTIME/./}
  start_bg "edge-$sc-$side-$r" "" "${!var}" "${opts[@]}" -jar "$JAR" --config "$WORK/edge.json"
  local pid="$LAST_PID"
  wait_http "edge-$sc-$side-$r" "$pid" "http://127.0.0.1:$ADMIN_PORT/readyz" 200 || die "edgecache ($side) did not start"
  ready=$(((${EPOCHREALTIME/./} - t0) / 1000))
  t0=${EPOCHREALTIME/./}
  for ((i = 1; i <= WARM_SECONDS; i++)); do
    f="$RAW/$sc-$side-r$r-s$i.txt"
    wrk -t1 -c50 -d1s "$url" >"$f" 2>&1 || true
    q="$(req_of "$f")"; req=$((req + ${q:-0}))
    per+="$(printf '%.0f ' "$(rps_of "$f")")"
  done
  t1=${EPOCHREALTIME/./}
  first="$(awk -v q="$req" -v t=$((t1 - t0)) 'BEGIN { printf "%.0f", q / (t / 1e6) }')"
  f="$RAW/$sc-$side-r$r-steady.txt"
  wrk -t1 -c50 -d"${STEADY_SECONDS}s" "$url" >"$f" 2>&1 || true
  steady="$(printf '%.0f' "$(rps_of "$f")")"
  stop_bg "$pid"
  line="$(grep -o 'start-up warm-up: [^;]*' "$WORK/edge-$sc-$side-$r.log" | head -n1 || true)"
  cp "$WORK/edge-$sc-$side-$r.log" "$RAW/" 2>/dev/null || true
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$sc" "$side" "$r" "$ready" "$first" "$steady" "${per% }" "$line" >>"$TSV"
  log "  $sc on ${NAME_OF[$side]%% (*}: ready after $ready ms; first ${WARM_SECONDS} s $first req/s ($per), then $steady"
}

for ((r = 1; r <= ROUNDS; r++)); do
  for sc in $SCENARIOS; do
    if ((r % 2)); then order=(A B); else order=(B A); fi
    log "round $r/$ROUNDS, $sc: ${order[*]}"
    for side in "${order[@]}"; do one_run "$sc" "$side" "$r"; done
  done
done

node - "$TSV" "$RESULTS" "$EDGE_VERSION" "${NAME_OF[A]}" "${NAME_OF[B]}" "${OPTS_OF[A]}" "${OPTS_OF[B]}" \
  "$WARM_SECONDS" "$STEADY_SECONDS" "${RAW#"$ROOT"/}" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'EOF'
const fs = require('fs');
const [tsv, out, version, nameA, nameB, optsA, optsB, warm, steadyS, raw, load] = process.argv.slice(2);
const rows = fs.readFileSync(tsv, 'utf8').trim().split('\n').slice(1).map(l => l.split('\t'));
const med = a => { const s = [...a].sort((x, y) => x - y); const n = s.length; return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2; };
const k = v => (v / 1000).toFixed(1) + 'k';
const name = { A: nameA, B: nameB };
let md = `# First seconds after start on two JDKs — ${new Date().toISOString().replace('T', ' ').slice(0, 19)}Z\n\n`;
md += '`loadtests/warmup-jdk.sh`: alternated restarts with an empty memory tier, `wrk -t1 -c50` from the moment ';
md += `\`/readyz\` answers: ${warm} back-to-back 1-second runs ("first ${warm} s"), then ${steadyS} s more ("after"). `;
md += 'nginx serves the origin\'s files; everything unpinned on this machine.\n\n';
md += `- edgecache: ${version}\n- A: ${name.A}, \`${optsA}\`\n- B: ${name.B}, \`${optsB}\`\n`;
md += `- load average at the end: ${load}\n- raw wrk output and logs: \`${raw}/\` (not committed)\n\n`;
md += `| scenario | JDK | first ${warm} s, median (rounds) | after, median | first / after | ready after (ms, median) |\n|---|---|---|---|---|---|\n`;
const scen = [...new Set(rows.map(r => r[0]))];
for (const sc of scen) {
  for (const side of ['A', 'B']) {
    const rs = rows.filter(r => r[0] === sc && r[1] === side);
    if (!rs.length) continue;
    const first = rs.map(r => Number(r[4])), after = rs.map(r => Number(r[5])), ready = rs.map(r => Number(r[3]));
    md += `| ${sc} | ${side}: ${name[side].split(' (')[0]} | ${k(med(first))} (${first.map(k).join(', ')}) | ${k(med(after))} (${after.map(k).join(', ')}) | ${(med(first) / med(after)).toFixed(2)} | ${med(ready)} |\n`;
  }
}
md += '\nPer run, req/s second by second, and the warm-up\'s log line:\n\n| scenario | JDK | round | per second | warm-up |\n|---|---|---|---|---|\n';
for (const r of rows) md += `| ${r[0]} | ${r[1]} | ${r[2]} | ${r[6]} | ${r[7]} |\n`;
fs.writeFileSync(out, md);
console.log(md);
EOF
log "wrote ${RESULTS#"$ROOT"/}"
