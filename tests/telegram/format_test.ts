import assert from "node:assert/strict";
import { MIB } from "../../lib/disk.ts";
import type { ClockSample, GapRecord } from "../../lib/ledger/records.ts";
import { dayFromRows } from "../../lib/charts/day_coverage.ts";
import {
  COMMANDS,
  formatClock,
  formatCoverage,
  formatDisk,
  formatGaps,
  formatHelp,
  formatStatus,
} from "../../lib/telegram/format.ts";
import { D, DATE, gapRow, M } from "../ledger/_sample_ledger.ts";
import { MARKETS, statusRows } from "./_fixtures.ts";

const NOW = Date.parse("2024-01-02T10:15:03Z");

/** The lines inside the message's `<pre>` block. */
function table(html: string): string[] {
  const m = /<pre>([\s\S]*)<\/pre>/.exec(html);
  assert.ok(m, `no <pre> block in ${html}`);
  return m[1]!.split("\n");
}

Deno.test("formatStatus() gives one row per configured symbol, grouped by market", () => {
  const html = formatStatus(MARKETS, statusRows(), NOW);
  assert.equal(html.split("\n<pre>")[0], "<b>Status</b> 10:15:03 UTC\n⚠️ 4/5 connected, 4/5 books synced");
  assert.deepEqual(table(html), [
    "symbol  conn book    age  msg/s",
    "spot",
    "BTCUSDT up   ok     0.1s     11",
    "ETHUSDT up   ok     0.2s     12",
    "usdm",
    "BTCUSDT up   ok     0.2s     21",
    "ETHUSDT up   ok     0.3s     22",
    "SOLUSDT DOWN sync  1m 5s      0",
  ]);
  // Short enough to read on a phone without wrapping.
  for (const line of table(html)) assert.ok(line.length <= 36, line);
});

Deno.test("formatStatus() marks unreported symbols as unknown and says all is well only when it is", () => {
  const rows = statusRows().filter((r) => r.symbol !== "SOLUSDT");
  const html = formatStatus(MARKETS, rows, NOW);
  // A symbol the collector does not report is not known to be connected.
  assert.match(html, /\n⚠️ 4\/5 connected, 4\/4 books synced\n/);
  assert.equal(table(html).at(-1), "SOLUSDT ?    ?         ?      ?");
  const noDepth = formatStatus(
    [{ market: "spot", symbols: ["BTCUSDT"] }],
    [{
      market: "spot",
      symbol: "BTCUSDT",
      connected: true,
      book: null,
      lastMessageAgeMs: null,
      msgsPerSec: 12_345.6,
    }],
    NOW,
  );
  assert.match(noDepth, /✅ 1\/1 connected, 0\/0 books synced/);
  assert.equal(table(noDepth)[2], "BTCUSDT up   -         -  12.3k");
});

Deno.test("formatGaps() lists gaps under their symbol with time, stream, kind and length", () => {
  const gaps: GapRecord[] = [
    {
      market: "spot",
      row: gapRow("BTCUSDT", "depth@100ms", "sequence", D + 90 * M, D + 90 * M + 1_500_000),
      recoveredAtUs: null,
      recoveryNote: null,
    },
    {
      market: "spot",
      row: gapRow("BTCUSDT", "aggTrade", "disconnect", D + 30 * M, D + 31 * M),
      recoveredAtUs: D + 40 * M,
      recoveryNote: "backfilled",
    },
    {
      market: "usdm",
      row: gapRow("ETHUSDT", "markPrice@1s", "stale", D - 5 * M, D + 5 * M),
      recoveredAtUs: null,
      recoveryNote: null,
    },
  ];
  const html = formatGaps({ symbol: null, date: DATE }, gaps);
  assert.equal(html.split("\n<pre>")[0], "<b>Gaps 2024-01-02</b>\n3 gaps (2 unrecovered), 6m 1s in total");
  assert.deepEqual(table(html), [
    "spot BTCUSDT",
    " 00:30:00 aggTrade     disc  1m 0s ✓",
    " 01:30:00 depth@100ms  seq   1.5s",
    "usdm ETHUSDT",
    " 01-01 23:55 markPrice@1s stale 10m 0s",
  ]);
  assert.equal(formatGaps({ symbol: "BTCUSDT", date: DATE }, []), "<b>Gaps 2024-01-02</b> BTCUSDT\n✅ none");
});

Deno.test("formatCoverage() sums hours per stream and over the day", () => {
  const row = (
    symbol: string,
    stream: string,
    hour: number,
    observed: number,
    covered: number,
    messages: number,
  ) => ({
    market: "spot" as const,
    symbol,
    stream,
    hourUs: D + hour * 3_600_000_000,
    messages,
    gaps: 0,
    recordedSeconds: observed,
    observedSeconds: observed,
    gapSeconds: observed - covered,
    recoveredSeconds: 0,
    coveredSeconds: covered,
    pct: (covered / observed) * 100,
  });
  const html = formatCoverage(dayFromRows(DATE, [
    row("BTCUSDT", "aggTrade", 0, 3600, 3600, 1000),
    { ...row("BTCUSDT", "aggTrade", 1, 3600, 1800, 500), gaps: 1 },
    row("BTCUSDT", "depth@100ms", 0, 3600, 3600, 36_000),
  ], []));
  // (3600 + 1800 + 3600) / 10800 = 83.33%.
  assert.equal(html.split("\n<pre>")[0], "<b>Coverage 2024-01-02</b>\n83.33% of 3h 0m observed, 37.5k msgs");
  assert.deepEqual(table(html), [
    "spot BTCUSDT",
    " aggTrade       75.00%  1.50k",
    " depth@100ms      100%  36.0k",
  ]);
  assert.equal(formatCoverage(dayFromRows(DATE, [], [])), "<b>Coverage 2024-01-02</b>\nnothing recorded");
});

/** A day of `n` spot symbols with aggTrade and depth, each hour complete except where `low` says. */
function bigDay(n: number, low: Record<string, number>): ReturnType<typeof dayFromRows> {
  const rows = [];
  for (let i = 0; i < n; i++) {
    for (const stream of ["aggTrade", "depth@100ms"]) {
      const pct = low[`S${i}USDT ${stream}`] ?? 100;
      rows.push({
        market: "spot" as const,
        symbol: `S${i}USDT`,
        stream,
        hourUs: D,
        messages: 1000 + i,
        gaps: pct < 100 ? 1 : 0,
        recordedSeconds: 3600,
        observedSeconds: 3600,
        gapSeconds: 3600 - pct * 36,
        recoveredSeconds: 0,
        coveredSeconds: pct * 36,
        pct,
      });
    }
  }
  return dayFromRows(DATE, rows, []);
}

Deno.test("formatCoverage() with 2,000 symbols lists the worst streams, grouped by symbol, and counts the rest", () => {
  const html = formatCoverage(
    bigDay(2000, { "S5USDT aggTrade": 50, "S9USDT depth@100ms": 90, "S5USDT depth@100ms": 99 }),
  );
  assert.match(
    html,
    /^<b>Coverage 2024-01-02<\/b>\n99\.98% of 166d 16h observed, 8\.00M msgs\n2\.00k symbols, worst/,
  );
  const lines = table(html);
  assert.deepEqual(lines.slice(0, 5), [
    "spot S5USDT",
    " aggTrade       50.00%  1.00k",
    " depth@100ms    99.00%  1.00k",
    "spot S9USDT",
    " depth@100ms    90.00%  1.01k",
  ]);
  // 20 streams listed (the three low ones, then the busiest complete ones), the rest counted.
  assert.equal(lines.filter((l) => l.startsWith(" ")).length, 20);
  assert.equal(lines.at(-1), "… 3.98k more streams, all 100%");
  assert.ok(lines.length < 45, `${lines.length} lines`);
});

Deno.test("formatStatus() with 2,000 symbols lists the worst, then the busiest, and counts the rest", () => {
  const symbols = Array.from({ length: 1500 }, (_, i) => `S${i}USDT`);
  const futures = Array.from({ length: 500 }, (_, i) => `F${i}USDT`);
  const markets = [{ market: "spot" as const, symbols }, { market: "usdm" as const, symbols: futures }];
  const rows = markets.flatMap((m) =>
    m.symbols.map((symbol, i) => ({
      market: m.market,
      symbol,
      connected: symbol !== "S700USDT",
      book: symbol === "F30USDT" ? "buffering" : "synced",
      lastMessageAgeMs: 200,
      msgsPerSec: 1000 / (i + 1),
    }))
  );
  const html = formatStatus(markets, rows, NOW);
  assert.match(
    html,
    /^<b>Status<\/b> 10:15:03 UTC\n⚠️ 1999\/2000 connected, 1999\/2000 books synced\nspot 1\.50k, usdm 500 symbols; worst and busiest first\n/,
  );
  const lines = table(html);
  assert.equal(lines[1], "spot");
  assert.match(lines[2]!, /^S700USDT DOWN ok /);
  assert.match(lines[3]!, /^S0USDT {3}up {3}ok /);
  assert.ok(lines.includes("usdm"));
  assert.match(lines[lines.indexOf("usdm") + 1]!, /^F30USDT {2}up {3}sync /);
  assert.equal(lines.at(-1), "… 1.98k more, all fine");
  assert.equal(lines.length, 1 + 2 + 20 + 1);
  for (const line of lines) assert.ok(line.length <= 36, line);
});

Deno.test("formatClock() shows the latest offset per source and the range, flagging the threshold", () => {
  const s = (min: number, source: ClockSample["source"], offsetMs: number, rttMs: number): ClockSample => ({
    atUs: D + min * M,
    source,
    offsetMs,
    rttMs,
  });
  const html = formatClock(
    [
      s(0, "ntp", 1.5, 10),
      s(1, "binance-usdm", -150, 40),
      s(5, "ntp", -2.25, 12),
      s(6, "binance-usdm", 3, 35),
    ],
    100,
    D / 1000 + 10 * 60_000,
  );
  assert.equal(html.split("\n<pre>")[0], "<b>Clock</b> offsets, limit ±100 ms");
  assert.deepEqual(table(html), [
    "source             ms   rtt  age",
    "ntp             -2.3     12  5m 0s",
    "binance-usdm    +3.0     35  4m 0s",
    "",
    "24 h range",
    "ntp          -2.3..+1.5",
    "binance-usdm -150.0..+3.0 !1",
  ]);
  assert.ok(
    formatClock([s(0, "ntp", 250, 9)], 100, D / 1000).includes("\nntp           +250.0!     9  0s\n"),
  );
  assert.equal(
    formatClock([], 100, 0),
    "<b>Clock</b> offsets, limit ±100 ms\nno measurements in the last 24 h",
  );
});

Deno.test("formatDisk() compares free space with the thresholds", () => {
  const total = 100 * 1024 * MIB;
  const cases: [number, string][] = [
    [40 * 1024 * MIB, "✅ ok"],
    [4 * 1024 * MIB, "⚠️ low"],
    [100 * MIB, "🛑 below the minimum: no writing"],
  ];
  for (const [free, state] of cases) {
    const html = formatDisk({ freeBytes: free, totalBytes: total }, 5120, 512, "data<1>");
    assert.equal(html.split("\n<pre>")[0], `<b>Disk</b> data&lt;1&gt;\n${state}`);
  }
  assert.deepEqual(table(formatDisk({ freeBytes: 40 * 1024 * MIB, totalBytes: total }, 5120, 512, "d")), [
    "free    40.0 GiB of 100 GiB",
    "used    60%",
    "alert   below 5.00 GiB",
    "minimum 512 MiB",
  ]);
});

Deno.test("formatHelp() lists every command", () => {
  const help = formatHelp();
  for (const c of COMMANDS) assert.match(help, new RegExp(`\\n/${c.command}[ \\[]`));
  assert.match(help, /\/gaps \[symbol\] \[date\] – Gaps of a day/);
});
