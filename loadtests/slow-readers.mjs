// Slow readers for loadtests/memory-stress.sh. Node built-ins only.
//
//   node loadtests/slow-readers.mjs --port P --host-header H --clients 200 --seconds 180
//        [--path-prefix /size/8388608/slow] [--objects 8] [--rate 131072]
//
// Each client keeps one connection, asks for one of --objects large objects, and reads it at
// about --rate bytes per second (pausing the socket in between), then asks again. At the end it
// prints one JSON line: {"responses": N, "bytes": N, "errors": N}.
import net from 'node:net';

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const port = Number(arg('port', '8080'));
const hostHeader = arg('host-header', 'stress.test');
const clients = Number(arg('clients', '200'));
const seconds = Number(arg('seconds', '180'));
const prefix = arg('path-prefix', '/size/8388608/slow');
const objects = Number(arg('objects', '8'));
const rate = Number(arg('rate', '131072'));
const deadline = Date.now() + seconds * 1000;
let responses = 0;
let bytes = 0;
let errors = 0;

function client(id) {
  if (Date.now() > deadline) return Promise.resolve();
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.setNoDelay(true);
    let got = 0;
    let want = -1;
    let head = '';
    const tick = setInterval(() => {
      if (Date.now() > deadline) { s.destroy(); return; }
      s.resume();
      setTimeout(() => s.pause(), 50);
    }, Math.max(100, Math.round(1000 * 16384 / rate)));
    s.on('connect', () => {
      s.write(`GET ${prefix}${id % objects} HTTP/1.1\r\nHost: ${hostHeader}\r\nConnection: close\r\n\r\n`);
    });
    s.on('data', (chunk) => {
      if (want < 0) {
        head += chunk.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        const m = /content-length:\s*(\d+)/i.exec(head.slice(0, end));
        want = m ? Number(m[1]) : 0;
        got = head.length - end - 4;
      } else {
        got += chunk.length;
      }
      bytes += chunk.length;
      s.pause();
    });
    s.on('error', (e) => { if (errors++ < 3) console.error(e.message); });
    s.on('close', () => {
      clearInterval(tick);
      if (want >= 0 && got >= want) responses++;
      resolve();
    });
  }).then(() => (Date.now() > deadline ? undefined : client(id)));
}

await Promise.all(Array.from({ length: clients }, (_, i) => client(i)));
console.log(JSON.stringify({ responses, bytes, errors }));
