"use strict";
// Renders /api/state every 2 s. Text only (textContent), never innerHTML: badge texts come from
// the runtime but the page treats them as untrusted anyway.
const $ = (id) => document.getElementById(id);
function setText(id, text, cls) { const el = $(id); el.textContent = text; el.className = cls || ""; }
function chain(name, s, node) {
  $(name + "-bar").style.width = (s.percent || 0) + "%";
  const detail = s.state === "loading" ? "waiting for the node" : `${s.current} / ${s.target} (${s.remaining} left)`;
  setText(name + "-text", `${s.state} · ${s.percent}% · ${detail}`);
  if (!node) { setText(name + "-node", "not part of this stack"); return; }
  if (node.down) setText(name + "-node", "DOWN", "bad");
  else if (!node.ever_up) setText(name + "-node", "not yet up", "warn");
  else setText(name + "-node", node.reachable ? "reachable" : "unreachable (debouncing)", node.reachable ? "ok" : "warn");
}
function render(st) {
  const badges = $("badges"); badges.replaceChildren();
  for (const b of st.badges || []) {
    const span = document.createElement("span");
    span.className = "badge " + b.variant; span.textContent = b.text; if (b.title) span.title = b.title;
    badges.appendChild(span);
  }
  setText("gate", st.miner_held ? "held (chains syncing)" : "released", st.miner_held ? "warn" : "ok");
  setText("workers", st.workers_rejected ? "rejected (failover)" : "accepted", st.workers_rejected ? "bad" : "ok");
  chain("monero", st.sync.monero, st.nodes.monero);
  chain("tari", st.sync.tari, st.nodes.tari);
  const list = $("containers"); list.replaceChildren();
  for (const [name, want] of Object.entries(st.containers || {})) {
    const li = document.createElement("li"); li.textContent = `${name}: ${want}`; list.appendChild(li);
  }
  const errors = (st.cycle.errors || []).join(" · ");
  $("footer").textContent = `cycle ${st.cycle.count}` + (errors ? ` · ${errors}` : "");
}
async function tick() {
  try {
    const res = await fetch("/api/state", { cache: "no-store" });
    if (res.ok) render(await res.json());
  } catch (e) { $("footer").textContent = "runtime unreachable: " + e; }
}
tick(); setInterval(tick, 2000);
