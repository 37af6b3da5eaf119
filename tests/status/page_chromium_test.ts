/**
 * The status page in a real browser: headless Chromium loads it from the server and we check what a person
 * would see: the charts drawn by Chart.js from the JSON endpoints, the heatmap's worst symbol on top with its gap
 * in the right cell (read back from the canvas pixels), paging, a DOM that does not grow with the symbols, and
 * a page over the simulator where a gap made by the simulator's fault switch shows in the right cell. Each
 * test leaves a phone-width screenshot in the temp directory for a person to look at. Skipped, with the reason
 * in the test name, when Chromium is missing (`apt-get install -y chromium`).
 */
import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DayCoverageReader } from "../../lib/charts/coverage_reader.ts";
import { coverageColour } from "../../lib/charts/palette.ts";
import { startSimulator } from "../../lib/sim/server.ts";
import { CollectorStatusSource } from "../../lib/status/collector_source.ts";
import { startStatusServer } from "../../lib/status/server.ts";
import { startCollector, waitFor } from "../integration/_harness.ts";
import { ChromiumPage, findChromium } from "./chromium.ts";
import { fakeChartSource, fakeMarketSnapshot } from "./fake_source.ts";

const CHROMIUM = await findChromium();
const SKIPPED = CHROMIUM === null ? " (skipped: chromium is not installed; apt-get install -y chromium)" : "";
/** Phone width (an iPhone 12-15 in CSS pixels). */
const PHONE = 390;

/** What the page shows, read in the browser. */
interface View {
  labels: string[];
  gapRows: string[];
  rateSeries: number[];
  page: string;
  tableKeys: string[];
  elements: number;
  timings: Record<string, number>;
}

const READ_VIEW = `(() => {
  const c = window.__charts;
  if (!c || !c.heatmap || !c.gaps || !c.rates) return null;
  return {
    labels: c.heatmap.options.scales.y.labels,
    gapRows: c.gaps.options.scales.y.labels,
    rateSeries: c.rates.data.datasets.map((d) => d.data.length),
    page: document.getElementById("cov-page").textContent,
    tableKeys: [...document.querySelectorAll("#symbols tr")].map((tr) => tr.dataset.key),
    elements: document.getElementsByTagName("*").length,
    timings: window.__timings,
  };
})()`;

/** The colour drawn at the centre of the heatmap cell of `label` and UTC hour `hour`, as `#rrggbb`. */
function cellColour(label: string, hour: number): string {
  return `(() => {
    const chart = window.__charts.heatmap;
    const data = chart.data.datasets[0].data;
    const i = data.findIndex((c) => c.y === ${JSON.stringify(label)} && c.x === ${hour});
    if (i < 0) return "no cell";
    const p = chart.getDatasetMeta(0).data[i].getCenterPoint();
    const ratio = chart.currentDevicePixelRatio;
    const px = chart.ctx.getImageData(Math.round(p.x * ratio), Math.round(p.y * ratio), 1, 1).data;
    return "#" + [px[0], px[1], px[2]].map((v) => v.toString(16).padStart(2, "0")).join("");
  })()`;
}

/** Saves a PNG of the whole page. */
async function screenshot(page: ChromiumPage, path: string): Promise<Uint8Array> {
  const { data } = await page.send("Page.captureScreenshot", {
    format: "png",
    captureBeyondViewport: true,
  }) as {
    data: string;
  };
  const png = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  await Deno.writeFile(path, png);
  return png;
}

Deno.test({
  name:
    `status page with 2,000 symbols: totals, charts, worst symbols first, gap in the right cell${SKIPPED}`,
  ignore: CHROMIUM === null,
  async fn() {
    const date = "2025-01-06";
    const server = startStatusServer({
      hostname: "127.0.0.1",
      port: 0,
      source: { snapshot: () => fakeMarketSnapshot(1500, 500) },
      charts: fakeChartSource(1500, 500, date, 10),
    });
    const page = await ChromiumPage.launch(CHROMIUM!, PHONE, 900);
    try {
      await page.send("Emulation.setDeviceMetricsOverride", {
        width: PHONE,
        height: 900,
        deviceScaleFactor: 1,
        mobile: true,
      });
      await page.goto(`${server.url}/`);
      const view = await page.waitFor<View | null>(
        READ_VIEW,
        (v) => v !== null && v.labels.length > 2,
        30_000,
      );
      assert.ok(view);
      // Market rows, then the worst symbol: the one with the gap.
      assert.deepEqual(view.labels.slice(0, 3), ["spot · all 1.50k", "usdm · all 500", "spot S5USDT"]);
      assert.equal(view.labels.length, 2 + 40, "one page of 40 symbols");
      assert.equal(view.page, "1–40 of 2,000");
      assert.deepEqual(view.gapRows, ["any symbol", "spot S5USDT"]);
      assert.deepEqual(view.rateSeries, [360, 360]);
      // The table: worst first (down, book, stale, gaps), 25 rows for 2,000 symbols.
      assert.deepEqual(view.tableKeys.slice(0, 3), ["spot/S7USDT", "usdm/F3USDT", "spot/S11USDT"]);
      assert.equal(view.tableKeys.length, 25);
      assert.ok(view.elements < 400, `${view.elements} DOM elements for 2,000 symbols`);
      // The gap's hour is drawn in its colour (83.33%), its neighbours complete.
      assert.equal(await page.evaluate<string>(cellColour("spot S5USDT", 3)), coverageColour(3000 / 36));
      assert.equal(await page.evaluate<string>(cellColour("spot S5USDT", 4)), coverageColour(100));
      assert.equal(await page.evaluate<string>(cellColour("spot S5USDT", 11)), coverageColour(null));
      const hover = await page.evaluate<string[]>(`(() => {
        const chart = window.__charts.heatmap;
        const cell = chart.data.datasets[0].data.find((c) => c.y === "spot S5USDT" && c.x === 3);
        return chart.options.plugins.tooltip.callbacks.label({ raw: cell });
      })()`);
      assert.equal(hover[0], "coverage 83.33% · 240k msgs");
      assert.equal(hover[1], "disconnect aggTrade 03:20:00–03:30:00 (10m 0s)");
      assert.match(hover[2]!, /connection closed by the server/);
      await screenshot(page, join(tmpdir(), "status-2000-symbols.png"));

      // The next page: symbols 41-80, busiest of the complete ones first.
      await page.evaluate(`document.getElementById("cov-next").click()`);
      const next = await page.waitFor<View | null>(READ_VIEW, (v) => v?.page === "41–80 of 2,000", 10_000);
      assert.ok(!next!.labels.includes("spot S5USDT"));
      // A search narrows the heatmap to matching symbols.
      await page.evaluate(`(() => { const q = document.getElementById("cov-q"); q.value = "f49";
        q.dispatchEvent(new Event("input")); })()`);
      const found = await page.waitFor<View | null>(
        READ_VIEW,
        (v) => v?.page.endsWith(" of 11") ?? false,
        10_000,
      );
      assert.ok(found!.labels.includes("usdm F49USDT"));
    } finally {
      await page.close();
      await server.close();
    }
  },
});

Deno.test({
  name: `status page over the simulator: rates drawn, a disconnect gap in its symbol's hour cell${SKIPPED}`,
  ignore: CHROMIUM === null,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const sim = await startSimulator({ symbols: ["BTCUSDT", "ETHUSDT"], seed: 7 });
    const dataDir = await Deno.makeTempDir({ prefix: "status-chromium-" });
    const app = await startCollector(sim, dataDir, { usdm: false });
    const reader = new DayCoverageReader(app.ledger, { maxAgeMs: 200, finalAfterMs: 0 });
    const source = new CollectorStatusSource(app.collector, app.ledger, {
      version: "test",
      dataDir,
      startedAtMs: Date.now(),
      reader,
      rateSampleMs: 250,
    });
    const server = startStatusServer({ hostname: "127.0.0.1", port: 0, source, charts: source });
    let page: ChromiumPage | null = null;
    try {
      await waitFor(
        "spot streams subscribed",
        () => app.collector.streams().every((s) => s.connected),
        30_000,
      );
      // The fault switch: close every spot connection and refuse new ones for 2 s.
      sim.faults.refuseConnectionsUntil = Date.now() + 2000;
      sim.faults.disconnect = { market: "spot" };
      const day = new Date().toISOString().slice(0, 10);
      const dayUs = Date.parse(`${day}T00:00:00Z`) * 1000;
      let gapStartUs = 0;
      const deadline = Date.now() + 60_000;
      while (gapStartUs === 0) {
        if (Date.now() > deadline) throw new Error("no BTCUSDT disconnect gap reached the ledger");
        const gaps = await app.ledger.listGaps({
          fromUs: dayUs,
          toUs: dayUs + 86_400_000_000,
          symbol: "BTCUSDT",
        });
        gapStartUs = gaps.find((g) => g.row.kind === "disconnect")?.row.start_time ?? 0;
        await new Promise((r) => setTimeout(r, 200));
      }
      const hour = new Date(gapStartUs / 1000).getUTCHours();

      page = await ChromiumPage.launch(CHROMIUM!, PHONE, 900);
      await page.send("Emulation.setDeviceMetricsOverride", {
        width: PHONE,
        height: 900,
        deviceScaleFactor: 1,
        mobile: true,
      });
      await page.goto(`${server.url}/`);
      const view = await page.waitFor<View | null>(
        READ_VIEW,
        (v) => v !== null && v.labels.includes("spot BTCUSDT") && v.rateSeries.some((n) => n > 0),
        30_000,
      );
      assert.ok(view);
      assert.ok(view.gapRows.includes("spot BTCUSDT"), view.gapRows.join(", "));
      const cell = await page.evaluate<{ v: number; kinds: string[] }>(`(() => {
        const c = window.__charts.heatmap.data.datasets[0].data.find((c) => c.y === "spot BTCUSDT" && c.x === ${hour});
        return { v: c.v, kinds: c.g.map((g) => g.kind + " " + g.stream) };
      })()`);
      assert.ok(cell.v < 100, `coverage of the gap's hour is ${cell.v}`);
      assert.ok(cell.kinds.some((k) => k.startsWith("disconnect ")), cell.kinds.join(", "));
      assert.equal(await page.evaluate<string>(cellColour("spot BTCUSDT", hour)), coverageColour(cell.v));
      await screenshot(page, join(tmpdir(), "status-simulator.png"));
    } finally {
      await page?.close();
      await server.close();
      source.close();
      await app.stop();
      await sim.close();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
