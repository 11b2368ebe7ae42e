// Load-test origin for loadtests/run.sh, disk-vs-memory.sh, purge-bench.sh, cluster-zipf.sh and memory-stress.sh.
// Node built-ins only (no npm deps).
//
//   node loadtests/sized-origin.mjs [--host 127.0.0.1] [--port 18100] [--max-age 3600]
//                                   [--tiny 32] [--groups 100] [--max-size 67108864]
//                                   [--zipf-size 1024]
//
// Routes (GET and HEAD; anything after the number, e.g. a query string or "/x", is ignored
// by the origin but makes a distinct cache key):
//   /size/<N>   200 with exactly N bytes (N <= --max-size), Cache-Control: public, max-age
//   /p/<n>      200 with a --tiny byte body, Cache-Control: public, max-age and
//               Surrogate-Key: group-<n mod --groups>  (for tag purges)
//   /z/<n>      200 with a --zipf-size byte body, Cache-Control: public, max-age (the keys of
//               the Zipf scenario of loadtests/run.sh)
//   /pass/<N>   200 with exactly N bytes, Cache-Control: no-store (a pass-through request)
//   /__count    {"requests": N, "byRoute": {...}}: every request except /__count itself
// Anything else: 404 (Cache-Control: no-store). Bodies are deterministic printable bytes.
// On SIGTERM/SIGINT the count is printed to stdout before exiting.

import http from 'node:http';

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const host = arg('host', '127.0.0.1');
const port = Number(arg('port', '18100'));
const maxAge = Number(arg('max-age', '3600'));
const tiny = Number(arg('tiny', '32'));
const groups = Number(arg('groups', '100'));
const maxSize = Number(arg('max-size', String(64 << 20)));
const zipfSize = Number(arg('zipf-size', '1024'));

const pattern = 'edgecache-sized-origin-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMNOPQRSTUVWXYZ\n';
const bodies = new Map(); // size -> Buffer
function bodyOf(n) {
  let b = bodies.get(n);
  if (!b) {
    b = Buffer.from(pattern.repeat(Math.ceil(n / pattern.length) || 1).slice(0, n), 'latin1');
    if (bodies.size < 64) bodies.set(n, b);
  }
  return b;
}
const tinyBody = bodyOf(tiny);
const cacheControl = `public, max-age=${maxAge}`;

let requests = 0;
const byRoute = Object.create(null);
const count = (r) => { requests++; byRoute[r] = (byRoute[r] || 0) + 1; };

function send(req, res, status, headers, body) {
  headers['Content-Length'] = body.length;
  res.writeHead(status, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}

const server = http.createServer((req, res) => {
  const url = req.url || '/';
  if (url === '/__count') {
    const json = Buffer.from(JSON.stringify({ requests, byRoute }));
    send(req, res, 200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }, json);
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    count('other');
    send(req, res, 405, { Allow: 'GET, HEAD', 'Cache-Control': 'no-store' }, Buffer.alloc(0));
    return;
  }
  let m = /^\/p\/(\d+)/.exec(url);
  if (m) {
    count('p');
    const n = Number(m[1]);
    send(req, res, 200, {
      'Content-Type': 'text/plain',
      'Cache-Control': cacheControl,
      'Surrogate-Key': `group-${n % groups}`,
    }, tinyBody);
    return;
  }
  if (/^\/z\/\d+/.test(url)) {
    count('z');
    send(req, res, 200, { 'Content-Type': 'application/octet-stream', 'Cache-Control': cacheControl }, bodyOf(zipfSize));
    return;
  }
  m = /^\/pass\/(\d+)/.exec(url);
  if (m && Number(m[1]) <= maxSize) {
    count('pass');
    send(req, res, 200, { 'Content-Type': 'application/octet-stream', 'Cache-Control': 'no-store' }, bodyOf(Number(m[1])));
    return;
  }
  m = /^\/size\/(\d+)/.exec(url);
  if (m && Number(m[1]) <= maxSize) {
    count('size');
    send(req, res, 200, { 'Content-Type': 'application/octet-stream', 'Cache-Control': cacheControl }, bodyOf(Number(m[1])));
    return;
  }
  count('404');
  send(req, res, 404, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-store' }, Buffer.from('not found\n'));
});

server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
server.on('error', (err) => {
  console.error(`sized-origin: ${err.message}`);
  process.exit(1);
});
server.listen(port, host, () => {
  console.log(`sized-origin: listening on http://${host}:${port} (max-age ${maxAge}, tiny ${tiny} B, ${groups} groups)`);
});

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    console.log(`sized-origin: ${requests} request(s) served ${JSON.stringify(byRoute)}`);
    server.close();
    process.exit(0);
  });
}
