// Origin for loadtests/stream-fill.sh: large generated bodies, streamed with backpressure and never
// held whole. Node built-ins only.
//
//   node loadtests/stream-origin.mjs [--host 127.0.0.1] [--port 18300] [--max-age 3600]
//
// Routes (GET and HEAD):
//   /gen/<N>    200 with exactly N bytes and a Content-Length, Cache-Control: public, max-age.
//               The bytes are a pure function of their offset (64 KiB blocks from a xorshift
//               generator seeded by the block index), so any two reads can be compared by digest.
//   /__count    {"requests": N}: every request except /__count itself
// On SIGTERM/SIGINT it exits at once.

import http from 'node:http';

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const host = arg('host', '127.0.0.1');
const port = Number(arg('port', '18300'));
const maxAge = Number(arg('max-age', '3600'));
const BLOCK = 64 * 1024;

/** Block `index` of every body: 64 KiB of xorshift32 output seeded by the index. */
function block(index, length) {
  const b = Buffer.allocUnsafe(BLOCK);
  let x = (index * 2654435761 + 1) >>> 0 || 1;
  for (let i = 0; i < BLOCK; i += 4) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    b.writeUInt32LE(x, i);
  }
  return length === BLOCK ? b : b.subarray(0, length);
}

let requests = 0;

const server = http.createServer((req, res) => {
  const url = req.url || '/';
  if (url === '/__count') {
    const json = JSON.stringify({ requests });
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(json),
      'Cache-Control': 'no-store' });
    res.end(json);
    return;
  }
  requests++;
  const m = /^\/gen\/(\d+)/.exec(url);
  if (!m || (req.method !== 'GET' && req.method !== 'HEAD')) {
    res.writeHead(404, { 'Content-Length': 0, 'Cache-Control': 'no-store' });
    res.end();
    return;
  }
  const size = Number(m[1]);
  res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': size,
    'Cache-Control': `public, max-age=${maxAge}` });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  let at = 0;
  const pump = () => {
    while (at < size) {
      const n = Math.min(BLOCK, size - at);
      const more = res.write(block(at / BLOCK, n));
      at += n;
      if (!more) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  res.on('close', () => { at = size + 1; });
  pump();
});

server.listen(port, host);
for (const s of ['SIGTERM', 'SIGINT']) process.on(s, () => process.exit(0));
