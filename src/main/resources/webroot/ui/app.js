// fib-service page: plain JavaScript, no framework, no CDN. Everything goes through fetch, so the page
// never blocks; every number on it comes from the service (replies, their X-Served-By / X-Event-Loop
// headers, GET /stats, GET /info, the fib.stats pushes over the SockJS event-bus bridge).
'use strict';

const $ = (id) => document.getElementById(id);

/** Builds an element: el('li', {class: 'x', 'aria-label': 'y'}, 'text', child, ...). Text is never parsed as HTML. */
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'onclick') node.addEventListener('click', value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** One API call: {ok, status, json, headers, ms}; a network failure is status 0 with its message. */
async function api(method, path, body) {
  const init = { method, cache: 'no-store', headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const started = performance.now();
  try {
    const res = await fetch(path, init);
    const type = res.headers.get('Content-Type') || '';
    const json = type.includes('json') ? await res.json() : null;
    if (!type.includes('json')) await res.arrayBuffer();
    return { ok: res.ok, status: res.status, json, headers: res.headers, ms: performance.now() - started };
  } catch (e) {
    return { ok: false, status: 0, json: { error: 'the service did not answer (' + e.message + ')' }, headers: new Headers(), ms: 0 };
  }
}

/** The API's own error text, as it came. */
function errorText(res) {
  if (res.json && typeof res.json.error === 'string') return res.json.error;
  return 'HTTP ' + res.status;
}

function showError(id, text) {
  const box = $(id);
  box.textContent = text || '';
  box.hidden = !text;
}

const fmt = new Intl.NumberFormat('en');
const ms = (v) => v < 10 ? v.toFixed(1) + ' ms' : fmt.format(Math.round(v)) + ' ms';

function duration(millis) {
  const s = Math.floor(millis / 1000);
  if (s < 60) return s + ' s';
  if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
  return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
}

// Colours: one per HTTP instance (by its number), one family per worker lane.
const PALETTE = ['#1f6feb', '#0f9d58', '#9c27b0', '#e8710a', '#00838f', '#c2185b', '#5d4037', '#3949ab'];
function instanceColour(name) {
  const m = /(\d+)$/.exec(name || '');
  return PALETTE[((m ? Number(m[1]) : 1) - 1) % PALETTE.length];
}
function laneOf(worker) {
  const m = /\/([a-z]+)-\d+$/.exec(worker || '');
  return m ? m[1] : 'other';
}
const LANE_COLOURS = { light: '#0f9d58', heavy: '#c2410c', jobs: '#6d28d9', other: '#5d6778' };

/** Renders bars: rows = [{name, sub, count, colour}], widths relative to the largest. */
function renderBars(container, rows, total) {
  const max = Math.max(1, ...rows.map((r) => r.count));
  const sum = total || rows.reduce((a, r) => a + r.count, 0) || 1;
  container.replaceChildren(...rows.map((r) => {
    const pct = Math.round((r.count * 100) / sum);
    return el('div', { class: 'bar', role: 'group', 'aria-label': r.name + ': ' + r.count },
      el('span', { class: 'name', title: r.name + (r.sub ? ' · ' + r.sub : '') }, r.name, r.sub ? el('small', {}, ' ' + r.sub) : null),
      el('span', { class: 'track' }, el('span', { class: 'fill', style: `display:block;width:${(r.count * 100) / max}%;background:${r.colour}` })),
      el('span', { class: 'count' }, fmt.format(r.count) + (total !== 0 ? ' · ' + pct + '%' : '')));
  }));
}

function shortLoop(thread) {
  const m = /eventloop-thread-(\d+)$/.exec(thread || '');
  return m ? 'loop ' + m[1] : (thread || '');
}

// ---------------------------------------------------------------- node info, cluster

let info = null;

async function loadInfo() {
  const res = await api('GET', '/info');
  if (!res.ok) {
    $('node-line').textContent = 'the service does not answer: ' + errorText(res);
    return;
  }
  info = res.json;
  const w = info.workers || {};
  const db = info.database || {};
  $('node-line').textContent = [
    info.node, 'v' + info.version, 'Vert.x ' + info.vertx,
    info.instances + ' HTTP instances', info.eventLoops + ' event loops',
    'workers ' + w.heavy + ' heavy + ' + w.light + ' light', info.transport,
    db.enabled ? 'database ' + (db.ready ? 'ready' : 'starting') : 'database off',
  ].join(' · ');
  $('foot-info').textContent = 'Java ' + info.jvm + ' on ' + info.cores + ' cores';
  const dbOn = !!db.enabled;
  if (dbOn && $('people').hidden) loadPeople();
  $('people').hidden = !dbOn;
  $('jobs').hidden = !dbOn;
  renderCluster(info.cluster);
}

function renderCluster(cluster) {
  $('cluster').hidden = !cluster;
  if (!cluster) return;
  $('cluster-name').textContent = 'cluster "' + (cluster.name || '?') + '" · this member: ' + (cluster.role || '?');
  const members = cluster.members || [];
  $('cluster-members').replaceChildren(...members.map((m) => el('li', { class: m.self ? 'self' : null },
    el('span', { class: 'tag', style: 'background:' + (m.role === 'worker' ? LANE_COLOURS.heavy : m.role === 'http' ? PALETTE[0] : LANE_COLOURS.light) }, m.role || 'member'),
    el('span', {}, m.node || m.id || '?'), el('span', { class: 'muted' }, m.address || ''), m.self ? el('span', { class: 'muted' }, '(this one)') : null,
    m.reachable === false ? el('span', { class: 'muted' }, '(no answer over the event bus: gets no requests)') : null)));
}

// ---------------------------------------------------------------- compute one

let lastValue = '';
const FOLD_AT = 120;
const FOLD_KEEP = 48;

function renderValue(full) {
  const out = $('fib-value');
  out.classList.toggle('long', full || lastValue.length > 40);
  if (full || lastValue.length <= FOLD_AT) {
    out.textContent = lastValue;
  } else {
    const hidden = lastValue.length - 2 * FOLD_KEEP;
    out.replaceChildren(lastValue.slice(0, FOLD_KEEP),
      el('span', { class: 'fold' }, '… ' + fmt.format(hidden) + ' digits folded …'), lastValue.slice(-FOLD_KEEP));
  }
  const expand = $('fib-expand');
  expand.hidden = lastValue.length <= FOLD_AT;
  expand.textContent = full ? 'fold the digits' : 'show all ' + fmt.format(lastValue.length) + ' digits';
  expand.dataset.full = full ? '1' : '';
}

async function computeOne(event) {
  event.preventDefault();
  const n = $('fib-n').value.trim();
  const algorithm = $('fib-algorithm').value;
  showError('fib-error', '');
  if (n === '') {
    showError('fib-error', 'enter n, a whole number such as 30');
    return;
  }
  const button = $('fib-go');
  button.disabled = true;
  button.textContent = 'Computing…';
  const res = await api('GET', '/fib/' + encodeURIComponent(n) + '?algorithm=' + encodeURIComponent(algorithm));
  button.disabled = false;
  button.textContent = 'Compute';
  if (!res.ok) {
    $('fib-result').hidden = true;
    showError('fib-error', errorText(res));
    return;
  }
  const r = res.json;
  lastValue = r.value;
  renderValue(false);
  const instance = res.headers.get('X-Served-By') || '?';
  const loop = res.headers.get('X-Event-Loop') || '';
  const worker = r.worker || '?';
  const member = worker.includes('/') ? worker.slice(0, worker.indexOf('/')) : worker;
  $('fib-facts').replaceChildren(
    el('dt', {}, 'F(n)'), el('dd', {}, 'F(' + fmt.format(r.n) + ') by ' + r.algorithm + ', ' + fmt.format(r.digits) + ' digits'),
    el('dt', {}, 'time'), el('dd', {}, ms(res.ms) + ' round trip · ' + fmt.format(r.computeMicros) + ' µs computing'),
    el('dt', {}, 'HTTP'), el('dd', {}, el('span', { class: 'tag', style: 'background:' + instanceColour(instance) }, instance), ' on ' + loop),
    el('dt', {}, 'worker'), el('dd', {}, el('span', { class: 'tag', style: 'background:' + LANE_COLOURS[laneOf(worker)] }, worker.slice(worker.indexOf('/') + 1)), ' (' + laneOf(worker) + ' lane)'),
    el('dt', {}, 'member'), el('dd', {}, member));
  $('fib-result').hidden = false;
  $('fib-copy').textContent = 'Copy';
}

async function copyValue() {
  const button = $('fib-copy');
  try {
    await navigator.clipboard.writeText(lastValue);
  } catch (e) {
    // no clipboard permission (e.g. a plain-http page on another host): the old way
    const area = el('textarea', { 'aria-hidden': 'true', style: 'position:fixed;opacity:0' });
    area.value = lastValue;
    document.body.append(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
  button.textContent = 'Copied ✓';
  setTimeout(() => { button.textContent = 'Copy'; }, 1500);
}

// ---------------------------------------------------------------- fire many

let run = null;

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function record(stats, res, latency) {
  stats.done++;
  stats.latencies.push(latency);
  if (res.ok) {
    stats.ok++;
    const instance = res.headers.get('X-Served-By') || '?';
    const loop = res.headers.get('X-Event-Loop') || '';
    run.byHttp.set(instance, { loop, count: ((run.byHttp.get(instance) || {}).count || 0) + 1 });
    const worker = (res.json && res.json.worker) || '?';
    run.byWorker.set(worker, (run.byWorker.get(worker) || 0) + 1);
  } else {
    stats.failed++;
    const text = res.status + ' ' + errorText(res);
    stats.errors.set(text, (stats.errors.get(text) || 0) + 1);
  }
}

function newStats() {
  return { done: 0, ok: 0, failed: 0, latencies: [], errors: new Map() };
}

async function fireMany(event) {
  event.preventDefault();
  if (run && !run.finished) return;
  const count = Math.max(1, Math.min(5000, parseInt($('load-count').value, 10) || 200));
  const concurrency = Math.max(1, Math.min(64, parseInt($('load-concurrency').value, 10) || 6));
  const n = $('load-n').value.trim() || '30';
  const algorithm = $('load-algorithm').value;
  const heavy = $('load-heavy').checked;
  const heavyN = $('load-heavy-n').value.trim() || '34';
  run = {
    count, started: performance.now(), light: newStats(), heavy: newStats(), heavyOn: heavy,
    byHttp: new Map(), byWorker: new Map(), stop: false, finished: false, issued: 0,
    // with fib.stats pushes the bars follow the node's own counters from the last push before the run
    base: pushed ? lastStats : null,
    pushedSpread: pushed && lastStats ? { http: new Map(), workers: new Map() } : null,
  };
  $('load-go').disabled = true;
  $('load-stop').hidden = false;
  $('heavy-numbers').hidden = !heavy;
  const lightPath = '/fib/' + encodeURIComponent(n) + '?algorithm=' + encodeURIComponent(algorithm);
  const heavyPath = '/fib/' + encodeURIComponent(heavyN) + '?algorithm=recursive';
  let lightDone = false;
  const lightLoop = async () => {
    while (!run.stop && run.issued < count) {
      run.issued++;
      const res = await api('GET', lightPath);
      record(run.light, res, res.ms);
      scheduleRender();
    }
  };
  const heavyLoop = async () => {
    while (!run.stop && !lightDone) {
      const res = await api('GET', heavyPath);
      record(run.heavy, res, res.ms);
      scheduleRender();
    }
  };
  pollStats(400);
  const heavies = heavy ? [heavyLoop(), heavyLoop()] : [];
  await Promise.all(Array.from({ length: concurrency }, lightLoop));
  lightDone = true;
  run.lightMs = performance.now() - run.started;
  await Promise.all(heavies);
  run.finished = true;
  run.finishedAt = performance.now();
  $('load-go').disabled = false;
  $('load-stop').hidden = true;
  renderRun();
  pollStats(2000);
}

let renderPending = false;
function scheduleRender() {
  if (renderPending) return;
  renderPending = true;
  setTimeout(() => { renderPending = false; renderRun(); }, 100);
}

function statLine(stats, elapsedMs, label) {
  const sorted = stats.latencies.slice().sort((a, b) => a - b);
  const rps = elapsedMs > 0 ? (stats.done * 1000) / elapsedMs : 0;
  const items = [
    [label, fmt.format(stats.done) + (label === 'light' ? ' / ' + fmt.format(run.count) : '')],
    ['req/s', fmt.format(Math.round(rps))],
    ['p50', ms(percentile(sorted, 50))], ['p90', ms(percentile(sorted, 90))],
    ['p99', ms(percentile(sorted, 99))], ['max', ms(sorted.length ? sorted[sorted.length - 1] : 0)],
    ['errors', fmt.format(stats.failed)],
  ];
  const nodes = items.map(([k, v]) => el('span', {}, k + ' ', el('b', {}, v)));
  for (const [text, times] of stats.errors) nodes.push(el('span', { class: 'error' }, times + '× ' + text));
  return nodes;
}

function renderRun() {
  if (!run) return;
  const lightElapsed = run.lightMs || performance.now() - run.started;
  const pct = Math.round((run.light.done * 100) / run.count);
  $('load-bar').style.width = pct + '%';
  document.querySelector('#load .progress').setAttribute('aria-valuenow', String(pct));
  $('load-numbers').replaceChildren(...statLine(run.light, lightElapsed, 'light'));
  if (run.heavyOn) {
    $('heavy-numbers').replaceChildren(...statLine(run.heavy, performance.now() - run.started, 'heavy recursive'));
  }
  const spread = run.pushedSpread || { http: run.byHttp, workers: run.byWorker };
  $('spread-source').textContent = run.pushedSpread
    ? 'from the node\'s fib.stats pushes since the run began (every client\'s requests to this node)'
    : 'from the replies (X-Served-By and the worker field): this page\'s requests';
  const httpRows = [...spread.http.entries()]
    .sort((a, b) => a[0].localeCompare(b[0], 'en', { numeric: true }))
    .map(([name, v]) => ({ name, sub: shortLoop(v.loop), count: v.count, colour: instanceColour(name) }));
  renderBars($('spread-http'), httpRows);
  const workerRows = [...spread.workers.entries()]
    .sort((a, b) => a[0].localeCompare(b[0], 'en', { numeric: true }))
    .map(([name, count]) => ({ name, sub: laneOf(name) + ' lane', count, colour: LANE_COLOURS[laneOf(name)] }));
  renderBars($('spread-workers'), workerRows);
}

// ---------------------------------------------------------------- this node: fib.stats pushes, else GET /stats

let statsTimer = null;
let statsEvery = 2000;
/** True while fib.stats pushes arrive over the event bus: then nothing polls. */
let pushed = false;
/** The last fib.stats push. */
let lastStats = null;
/** The SockJS event bus while it is open (the jobs this page submitted follow their events on it), else null. */
let bus = null;

function pollStats(every) {
  statsEvery = every;
  clearTimeout(statsTimer);
  if (!pushed) statsTimer = setTimeout(loadStats, 0);
}

/** The official client (vendored in /ui/vendor) on the node's SockJS bridge, once /info said where it is. */
function startLive(path) {
  if (!path) {
    showSource('polling GET /stats every 2 s: the event-bus bridge is off on this node (sockjs.enabled = false)');
    return;
  }
  if (typeof EventBus !== 'function') {
    showSource('polling GET /stats every 2 s: the event-bus client did not load');
    return;
  }
  const eb = new EventBus(path);
  eb.enableReconnect(true);
  eb.onopen = () => {
    bus = eb;
    eb.registerHandler('fib.stats', (err, msg) => {
      if (err) {
        showSource('polling GET /stats every 2 s: the event bus refused fib.stats: ' + err.message);
        pushed = false;
        pollStats(statsEvery);
        return;
      }
      if (!pushed) {
        pushed = true;
        clearTimeout(statsTimer);
        showSource('live: fib.stats pushed once a second over the event bus (SockJS at ' + path + ')');
      }
      lastStats = msg.body;
      spreadFromStats(msg.body);
      renderStats(msg.body);
    });
  };
  eb.onclose = () => {
    bus = null;
    pushed = false;
    showSource('polling GET /stats every 2 s: the event bus at ' + path + ' is not connected (retrying)');
    pollStats(statsEvery);
  };
  eb.onerror = (err) => showSource('event bus: ' + (err.message || err.body || 'error'));
}

function showSource(text) {
  $('server-source').textContent = text;
}

async function loadStats() {
  clearTimeout(statsTimer);
  if (pushed) return;
  if (!document.hidden) {
    const res = await api('GET', '/stats');
    if (res.ok) renderStats(res.json);
  }
  statsTimer = setTimeout(loadStats, statsEvery);
}

/** Requests per HTTP instance and computations per worker in a push: {http: Map, workers: Map}. */
function countsOf(s) {
  const remote = (s.cluster && s.cluster.workers) || [];
  return {
    http: new Map((s.http || []).map((h) => [h.instance, { loop: h.eventLoop, count: h.requests }])),
    workers: new Map((remote.length ? remote : (s.workers || [])).map((w) => [w.worker, w.computations])),
  };
}

/** The run's spread from the node's own counters: this push less the last one before the run (shown until 3 s after). */
function spreadFromStats(s) {
  if (!run || !run.base || (run.finished && performance.now() - run.finishedAt > 3000)) return;
  const now = countsOf(s);
  const before = countsOf(run.base);
  const http = new Map();
  for (const [name, v] of now.http) {
    const count = v.count - ((before.http.get(name) || {}).count || 0);
    if (count > 0) http.set(name, { loop: v.loop, count });
  }
  const workers = new Map();
  for (const [name, count] of now.workers) {
    const delta = count - (before.workers.get(name) || 0);
    if (delta > 0) workers.set(name, delta);
  }
  run.pushedSpread = { http, workers };
  scheduleRender();
}

function renderStats(s) {
  const f = s.inFlight || {};
  $('server-lanes').replaceChildren(...[
    el('span', {}, 'in flight: light ', el('b', {}, f.light), ' · heavy ', el('b', {}, f.heavy), el('span', { class: 'muted' }, ' (max ' + fmt.format(f.maxPerLane) + ' per lane)')),
    el('span', {}, 'up ', el('b', {}, duration(s.uptimeMs))),
    typeof s.requestsPerSecond === 'number' && el('span', {}, 'req/s ', el('b', {}, fmt.format(s.requestsPerSecond))),
  ].filter(Boolean));
  renderBars($('server-http'), (s.http || []).map((h) => ({ name: h.instance, sub: shortLoop(h.eventLoop), count: h.requests, colour: instanceColour(h.instance) })));
  // in a cluster a front's computations run on worker members: what each of them did for this node
  const remote = (s.cluster && s.cluster.workers) || [];
  const workers = remote.length ? remote : (s.workers || []);
  renderBars($('server-workers'), workers.map((w) => ({ name: remote.length ? w.worker : w.worker.slice(w.worker.indexOf('/') + 1), sub: w.lane + ' lane', count: w.computations, colour: LANE_COLOURS[w.lane] || LANE_COLOURS.other })));
}

// ---------------------------------------------------------------- people

function picture(url, name, size) {
  const ok = typeof url === 'string' && (/^\/images\/[\w.-]+$/.test(url) || /^https?:\/\//.test(url));
  return ok ? el('img', { src: url, alt: 'picture of ' + name, width: size, height: size, loading: 'lazy' }) : null;
}

async function loadPeople() {
  const res = await api('GET', '/people?limit=100');
  if (!res.ok) {
    showError('people-error', errorText(res));
    return;
  }
  const people = res.json.result || [];
  $('people-list').replaceChildren(...people.map((p) => el('li', { 'data-name': p.name },
    picture(p.picture, p.name, 32) || el('span', { class: 'tag', style: 'background:#8a94a6', 'aria-hidden': 'true' }, (p.name || '?').slice(0, 1)),
    el('span', { class: 'who' }, el('b', {}, p.name), ', ' + p.age + (p.career ? ', ' + p.career : '')),
    el('button', { type: 'button', class: 'danger', 'aria-label': 'Delete ' + p.name, onclick: () => deletePerson(p.name) }, 'Delete'))));
  if (people.length === 0) $('people-list').replaceChildren(el('li', { class: 'muted' }, 'nobody yet'));
}

async function findPerson(event) {
  event.preventDefault();
  showError('people-error', '');
  const name = $('find-name').value;
  const card = $('person-card');
  card.hidden = true;
  if (name.trim() === '') {
    showError('people-error', 'enter a name to look up');
    return;
  }
  const res = await api('GET', '/people/' + encodeURIComponent(name));
  if (!res.ok) {
    showError('people-error', errorText(res));
    return;
  }
  const p = res.json.result;
  card.replaceChildren(picture(p.picture, p.name, 72) || el('span', { class: 'muted' }, 'no picture'),
    el('div', {}, el('b', {}, p.name), el('br'), 'age ' + p.age, el('br'), p.career || ''));
  card.hidden = false;
}

async function addPerson(event) {
  event.preventDefault();
  showError('people-error', '');
  const age = $('add-age').value.trim();
  const body = { name: $('add-name').value, age: /^-?\d+$/.test(age) ? Number(age) : (age === '' ? null : age) };
  const career = $('add-career').value;
  if (career !== '') body.career = career;
  const res = await api('POST', '/people', body);
  if (!res.ok) {
    showError('people-error', errorText(res));
    return;
  }
  $('people-add').reset();
  await loadPeople();
}

async function deletePerson(name) {
  showError('people-error', '');
  const res = await api('DELETE', '/people/' + encodeURIComponent(name));
  if (!res.ok) showError('people-error', errorText(res));
  await loadPeople();
}

// ---------------------------------------------------------------- jobs

async function submitJob(event) {
  event.preventDefault();
  showError('jobs-error', '');
  const n = $('job-n').value.trim();
  const res = await api('POST', '/jobs', { n: /^\d+$/.test(n) ? Number(n) : n, algorithm: $('job-algorithm').value });
  if (!res.ok) {
    showError('jobs-error', errorText(res));
    return;
  }
  const job = res.json;
  const item = el('li', { 'data-job': job.id });
  $('jobs-list').prepend(item);
  followJob(item, job, performance.now(), []);
}

function renderJob(item, job, since, seen, progress) {
  const at = ((performance.now() - since) / 1000).toFixed(1) + ' s';
  if (seen.length === 0 || seen[seen.length - 1].status !== job.status) seen.push({ status: job.status, at });
  const finished = ['DONE', 'FAILED', 'CANCELLED'].includes(job.status);
  const cancel = !finished && el('button', { type: 'button', class: 'danger', 'aria-label': 'Cancel job ' + job.id,
    onclick: async () => {
      const r = await api('DELETE', '/jobs/' + encodeURIComponent(job.id));
      if (!r.ok) showError('jobs-error', errorText(r));
    } }, 'Cancel');
  const download = job.status === 'DONE' && el('a', { href: '/jobs/' + encodeURIComponent(job.id) + '/result', download: 'fib-' + job.n + '.txt' },
    'download ' + fmt.format(job.digits) + ' digits');
  item.replaceChildren(...[
    el('span', { class: 'status ' + job.status }, job.status),
    el('span', {}, 'F(' + fmt.format(job.n) + ') ' + job.algorithm),
    download, cancel,
    job.status === 'RUNNING' && el('span', { class: 'progress' }, progress == null ? '' : Math.round(progress * 100) + ' %'),
    job.error && el('span', { class: 'error' }, job.error),
    el('span', { class: 'steps' }, seen.map((s) => s.status + ' ' + s.at).join(' → ')),
  ].filter(Boolean));
  return finished;
}

/**
 * A job this page submitted, live from its events (jobs.events.<id> over the SockJS bridge): registered first, then
 * read once with jobs.status on the same socket, so that no change is missed; read again at each change of status.
 * Without the event bus, polled.
 */
function followJob(item, job, since, seen) {
  if (!bus) {
    watchJob(item, job, since, seen);
    return;
  }
  // the job as its submit answered (PENDING, or SCHEDULED): a change that came before the read below is still shown
  if (renderJob(item, job, since, seen, null)) return;
  const eb = bus;
  const address = 'jobs.events.' + job.id;
  let current = job;
  let progress = null;
  let done = false;
  const show = (j) => {
    current = j;
    if (renderJob(item, j, since, seen, progress) && !done) {
      done = true;
      eb.unregisterHandler(address, {}, handler);
    }
  };
  const read = () => eb.send('jobs.status', { id: job.id }, {}, (err, msg) => {
    if (err) showError('jobs-error', err.message || String(err.failureCode));
    else show(msg.body);
  });
  function handler(err, msg) {
    if (err) {
      // refused or the socket closed: poll instead
      if (!done) { done = true; watchJob(item, current, since, seen); }
      return;
    }
    if (msg.body.progress != null) {
      progress = msg.body.progress;
      const p = item.querySelector('.progress');
      if (p) p.textContent = Math.round(progress * 100) + ' %';
      return;
    }
    read();
  }
  eb.registerHandler(address, {}, handler);
  read();
}

async function watchJob(item, job, since, seen) {
  if (renderJob(item, job, since, seen, null)) return;
  await new Promise((resolve) => setTimeout(resolve, 300));
  const res = await api('GET', '/jobs/' + encodeURIComponent(job.id));
  if (!res.ok) {
    showError('jobs-error', errorText(res));
    setTimeout(() => watchJob(item, job, since, seen), 1000);
    return;
  }
  watchJob(item, res.json, since, seen);
}

// ---------------------------------------------------------------- start

document.addEventListener('DOMContentLoaded', () => {
  $('fib-form').addEventListener('submit', computeOne);
  $('fib-copy').addEventListener('click', copyValue);
  $('fib-expand').addEventListener('click', () => renderValue(!$('fib-expand').dataset.full));
  $('load-form').addEventListener('submit', fireMany);
  $('load-stop').addEventListener('click', () => { if (run) run.stop = true; });
  $('people-find').addEventListener('submit', findPerson);
  $('people-add').addEventListener('submit', addPerson);
  $('jobs-form').addEventListener('submit', submitJob);
  document.addEventListener('visibilitychange', () => { if (!document.hidden) pollStats(statsEvery); });
  // the bridge's path comes from /info; until it answers, the panel polls
  const startWhenKnown = () => (info ? startLive(info.sockjs) : setTimeout(() => loadInfo().then(startWhenKnown), 5000));
  loadInfo().then(startWhenKnown);
  setInterval(() => { if (!document.hidden) loadInfo(); }, 5000);
  pollStats(2000);
});
