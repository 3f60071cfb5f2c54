"use strict";
// The dashboard: polls /api/state and renders it. Text goes in through textContent only, never
// parsed as HTML: every string from the runtime (badge texts, worker names) is untrusted.
// Any field may be missing or null (an older runtime, the first cycle): each renderer falls back
// to "—" rather than throwing, so one odd field never blanks the page.

const POLL_MS = 2000;
const RANGES = { "1h": 3600, "24h": 86400, "1w": 604800, "1m": 2592000, all: null };
const COLORS = { p2pool: "#ff7a1a", xvb: "#4aa8ff" };

const $ = (id) => document.getElementById(id);
const obj = (v) => (v && typeof v === "object" ? v : {});
const num = (v) => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** 1234567 → "1,234,567" (fixed, not the browser's locale: the test compares the text). */
function group(n) {
  const v = num(n);
  if (v === null) return "—";
  return String(Math.round(v)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** H/s → "812 H/s", "5.50 kH/s", "1.20 MH/s". */
function hashrate(h) {
  const v = num(h);
  if (v === null) return "—";
  if (v < 1000) return `${Math.round(v)} H/s`;
  if (v < 1e6) return `${(v / 1000).toFixed(2)} kH/s`;
  return `${(v / 1e6).toFixed(2)} MH/s`;
}

function set(id, text, cls) {
  const el = $(id);
  if (!el) return;
  el.textContent = text;
  if (cls !== undefined) el.className = cls;
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function badges(list) {
  const box = $("badges");
  box.replaceChildren();
  for (const b of Array.isArray(list) ? list : []) {
    const badge = obj(b);
    const span = el("span", "badge " + (badge.variant || "outline"), String(badge.text ?? ""));
    if (badge.title) span.title = String(badge.title);
    box.appendChild(span);
  }
}

/** The failover's view of a node, in the words the dashboard uses. */
function nodeHealth(node) {
  if (!node) return ["not in this stack", "muted"];
  if (node.down) return ["down", "bad"];
  if (!node.ever_up) return ["not yet up", "warn"];
  if (!node.reachable) return ["debouncing", "warn"];
  return ["reachable", "ok"];
}

const STATE_TEXT = { loading: "waiting for the node", syncing: "syncing", done: "synced" };

function chain(name, progress, node, storage) {
  const p = obj(progress);
  const pct = num(p.percent);
  const fill = $(name + "-bar");
  fill.style.width = (pct === null ? 0 : Math.max(0, Math.min(100, pct))) + "%";
  fill.className = "fill " + (p.state === "done" ? "ok" : p.state === "syncing" ? "warn" : "idle");
  set(name + "-pct", pct === null ? "—" : `${pct}%`);
  set(name + "-state", STATE_TEXT[p.state] || "—", "state " + (p.state || ""));
  const known = num(p.target) !== null && p.target > 0;
  set(name + "-height", known ? `${group(p.current)} / ${group(p.target)}` : "—");
  set(name + "-remaining", known ? `${group(p.remaining)} blocks` : "—");
  const [text, cls] = nodeHealth(node);
  set(name + "-node", text, "pill " + cls);
  if (storage !== undefined) set(name + "-storage", storage);
}

function level(id, section) {
  const s = obj(section);
  const box = $(id);
  const pct = num(s.percent);
  box.querySelector(".fill").style.width = (pct === null ? 0 : Math.min(100, pct)) + "%";
  box.querySelector(".fill").className = "fill " + (s.level === "high" ? "bad" : "ok");
  box.querySelector(".val").textContent = pct === null ? "—" : `${pct.toFixed(0)}%`;
}

function system(sys) {
  const s = obj(sys);
  level("sys-cpu", s.cpu);
  level("sys-mem", s.mem);
  level("sys-disk", s.disk);
  const hp = obj(s.hugepages);
  const text = hp.status ? `${hp.status} · ${hp.value ?? "—"}` : "—";
  set("sys-hugepages", text, "pill " + (hp.variant || "muted"));
}

function workers(st) {
  const rows = Array.isArray(st.workers) ? st.workers : [];
  const body = $("workers-body");
  body.replaceChildren();
  for (const r of rows.map(obj)) {
    const tr = el("tr", r.status === "online" ? "online" : "offline");
    const name = el("td", "name");
    name.appendChild(el("span", "dot " + (r.status === "online" ? "ok" : "muted")));
    name.appendChild(document.createTextNode(String(r.name ?? "—")));
    tr.appendChild(name);
    tr.appendChild(el("td", "status", r.status || "—"));
    tr.appendChild(el("td", "", "")).appendChild(el("span", "tag " + (r.pool || "unknown"), r.pool || "unknown"));
    tr.appendChild(el("td", "num", hashrate(r.h15)));
    tr.appendChild(el("td", "num", hashrate(r.h60)));
    tr.appendChild(el("td", "num", group(r.accepted)));
    tr.appendChild(el("td", "num" + (num(r.rejected) ? " warn" : ""), group(r.rejected)));
    body.appendChild(tr);
  }
  if (rows.length === 0) {
    const tr = el("tr", "empty");
    const td = el("td", "", "No workers reported by xmrig-proxy yet.");
    td.colSpan = 7;
    tr.appendChild(td);
    body.appendChild(tr);
  }
  const total = num(st.workers_total);
  const online = num(st.proxy_workers);
  let note = `${online ?? 0} online`;
  if (total !== null && total > rows.length) note += ` · showing ${rows.length} of ${group(total)}`;
  set("workers-note", note);
}

const VERDICT_CLASS = { ok: "ok", starting: "warn", intentional: "muted" };

function services(list) {
  const rows = Array.isArray(list) ? list.map(obj) : [];
  const ul = $("services");
  ul.replaceChildren();
  for (const v of rows) {
    const li = el("li", "");
    li.appendChild(el("span", "dot " + (VERDICT_CLASS[v.verdict] || "bad")));
    li.appendChild(el("span", "svc", String(v.name ?? "—")));
    li.appendChild(el("span", "verdict " + (VERDICT_CLASS[v.verdict] || "bad"), String(v.verdict ?? "—")));
    if (v.line) li.title = String(v.line);
    ul.appendChild(li);
  }
  if (rows.length === 0) ul.appendChild(el("li", "empty", "waiting for the docker engine"));
  const problems = rows.filter((v) => v.problem).length;
  set("services-note", rows.length === 0 ? "" : problems ? `${problems} need attention` : "all up");
}

function ago(ms, now) {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

function xvb(section, nowMs) {
  const x = section && typeof section === "object" ? section : null;
  const card = $("card-xvb");
  card.hidden = !(x && x.enabled);
  if (card.hidden) return;
  set("xvb-pool", `hashing to ${x.pool || "unknown"}`, "pill " + (x.pool === "xvb" ? "info" : "muted"));
  const frac = num(x.fraction);
  const sw = x.last_switch ? obj(x.last_switch) : null;
  const facts = [
    ["Mode", x.mode || "—"],
    ["Guard", x.guard || "none"],
    ["Tier", `${x.current_tier || "none"} → ${x.target_tier || "none"}`],
    ["Donated", frac === null ? "—" : `${(frac * 100).toFixed(0)}%`],
    ["Avg 1 h / 24 h", `${hashrate(x.avg_1h)} / ${hashrate(x.avg_24h)}`],
    ["Fail count", x.fail_count == null ? "—" : String(x.fail_count)],
    ["Last switch", sw ? `to ${sw.to} ${sw.ok ? "" : "(failed) "}${ago(sw.wall_ms, nowMs)}` : "none yet"],
    ["Stats", x.stale ? "stale" : "fresh"],
  ];
  const dl = $("xvb");
  dl.replaceChildren();
  for (const [k, v] of facts) {
    dl.appendChild(el("dt", "", k));
    dl.appendChild(el("dd", k === "Stats" && x.stale ? "warn" : "", v));
  }
}

/** The alert sinks' delivery counters and the heartbeat (`alerts` in /api/state): one row per
 *  sink, `sent · retried · dropped · queued`, and the last failure's class; hidden when no sink
 *  and no heartbeat is configured. */
function alertLine(c) {
  const parts = [`sent ${num(c.sent) ?? 0}`, `retried ${num(c.retried) ?? 0}`, `dropped ${num(c.dropped) ?? 0}`, `queued ${num(c.queued) ?? 0}`];
  if (c.last_error) parts.push(`last error ${c.last_error}`);
  return parts.join(" · ");
}
function alerts(section) {
  const s = obj(section);
  const sinks = Array.isArray(s.sinks) ? s.sinks : [];
  const hb = obj(s.heartbeat);
  const card = $("card-alerts");
  card.hidden = sinks.length === 0 && hb.enabled !== true;
  const ul = $("alerts");
  ul.replaceChildren();
  const row = (cls, label, text) => {
    const li = el("li", "");
    li.appendChild(el("span", "dot " + cls));
    li.appendChild(el("span", "svc", label));
    li.appendChild(el("span", "verdict " + cls, text));
    ul.appendChild(li);
  };
  for (const raw of sinks) {
    const c = obj(raw);
    const cls = (num(c.dropped) ?? 0) > 0 ? "bad" : c.last_error || (num(c.queued) ?? 0) > 0 ? "warn" : "ok";
    row(cls, String(c.label ?? c.kind ?? "sink"), alertLine(c));
  }
  if (hb.enabled === true) {
    const text = hb.ok === false ? `failing${hb.last_error ? " (" + hb.last_error + ")" : ""} · ${num(hb.sent) ?? 0} pings` : `ok · ${num(hb.sent) ?? 0} pings`;
    row(hb.ok === false ? "bad" : "ok", "heartbeat", text);
  }
}

// ---- the chart ---------------------------------------------------------------------------------

let range = new URLSearchParams(location.search).get("range");
if (!(range in RANGES)) range = "1h";
let plot = null;

function chartData(chart) {
  const c = obj(chart);
  const byX = new Map();
  const put = (series, i) => {
    for (const p of Array.isArray(series) ? series : []) {
      const x = num(obj(p).x);
      if (x === null) continue;
      const row = byX.get(x) || [x / 1000, undefined, undefined];
      row[i] = num(p.y);
      byX.set(x, row);
    }
  };
  put(c.p2pool, 1);
  put(c.xvb, 2);
  const rows = [...byX.values()].sort((a, b) => a[0] - b[0]);
  return [rows.map((r) => r[0]), rows.map((r) => r[1] ?? null), rows.map((r) => r[2] ?? null)];
}

function chartSize() {
  const box = $("chart");
  return { width: Math.max(200, box.clientWidth), height: 260 };
}

function makePlot(data) {
  const axis = { stroke: "#8a94a3", grid: { stroke: "#252c36", width: 1 }, ticks: { stroke: "#252c36" } };
  const series = (label, color) => ({
    label,
    stroke: color,
    width: 2,
    fill: color + "22",
    points: { show: false },
    spanGaps: false,
    value: (u, v) => hashrate(v),
  });
  return new uPlot(
    {
      ...chartSize(),
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: true, range: (u, min, max) => xRange(min, max) },
        y: { range: (u, min, max) => [0, Math.max(1000, (max || 0) * 1.15)] },
      },
      axes: [axis, { ...axis, size: 70, values: (u, vals) => vals.map(hashrate) }],
      series: [{}, series("P2Pool", COLORS.p2pool), series("XvB", COLORS.xvb)],
    },
    data,
    $("chart"),
  );
}

let lastNowS = null;
function xRange(min, max) {
  const span = RANGES[range];
  if (span && lastNowS !== null) return [lastNowS - span, lastNowS];
  return [min ?? 0, max ?? 1];
}

function chart(st) {
  const data = chartData(st.chart);
  const wall = num(obj(st.cycle).last_wall_ms);
  lastNowS = wall ? wall / 1000 : null;
  const breaks = data[1].filter((y, i) => y === null && data[2][i] === null).length;
  const points = data[0].length - breaks;
  set("chart-note", points === 0 ? "No history in this range yet." :
    `${points} points` + (breaks ? ` · ${breaks} outage gap${breaks > 1 ? "s" : ""} (no samples: the runtime or the proxy was down)` : ""));
  $("chart").dataset.breaks = String(breaks);
  if (typeof uPlot !== "function") return; // the library did not load: the rest of the page still works
  if (!plot) {
    plot = makePlot(data);
    window.pithead = { plot };
  } else {
    plot.setData(data);
  }
}

function pickRange(r) {
  range = r;
  for (const b of $("ranges").querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.dataset.range === r));
  const url = new URL(location.href);
  url.searchParams.set("range", r);
  history.replaceState(null, "", url);
  tick();
}

// ---- the whole document ------------------------------------------------------------------------

function render(st) {
  const s = obj(st);
  const cycle = obj(s.cycle);
  const nodes = obj(s.nodes);
  const sync = obj(s.sync);
  const now = num(cycle.last_wall_ms);
  badges(s.badges);

  const held = s.miner_held !== false;
  set("gate", held ? "Held" : "Released", "big " + (held ? "warn" : "ok"));
  set("gate-sub", held ? "miners wait until every chain is synced" : "chains synced; the release is latched");
  const rejected = s.workers_rejected === true;
  set("failover", rejected ? "Rejected" : "Accepted", "big " + (rejected ? "bad" : "ok"));
  set("failover-sub", rejected ? "a node is down: xmrig-proxy is stopped" : "xmrig-proxy takes the workers");
  set("hashrate", hashrate(s.hashrate), "big");
  set("hashrate-sub", `${num(s.proxy_workers) ?? 0} of ${group(s.workers_total ?? 0)} workers online`);
  const dbOk = s.db_healthy !== false;
  set("db", dbOk ? "Healthy" : "Failing", "big " + (dbOk ? "ok" : "bad"));
  set("db-sub", dbOk ? "SQLite takes writes · 30 days kept" : "writes to the history fail (disk full or read-only?)");

  const monero = obj(s.monero);
  chain("monero", sync.monero, nodes.monero, `${monero.mode || "—"} · ${monero.db_size || "—"}`);
  chain("tari", sync.tari, nodes.tari);
  set("tari-role", nodes.tari ? "merge-mined" : "not part of this stack");

  workers(s);
  system(s.system);
  services(s.services);
  xvb(s.xvb, now ?? 0);
  alerts(s.alerts);
  chart(s);

  const errors = Array.isArray(cycle.errors) ? cycle.errors.map(String) : [];
  const banner = $("banner");
  banner.hidden = errors.length === 0;
  banner.textContent = errors.join(" · ");
  const at = now ? new Date(now).toLocaleTimeString() : "—";
  set("updated", `cycle ${group(cycle.count ?? 0)} · ${at}`, "updated");
  document.body.dataset.cycle = String(cycle.count ?? "");
}

let inFlight = false;
let again = false;
async function tick() {
  // One request at a time; a range picked meanwhile is fetched right after.
  if (inFlight) { again = true; return; }
  inFlight = true;
  try {
    const res = await fetch(`/api/state?range=${encodeURIComponent(range)}`, { cache: "no-store" });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    render(await res.json());
  } catch (e) {
    const banner = $("banner");
    banner.hidden = false;
    banner.textContent = `runtime unreachable (${e.message || e}); showing the last state`;
    set("updated", "offline", "updated bad");
  } finally {
    inFlight = false;
    if (again) { again = false; tick(); }
  }
}

for (const b of $("ranges").querySelectorAll("button")) b.addEventListener("click", () => pickRange(b.dataset.range));
for (const b of $("ranges").querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.dataset.range === range));
window.addEventListener("resize", () => plot && plot.setSize(chartSize()));
tick();
setInterval(tick, POLL_MS);
