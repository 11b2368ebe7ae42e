// Tiny load-test origin for loadtests/run.sh. Node built-ins only (no npm deps).
//
//   node loadtests/origin.mjs [--host 127.0.0.1] [--port 18000] [--size 1024] [--max-age 3600]
//
// Every path except /__count answers 200 with a static body of --size bytes and
// `Cache-Control: public, max-age=<max-age>`, plus ETag and Last-Modified so any cache
// may revalidate. Only GET and HEAD are served (others: 405).
//
// GET /__count returns {"requests": N, "byPath": {...}} where N counts every request
// except /__count itself, so the runner can prove that benchmark traffic was served
// from cache and never reached the origin. On SIGTERM/SIGINT the count is also printed
// to stdout before exiting.

import http from 'node:http';
import { createHash } from 'node:crypto';

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const host = arg('host', '127.0.0.1');
const port = Number(arg('port', '18000'));
const size = Number(arg('size', '1024'));
const maxAge = Number(arg('max-age', '3600'));

// Deterministic printable body of exactly `size` bytes.
const pattern = 'edgecache-loadtest-origin-0123456789abcdefghijklmnopqrstuvwxyz\n';
const body = Buffer.from(pattern.repeat(Math.ceil(size / pattern.length)).slice(0, size), 'latin1');
const etag = '"' + createHash('sha256').update(body).digest('hex').slice(0, 16) + '"';
const lastModified = new Date(Date.now() - 24 * 3600 * 1000).toUTCString();

let requests = 0;
const byPath = Object.create(null);

const server = http.createServer((req, res) => {
  const path = (req.url || '/').split('?')[0];
  if (path === '/__count') {
    const json = JSON.stringify({ requests, byPath });
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(json),
      'Cache-Control': 'no-store',
    });
    res.end(json);
    return;
  }
  requests++;
  byPath[path] = (byPath[path] || 0) + 1;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Length': 0, 'Cache-Control': 'no-store' });
    res.end();
    return;
  }
  const headers = {
    'Content-Type': 'application/octet-stream',
    'Content-Length': body.length,
    'Cache-Control': `public, max-age=${maxAge}`,
    ETag: etag,
    'Last-Modified': lastModified,
  };
  if (req.headers['if-none-match'] === etag) {
    delete headers['Content-Length'];
    res.writeHead(304, headers);
    res.end();
    return;
  }
  res.writeHead(200, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
});

server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;

server.on('error', (err) => {
  console.error(`origin: ${err.message}`);
  process.exit(1);
});

server.listen(port, host, () => {
  console.log(`origin: listening on http://${host}:${port} (body ${body.length} B, max-age ${maxAge})`);
});

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    console.log(`origin: ${requests} request(s) served ${JSON.stringify(byPath)}`);
    server.close();
    process.exit(0);
  });
}
