// Zipf workload client for loadtests/cluster-zipf.sh. Node built-ins only.
//
//   node loadtests/zipf-client.mjs --urls http://127.0.0.1:18381,http://127.0.0.1:18382
//        [--keys 10000] [--requests 100000] [--s 1.0] [--seed 42] [--concurrency 32]
//        [--prefix /p/] [--host zipf.test] [--timeout 10000]
//
// Draws --requests keys from a Zipf distribution over --keys keys (rank r has weight 1/r^s; key
// "<prefix><r-1>"), with a seeded PRNG, so every run with the same arguments sends the same
// sequence. Request i goes to node i mod N (round-robin over --urls), whatever the concurrency,
// so each node sees the same share of the sequence in every configuration. Keep-alive
// connections, at most --concurrency requests in flight. Every request carries the same Host
// (--host), as when a load balancer passes the client's Host on: the cache key includes the
// host, so addressing each node by its own host:port would give every node different keys.
// Each response is classified by the last "edgecache" member of its Cache-Status (RFC 9211: the
// last member is the cache nearest the client, i.e. the node asked; in sharded mode the owner's
// member comes before it, also when a non-owner serves a stored copy of a peer fill):
//   hit        "hit" (served from this node's cache)
//   peer       forwarded, with detail="peer ..." (filled from the key's owner, sharded mode)
//   miss       any other forward (this node went to the origin)
// Prints one JSON object on stdout:
//   {"requests", "nodes", "ok", "errors", "non2xx", "hit", "peer", "miss", "perNode": [...],
//    "distinctKeys", "distinctPerNodeSum", "elapsedMs"}
// distinctKeys is the number of different keys in the whole sequence (what a cluster that fetches
// each object once must fetch); distinctPerNodeSum adds up, over the nodes, the different keys
// each node was asked for (what N independent caches must fetch). Both assume a cache large
// enough to keep everything and no expiry during the run.

import http from 'node:http';

const argv = process.argv.slice(2);
function arg(name, fallback) {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
}

const urls = String(arg('urls', '')).split(',').filter(Boolean).map((u) => new URL(u));
const keys = Number(arg('keys', '10000'));
const requests = Number(arg('requests', '100000'));
const s = Number(arg('s', '1.0'));
const seed = Number(arg('seed', '42')) >>> 0;
const concurrency = Number(arg('concurrency', '32'));
const prefix = String(arg('prefix', '/p/'));
const timeoutMs = Number(arg('timeout', '10000'));
const hostHeader = String(arg('host', 'zipf.test'));
if (!urls.length || !(keys > 0) || !(requests > 0) || !(concurrency > 0)) {
  console.error('zipf-client: --urls (comma-separated), --keys, --requests and --concurrency are required and positive');
  process.exit(2);
}

// mulberry32: small, seeded, good enough to draw a workload
function prng(a) {
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// cumulative Zipf weights, sampled by binary search
const cdf = new Float64Array(keys);
let total = 0;
for (let r = 1; r <= keys; r++) {
  total += 1 / Math.pow(r, s);
  cdf[r - 1] = total;
}
const rand = prng(seed);
const sequence = new Int32Array(requests);
for (let i = 0; i < requests; i++) {
  const x = rand() * total;
  let lo = 0, hi = keys - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cdf[mid] < x) lo = mid + 1; else hi = mid;
  }
  sequence[i] = lo;
}

const n = urls.length;
const distinct = new Set(sequence);
let distinctPerNodeSum = 0;
for (let node = 0; node < n; node++) {
  const seen = new Set();
  for (let i = node; i < requests; i += n) seen.add(sequence[i]);
  distinctPerNodeSum += seen.size;
}

const agents = urls.map(() => new http.Agent({ keepAlive: true, maxSockets: concurrency }));
const perNode = urls.map((u) => ({ url: u.origin, requests: 0, hit: 0, peer: 0, miss: 0, errors: 0, non2xx: 0 }));
const totals = { ok: 0, errors: 0, non2xx: 0, hit: 0, peer: 0, miss: 0 };
const errorSamples = [];

function classify(cacheStatus) {
  const member = String(cacheStatus || '').split(',').map((m) => m.trim()).filter((m) => m.startsWith('edgecache')).pop() || '';
  if (/(^|;)\s*hit(\s*;|\s*$)/.test(member)) return 'hit';
  if (/detail="?peer\b/.test(member)) return 'peer';
  return 'miss';
}

function one(i) {
  const node = i % n;
  const u = urls[node];
  const st = perNode[node];
  st.requests++;
  return new Promise((resolve) => {
    const req = http.request({
      host: u.hostname, port: u.port, path: prefix + sequence[i], method: 'GET', agent: agents[node], timeout: timeoutMs,
      headers: { Host: hostHeader },
    }, (res) => {
      const kind = classify(res.headers['cache-status']);
      res.resume();
      res.on('end', () => {
        if (res.statusCode < 200 || res.statusCode > 299) { st.non2xx++; totals.non2xx++; }
        st[kind]++; totals[kind]++; totals.ok++;
        resolve();
      });
      res.on('error', (e) => fail(e));
    });
    const fail = (e) => {
      st.errors++; totals.errors++;
      if (errorSamples.length < 5) errorSamples.push(`${u.origin}${prefix}${sequence[i]}: ${e.message}`);
      resolve();
    };
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', fail);
    req.end();
  });
}

const started = Date.now();
let next = 0;
async function worker() {
  while (next < requests) {
    const i = next++;
    await one(i);
  }
}
await Promise.all(Array.from({ length: Math.min(concurrency, requests) }, worker));
agents.forEach((a) => a.destroy());

console.log(JSON.stringify({
  requests, nodes: n, keys, s, seed, ...totals, perNode,
  distinctKeys: distinct.size, distinctPerNodeSum, elapsedMs: Date.now() - started, errorSamples,
}));
