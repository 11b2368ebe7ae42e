// The edgecache status page. Data comes from the admin listener's /api/status (polled every
// second) with the admin token, kept in this tab's sessionStorage only. Everything shown is set
// with textContent or SVG attributes: nothing from the server is parsed as HTML.
'use strict';

const TOKEN_KEY = 'edgecache.adminToken';
const SVG = 'http://www.w3.org/2000/svg';
const OUTCOMES = ['hit', 'stale', 'revalidated', 'collapsed', 'miss', 'bypass', 'error', 'purge'];
const ALWAYS = ['hit', 'miss'];
const $ = (id) => document.getElementById(id);

function token() { return sessionStorage.getItem(TOKEN_KEY) || ''; }

async function call(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (token()) headers.Authorization = 'Bearer ' + token();
  return fetch(path, Object.assign({}, options, { headers, cache: 'no-store', credentials: 'omit' }));
}

function message(text, isError) {
  $('message').textContent = text;
  $('message').className = isError ? 'error' : '';
}

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

function bytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0; let v = Number(n) || 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return (i === 0 ? v : v.toFixed(1)) + ' ' + units[i];
}

function pct(x) { return x === null || x === undefined ? '–' : (x * 100).toFixed(1) + ' %'; }

function row(tbody, cells, numericFrom) {
  const tr = document.createElement('tr');
  cells.forEach((c, i) => tr.appendChild(el(i === 0 ? 'th' : 'td', c, i >= numericFrom ? 'num' : '')));
  tbody.appendChild(tr);
}

function facts(container, pairs) {
  clear(container);
  for (const [k, v] of pairs) {
    const d = document.createElement('div');
    d.appendChild(el('dt', k)); d.appendChild(el('dd', v));
    container.appendChild(d);
  }
}

function unauthorized(hadToken) {
  $('data').hidden = true;
  for (const id of ['hits', 'hit-ratio', 'hit-ratio-window', 'rate-now']) $(id).textContent = '–';
  for (const id of ['tiers', 'origins', 'cluster', 'build', 'reload-result']) clear($(id));
  clear($('chart'));
  message(hadToken ? '401: the admin token was refused. Enter the right one above.'
    : '401: this admin port needs a token (admin.token). Enter it above; nothing is shown without it.', true);
}

async function refresh() {
  let r;
  try {
    r = await call('api/status');
  } catch (e) {
    message('Cannot reach the admin listener: ' + e.message, true);
    return;
  }
  if (r.status === 401) { unauthorized(token() !== ''); return; }
  if (!r.ok) { message('GET /api/status answered ' + r.status, true); return; }
  render(await r.json());
  $('data').hidden = false;
  message('Live: updated ' + new Date().toLocaleTimeString(), false);
}

function render(s) {
  const b = s.build;
  $('build-line').textContent = b.version + ' · up ' + duration(b.uptimeSeconds);
  const req = s.requests;
  const win = req.window;
  const last = (o) => { const a = win.perSecond[o] || []; return a.length ? a[a.length - 1] : 0; };
  $('hits').textContent = String(req.total.hit);
  $('hit-ratio').textContent = pct(req.hitRatio);
  $('hit-ratio-window').textContent = pct(windowRatio(win.perSecond));
  $('rate-now').textContent = OUTCOMES.reduce((sum, o) => sum + last(o), 0).toFixed(1);
  const tbody = $('outcomes').tBodies[0]; clear(tbody);
  for (const o of OUTCOMES) row(tbody, [o, last(o).toFixed(1), req.total[o]], 1);
  chart(win);

  const served = $('served').tBodies[0]; clear(served);
  const totalBytes = Object.values(s.servedBytes).reduce((a, v) => a + v, 0);
  for (const [src, n] of Object.entries(s.servedBytes)) {
    row(served, [src, bytes(n), totalBytes ? pct(n / totalBytes) : '–'], 1);
  }

  const tiers = $('tiers'); clear(tiers);
  for (const t of s.tiers) {
    const d = document.createElement('dl'); d.className = 'facts'; d.dataset.tier = t.tier;
    const pairs = [[t.tier + ' entries', t.entries], [t.tier + ' bytes used / bound',
      bytes(t.bytes) + ' / ' + bytes(t.maxBytes) + ' (' + pct(t.maxBytes ? t.bytes / t.maxBytes : 0) + ')'],
      ['evictions', t.evictions], ['rejected (too large)', t.rejected]];
    if (t.tier === 'disk') {
      pairs.push(['checksum failures', t.checksumFailures], ['store errors', t.storeErrors],
        ['read errors', t.readErrors]);
    }
    facts(d, pairs); tiers.appendChild(d);
  }

  const origins = $('origins'); clear(origins);
  for (const o of s.origins) {
    origins.appendChild(el('h3', o.name + (o.balance ? ' (' + o.balance + ')' : '')));
    const l = o.latency;
    const errs = Object.entries(o.errors).map(([k, v]) => k + ' ' + v).join(', ') || 'none';
    const d = document.createElement('dl'); d.className = 'facts';
    facts(d, [['requests timed', l.count], ['latency p50', ms(l.p50Ms)], ['p90', ms(l.p90Ms)],
      ['p99', ms(l.p99Ms)], ['errors', errs]]);
    origins.appendChild(d);
    const t = el('table'); const head = t.createTHead().insertRow();
    ['server', 'state', 'requests', 'errors', 'in flight'].forEach((h, i) => head.appendChild(el('th', h, i >= 2 ? 'num' : '')));
    const body = t.createTBody();
    for (const sv of o.servers) row(body, [sv.server, sv.state, sv.requests, sv.errors, sv.inFlight], 2);
    origins.appendChild(t);
  }

  const c = s.cluster; const cl = $('cluster'); clear(cl);
  if (!c.enabled) {
    cl.appendChild(el('p', 'Not clustered (cluster.enabled is false).'));
  } else {
    const d = document.createElement('dl'); d.className = 'facts';
    facts(d, [['cluster', c.name], ['mode', c.mode], ['this node', c.self], ['members', c.members.length]]);
    cl.appendChild(d);
    const t = el('table'); const head = t.createTHead().insertRow();
    for (const h of ['member', 'url', 'since', 'trusted']) head.appendChild(el('th', h));
    const body = t.createTBody();
    for (const m of c.members) row(body, [m.id, m.url, m.since, m.trusted ? 'yes' : 'NO'], 9);
    cl.appendChild(t);
    const f = c.lastFanout;
    cl.appendChild(el('p', f ? 'Last purge fan-out ' + f.at + ': ' + f.purge + (f.soft ? ' (soft)' : '') + '; acknowledged by '
      + Object.entries(f.nodes).map(([k, v]) => k + ' (' + v + ' purged)').join(', ')
      + (f.missing.length ? '; NO answer from ' + f.missing.join(', ') : '; every member answered')
      : 'No purge fanned out since start.'));
  }

  facts($('build'), [['version', b.version], ['started', b.startedAt], ['uptime', duration(b.uptimeSeconds)],
    ['Java', b.java], ['config file', b.configFile], ['event loops', b.eventLoops]]);
}

function ms(v) { return v === null || v === undefined ? '–' : '≤ ' + v + ' ms'; }

function duration(sec) {
  const d = Math.floor(sec / 86400); const h = Math.floor(sec % 86400 / 3600);
  const m = Math.floor(sec % 3600 / 60); const s = sec % 60;
  return (d ? d + 'd ' : '') + (d || h ? h + 'h ' : '') + (d || h || m ? m + 'm ' : '') + s + 's';
}

function windowRatio(ps) {
  const sum = (o) => (ps[o] || []).reduce((a, v) => a + v, 0);
  const served = sum('hit') + sum('stale') + sum('revalidated');
  const lookups = served + sum('miss') + sum('collapsed');
  return lookups ? served / lookups : null;
}

// A line per outcome (colour AND dash pattern) with its name and current rate written at its end.
function chart(win) {
  const svg = $('chart'); clear(svg);
  const W = 600; const H = 220; const L = 38; const R = 112; const T = 10; const B = 22;
  const t = win.t; const shown = OUTCOMES.filter((o) => ALWAYS.includes(o) || (win.perSecond[o] || []).some((v) => v > 0));
  let max = 1;
  for (const o of shown) for (const v of win.perSecond[o]) max = Math.max(max, v);
  max = niceCeil(max);
  // the x axis spans the samples held (up to three minutes): a page opened just after start is not one thin line
  const t1 = t.length ? t[t.length - 1] : Date.now(); const t0 = Math.min(t1 - 10000, t.length ? t[0] : t1);
  const x = (ms) => L + (W - L - R) * Math.max(0, ms - t0) / (t1 - t0);
  const y = (v) => T + (H - T - B) * (1 - v / max);
  for (const v of [0, max / 2, max]) {
    line(svg, L, y(v), W - R, y(v));
    text(svg, L - 4, y(v) + 4, fmt(v), 'end-anchor');
  }
  text(svg, L, H - 6, '−' + Math.round((t1 - t0) / 1000) + ' s'); text(svg, W - R - 20, H - 6, 'now');
  const labels = [];
  for (const o of shown) {
    const vs = win.perSecond[o];
    const p = document.createElementNS(SVG, 'polyline');
    p.setAttribute('points', vs.map((v, i) => x(t[i]).toFixed(1) + ',' + y(v).toFixed(1)).join(' '));
    p.setAttribute('class', 's-' + o);
    p.dataset.outcome = o; p.dataset.points = String(vs.length);
    svg.appendChild(p);
    labels.push({ o, v: vs.length ? vs[vs.length - 1] : 0 });
  }
  labels.sort((a, b) => b.v - a.v);
  let prev = -Infinity;
  for (const l of labels) {
    const ly = Math.max(y(l.v) + 4, prev + 12); prev = ly;
    const e = text(svg, W - R + 6, Math.min(ly, H - B + 4), l.o + ' ' + fmt(l.v) + '/s', 'end');
    e.dataset.outcome = l.o;
  }
}

function niceCeil(v) { const p = Math.pow(10, Math.floor(Math.log10(v))); return [1, 2, 5, 10].map((m) => m * p).find((c) => c >= v); }
function fmt(v) { return v >= 100 ? Math.round(v).toString() : (Math.round(v * 10) / 10).toString(); }
function line(svg, x1, y1, x2, y2) {
  const l = document.createElementNS(SVG, 'line');
  for (const [k, v] of Object.entries({ x1, y1, x2, y2 })) l.setAttribute(k, String(v));
  l.setAttribute('class', 'axis'); svg.appendChild(l);
}
function text(svg, px, py, s, cls) {
  const e = document.createElementNS(SVG, 'text');
  e.setAttribute('x', String(px)); e.setAttribute('y', String(py));
  if (cls === 'end-anchor') e.setAttribute('text-anchor', 'end'); else if (cls) e.setAttribute('class', cls);
  e.textContent = s; svg.appendChild(e); return e;
}

async function purge(ev) {
  ev.preventDefault();
  const kind = $('purge-kind').value; const value = $('purge-value').value.trim();
  if (!value) return;
  const body = { [kind]: [value] };
  if ($('purge-soft').checked) body.soft = true;
  const out = $('purge-result');
  out.textContent = 'Purging…'; out.className = '';
  try {
    const r = await call('purge', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const text = await r.text();
    if (r.status === 401) {
      out.textContent = '401: not purged. This admin port needs the admin token (enter it above).';
      out.className = 'error';
    } else {
      out.textContent = (r.ok ? 'Done' : 'Refused') + ' (HTTP ' + r.status + '): ' + text.trim();
      out.className = r.ok ? '' : 'error';
    }
  } catch (e) {
    out.textContent = 'Purge failed: ' + e.message; out.className = 'error';
  }
}

async function reloadPreview() {
  const out = $('reload-result'); clear(out);
  const r = await call('api/reload-preview');
  if (r.status === 401) { unauthorized(token() !== ''); return; }
  const p = await r.json();
  if (!p.valid) { out.appendChild(el('p', 'A reload would refuse the file on disk: ' + p.error, 'error')); return; }
  if (p.unchanged) { out.appendChild(el('p', 'The file on disk matches the running configuration: a reload changes nothing.')); return; }
  const list = el('ul');
  const item = (label, xs) => { if (xs.length) list.appendChild(el('li', label + ': ' + xs.join(', '))); };
  item('applied at once', p.applied);
  item('origins added', p.originsAdded); item('origins removed', p.originsRemoved); item('origins changed', p.originsChanged);
  item('changed but kept until a restart', p.restartNeeded);
  out.appendChild(list);
}

function start() {
  $('token-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $('token').value.trim());
    $('token').value = '';
    refresh();
  });
  $('token-forget').addEventListener('click', () => { sessionStorage.removeItem(TOKEN_KEY); refresh(); });
  $('purge-form').addEventListener('submit', purge);
  $('reload-preview').addEventListener('click', reloadPreview);
  refresh();
  setInterval(refresh, 1000);
}

document.addEventListener('DOMContentLoaded', start);
