// Fixed-rate latency probe for loadtests/purge-bench.sh. Node built-ins only.
//
//   node loadtests/probe.mjs run --url URL [--rate 200] [--connections 4] [--duration 120] --out FILE
//   node loadtests/probe.mjs summarize --samples FILE --windows FILE [--json]
//
// run: sends one GET every 1000/rate ms (open loop: the schedule does not wait for answers) over
// up to --connections keep-alive connections, and appends one line per request to --out:
//   <scheduled epoch ms>\t<latency ms>\t<status or "ERR">\t<1 if Cache-Status says hit, else 0>
// Latency counts from the *scheduled* send time, so a stalled server (or a request queued behind
// stalled ones) shows its full delay instead of silently lowering the request rate. Stops after
// --duration seconds or on SIGTERM/SIGINT (in-flight requests are recorded as they finish, up to
// 5 s), then prints a one-line summary.
//
// summarize: --windows is a TSV of "<name>\t<from epoch ms>\t<to epoch ms>"; prints per window the
// samples scheduled in [from, to): count, p50, p99, p99.9, max latency, errors, non-2xx, non-hits.

import http from 'node:http';
import fs from 'node:fs';

const argv = process.argv.slice(2);
const mode = argv[0];
function arg(name, fallback) {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
}

function pct(sorted, p) {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

function stats(rows) {
  const lat = rows.map((r) => r.lat).sort((a, b) => a - b);
  return {
    count: rows.length,
    p50: pct(lat, 50), p99: pct(lat, 99), p999: pct(lat, 99.9), max: lat.length ? lat[lat.length - 1] : NaN,
    errors: rows.filter((r) => r.status === 'ERR').length,
    non2xx: rows.filter((r) => r.status !== 'ERR' && !/^2/.test(r.status)).length,
    nonHits: rows.filter((r) => r.hit !== '1').length,
  };
}

if (mode === 'run') {
  const url = new URL(arg('url'));
  const rate = Number(arg('rate', '200'));
  const connections = Number(arg('connections', '4'));
  const duration = Number(arg('duration', '120')) * 1000;
  const out = fs.openSync(arg('out'), 'a');
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const interval = 1000 / rate;
  const t0 = Date.now();
  let sent = 0, done = 0, stopping = false;
  const rows = [];
  let buf = [];
  const flush = () => { if (buf.length) { fs.writeSync(out, buf.join('')); buf = []; } };
  setInterval(flush, 500).unref();

  function record(sched, status, hit) {
    const lat = performance.timeOrigin + performance.now() - sched;
    done++;
    rows.push({ lat, status: String(status), hit: hit ? '1' : '0' });
    buf.push(`${sched.toFixed(1)}\t${lat.toFixed(3)}\t${status}\t${hit ? 1 : 0}\n`);
  }

  function fire(sched) {
    sent++;
    const req = http.get({ host: url.hostname, port: url.port, path: url.pathname + url.search, agent, timeout: 30000 }, (res) => {
      const hit = /edgecache;\s*hit(\s*[;,]|\s*$)/i.test(String(res.headers['cache-status'] || ''));
      res.resume();
      res.on('end', () => record(sched, res.statusCode, hit));
      res.on('error', () => record(sched, 'ERR', false));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => record(sched, 'ERR', false));
  }

  // schedule against absolute times so timer drift does not lower the rate
  let next = performance.timeOrigin + performance.now();
  function tick() {
    if (stopping) return;
    const now = performance.timeOrigin + performance.now();
    while (next <= now) {
      fire(next);
      next += interval;
    }
    if (now - t0 >= duration) { stop(); return; }
    setTimeout(tick, Math.max(0, next - now));
  }

  function stop() {
    if (stopping) return;
    stopping = true;
    const deadline = Date.now() + 5000;
    const wait = () => {
      if (done >= sent || Date.now() > deadline) {
        flush();
        const s = stats(rows);
        console.log(`probe: sent ${sent}, answered ${done}; p50 ${s.p50?.toFixed(2)} ms, p99 ${s.p99?.toFixed(2)} ms, max ${s.max?.toFixed(2)} ms; errors ${s.errors}, non-2xx ${s.non2xx}, non-hits ${s.nonHits}`);
        process.exit(0);
      } else setTimeout(wait, 20);
    };
    wait();
  }
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  tick();
} else if (mode === 'summarize') {
  const samples = fs.readFileSync(arg('samples'), 'utf8').trim().split('\n').filter(Boolean).map((l) => {
    const [sched, lat, status, hit] = l.split('\t');
    return { sched: Number(sched), lat: Number(lat), status, hit };
  });
  const windows = fs.readFileSync(arg('windows'), 'utf8').trim().split('\n').filter(Boolean).map((l) => {
    const [name, from, to] = l.split('\t');
    return { name, from: Number(from), to: Number(to) };
  });
  const result = windows.map((w) => ({ ...w, ...stats(samples.filter((s) => s.sched >= w.from && s.sched < w.to)) }));
  if (argv.includes('--json')) {
    console.log(JSON.stringify(result, null, 2));
  } else {
    const f = (x) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
    for (const r of result) {
      console.log(`${r.name}\t${((r.to - r.from) / 1000).toFixed(3)} s\tn=${r.count}\tp50 ${f(r.p50)}\tp99 ${f(r.p99)}\tp99.9 ${f(r.p999)}\tmax ${f(r.max)}\terrors ${r.errors}\tnon-2xx ${r.non2xx}\tnon-hits ${r.nonHits}`);
    }
  }
} else {
  console.error('usage: probe.mjs run --url URL [--rate N] [--connections N] [--duration S] --out FILE | summarize --samples FILE --windows FILE [--json]');
  process.exit(2);
}
