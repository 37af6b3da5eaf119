/**
 * The charts as a user of `main.ts` sees them: the collector runs as its own process against the simulator, with
 * the status page on and the Bot API faked on loopback. Headless Chromium loads the page the process serves and
 * finds the rate chart and the coverage heatmap drawn with the recorded symbols; `/coverage` in the chat is
 * answered with the text and then the day's heatmap as a PNG through `sendPhoto`.
 */
import assert from "node:assert/strict";
import { HEATMAP_WIDTH, heatmapHeight } from "../../lib/charts/heatmap_svg.ts";
import { pngSize } from "../../lib/charts/png.ts";
import { startSimulator } from "../../lib/sim/server.ts";
import type { RatesDocument } from "../../lib/status/charts_api.ts";
import { startMain } from "../_main_process.ts";
import { FakeBotApi } from "../telegram/fake_bot_api.ts";
import { ChromiumPage, findChromium } from "./chromium.ts";

const TOKEN = "123456:TEST-token";
const CHROMIUM = await findChromium();
const SKIPPED = CHROMIUM === null ? " (skipped: chromium is not installed; apt-get install -y chromium)" : "";

/** Polls `check` every 200 ms until it returns a value, for at most `timeoutMs`. */
async function until<T>(what: string, check: () => Promise<T | null>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check().catch(() => null);
    if (v !== null) return v;
    if (Date.now() > end) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

Deno.test({
  name:
    `main.ts serves the charts page (rates, heatmap) and answers /coverage with a heatmap photo${SKIPPED}`,
  ignore: CHROMIUM === null,
  async fn() {
    const sim = await startSimulator({ symbols: ["BTCUSDT", "ETHUSDT"], seed: 3 });
    const fake = FakeBotApi.start(TOKEN);
    const dataDir = await Deno.makeTempDir({ prefix: "collector-charts-" });
    const configPath = `${dataDir}.yaml`;
    await Deno.writeTextFile(
      configPath,
      `symbols: [BTCUSDT, ETHUSDT]
data_dir: ${dataDir}
log_dir: ${dataDir}/logs
flush_interval: 1
use_futures: false
telegram_chat_id: 1001
telegram:
  api_root: ${fake.apiRoot}
  ticker_interval: 0
status:
  port: 0
markets:
  spot:
    rest_url: ${sim.spot.restUrl}
    ws_url: ${sim.spot.wsUrl}
`,
    );
    const main = startMain([configPath], { env: { TELEGRAM_BOT_TOKEN: TOKEN } });
    let page: ChromiumPage | null = null;
    try {
      // The log names the page's URL (port 0 picks a free one).
      const url = (await main.waitForLog(/status page.*?(http:\/\/127\.0\.0\.1:\d+)/, 30_000))[1]!;
      // Two rate samples (10 s apart) make the first point of the rate chart.
      await until("a rate point", async () => {
        const doc = await (await fetch(`${url}/charts/rates.json`)).json() as RatesDocument;
        return doc.series.some((s) => s.points.length > 0) ? doc : null;
      }, 40_000);
      // A flush has put the symbols' coverage into the ledger.
      await until("coverage of both symbols", async () => {
        const doc = await (await fetch(`${url}/charts/coverage.json`)).json() as { rows: unknown[] };
        return doc.rows.length === 2 ? doc : null;
      }, 40_000);

      page = await ChromiumPage.launch(CHROMIUM!, 390, 900);
      await page.goto(`${url}/`);
      const view = await page.waitFor<{ labels: string[]; cells: number; rates: number[] } | null>(
        `(() => { const c = window.__charts; if (!c || !c.heatmap || !c.rates) return null;
          return { labels: c.heatmap.options.scales.y.labels, cells: c.heatmap.data.datasets[0].data.length,
            rates: c.rates.data.datasets.map((d) => d.data.length) }; })()`,
        (v) => v !== null && v.labels.length === 3 && v.rates.some((n) => n > 0),
        30_000,
      );
      assert.deepEqual(view!.labels.slice(0, 1), ["spot · all 2"]);
      assert.deepEqual(view!.labels.slice(1).sort(), ["spot BTCUSDT", "spot ETHUSDT"]);
      assert.ok(view!.cells >= 3, `${view!.cells} cells drawn`);

      fake.message({ id: 1001 }, "/coverage");
      await fake.waitFor(() => fake.photos.length === 1, "the /coverage photo", 30_000);
      const reply = fake.textsTo("1001").find((t) => t.startsWith("<b>Coverage "));
      assert.ok(reply, fake.textsTo("1001").join("\n---\n"));
      const photo = fake.photos[0]!;
      assert.equal(photo.chatId, "1001");
      assert.deepEqual(pngSize(photo.bytes), { width: HEATMAP_WIDTH, height: heatmapHeight(1, 2) });
      assert.match(photo.caption ?? "", /^Coverage \d{4}-\d\d-\d\d \(UTC\) per hour: all 2 symbols$/);
    } finally {
      await page?.close();
      const status = await main.stop("SIGTERM");
      await fake.close();
      await sim.close();
      await Deno.remove(dataDir, { recursive: true });
      await Deno.remove(configPath);
      assert.equal(status.code, 0, main.tail(2000));
    }
  },
});
