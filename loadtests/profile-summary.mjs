// Summarises async-profiler's collapsed stacks (one "frame;frame;... count" line each) for
// loadtests/profile.sh: where the CPU samples land by layer, edgecache's costliest frames
// (inclusive), and the heap bytes allocated per request by allocation site.
//
//   node profile-summary.mjs cpu   CPU.collapsed   [top]
//   node profile-summary.mjs alloc ALLOC.collapsed REQUESTS [top]
//
// Prints Markdown. Layers are told by the leaf frame: "_[k]" is the kernel, io/netty Netty,
// io/vertx Vert.x, io/edgecache edgecache; JDK frames count for the nearest caller outside the
// JDK ("JDK for Netty", ...), since a String or HashMap method runs on someone's behalf.
import fs from 'node:fs';

const [mode, file, third, fourth] = process.argv.slice(2);
const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim());
const stacks = lines.map((l) => {
  const cut = l.lastIndexOf(' ');
  return { frames: l.slice(0, cut).split(';'), n: Number(l.slice(cut + 1)) };
});
const total = stacks.reduce((s, x) => s + x.n, 0);
const jdk = (f) => /^(java|jdk|sun)\//.test(f);
const owner = (f) => {
  if (f.endsWith('_[k]')) return 'kernel';
  if (f.startsWith('io/netty')) return 'Netty';
  if (f.startsWith('io/vertx')) return 'Vert.x';
  if (f.startsWith('io/edgecache')) return 'edgecache';
  if (f.startsWith('io/micrometer')) return 'Micrometer';
  if (f.startsWith('com/github/benmanes')) return 'Caffeine';
  return null;
};
const layer = (frames) => {
  const leaf = frames[frames.length - 1];
  const own = owner(leaf);
  if (own) return own;
  if (jdk(leaf)) {
    for (let i = frames.length - 2; i >= 0; i--) {
      if (!jdk(frames[i])) return `JDK for ${owner(frames[i]) ?? 'other'}`;
    }
    return 'JDK';
  }
  return 'JVM and other (stubs, vDSO, GC, JIT)';
};
const pct = (v) => `${((100 * v) / total).toFixed(1)}%`;
const top = (m, k) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, k);
// JFR-converted stacks mark frames _[j] (JIT-compiled), _[i] (inlined), _[0] (interpreted) ...
const bare = (f) => f.replace(/_\[[a-z0-9]+\]$/, '');
const name = (f) => bare(f).replace(/\//g, '.').replace(/\$\$Lambda.*$/, '$$Lambda');

if (mode === 'cpu') {
  const k = Number(third ?? 15);
  const layers = new Map();
  const own = new Map();
  for (const { frames, n } of stacks) {
    const l = layer(frames);
    layers.set(l, (layers.get(l) ?? 0) + n);
    if (l === 'edgecache' || l === 'JDK for edgecache') {
      // edgecache's own work: the method the sample is in, or the one whose JDK call it is in
      const f = [...frames].reverse().find((x) => x.startsWith('io/edgecache'));
      own.set(name(f), (own.get(name(f)) ?? 0) + n);
    }
  }
  console.log(`${total} samples.\n\n| layer (by the sampled frame) | share |\n|---|---:|`);
  for (const [l, n] of top(layers, 20)) console.log(`| ${l} | ${pct(n)} |`);
  console.log(`\n| edgecache method (its own code and the JDK code it calls) | share |\n|---|---:|`);
  for (const [f, n] of top(own, k)) console.log(`| \`${f}\` | ${pct(n)} |`);
} else if (mode === 'alloc') {
  const requests = Number(third);
  const k = Number(fourth ?? 15);
  const sites = new Map();
  for (const { frames, n } of stacks) {
    // the leaf is the allocated class; the site is the first frame above it outside the JDK
    let site = '?';
    for (let i = frames.length - 2; i >= 0; i--) {
      if (!jdk(frames[i])) {
        site = name(frames[i]);
        break;
      }
    }
    sites.set(site, (sites.get(site) ?? 0) + n);
  }
  const per = (v) => (requests > 0 ? Math.round(v / requests) : 0);
  console.log(`${per(total)} heap bytes per request (${total} bytes over about ${requests} requests).\n`);
  console.log('| allocated in (first frame outside the JDK) | bytes per request |\n|---|---:|');
  for (const [s, n] of top(sites, k)) console.log(`| \`${s}\` | ${per(n)} |`);
} else {
  console.error('usage: profile-summary.mjs cpu FILE [top] | alloc FILE REQUESTS [top]');
  process.exit(2);
}
