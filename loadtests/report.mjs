// Turns one run of loadtests/run.sh into its results: a markdown report, a CSV of every measured
// run, a CSV of the warm-up series and (with gnuplot) a PNG chart. Node built-ins only.
//
//   node loadtests/report.mjs RAW-DIR OUT.md
//
// RAW-DIR holds runs.tsv, warmup-series.tsv and meta.tsv as run.sh writes them. Besides OUT.md
// it writes OUT.csv, OUT-warmup.csv and OUT.png (OUT = OUT.md without ".md"); the chart's data
// and gnuplot script stay in RAW-DIR.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const [rawDir, outMd] = process.argv.slice(2);
if (!rawDir || !outMd) {
  console.error('usage: node report.mjs RAW-DIR OUT.md');
  process.exit(2);
}
const base = outMd.replace(/\.md$/, '');
const outCsv = `${base}.csv`;
const outSeriesCsv = `${base}-warmup.csv`;
const outPng = `${base}.png`;

function readTsv(file) {
  if (!fs.existsSync(file)) return [];
  const [header, ...lines] = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const cols = header.split('\t');
  return lines.map((l) => {
    const v = l.split('\t');
    return Object.fromEntries(cols.map((c, i) => [c, v[i] ?? '']));
  });
}
const num = (v) => (v === '' || v === undefined ? NaN : Number(v));

// ---------------------------------------------------------------- inputs
const meta = {};
const paths = {};
const versions = {};
const notes = {};
for (const line of fs.readFileSync(path.join(rawDir, 'meta.tsv'), 'utf8').split('\n')) {
  if (!line) continue;
  const [section, key, ...rest] = line.split('\t');
  const value = rest.join('\t');
  ({ meta, path: paths, version: versions, note: notes })[section][key] = value;
}
const runs = readTsv(path.join(rawDir, 'runs.tsv'));
for (const r of runs) {
  for (const k of ['round', 'rps', 'p50_ms', 'p99_ms', 'requests', 'origin_fetches', 'non2xx', 'server_cpu', 'origin_cpu', 'wrk_cpu', 'other_cpu', 'ready_ms']) {
    r[k] = num(r[k]);
  }
}
const series = readTsv(path.join(rawDir, 'warmup-series.tsv'));
for (const r of series) for (const k of ['round', 'second', 'rps', 'p50_ms', 'p99_ms', 'non2xx']) r[k] = num(r[k]);

const SCENARIOS = ['hit1k', 'hit100k', 'hit1m', 'zipf', 'paced1k', 'pass1k', 'warmup'];
// the warm-up scenario loads the path of WARM_OF (hit1k or pass1k) and compares with its steady median
const warmOf = meta.warmOf === 'pass1k' ? 'pass1k' : 'hit1k';
const LABEL = {
  hit1k: '1 KiB hit',
  hit100k: '100 KiB hit',
  hit1m: '1 MiB hit',
  zipf: `Zipf (s=${meta.zipfS}) over ${Number(meta.zipfKeys).toLocaleString('en-US')} 1 KiB keys`,
  paced1k: `1 KiB hit, paced (${meta.pacedDelayMs} ms between a response and the next request)`,
  pass1k: 'pass-through 1 KiB (`no-store`)',
  warmup: `${warmOf === 'pass1k' ? 'pass-through 1 KiB' : '1 KiB hit'}, first ${meta.warmSeconds} s after start`,
};
const SHORT = {
  hit1k: '1 KiB hit', hit100k: '100 KiB hit', hit1m: '1 MiB hit',
  zipf: `Zipf ${Number(meta.zipfKeys) % 1000 ? meta.zipfKeys : `${Number(meta.zipfKeys) / 1000}k`} x 1 KiB`,
  paced1k: '1 KiB hit, paced', pass1k: 'pass-through 1 KiB', warmup: `first ${meta.warmSeconds} s after start`,
};
const HIT = new Set(['hit1k', 'hit100k', 'hit1m', 'zipf']);
const SERVERS = ['edgecache', 'nginx', 'varnish', 'ats'];
const PEERS = ['nginx', 'varnish', 'ats'];
const NAME = { edgecache: 'edgecache', nginx: 'nginx proxy_cache', varnish: 'Varnish', ats: 'ATS', origin: 'origin alone' };
const NOISY = 0.3; // cores used by processes the runner did not start

const scenarios = SCENARIOS.filter((sc) => runs.some((r) => r.scenario === sc));
const servers = SERVERS.filter((s) => runs.some((r) => r.server === s));
const peers = PEERS.filter((s) => servers.includes(s));

const median = (xs) => {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : 'n/a');
const ms = (x) => (Number.isFinite(x) ? (x >= 100 ? fmt(x, 0) : x >= 10 ? fmt(x, 1) : fmt(x, 2)) : 'n/a');

// agg[scenario][server]: medians over rounds
const agg = {};
for (const sc of scenarios) {
  agg[sc] = {};
  for (const s of [...servers, 'origin']) {
    const ok = runs.filter((r) => r.scenario === sc && r.server === s && Number.isFinite(r.rps));
    if (!ok.length) continue;
    const col = (k) => ok.map((r) => r[k]);
    agg[sc][s] = {
      n: ok.length,
      rps: median(col('rps')),
      rpsMin: Math.min(...col('rps')),
      rpsMax: Math.max(...col('rps')),
      p50: median(col('p50_ms')),
      p99: median(col('p99_ms')),
      fetches: ok.reduce((a, r) => a + (r.origin_fetches || 0), 0),
      requests: ok.reduce((a, r) => a + (r.requests || 0), 0),
      non2xx: ok.reduce((a, r) => a + (r.non2xx || 0), 0),
      serverCpu: median(col('server_cpu')),
      originCpu: median(col('origin_cpu')),
      wrkCpu: median(col('wrk_cpu')),
      otherCpu: median(col('other_cpu')),
      perCore: median(ok.filter((r) => r.server_cpu > 0).map((r) => r.rps / r.server_cpu)),
      readyMs: median(col('ready_ms')),
      noisy: ok.filter((r) => r.other_cpu > NOISY).length,
      errors: [...new Set(ok.map((r) => r.socket_errors).filter(Boolean))].join('; '),
    };
  }
}
const failedPairs = runs.filter((r) => !Number.isFinite(r.rps));

// best peer of a scenario by median req/s
function bestPeer(sc) {
  let best = null;
  for (const p of peers) {
    const a = agg[sc]?.[p];
    if (a && (!best || a.rps > agg[sc][best].rps)) best = p;
  }
  return best;
}
const ratio = (a, b) => (a && b && b > 0 ? a / b : NaN);
const edgeOver = (sc, other) => ratio(agg[sc]?.edgecache?.rps, agg[sc]?.[other]?.rps);

// ---------------------------------------------------------------- markdown
const out = [];
const rounds = Number(meta.rounds);
out.push(`# edgecache speed scenarios — ${meta.date}`);
out.push('');
out.push(`Requests per second of edgecache, nginx \`proxy_cache\`, Varnish and Apache Traffic Server in front of the same origin, on the same machine in one run of \`loadtests/run.sh\`: median of ${rounds} round(s) per scenario and server.`);
out.push('');
if (meta.gnuplot === '1') out.push(`![median req/s relative to the best peer per scenario](${path.basename(outPng)})`, '');
out.push(`- machine: ${meta.nproc} CPU(s) (${meta.cpu}), ${meta.memory}, ${meta.host}`);
out.push(`- CPU pinning: ${meta.pinning}`);
if (meta.tcp) out.push(`- TCP: ${meta.tcp}`);
out.push(`- load average (1/5/15 min): ${meta.loadavg}`);
out.push(`- load: \`${meta.wrk}\` per server and scenario after ${meta.warmup} of unrecorded load, order reversed every other round; warm-up scenario: the server restarted with an empty cache, then ${meta.warmSeconds} back-to-back \`wrk -d1s\` runs from the moment it answers (edgecache: \`GET /readyz\` 200; the others: any answer on the traffic port)`);
out.push(`- objects: ${scenarios.map((sc) => `${SHORT[sc]} \`${sc === 'zipf' ? '/z/<rank>' : paths[sc]}\``).join(', ')}${scenarios.includes('zipf') ? `; Zipf ranks from \`loadtests/zipf.lua\` (seed ${meta.zipfSeed}), every key filled before the runs` : ''}`);
out.push(`- origin: ${meta.origin}`);
out.push(`- ${meta.wrkVersion}; whole run ${fmt(Number(meta.elapsedSeconds) / 60, 1)} min, of which ${fmt(Number(meta.quietSpent) / 60, 1)} min waiting for other processes to calm down`);
for (const s of SERVERS) if (versions[s]) out.push(`- ${NAME[s]}: ${versions[s]}`);
if (meta.edgeEventLoops) out.push(`- edgecache event-loop threads: ${meta.edgeEventLoops}`);
out.push(`- raw wrk output, configs, per-run TSV: \`${meta.rawDir}/\` (not committed)${meta.profileDir ? `; JFR recordings: \`${meta.profileDir}/\`` : ''}`);
out.push('');

// throughput
const serverCols = servers.map((s) => NAME[s]);
out.push(`## Throughput: req/s, median (min–max) of ${rounds} round(s)`);
out.push('');
out.push(`| scenario | ${serverCols.join(' | ')} | edgecache / best peer |`);
out.push(`|---|${servers.map(() => '---:').join('|')}|---|`);
for (const sc of scenarios) {
  const cells = servers.map((s) => {
    const a = agg[sc][s];
    if (!a) return '—';
    return `${fmt(a.rps)} (${fmt(a.rpsMin)}–${fmt(a.rpsMax)})${a.noisy ? ' ⚠' : ''}`;
  });
  const bp = bestPeer(sc);
  const r = bp ? edgeOver(sc, bp) : NaN;
  out.push(`| ${LABEL[sc]} | ${cells.join(' | ')} | ${Number.isFinite(r) ? `**${fmt(r, 2)}** (${NAME[bp]})` : 'n/a'} |`);
}
out.push('');
if (agg.pass1k?.origin) {
  const o = agg.pass1k.origin;
  out.push(`Origin alone (wrk straight at the origin's \`/pass/1k\`, same settings): ${fmt(o.rps)} req/s (${fmt(o.rpsMin)}–${fmt(o.rpsMax)}), p99 ${ms(o.p99)} ms, origin CPU ${fmt(o.originCpu, 2)} cores: the ceiling of the pass-through row on this machine.`);
  out.push('');
}
out.push(`⚠ = in at least one round, processes this script did not start used more than ${NOISY} cores.`);
out.push('');

// latency
out.push(`## p99 latency: ms, median of ${rounds} round(s)`);
out.push('');
out.push(`| scenario | ${serverCols.join(' | ')} | edgecache p99 / best peer's |`);
out.push(`|---|${servers.map(() => '---:').join('|')}|---|`);
// paced1k offers every server about the same rate: there the bar is the lowest p99 of the peers
const p99Peer = (sc) => (sc === 'paced1k'
  ? PEERS.filter((s) => agg[sc]?.[s]).sort((a, b) => agg[sc][a].p99 - agg[sc][b].p99)[0]
  : bestPeer(sc));
for (const sc of scenarios) {
  const cells = servers.map((s) => (agg[sc][s] ? ms(agg[sc][s].p99) : '—'));
  const bp = p99Peer(sc);
  const r = bp ? ratio(agg[sc]?.edgecache?.p99, agg[sc][bp].p99) : NaN;
  const whose = sc === 'paced1k' ? `${NAME[bp]}, the lowest` : NAME[bp];
  out.push(`| ${LABEL[sc]} | ${cells.join(' | ')} | ${Number.isFinite(r) ? `${fmt(r, 2)} (${whose})` : 'n/a'} |`);
}
out.push('');
if (agg.paced1k) {
  out.push('The paced row offers every server about the same rate (each of the connections waits between a response and its next request, `loadtests/paced.lua`), below what any of them serves at its limit: its p99 compares the servers at equal load, where the other rows measure each at its own limit, with wrk, whose clock the latency is read from, the busier the faster the server.', '');
}
if (agg.warmup) out.push(`For the warm-up row, each round's p99 is the highest of its ${meta.warmSeconds} one-second runs' p99.`, '');

// targets
const mark = (ok) => (ok === undefined ? 'n/a' : ok ? 'yes' : '**no**');
const targetRows = [];
for (const sc of scenarios.filter((x) => HIT.has(x))) {
  const bp = bestPeer(sc);
  const e = agg[sc]?.edgecache;
  if (!bp || !e) continue;
  const r = edgeOver(sc, bp);
  const p = ratio(e.p99, agg[sc][bp].p99);
  targetRows.push(`| ${LABEL[sc]}: req/s ≥ 1.0× best peer, p99 ≤ its p99 | ${fmt(r, 2)}× ${NAME[bp]}; p99 ${ms(e.p99)} vs ${ms(agg[sc][bp].p99)} ms | ${mark(r >= 1 && p <= 1)} |`);
}
if (agg.pass1k?.edgecache && agg.pass1k?.nginx) {
  const r = edgeOver('pass1k', 'nginx');
  targetRows.push(`| pass-through: ≥ 0.9× nginx | ${fmt(r, 2)}× (${fmt(agg.pass1k.edgecache.rps)} vs ${fmt(agg.pass1k.nginx.rps)} req/s) | ${mark(r >= 0.9)} |`);
}
const warmRatio = (s) => ratio(agg.warmup?.[s]?.rps, agg[warmOf]?.[s]?.rps);
if (agg.warmup?.edgecache) {
  const r = warmRatio('edgecache');
  targetRows.push(`| first ${meta.warmSeconds} s after start: ≥ 0.6× steady state (its own ${SHORT[warmOf]} median) | ${Number.isFinite(r) ? `${fmt(r, 2)}×` : `n/a (${warmOf} not measured)`} | ${Number.isFinite(r) ? mark(r >= 0.6) : 'n/a'} |`);
}
if (targetRows.length) {
  out.push('## Targets of issue 12 (ratios within this run)');
  out.push('');
  out.push('| target | measured | met |');
  out.push('|---|---|---|');
  out.push(...targetRows);
  out.push('');
}

// warm-up
if (agg.warmup) {
  const ws = servers.filter((s) => agg.warmup[s]);
  out.push(`## Warm-up: the first ${meta.warmSeconds} s after a restart`);
  out.push('');
  out.push(`| server | ready after (ms, median) | first-seconds req/s (median) | steady ${SHORT[warmOf]} req/s (median) | first seconds / steady | origin fetches (all rounds) |`);
  out.push('|---|---:|---:|---:|---:|---:|');
  for (const s of ws) {
    const a = agg.warmup[s];
    const r = warmRatio(s);
    out.push(`| ${NAME[s]} | ${fmt(a.readyMs)} | ${fmt(a.rps)} | ${fmt(agg[warmOf]?.[s]?.rps)} | ${Number.isFinite(r) ? fmt(r, 2) : 'n/a'} | ${a.fetches} |`);
  }
  out.push('');
  const secs = [...new Set(series.map((r) => r.second))].sort((a, b) => a - b);
  if (secs.length) {
    out.push(`Req/s in each second after the server first answered (median over rounds); each second is its own \`wrk -d1s\` run, so 50 connections are opened anew every second:`);
    out.push('');
    out.push(`| second | ${ws.map((s) => NAME[s]).join(' | ')} |`);
    out.push(`|---:|${ws.map(() => '---:').join('|')}|`);
    for (const sec of secs) {
      out.push(`| ${sec} | ${ws.map((s) => fmt(median(series.filter((r) => r.server === s && r.second === sec).map((r) => r.rps)))).join(' | ')} |`);
    }
    out.push('');
  }
}

// CPU and checks
out.push('## CPU and origin checks');
out.push('');
out.push('CPU in cores (1.00 = one CPU busy for the whole run), medians over rounds: the server\'s process tree, the origin (nginx + node), wrk, and everything this script did not start ("other": a large value means the run shared the machine). "req/s per server core" divides throughput by the server\'s own CPU use: a cost per request that other load disturbs less than raw req/s. Origin fetches are summed over the measured runs: 0 for hit scenarios (every response came from the cache), about the request count for pass-through.');
out.push('');
out.push('| scenario | server | CPU server / origin / wrk / other | req/s per server core | requests | origin fetches | non-2xx | socket errors |');
out.push('|---|---|---:|---:|---:|---:|---:|---|');
for (const sc of scenarios) {
  for (const s of [...servers, 'origin']) {
    const a = agg[sc][s];
    if (!a) continue;
    const flag = HIT.has(sc) && a.fetches > 0 ? ' ⚠' : '';
    out.push(`| ${SHORT[sc]} | ${NAME[s]} | ${fmt(a.serverCpu, 2)} / ${fmt(a.originCpu, 2)} / ${fmt(a.wrkCpu, 2)} / ${fmt(a.otherCpu, 2)} | ${fmt(a.perCore)} | ${fmt(a.requests)} | ${fmt(a.fetches)}${flag} | ${fmt(a.non2xx)} | ${a.errors || '—'} |`);
  }
}
out.push('');
const noteLines = Object.entries(notes);
if (noteLines.length || failedPairs.length) {
  out.push('## Left out or failed');
  out.push('');
  for (const [k, v] of noteLines) out.push(`- ${k}: ${v}`);
  for (const r of failedPairs) out.push(`- ${r.scenario}: ${r.server}, round ${r.round}: ${r.socket_errors || 'no result'}`);
  out.push('');
}

out.push('<details><summary>Per-run numbers</summary>');
out.push('');
out.push('| scenario | round | server | req/s | p50 ms | p99 ms | origin fetches | CPU server / origin / wrk / other |');
out.push('|---|---:|---|---:|---:|---:|---:|---:|');
for (const r of runs) {
  out.push(`| ${r.scenario} | ${r.round} | ${NAME[r.server] || r.server} | ${fmt(r.rps)} | ${ms(r.p50_ms)} | ${ms(r.p99_ms)} | ${fmt(r.origin_fetches)} | ${fmt(r.server_cpu, 2)} / ${fmt(r.origin_cpu, 2)} / ${fmt(r.wrk_cpu, 2)} / ${fmt(r.other_cpu, 2)}${r.other_cpu > NOISY ? ' ⚠' : ''} |`);
}
out.push('');
out.push('</details>');
out.push('');
out.push('One shared machine, where the load generator, the origin and the server compete for the same cores: compare servers within a run, not across runs or machines.');
out.push('');
fs.writeFileSync(outMd, out.join('\n'));

// ---------------------------------------------------------------- CSVs
const csvCell = (v) => {
  const s = Number.isFinite(v) ? String(v) : v === undefined || (typeof v === 'number' && Number.isNaN(v)) ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};
const runCols = ['scenario', 'server', 'round', 'rps', 'p50_ms', 'p99_ms', 'requests', 'origin_fetches', 'non2xx', 'socket_errors', 'server_cpu', 'origin_cpu', 'wrk_cpu', 'other_cpu', 'ready_ms'];
fs.writeFileSync(outCsv, [runCols.join(','), ...runs.map((r) => runCols.map((c) => csvCell(r[c])).join(','))].join('\n') + '\n');
const seriesCols = ['server', 'round', 'second', 'rps', 'p50_ms', 'p99_ms', 'non2xx'];
fs.writeFileSync(outSeriesCsv, [seriesCols.join(','), ...series.map((r) => seriesCols.map((c) => csvCell(r[c])).join(','))].join('\n') + '\n');

// ---------------------------------------------------------------- chart
if (meta.gnuplot === '1' && scenarios.length) {
  const plotted = servers;
  const rows = [];
  const xtics = [];
  let ymax = 1;
  scenarios.forEach((sc, i) => {
    const bp = bestPeer(sc);
    const ref = bp ? agg[sc][bp].rps : agg[sc].edgecache?.rps;
    const vals = plotted.map((s) => (agg[sc][s] && ref ? agg[sc][s].rps / ref : NaN));
    for (const v of vals) if (Number.isFinite(v)) ymax = Math.max(ymax, v);
    rows.push([i, ...vals.map((v) => (Number.isFinite(v) ? v.toFixed(3) : '?'))].join(' '));
    const refLabel = bp ? `1.0 = ${NAME[bp].replace(' proxy_cache', '')} ${fmt(ref / 1000, ref >= 10000 ? 1 : 2)}k req/s` : '';
    xtics.push(`"${SHORT[sc]}\\n${refLabel}" ${i}`);
  });
  const dataFile = path.join(rawDir, 'chart.dat');
  fs.writeFileSync(dataFile, `# x ${plotted.join(' ')}\n${rows.join('\n')}\n`);
  const k = plotted.length;
  const w = 0.8 / k;
  const colors = { edgecache: '#d62728', nginx: '#2ca02c', varnish: '#1f77b4', ats: '#ff7f0e' };
  const series_ = plotted.flatMap((s, j) => {
    const off = (j - (k - 1) / 2) * w;
    return [
      `'${dataFile}' using ($1 + ${off.toFixed(3)}):${j + 2} with boxes lc rgb '${colors[s]}' title '${NAME[s]}'`,
      `'${dataFile}' using ($1 + ${off.toFixed(3)}):${j + 2}:(sprintf('%.2f', column(${j + 2}))) with labels offset 0,0.6 font ',8' notitle`,
    ];
  });
  const gp = [
    `set terminal pngcairo noenhanced size 1200,600 font 'sans,10'`,
    `set output '${outPng}'`,
    `set title "Median req/s relative to the best peer in each scenario (${rounds} round(s), ${meta.date}, ${meta.pinning.startsWith('none') ? 'unpinned' : 'pinned'}, wrk ${meta.wrk.replace(/^wrk /, '').replace(/ --latency$/, '')})"`,
    `set ylabel 'req/s / best peer'`,
    `set datafile missing '?'`,
    `set style fill solid 0.85 border -1`,
    `set boxwidth ${(w * 0.95).toFixed(3)}`,
    `set xrange [-0.6:${scenarios.length - 0.4}]`,
    `set yrange [0:${(ymax * 1.15).toFixed(2)}]`,
    `set grid ytics`,
    `set key outside top center horizontal`,
    `set bmargin 4`,
    `set xtics (${xtics.join(', ')}) nomirror`,
    `set arrow from -0.6,1 to ${scenarios.length - 0.4},1 nohead dt 2 lc rgb '#444444'`,
    `plot ${series_.join(', \\\n     ')}`,
  ].join('\n');
  const gpFile = path.join(rawDir, 'chart.gp');
  fs.writeFileSync(gpFile, gp + '\n');
  const res = spawnSync('gnuplot', [gpFile], { encoding: 'utf8' });
  if (res.status !== 0) console.error(`gnuplot failed: ${res.stderr || res.error}`);
}

process.stdout.write('\n' + out.join('\n') + '\n');
