/**
 * The `/` status page: one HTML document with inline style and script plus the vendored chart libraries from
 * `/assets/` (no external host, so it works on a VM without internet and passes a strict CSP). It polls
 * `/status.json` (totals per market and the worst symbols), `/charts/rates.json`, `/charts/coverage.json` and
 * `/charts/gaps.json`, and updates in place. Sized for a phone first: a phone shows the totals, the rate chart,
 * a page of the coverage heatmap (worst symbols first) and the gaps timeline one under the other. Pure.
 * @module
 */

import { ASSETS } from "./assets.ts";
import { PAGE_SCRIPT } from "./page_script.ts";

/** How often the page polls `/status.json`, in ms. */
export const POLL_MS = 2000;

/** How often the page polls the chart data (coverage, gaps, rates), in ms. */
export const CHART_POLL_MS = 30_000;

/** Heatmap rows per page. */
export const HEATMAP_PAGE = 40;

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
h2 small{color:var(--mute);font-weight:normal;font-size:13px}
.muted{color:var(--mute);font-size:13px;margin:4px 0 10px}
.badge{border-radius:10px;padding:1px 8px;font-size:13px;font-weight:600;color:#fff;background:var(--mute)}
.badge.ok{background:var(--ok)}.badge.bad{background:var(--bad)}.badge.warn{background:var(--warn)}
#problems{margin:0 0 10px;padding-left:20px;color:var(--bad);font-size:14px}
.grid{display:grid;gap:10px;grid-template-columns:repeat(auto-fill,minmax(min(100%,340px),1fr));margin-bottom:10px}
.summary{grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:8px}
.summary .card{padding:6px 10px}.summary h2{font-size:12px;color:var(--mute);margin:0 0 2px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px;min-width:0}
.card p{margin:0;font-size:14px;white-space:pre-line;font-variant-numeric:tabular-nums}
.wide{grid-column:1/-1}
.chart{position:relative;width:100%}
.controls{display:flex;gap:6px;flex-wrap:wrap;align-items:center;margin:0 0 6px;font-size:14px}
.controls input,.controls select,.controls button{font:inherit;font-size:14px;padding:3px 6px;
border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg)}
.controls input[type=search]{width:9em}
.controls button:disabled{opacity:.4}
.legend{display:flex;gap:8px;flex-wrap:wrap;font-size:12px;color:var(--mute);margin-top:4px}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:3px;vertical-align:-1px}
table{width:100%;border-collapse:collapse;font-size:14px;font-variant-numeric:tabular-nums}
th{color:var(--mute);font-weight:normal;font-size:12px;text-align:right;padding:2px 4px}
td{padding:3px 4px;border-top:1px solid var(--line);text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left;padding-left:0}
td:first-child{overflow:hidden;text-overflow:ellipsis;max-width:38vw}
td:first-child::before{content:"";display:inline-block;width:8px;height:8px;border-radius:50%;
margin-right:6px;background:var(--ok);vertical-align:middle}
td small{display:block;color:var(--mute);font-size:12px;white-space:normal}
tr.bad td:first-child::before{background:var(--bad)}tr.bad td{color:var(--bad)}
tr.warn td:first-child::before{background:var(--warn)}
body.offline main{opacity:.5}
`;

const BODY = `<header><h1>Binance collector</h1><span id="health" class="badge">…</span></header>
<p id="meta" class="muted">loading…</p>
<ul id="problems"></ul>
<main>
<div id="markets" class="grid summary"></div>
<div class="grid">
<section class="card wide"><h2>Messages per second <small>last hour, per market</small></h2>
<div class="chart" style="height:200px"><canvas id="rates" role="img" aria-label="message rate per market"></canvas></div></section>
<section class="card wide" id="coverage"><h2>Coverage <small id="cov-info"></small></h2>
<div class="controls"><input type="date" id="cov-date" aria-label="UTC day">
<select id="cov-market" aria-label="market"><option value="all">all</option><option>spot</option><option>usdm</option></select>
<input type="search" id="cov-q" placeholder="symbol" aria-label="symbol search">
<button id="cov-prev" aria-label="previous page">‹</button><span id="cov-page"></span>
<button id="cov-next" aria-label="next page">›</button></div>
<div class="chart" id="heatmap-box"><canvas id="heatmap" role="img" aria-label="coverage heatmap"></canvas></div>
<div class="legend" id="cov-legend"></div></section>
<section class="card wide"><h2>Gaps <small id="gaps-info"></small></h2>
<div class="chart" id="gaps-box"><canvas id="gaps" role="img" aria-label="gaps timeline"></canvas></div>
<div class="legend" id="gaps-legend"></div></section>
<section class="card wide"><h2>Symbols <small id="sym-info"></small></h2>
<table><thead><tr><th>symbol</th><th>msg/s</th><th>last</th><th>gaps</th><th>cover</th></tr></thead>
<tbody id="symbols"></tbody></table></section>
</div>
<div class="grid summary">
<section class="card"><h2>Clock offset</h2><p id="clock">…</p></section>
<section class="card"><h2>Disk</h2><p id="disk">…</p></section>
<section class="card"><h2>REST weight</h2><p id="rest">…</p></section>
<section class="card"><h2>Journal and flushes</h2><p id="writes">…</p></section>
</div>
</main>`;

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
${ASSETS.map((a) => `<script src="${a.path}"></script>`).join("\n")}
<script>${PAGE_SCRIPT({ pollMs: POLL_MS, chartPollMs: CHART_POLL_MS, heatmapPage: HEATMAP_PAGE })}</script>
</body>
</html>
`;

/**
 * The status page's HTML.
 *
 * @example
 * ```ts
 * const response = new Response(renderPage(), { headers: { "content-type": "text/html; charset=utf-8" } });
 * (await response.text()).startsWith("<!doctype html>"); // true
 * ```
 */
export function renderPage(): string {
  return PAGE;
}
