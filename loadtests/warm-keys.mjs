// Fills a cache with every key of a keyspace: GET <base><prefix><i> for i = 1..count, a few at a
// time over keep-alive connections. Used by loadtests/run.sh before the Zipf scenario.
// Node built-ins only.
//
//   node loadtests/warm-keys.mjs --base http://127.0.0.1:18080 [--prefix /z/] [--count 10000]
//        [--concurrency 16] [--timeout 10000]
//
// Prints one JSON line {"requests", "ok", "failed", "firstFailures", "elapsedMs"} and exits 1 if
// any answer was not a 200.

import http from 'node:http';

const argv = process.argv.slice(2);
function arg(name, fallback) {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
}

const base = new URL(arg('base', 'http://127.0.0.1:18080'));
const prefix = arg('prefix', '/z/');
const count = Number(arg('count', '10000'));
const concurrency = Number(arg('concurrency', '16'));
const timeout = Number(arg('timeout', '10000'));
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });

let next = 1;
let ok = 0;
const failures = [];

function get(i) {
  return new Promise((resolve) => {
    const req = http.get({ host: base.hostname, port: base.port, path: prefix + i, agent, timeout }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode === 200) ok++;
        else failures.push(`${prefix}${i}: ${res.statusCode}`);
        resolve();
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => { failures.push(`${prefix}${i}: ${e.message}`); resolve(); });
  });
}

async function worker() {
  while (next <= count) await get(next++);
}

const start = Date.now();
await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
agent.destroy();
console.log(JSON.stringify({ requests: count, ok, failed: failures.length, firstFailures: failures.slice(0, 5), elapsedMs: Date.now() - start }));
process.exit(failures.length ? 1 : 0);
