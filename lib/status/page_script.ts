/**
 * The status page's script (pure): polls the JSON endpoints and draws with Chart.js (`window.Chart`, loaded
 * from `/assets/`) and its matrix plugin. Charts are created once and updated in place; the heatmap is one
 * canvas whatever the number of cells, and every list is bounded by the server's page sizes. Values reach the
 * DOM through `textContent` only, never as HTML. Plain ES2017, so any phone browser runs it.
 * @module
 */

import { COVERAGE_STEPS, GAP_KIND_COLOURS, NO_DATA_COLOUR } from "../charts/palette.ts";

/** Settings baked into the script. */
export interface PageScriptOptions {
  pollMs: number;
  chartPollMs: number;
  heatmapPage: number;
}

/** The script's source text. */
export function PAGE_SCRIPT(o: PageScriptOptions): string {
  const palette = JSON.stringify({
    steps: COVERAGE_STEPS.map((s) => ({
      min: Number.isFinite(s.min) ? s.min : -1,
      colour: s.colour,
      label: s.label,
    })),
    none: NO_DATA_COLOUR,
    kinds: GAP_KIND_COLOURS,
  });
  return `
"use strict";
const POLL_MS = ${o.pollMs}, CHART_POLL_MS = ${o.chartPollMs}, PAGE = ${o.heatmapPage};
const PALETTE = ${palette};
const HOUR = 3600000;
const MARKET_COLOURS = { spot: "#0969da", usdm: "#bf3989" };
const $ = (id) => document.getElementById(id);
const rowsByKey = new Map();
const charts = {};
window.__charts = charts;
window.__timings = {};
let lastOk = null;
let today = null;
const cov = { offset: 0, total: 0, date: null };

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
function count(n) {
  if (n < 1000) return String(Math.round(n));
  const units = ["k", "M", "G", "T"];
  let i = -1;
  while (n >= 999.5 && i < units.length - 1) { n /= 1000; i++; }
  return (n >= 100 ? Math.round(n) : n >= 10 ? n.toFixed(1) : n.toFixed(2)) + units[i];
}
function int(n) { return n.toLocaleString("en-US"); }
function rate(r) { return r < 10 ? r.toFixed(1) : count(r); }
function size(b) {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (b >= 1024 && i < units.length - 1) { b /= 1024; i++; }
  return (i === 0 || b >= 100 ? Math.round(b) : b.toFixed(1)) + " " + units[i];
}
function pct(p) { return p === null ? "–" : (p >= 100 ? "100" : (Math.floor(p * 100) / 100).toFixed(2)) + "%"; }
function offset(ms) { return (ms > 0 ? "+" : "") + ms.toFixed(1) + " ms"; }
function utc(ms) { return new Date(ms).toISOString().slice(11, 19) + " UTC"; }
function hhmm(ms) { return new Date(ms).toISOString().slice(11, 16); }
function hms(ms) { return new Date(ms).toISOString().slice(11, 19); }
function dur(ms) {
  const s = ms / 1000;
  if (s < 60) return (s < 10 ? s.toFixed(1) : Math.round(s)) + "s";
  if (s < 3600) return Math.floor(s / 60) + "m " + Math.round(s % 60) + "s";
  return Math.floor(s / 3600) + "h " + Math.round((s % 3600) / 60) + "m";
}
function colour(p) {
  if (p === null) return PALETTE.none;
  for (const s of PALETTE.steps) if (p >= s.min) return s.colour;
  return PALETTE.steps[PALETTE.steps.length - 1].colour;
}
function wrap(text, width) {
  const out = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + word.length + 1 > width) { out.push(line); line = ""; }
    line = line ? line + " " + word : word;
  }
  if (line) out.push(line);
  return out.slice(0, 4);
}
function gapLines(g) {
  return [g.kind + " " + g.stream + " " + hms(g.startMs) + "–" + hms(g.endMs) + " (" + dur(g.endMs - g.startMs) +
    ")" + (g.recovered ? " recovered" : "")].concat(wrap(g.reason, 44).map((l) => "  " + l));
}
async function getJson(url) {
  const res = await fetch(url, { cache: "no-store" });
  if (!res.ok) throw new Error("HTTP " + res.status + " " + (await res.text()).slice(0, 200));
  return res.json();
}
function timed(name, fn) {
  const t = performance.now();
  fn();
  window.__timings[name] = performance.now() - t;
}
function legend(el, items) {
  el.replaceChildren(...items.map((it) => {
    const span = make("span");
    const dot = make("i");
    dot.style.background = it.colour;
    span.append(dot, it.label);
    return span;
  }));
}

// ---- status ----
function marketCard(m) {
  let c = $("market-" + m.market);
  if (!c) {
    c = make("section", "card");
    c.id = "market-" + m.market;
    c.append(make("h2", "", m.market), make("p"));
    $("markets").append(c);
  }
  set(c.lastChild, count(m.symbols) + " symbols\\n" + m.connected + "/" + m.streams + " streams live" +
    (m.stale ? ", " + m.stale + " silent" : "") + "\\n" + m.booksSynced + "/" + m.books + " books synced\\n" +
    rate(m.msgsPerSec) + " msg/s · " + m.gapsToday + " gaps today\\ncoverage today " + pct(m.coverageTodayPct));
}
function symbolRow(r) {
  const key = r.market + "/" + r.symbol;
  let row = rowsByKey.get(key);
  if (!row) {
    const tr = make("tr");
    tr.dataset.key = key;
    const cells = [0, 1, 2, 3, 4].map(() => make("td"));
    const name = make("span");
    const note = make("small");
    cells[0].append(name, note);
    tr.append(...cells);
    row = { tr, cells, name, note };
    rowsByKey.set(key, row);
  }
  row.tr.className = r.state === "ok" ? "" : r.state === "gaps" ? "warn" : "bad";
  set(row.name, r.symbol);
  set(row.note, r.market + (r.problem ? " · " + r.problem : ""));
  set(row.cells[1], rate(r.msgsPerSec));
  set(row.cells[2], age(r.lastMessageAgeMs));
  set(row.cells[3], String(r.gapsToday));
  set(row.cells[4], pct(r.coverageTodayPct));
  return row.tr;
}
function renderStatus(s) {
  const h = s.health;
  const badge = $("health");
  set(badge, h.ok ? "OK" : h.problemCount + (h.problemCount === 1 ? " problem" : " problems"));
  badge.className = "badge " + (h.ok ? "ok" : "bad");
  const items = h.problems.map((p) =>
    make("li", "", [p.market, p.symbol, p.stream].filter((x) => x !== null).join(" ") + ": " + p.problem));
  if (h.problemCount > h.problems.length) items.push(make("li", "", "… and " + (h.problemCount - h.problems.length) + " more"));
  $("problems").replaceChildren(...items);
  set($("meta"), s.version + " · up " + age(s.nowMs - s.startedAtMs) + " · updated " + utc(s.nowMs));
  for (const m of s.markets) marketCard(m);
  const keep = new Set();
  const trs = s.symbols.map((r) => { keep.add(r.market + "/" + r.symbol); return symbolRow(r); });
  for (const key of [...rowsByKey.keys()]) if (!keep.has(key)) rowsByKey.delete(key);
  const body = $("symbols");
  if (trs.some((tr, i) => body.children[i] !== tr) || body.children.length !== trs.length) body.replaceChildren(...trs);
  const total = s.symbols.length + s.moreSymbols;
  set($("sym-info"), s.moreSymbols ? "worst " + s.symbols.length + " of " + count(total) + " · " + count(s.moreSymbols) +
    " more" + (s.moreTroubled ? " (" + s.moreTroubled + " in trouble)" : ", all fine") : count(total) + " symbols");
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
  if (today === null) {
    today = new Date(s.nowMs).toISOString().slice(0, 10);
    if (!$("cov-date").value) $("cov-date").value = today;
    pollCharts();
  }
}
async function poll() {
  try {
    const s = await getJson("/status.json");
    timed("status", () => renderStatus(s));
    lastOk = Date.now();
    document.body.classList.remove("offline");
  } catch (err) {
    document.body.classList.add("offline");
    set($("meta"), "offline (" + err.message + ")" + (lastOk ? " · last update " + utc(lastOk) : ""));
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

// ---- charts ----
function hasCharts() { return typeof window.Chart === "function"; }
function baseOptions() {
  return { animation: false, maintainAspectRatio: false, responsive: true,
    interaction: { mode: "nearest", intersect: true }, plugins: { legend: { display: false } } };
}
function renderRates(doc) {
  const datasets = doc.series.map((s) => ({ label: s.market, data: s.points.map((p) => ({ x: p[0], y: p[1] })),
    borderColor: MARKET_COLOURS[s.market] || "#888", backgroundColor: MARKET_COLOURS[s.market] || "#888",
    pointRadius: 0, borderWidth: 1.5, tension: 0 }));
  if (!charts.rates) {
    const options = baseOptions();
    options.parsing = false;
    options.normalized = true;
    options.interaction = { mode: "index", intersect: false };
    options.plugins.legend = { display: true, position: "bottom", labels: { boxWidth: 12 } };
    options.plugins.tooltip = { callbacks: { title: (items) => items.length ? utc(items[0].parsed.x) : "",
      label: (it) => it.dataset.label + " " + rate(it.parsed.y) + " msg/s" } };
    options.scales = { x: { type: "linear", ticks: { maxTicksLimit: 7, callback: (v) => hhmm(v) } },
      y: { beginAtZero: true, ticks: { callback: (v) => count(v) } } };
    charts.rates = new window.Chart($("rates"), { type: "line", data: { datasets }, options });
  } else charts.rates.data.datasets = datasets;
  charts.rates.options.scales.x.min = doc.nowMs - HOUR;
  charts.rates.options.scales.x.max = doc.nowMs;
  charts.rates.update("none");
}
function heatmapCells(doc) {
  const labels = [];
  const cells = [];
  const nowMs = Date.now();
  const add = (label, hours, messages, gaps) => {
    labels.push(label);
    for (let h = 0; h < 24; h++) {
      const start = doc.dayStartMs + h * HOUR;
      if (start > nowMs) break;
      const g = gaps.filter((x) => x.startMs < start + HOUR && (x.endMs > start || (x.endMs === x.startMs && x.startMs >= start)));
      cells.push({ x: h, y: label, v: hours[h], m: messages ? messages[h] : null, g });
    }
  };
  for (const m of doc.markets) add(m.market + " · all " + count(m.symbols), m.hours, null, []);
  for (const r of doc.rows) add(r.market + " " + r.symbol, r.hours, r.hourMessages, r.gapList);
  return { labels, cells };
}
function renderHeatmap(doc) {
  const { labels, cells } = heatmapCells(doc);
  $("heatmap-box").style.height = (labels.length * 17 + 34) + "px";
  const dataset = { data: cells, borderWidth: 0,
    backgroundColor: (ctx) => colour(ctx.raw ? ctx.raw.v : null),
    width: ({ chart }) => (chart.chartArea || { width: 0 }).width / 24 - 1,
    height: ({ chart }) => (chart.chartArea || { height: 0 }).height / labels.length - 1 };
  if (!charts.heatmap) {
    const options = baseOptions();
    options.plugins.tooltip = { displayColors: false, callbacks: {
      title: (items) => { const c = items[0].raw; return c.y + "  " + String(c.x).padStart(2, "0") + ":00–" +
        String(c.x + 1).padStart(2, "0") + ":00 UTC"; },
      label: (it) => { const c = it.raw; let lines = [c.v === null ? "nothing recorded" : "coverage " + pct(c.v) +
        (c.m !== null ? " · " + count(c.m) + " msgs" : "")];
        for (const g of c.g.slice(0, 3)) lines = lines.concat(gapLines(g));
        if (c.g.length > 3) lines.push("… " + (c.g.length - 3) + " more gaps");
        return lines; } } };
    options.scales = {
      x: { type: "linear", position: "top", min: -0.5, max: 23.5, offset: false, grid: { display: false },
        afterBuildTicks: (axis) => { axis.ticks = [0, 3, 6, 9, 12, 15, 18, 21].map((value) => ({ value })); },
        ticks: { maxRotation: 0, callback: (v) => String(v).padStart(2, "0") } },
      // The matrix plugin reverses its y axis by default; the first row (the market totals) goes on top.
      y: { type: "category", labels, offset: true, reverse: false, grid: { display: false },
        ticks: { autoSkip: false, font: { size: 11 } } } };
    charts.heatmap = new window.Chart($("heatmap"), { type: "matrix", data: { datasets: [dataset] }, options });
  } else {
    charts.heatmap.data.datasets = [dataset];
    charts.heatmap.options.scales.y.labels = labels;
  }
  charts.heatmap.update("none");
  cov.total = doc.total;
  const last = Math.min(doc.offset + doc.rows.length, doc.total);
  set($("cov-page"), doc.total ? (doc.offset + 1) + "–" + last + " of " + int(doc.total) : "none");
  $("cov-prev").disabled = doc.offset === 0;
  $("cov-next").disabled = last >= doc.total;
  set($("cov-info"), doc.date + " UTC · worst first · " + int(doc.complete) + " of " + int(doc.symbols) + " complete");
}
function renderGaps(doc) {
  const box = $("gaps-box");
  set($("gaps-info"), doc.date + " · " + doc.count + " gaps, " + doc.unrecovered + " unrecovered" +
    (doc.moreSymbols ? " · " + doc.moreSymbols + " more symbols" : ""));
  const labels = ["any symbol"].concat(doc.rows.map((r) => r.market + " " + r.symbol));
  box.style.height = (labels.length * 20 + 40) + "px";
  const byKind = {};
  for (const r of doc.rows) for (const g of r.gaps) {
    (byKind[g.kind] = byKind[g.kind] || []).push({ x: [g.startMs, Math.max(g.endMs, g.startMs + 1)], y: r.market + " " + r.symbol, g });
  }
  const datasets = [{ label: "missing", data: doc.any.map((a) => ({ x: [a[0], Math.max(a[1], a[0] + 1)], y: "any symbol", g: null })),
    backgroundColor: "#cf222e" }].concat(Object.keys(byKind).map((k) => ({ label: k, data: byKind[k],
    backgroundColor: PALETTE.kinds[k] || "#888" })));
  for (const d of datasets) { d.minBarLength = 3; d.barPercentage = 0.8; d.categoryPercentage = 1; d.grouped = false; }
  if (!charts.gaps) {
    const options = baseOptions();
    options.indexAxis = "y";
    options.plugins.tooltip = { callbacks: {
      title: (items) => items.length ? items[0].raw.y : "",
      label: (it) => { const r = it.raw; return r.g ? gapLines(r.g) : "missing " + hms(r.x[0]) + "–" + hms(r.x[1]) +
        " (" + dur(r.x[1] - r.x[0]) + ")"; } } };
    options.scales = {
      x: { type: "linear", position: "top", ticks: { stepSize: 6 * HOUR, maxRotation: 0, callback: (v) => hhmm(v) } },
      y: { type: "category", labels, grid: { display: false }, ticks: { autoSkip: false, font: { size: 11 } } } };
    charts.gaps = new window.Chart($("gaps"), { type: "bar", data: { datasets }, options });
  } else {
    charts.gaps.data.datasets = datasets;
    charts.gaps.options.scales.y.labels = labels;
  }
  charts.gaps.options.scales.x.min = doc.dayStartMs;
  charts.gaps.options.scales.x.max = doc.dayStartMs + 24 * HOUR;
  charts.gaps.update("none");
  legend($("gaps-legend"), [{ colour: "#cf222e", label: "missing (any symbol)" }].concat(
    Object.keys(PALETTE.kinds).map((k) => ({ colour: PALETTE.kinds[k], label: k }))));
}
function coverageUrl() {
  const q = new URLSearchParams({ date: $("cov-date").value || today, offset: String(cov.offset), limit: String(PAGE),
    market: $("cov-market").value });
  const search = $("cov-q").value.trim();
  if (search) q.set("q", search);
  return "/charts/coverage.json?" + q;
}
async function loadCoverage() {
  try {
    const doc = await getJson(coverageUrl());
    timed("heatmap", () => renderHeatmap(doc));
  } catch (err) { set($("cov-info"), "unavailable (" + err.message + ")"); }
}
async function loadGaps() {
  try {
    const doc = await getJson("/charts/gaps.json?date=" + encodeURIComponent($("cov-date").value || today));
    timed("gaps", () => renderGaps(doc));
  } catch (err) { set($("gaps-info"), "unavailable (" + err.message + ")"); }
}
async function loadRates() {
  try {
    const doc = await getJson("/charts/rates.json");
    timed("rates", () => renderRates(doc));
  } catch (_) { /* the status line says when the collector is unreachable */ }
}
let chartTimer = null;
async function pollCharts() {
  clearTimeout(chartTimer);
  if (hasCharts()) await Promise.all([loadRates(), loadCoverage(), loadGaps()]);
  else set($("cov-info"), "charts unavailable: the chart library did not load");
  window.__chartsLoadedAt = Date.now();
  chartTimer = setTimeout(pollCharts, CHART_POLL_MS);
}
function setupControls() {
  legend($("cov-legend"), PALETTE.steps.map((s) => ({ colour: s.colour, label: s.label })).concat(
    [{ colour: PALETTE.none, label: "none" }]));
  const restart = () => { cov.offset = 0; loadCoverage(); };
  $("cov-date").addEventListener("change", () => { restart(); loadGaps(); });
  $("cov-market").addEventListener("change", restart);
  let typing = null;
  $("cov-q").addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(restart, 300); });
  $("cov-prev").addEventListener("click", () => { cov.offset = Math.max(0, cov.offset - PAGE); loadCoverage(); });
  $("cov-next").addEventListener("click", () => { if (cov.offset + PAGE < cov.total) { cov.offset += PAGE; loadCoverage(); } });
  if (hasCharts()) {
    const dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
    window.Chart.defaults.color = dark ? "#8b949e" : "#57606a";
    window.Chart.defaults.borderColor = dark ? "#30363d" : "#e3e6ea";
    window.Chart.defaults.font.size = 11;
  }
}
setupControls();
poll();
`;
}
