import assert from "node:assert/strict";
import { DayCoverageReader } from "../../lib/charts/coverage_reader.ts";
import { HEATMAP_WIDTH, heatmapHeight } from "../../lib/charts/heatmap_svg.ts";
import { pngSize } from "../../lib/charts/png.ts";
import { Ledger } from "../../lib/ledger/ledger.ts";
import { collectDailyInput } from "../../lib/report/collect.ts";
import { buildDailyReport } from "../../lib/report/daily.ts";
import { formatDailyReport } from "../../lib/report/daily_text.ts";
import { answerCommand, answerPicture, type TelegramSources } from "../../lib/telegram/commands.ts";
import { preText } from "../../lib/telegram/html.ts";
import { buildSampleLedger, DATE } from "../ledger/_sample_ledger.ts";
import { emptySources, SETTINGS } from "./_fixtures.ts";

/** Noon on the sample day. */
const NOW = Date.parse(`${DATE}T12:00:00Z`);

/** Runs `fn` with sources backed by the hand-built sample ledger (see tests/ledger/_sample_ledger.ts). */
async function withSampleLedger(
  fn: (sources: TelegramSources, ledger: Ledger) => Promise<void>,
): Promise<void> {
  const ledger = new Ledger(await Deno.openKv(":memory:"));
  try {
    await buildSampleLedger(ledger);
    const reader = new DayCoverageReader(ledger);
    await fn({
      ...emptySources(),
      ledger,
      coverageDay: (d) => reader.read(d),
      dailyInput: (d) => collectDailyInput(ledger, d),
    }, ledger);
  } finally {
    ledger.close();
  }
}

const pre = (html: string) => /<pre>([\s\S]*)<\/pre>/.exec(html)?.[1]?.split("\n") ?? [];

Deno.test("answerCommand('gaps') lists the day's gaps from the ledger, optionally of one symbol", async () => {
  await withSampleLedger(async (sources) => {
    const all = await answerCommand("gaps", "", sources, SETTINGS, NOW);
    // The sample day has 8 gaps (6 unrecovered); the next day's gap is left out.
    assert.match(all, /^<b>Gaps 2024-01-02<\/b>\n8 gaps \(6 unrecovered\), /);
    const rows = pre(all).filter((l) => l.startsWith(" "));
    assert.equal(rows.length, 8);
    assert.equal(rows.filter((l) => l.endsWith("✓")).length, 1);

    const eth = await answerCommand("gaps", "ethusdt", sources, SETTINGS, NOW);
    assert.deepEqual(pre(eth), ["usdm ETHUSDT", " 01-01 23:55 markPrice@1s stale 10m 0s"]);
    assert.match(eth, /^<b>Gaps 2024-01-02<\/b> ETHUSDT\n1 gap \(1 unrecovered\), 5m 0s in total/);

    const nextDay = await answerCommand("gaps", "BTCUSDT 2024-01-03", sources, SETTINGS, NOW + 86_400_000);
    assert.deepEqual(pre(nextDay), ["spot BTCUSDT", " 01:00:00 aggTrade     disc  1m 0s"]);
  });
});

Deno.test("answerCommand('coverage') gives the sample day's covered shares", async () => {
  await withSampleLedger(async (sources) => {
    const html = await answerCommand("coverage", "today", sources, SETTINGS, NOW);
    // 14160 of 19800 observed seconds are covered (see tests/report/daily_test.ts).
    assert.match(html, /^<b>Coverage 2024-01-02<\/b>\n71\.51% of 5h 30m observed, 6\.65k msgs\n/);
    assert.deepEqual(pre(html), [
      "spot BTCUSDT",
      " aggTrade       61.66%  1.15k",
      " bookTicker       100%    300",
      " depth@100ms    83.33%  4.00k",
      "usdm ETHUSDT",
      " markPrice@1s   75.00%  1.20k",
    ]);
  });
});

Deno.test("answerPicture('coverage') is the day's heatmap as a PNG of the expected size; none on a bad date", async () => {
  await withSampleLedger(async (sources) => {
    const picture = await answerPicture("coverage", "2024-01-02", sources, NOW);
    assert.ok(picture);
    // Two markets and the sample day's two symbols (spot BTCUSDT, usdm ETHUSDT).
    assert.deepEqual(pngSize(picture.png), { width: HEATMAP_WIDTH, height: heatmapHeight(2, 2) });
    assert.equal(picture.filename, "coverage-2024-01-02.png");
    assert.equal(picture.caption, "Coverage 2024-01-02 (UTC) per hour: all 2 symbols");
    assert.equal(await answerPicture("coverage", "tomorrow", sources, NOW), null);
    assert.equal(
      await answerPicture("coverage", "2023-12-01", sources, NOW),
      null,
      "nothing recorded that day",
    );
    assert.equal(await answerPicture("status", "", sources, NOW), null);
  });
});

Deno.test("answerCommand('report') is the daily report with the configured clock threshold", async () => {
  await withSampleLedger(async (sources, ledger) => {
    const html = await answerCommand("report", "2024-01-02", sources, SETTINGS, NOW + 86_400_000);
    const summary = buildDailyReport(await collectDailyInput(ledger, DATE), { clockThresholdMs: 100 });
    assert.equal(html, preText(formatDailyReport(summary)));
    assert.equal(pre(html)[0], "Report 2024-01-02 (UTC)");
    assert.ok(pre(html).includes(" binance-spot -120.0..+20.0 rtt 50 !1"));
  });
});

Deno.test("answerCommand('clock') reads the last 24 hours of samples", async () => {
  await withSampleLedger(async (sources) => {
    const html = await answerCommand("clock", "", sources, SETTINGS, NOW);
    assert.deepEqual(pre(html).slice(1, 3), [
      "ntp             +3.3      8  11h 30m",
      "binance-spot   +20.0     30  11h 20m",
    ]);
    // The 999 ms sample one µs before midnight is within the last 24 hours at noon.
    assert.ok(pre(html).includes("ntp          -2.0..+999.0 !1"));
    const later = await answerCommand("clock", "", sources, SETTINGS, NOW + 86_400_000);
    assert.match(later, /no measurements in the last 24 h/);
  });
});

Deno.test("answerCommand() answers /status, /disk and /help from their sources", async () => {
  const sources = emptySources({ freeBytes: 3 * 2 ** 30, totalBytes: 10 * 2 ** 30 });
  const status = await answerCommand("STATUS", "", sources, SETTINGS, NOW);
  for (const symbol of ["BTCUSDT", "ETHUSDT", "SOLUSDT"]) assert.match(status, new RegExp(`\\n${symbol} `));
  assert.match(
    await answerCommand("disk", "", sources, SETTINGS, NOW),
    /^<b>Disk<\/b> \/srv\/binance\/data\n⚠️ low\n/,
  );
  assert.match(await answerCommand("help", "", sources, SETTINGS, NOW), /^<b>Commands<\/b>\n/);
  assert.equal(
    await answerCommand("start", "", sources, SETTINGS, NOW),
    await answerCommand("help", "", sources, SETTINGS, NOW),
  );
});

Deno.test("answerCommand() explains bad arguments and unknown commands, and throws on a failing source", async () => {
  const sources = emptySources();
  assert.equal(
    await answerCommand("gaps", "<b>", sources, SETTINGS, NOW),
    "/gaps: unknown symbol &lt;b&gt; (recorded: BTCUSDT, ETHUSDT, SOLUSDT)\n" +
      "Usage: /gaps [symbol] [YYYY-MM-DD | today | yesterday]",
  );
  assert.match(
    await answerCommand("report", "tomorrow", sources, SETTINGS, NOW),
    /^\/report: tomorrow is not a date/,
  );
  assert.equal(
    await answerCommand("gap", "", sources, SETTINGS, NOW),
    "Unknown command /gap. /help lists the commands.",
  );
  const failing: TelegramSources = { ...sources, diskSpace: () => Promise.reject(new Error("EACCES")) };
  await assert.rejects(answerCommand("disk", "", failing, SETTINGS, NOW), /EACCES/);
});
