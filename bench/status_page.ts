/**
 * The status page, `/metrics`, the chart data and the Telegram picture with the whole market (default 1,500 spot
 * + 500 USD-M symbols): sizes (raw and gzip, as the browser and Prometheus fetch them) and times, server side
 * and in headless Chromium at phone width. Not a test: the figures go into the README ("Status page and
 * metrics").
 *
 * `deno run -A bench/status_page.ts [--spot 1500] [--usdm 500]`
 */
import { runDailyReport } from "../cron/daily_report.ts";
import { DayCoverageReader } from "../lib/charts/coverage_reader.ts";
import { coverageGrid } from "../lib/charts/coverage_grid.ts";
import { coveragePicture } from "../lib/charts/coverage_picture.ts";
import { HOUR_US } from "../lib/ledger/intervals.ts";
import { coverageKey } from "../lib/ledger/keys.ts";
import { Ledger } from "../lib/ledger/ledger.ts";
import type { CoverageValue } from "../lib/ledger/records.ts";
import { ASSETS } from "../lib/status/assets.ts";
import type { ChartSource } from "../lib/status/charts_api.ts";
import { renderMetrics } from "../lib/status/metrics.ts";
import { renderPage } from "../lib/status/page.ts";
import { startStatusServer } from "../lib/status/server.ts";
import { summarizeStatus } from "../lib/status/summary.ts";
import { ChromiumPage, findChromium } from "../tests/status/chromium.ts";
import { fakeChartSource, fakeMarketSnapshot } from "../tests/status/fake_source.ts";

const arg = (name: string, fallback: number) => {
  const i = Deno.args.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(Deno.args[i + 1]);
};
const SPOT = arg("spot", 1500);
const USDM = arg("usdm", 500);

async function gzipSize(text: string): Promise<number> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

/** Median ms of `runs` calls. */
async function time(runs: number, fn: () => unknown): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

/** A ledger holding a whole day of coverage: every stream of every symbol, every hour recorded. */
async function fullDayLedger(date: string): Promise<Ledger> {
  const ledger = new Ledger(await Deno.openKv(":memory:"));
  const dayUs = Date.parse(`${date}T00:00:00Z`) * 1000;
  const streams = {
    spot: ["depth@100ms", "aggTrade", "kline_1m", "bookTicker"],
    usdm: ["depth@100ms", "aggTrade", "kline_1m", "bookTicker", "forceOrder", "markPrice@1s"],
  };
  for (let h = 0; h < 24; h++) {
    let op = ledger.kv.atomic();
    let n = 0;
    for (const [market, count, prefix] of [["spot", SPOT, "S"], ["usdm", USDM, "F"]] as const) {
      for (let i = 0; i < count; i++) {
        for (const stream of streams[market]) {
          const hourUs = dayUs + h * HOUR_US;
          const value: CoverageValue = { messages: 1000 + i, spans: [hourUs, hourUs + HOUR_US] };
          op.set(coverageKey(hourUs, market, `${prefix}${i}USDT`, stream), value);
          if (++n % 500 === 0) {
            await op.commit();
            op = ledger.kv.atomic();
          }
        }
      }
    }
    await op.commit();
  }
  return ledger;
}

const snapshot = fakeMarketSnapshot(SPOT, USDM);
console.log(
  `# Status page with ${
    SPOT + USDM
  } symbols (${SPOT} spot, ${USDM} USD-M), ${snapshot.streams.length} streams\n`,
);

const html = renderPage();
const pageBytes = html.length + ASSETS.reduce((a, x) => a + x.body.length, 0);
const pageGzip = (await gzipSize(html)) +
  (await Promise.all(ASSETS.map((a) => gzipSize(a.body)))).reduce((a, b) => a + b, 0);
console.log(
  `page: HTML ${kb(html.length)} (gzip ${kb(await gzipSize(html))}), with Chart.js and the matrix plugin ${
    kb(pageBytes)
  } (gzip ${kb(pageGzip)}; cached for a year after the first load)`,
);

const status = JSON.stringify(summarizeStatus(snapshot));
console.log(
  `/status.json: ${kb(status.length)} (gzip ${kb(await gzipSize(status))}), built in ${
    (await time(21, () => JSON.stringify(summarizeStatus(snapshot)))).toFixed(1)
  } ms (median)`,
);
const metrics = renderMetrics(snapshot);
console.log(
  `/metrics: ${kb(metrics.length)} (gzip ${kb(await gzipSize(metrics))}), rendered in ${
    (await time(11, () => renderMetrics(snapshot))).toFixed(1)
  } ms (median)`,
);

const date = "2025-01-06";
const tFill = performance.now();
const ledger = await fullDayLedger(date);
console.log(
  `\nledger: a full day of coverage (${(SPOT * 4 + USDM * 6) * 24} stream-hours) written in ${
    ((performance.now() - tFill) / 1000).toFixed(1)
  } s`,
);
/** Runs `fn` while a 5 ms timer measures the longest stall of the event loop (what the collector would feel). */
async function withLag<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number; maxLagMs: number }> {
  let last = performance.now();
  let maxLagMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxLagMs = Math.max(maxLagMs, now - last - 5);
    last = now;
  }, 5);
  const t0 = performance.now();
  const value = await fn();
  const ms = performance.now() - t0;
  clearInterval(timer);
  return { value, ms, maxLagMs: Math.max(maxLagMs, performance.now() - last - 5) };
}
// Only the row count is kept: 216,000 rows left on the heap made every later GC slower, and the daily report's
// stall below measured the bench's garbage rather than the report.
const viaLedger = await withLag(async () => (await ledger.coverage(date)).length);
console.log(
  `Ledger.coverage(day) for comparison: ${viaLedger.value} rows in ${viaLedger.ms.toFixed(0)} ms, ` +
    `event loop stalled up to ${viaLedger.maxLagMs.toFixed(0)} ms`,
);
const reader = new DayCoverageReader(ledger, { nowMs: () => Date.parse(`${date}T23:59:59Z`) + 86_400_000 });
const first = await withLag(() => reader.read(date));
const day = first.value;
console.log(
  `DayCoverageReader.read(day): first read ${first.ms.toFixed(0)} ms, event loop stalled up to ${
    first.maxLagMs.toFixed(0)
  } ms`,
);
const t = performance.now();
await reader.read(date);
console.log(`  cached read ${(performance.now() - t).toFixed(2)} ms`);
console.log(`coverageGrid(day): ${(await time(5, () => coverageGrid(day))).toFixed(0)} ms (median)`);
const charts: ChartSource = {
  coverageDay: (d) => reader.read(d),
  rates: fakeChartSource(SPOT, USDM, date).rates,
};
const server = startStatusServer({
  hostname: "127.0.0.1",
  port: 0,
  source: { snapshot: () => snapshot },
  charts,
});
const fetchText = async (path: string) => await (await fetch(`${server.url}${path}`)).text();
const coverageJson = await fetchText(`/charts/coverage.json?date=${date}`);
console.log(
  `/charts/coverage.json (40 rows): ${kb(coverageJson.length)} (gzip ${
    kb(await gzipSize(coverageJson))
  }), answered in ${
    (await time(5, () => fetchText(`/charts/coverage.json?date=${date}`))).toFixed(0)
  } ms (median)`,
);
const gapsJson = await fetchText(`/charts/gaps.json?date=${date}`);
console.log(
  `/charts/gaps.json: ${kb(gapsJson.length)}, answered in ${
    (await time(5, () => fetchText(`/charts/gaps.json?date=${date}`))).toFixed(0)
  } ms (median)`,
);
const ratesJson = await fetchText(`/charts/rates.json`);
console.log(
  `/charts/rates.json (2 markets x 360 points): ${kb(ratesJson.length)} (gzip ${
    kb(await gzipSize(ratesJson))
  })`,
);

// A scrape as Prometheus makes it (gzip asked for), from another process: the bytes on the wire and the
// longest stall of this process's event loop while the server renders and sends ~7 MB.
for (const encoding of ["gzip", "identity"]) {
  const scrapes = [];
  for (let i = 0; i < 3; i++) {
    scrapes.push(
      await withLag(async () => {
        const out = await new Deno.Command("curl", {
          args: [
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{size_download}",
            "-H",
            `accept-encoding: ${encoding}`,
            `${server.url}/metrics`,
          ],
        }).output();
        if (!out.success) throw new Error(`curl failed: ${new TextDecoder().decode(out.stderr)}`);
        return Number(new TextDecoder().decode(out.stdout));
      }),
    );
  }
  console.log(
    `/metrics scraped (${encoding}, curl): ${kb(scrapes[0]!.value)} sent, ${
      scrapes.map((x) => x.ms.toFixed(0)).join(", ")
    } ms; event loop stalled up to ${scrapes.map((x) => x.maxLagMs.toFixed(0)).join(", ")} ms`,
  );
}

const drawn = await withLag(() => coveragePicture(day));
const picture = drawn.value;
const again = [];
for (let i = 0; i < 5; i++) again.push(await withLag(() => coveragePicture(day)));
again.sort((a, b) => a.ms - b.ms);
console.log(
  `\nTelegram picture: ${picture!.width}x${picture!.height} px, ${kb(picture!.png.length)}, first render ${
    drawn.ms.toFixed(0)
  } ms (wasm start included), then ${again[2]!.ms.toFixed(0)} ms (median; drawn in a worker); event loop ` +
    `stalled up to ${Math.max(drawn.maxLagMs, ...again.map((a) => a.maxLagMs)).toFixed(0)} ms`,
);
// The collector's own job (cron/daily_report.ts), as it runs once a day: read, build, write, draw, deliver.
const logDir = await Deno.makeTempDir({ prefix: "status-bench-" });
let reportLines = 0;
const report = await withLag(() =>
  runDailyReport({
    ledger,
    logDir,
    at: "01:00",
    deliver: (text, _date, picture) => {
      if (picture === null) throw new Error("the daily report drew no picture");
      reportLines = text.split("\n").length;
      return Promise.resolve();
    },
  }, Date.parse(`${date}T01:00:00Z`) + 86_400_000)
);
await Deno.remove(logDir, { recursive: true });
console.log(
  `Daily report (runDailyReport: the ledger read, the report built, written and drawn): ${
    report.ms.toFixed(0)
  } ms, ${reportLines} lines, event loop stalled up to ${report.maxLagMs.toFixed(0)} ms`,
);

const chromium = await findChromium();
if (chromium === null) console.log("\nChromium not installed: no browser figures");
else {
  const page = await ChromiumPage.launch(chromium, 390, 900);
  try {
    await page.send("Emulation.setDeviceMetricsOverride", {
      width: 390,
      height: 900,
      deviceScaleFactor: 3,
      mobile: true,
    });
    await page.send("Emulation.setCPUThrottlingRate", { rate: 4 });
    await page.goto(`${server.url}/`);
    const v = await page.waitFor<
      { charts: number; t: Record<string, number>; dom: number; nodes: number } | null
    >(
      `(() => window.__chartsLoadedAt && window.__timings.heatmap !== undefined ? { charts: window.__chartsLoadedAt - performance.timeOrigin,
        t: window.__timings, dom: performance.getEntriesByType("navigation")[0].domContentLoadedEventEnd,
        nodes: document.getElementsByTagName("*").length } : null)()`,
      (x) => x !== null,
      60_000,
    );
    const f = (n: number | undefined) => `${(n ?? NaN).toFixed(0)} ms`;
    console.log(
      `\nChromium, 390 px phone, DPR 3, CPU slowed 4x: DOM ready ${f(v!.dom)}, every chart drawn ${
        f(v!.charts)
      } after navigation`,
    );
    console.log(
      `  render: status ${f(v!.t.status)}, rates ${f(v!.t.rates)}, heatmap ${f(v!.t.heatmap)}, gaps ${
        f(v!.t.gaps)
      }; ${v!.nodes} DOM elements`,
    );
  } finally {
    await page.close();
  }
}
await server.close();
ledger.close();
