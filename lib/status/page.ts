/**
 * The `/` status page: one self-contained HTML document (no external assets, so it works on a VM without
 * internet and passes a strict CSP) that polls `/status.json` and updates its cells in place. Sized for a phone
 * first: one card per symbol with a five-column table, cards side by side on wider screens. Pure.
 * @module
 */

/** How often the page polls `/status.json`, in ms. */
export const POLL_MS = 2000;

const STYLE = `
:root{color-scheme:light dark;--bg:#f6f7f9;--card:#fff;--fg:#1b1f24;--mute:#667;--line:#e3e6ea;
--ok:#1a7f37;--bad:#cf222e;--warn:#9a6700}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--card:#161b22;--fg:#e6edf3;--mute:#8b949e;
--line:#30363d;--ok:#3fb950;--bad:#f85149;--warn:#d29922}}
*{box-sizing:border-box}
body{margin:0;padding:12px;background:var(--bg);color:var(--fg);
font:15px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
header{display:flex;align-items:center;gap:8px;flex-wrap:wrap}
h1{font-size:20px;margin:0}
h2{font-size:16px;margin:0 0 6px;display:flex;align-items:center;gap:6px;flex-wrap:wrap}
h2 small{color:var(--mute);font-weight:normal}
.muted{color:var(--mute);font-size:13px;margin:4px 0 10px}
.badge{border-radius:10px;padding:1px 8px;font-size:13px;font-weight:600;color:#fff;background:var(--mute)}
.badge.ok{background:var(--ok)}.badge.bad{background:var(--bad)}.badge.warn{background:var(--warn)}
#problems{margin:0 0 10px;padding-left:20px;color:var(--bad);font-size:14px}
.grid{display:grid;gap:10px;grid-template-columns:repeat(auto-fill,minmax(min(100%,340px),1fr));margin-bottom:10px}
.summary{grid-template-columns:repeat(auto-fill,minmax(180px,1fr));gap:8px}
.summary .card{padding:6px 10px}.summary h2{font-size:12px;color:var(--mute);margin:0 0 2px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px}
.card p{margin:0;font-size:14px;white-space:pre-line;font-variant-numeric:tabular-nums}
table{width:100%;border-collapse:collapse;font-size:14px;font-variant-numeric:tabular-nums}
th{color:var(--mute);font-weight:normal;font-size:12px;text-align:right;padding:2px 4px}
td{padding:3px 4px;border-top:1px solid var(--line);text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left;padding-left:0}
td:first-child{overflow:hidden;text-overflow:ellipsis;max-width:40vw}
td:first-child::before{content:"";display:inline-block;width:8px;height:8px;border-radius:50%;
margin-right:6px;background:var(--ok);vertical-align:middle}
tr.bad td:first-child::before{background:var(--bad)}
tr.bad td{color:var(--bad)}
body.offline main,body.offline .summary{opacity:.5}
`;

// Plain ES2017 so any phone browser runs it; values are written with textContent only, never as HTML.
const SCRIPT = `
"use strict";
const POLL_MS = ${POLL_MS};
const $ = (id) => document.getElementById(id);
const cards = new Map();
const rows = new Map();
let lastOk = null;

function set(el, text) { if (el.textContent !== text) el.textContent = text; }
function make(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}
function age(ms) {
  if (ms === null) return "–";
  const s = ms / 1000;
  if (s < 10) return s.toFixed(1) + " s";
  if (s < 120) return Math.round(s) + " s";
  if (s < 7200) return Math.round(s / 60) + " min";
  if (s < 172800) return Math.round(s / 3600) + " h";
  return Math.round(s / 86400) + " d";
}
function rate(r) { return r < 10 ? r.toFixed(1) : String(Math.round(r)); }
function size(b) {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (b >= 1024 && i < units.length - 1) { b /= 1024; i++; }
  return (i === 0 || b >= 100 ? Math.round(b) : b.toFixed(1)) + " " + units[i];
}
function pct(p) { return p === null ? "–" : (p >= 99.995 ? "100" : p.toFixed(2)) + "%"; }
function offset(ms) { return (ms > 0 ? "+" : "") + ms.toFixed(1) + " ms"; }
function utc(ms) { return new Date(ms).toISOString().slice(11, 19) + " UTC"; }

function card(market, symbol) {
  const key = market + "/" + symbol;
  let c = cards.get(key);
  if (!c) {
    const el = make("section", "card");
    el.dataset.key = key;
    const h = make("h2");
    h.append(make("span", "", symbol), make("small", "", market));
    const book = make("span", "badge");
    book.hidden = true;
    h.append(book);
    const table = make("table");
    const head = make("tr");
    for (const t of ["stream", "msg/s", "last", "gaps", "cover"]) head.append(make("th", "", t));
    const body = make("tbody");
    table.append(make("thead"), body);
    table.tHead.append(head);
    el.append(h, table);
    $("symbols").append(el);
    c = { el, book, body };
    cards.set(key, c);
  }
  return c;
}

function row(st) {
  const key = st.market + "/" + st.symbol + "/" + st.stream;
  let r = rows.get(key);
  if (!r) {
    const tr = make("tr");
    tr.dataset.key = key;
    const cells = [st.stream, "", "", "", ""].map((t) => make("td", "", t));
    cells[0].title = st.stream;
    tr.append(...cells);
    card(st.market, st.symbol).body.append(tr);
    r = { tr, cells };
    rows.set(key, r);
  }
  return r;
}

function render(s) {
  const h = s.health;
  const badge = $("health");
  set(badge, h.ok ? "OK" : h.problems.length + (h.problems.length === 1 ? " problem" : " problems"));
  badge.className = "badge " + (h.ok ? "ok" : "bad");
  const list = $("problems");
  list.replaceChildren(...h.problems.slice(0, 12).map((p) =>
    make("li", "", [p.market, p.symbol, p.stream].filter((x) => x !== null).join(" ") + ": " + p.problem)));
  set($("meta"), s.version + " · up " + age(s.nowMs - s.startedAtMs) + " · updated " + utc(s.nowMs));

  const seen = new Set();
  for (const st of s.streams) {
    const r = row(st);
    seen.add(r.tr.dataset.key);
    const bad = !st.connected || st.stale;
    r.tr.className = bad ? "bad" : "";
    set(r.cells[1], st.connected ? rate(st.msgsPerSec) : "off");
    set(r.cells[2], age(st.lastMessageAgeMs));
    set(r.cells[3], String(st.gapsToday));
    set(r.cells[4], pct(st.coverageTodayPct));
  }
  for (const [key, r] of rows) if (!seen.has(key)) { r.tr.remove(); rows.delete(key); }
  for (const b of s.books) {
    const c = card(b.market, b.symbol);
    c.book.hidden = false;
    set(c.book, "book " + b.state);
    c.book.className = "badge " + (b.state === "synced" ? "ok" : "warn");
  }
  for (const [key, c] of cards) if (!c.body.children.length) { c.el.remove(); cards.delete(key); }

  set($("clock"), s.clock.length ? s.clock.map((c) => c.source + " " + offset(c.offsetMs)).join("\\n") : "not measured yet");
  set($("disk"), s.disk === null ? "unknown" : size(s.disk.freeBytes) + " free\\nof " + size(s.disk.totalBytes) +
    " (" + Math.round(100 * s.disk.freeBytes / s.disk.totalBytes) + "%)");
  set($("rest"), s.rest.map((r) => r.market + " " + r.weightUsed + " / " + r.weightLimit).join("\\n") || "–");
  const j = s.journal;
  const f = s.flushes.durations;
  set($("writes"), size(j.unsyncedBytes) + " unsynced\\nfsync " +
    (j.sinceFsyncMs === null ? "not yet" : age(j.sinceFsyncMs) + " ago") +
    (j.errors ? ", " + j.errors + " errors" : "") + "\\n" + f.count + " flushes" +
    (f.count ? ", avg " + (f.sum / f.count).toFixed(2) + " s" : "") +
    (s.flushes.failures ? ", " + s.flushes.failures + " failed" : ""));
}

async function poll() {
  try {
    const res = await fetch("/status.json", { cache: "no-store" });
    if (!res.ok) throw new Error("HTTP " + res.status);
    render(await res.json());
    lastOk = Date.now();
    document.body.classList.remove("offline");
  } catch (err) {
    document.body.classList.add("offline");
    set($("meta"), "offline (" + err.message + ")" + (lastOk ? " · last update " + utc(lastOk) : ""));
  } finally {
    setTimeout(poll, POLL_MS);
  }
}
poll();
`;

const BODY = `<header><h1>Binance collector</h1><span id="health" class="badge">…</span></header>
<p id="meta" class="muted">loading…</p>
<ul id="problems"></ul>
<div class="grid summary">
<section class="card"><h2>Clock offset</h2><p id="clock">…</p></section>
<section class="card"><h2>Disk</h2><p id="disk">…</p></section>
<section class="card"><h2>REST weight</h2><p id="rest">…</p></section>
<section class="card"><h2>Journal and flushes</h2><p id="writes">…</p></section>
</div>
<main id="symbols" class="grid"></main>`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Binance collector</title>
<style>${STYLE}</style>
</head>
<body>
${BODY}
<script>${SCRIPT}</script>
</body>
</html>
`;

/**
 * The status page's HTML. It reads `/status.json` (a `StatusSnapshot` plus its `health`) from the
 * same origin every {@link POLL_MS} ms.
 *
 * @example
 * ```ts
 * new Response(renderPage(), { headers: { "content-type": "text/html; charset=utf-8" } });
 * ```
 */
export function renderPage(): string {
  return PAGE;
}
