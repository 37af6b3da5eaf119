import assert from "node:assert/strict";
import { Ledger } from "../../lib/ledger/ledger.ts";
import { collectDailyInput } from "../../lib/report/collect.ts";
import { buildDailyReport, type DailyReportInput } from "../../lib/report/daily.ts";
import { formatDailyReport } from "../../lib/report/daily_text.ts";
import type { CoverageRow } from "../../lib/ledger/records.ts";
import { dayFromRows, forEachStreamHour } from "../../lib/charts/day_coverage.ts";
import { buildSampleLedger, D, DATE } from "../ledger/_sample_ledger.ts";

const H = 3_600_000_000;

async function sampleInput(): Promise<DailyReportInput> {
  const ledger = new Ledger(await Deno.openKv(":memory:"));
  try {
    await buildSampleLedger(ledger);
    return await collectDailyInput(ledger, DATE);
  } finally {
    ledger.close();
  }
}

const streamHours = (input: DailyReportInput) => {
  let n = 0;
  forEachStreamHour(input.coverage, () => n++);
  return n;
};

Deno.test("collectDailyInput() takes only the day's gaps, files, flushes and clock samples", async () => {
  const input = await sampleInput();
  assert.equal(input.date, DATE);
  assert.equal(streamHours(input), 7);
  assert.equal(input.coverage.gaps.length, 8);
  assert.deepEqual(input.files.map((f) => f.rows), [100, 50, 1000, 1200]);
  assert.deepEqual(input.flushes.map((f) => f.reason), ["interval", "hour", "shutdown"]);
  // Samples taken at the same µs list by source.
  assert.deepEqual(input.clock.map((c) => c.offsetMs), [-120, 1.5, -2, 3.25, 20]);
});

Deno.test("collectDailyInput() reads the coverage a piece at a time and reports what Ledger.coverage's rows give", async () => {
  const ledger = new Ledger(await Deno.openKv(":memory:"));
  try {
    await buildSampleLedger(ledger);
    const input = await collectDailyInput(ledger, DATE);
    const fromRows = {
      ...input,
      coverage: dayFromRows(DATE, await ledger.coverage(DATE), input.coverage.gaps),
    };
    const report = buildDailyReport(input);
    assert.ok(
      report.streams.some((s) => s.lowHours.length > 0 && s.recoveredSeconds > 0),
      "gaps of both kinds",
    );
    assert.deepEqual(report, buildDailyReport(fromRows));
  } finally {
    ledger.close();
  }
});

Deno.test("buildDailyReport() gives the hand-worked figures of the sample ledger", async () => {
  const s = buildDailyReport(await sampleInput());
  // Observed: aggTrade 3 h, bookTicker 10 min, depth 2 h, markPrice 20 min = 19800 s.
  assert.equal(s.observedSeconds, 19_800);
  // Covered: 3300 + 0 + 3360, 600, 3000 + 3000, 900.
  assert.equal(s.coveredSeconds, 14_160);
  assert.equal(s.missingSeconds, 5_640);
  assert.equal(s.pct, (14_160 / 19_800) * 100);
  assert.equal(s.messages, 150 + 1000 + 300 + 4000 + 1200);
  assert.deepEqual(
    s.streams.map((x) => [x.stream, x.messages, x.observedSeconds, x.gapSeconds, x.recoveredSeconds, x.pct]),
    [
      ["aggTrade", 1150, 10_800, 4_140, 420, (6_660 / 10_800) * 100],
      ["bookTicker", 300, 600, 0, 0, 100],
      ["depth@100ms", 4000, 7_200, 1_200, 0, (6_000 / 7_200) * 100],
      ["markPrice@1s", 1200, 1_200, 300, 0, 75],
    ],
  );
  assert.deepEqual(s.streams[0]!.lowHours.map((h) => [(h.hourUs - D) / H, h.gapSeconds]), [[0, 300], [
    3,
    3600,
  ], [5, 240]]);
  assert.deepEqual(s.streams[1]!.lowHours, []);

  assert.equal(s.gaps.count, 8);
  assert.equal(s.gaps.unrecovered, 6);
  // Seconds per kind are clipped to the day: the markPrice stale gap counts its 5 minutes after midnight.
  assert.deepEqual(s.gaps.byKind.map((k) => [k.kind, k.count, k.seconds]), [
    ["sequence", 1, 1200],
    ["disconnect", 3, 120 + 3600 + 600],
    ["stale", 3, 240 + 60 + 300],
    ["backfilled", 1, 360],
  ]);
  assert.deepEqual(s.gaps.longest.map((g) => g.seconds), [3600, 1200, 600, 360, 300]);

  assert.deepEqual(s.storage, {
    files: 4,
    rows: 2350,
    bytes: 58_500,
    tables: [
      { market: "spot", table: "trades", files: 3, rows: 1150, bytes: 33_500 },
      { market: "usdm", table: "mark_prices", files: 1, rows: 1200, bytes: 25_000 },
    ],
  });
  assert.deepEqual(s.flushes, {
    count: 3,
    rows: 2350,
    bytes: 58_500,
    meanMs: (12.5 + 40 + 20) / 3,
    maxMs: 40,
    byReason: [{ reason: "hour", count: 1 }, { reason: "interval", count: 1 }, {
      reason: "shutdown",
      count: 1,
    }],
  });
  assert.deepEqual(s.clock, [
    {
      source: "ntp",
      samples: 3,
      minOffsetMs: -2,
      maxOffsetMs: 3.25,
      meanOffsetMs: 2.75 / 3,
      maxRttMs: 12,
      overThreshold: 0,
    },
    {
      source: "binance-spot",
      samples: 2,
      minOffsetMs: -120,
      maxOffsetMs: 20,
      meanOffsetMs: -50,
      maxRttMs: 50,
      overThreshold: 1,
    },
  ]);
  assert.equal(buildDailyReport(await sampleInput(), { clockThresholdMs: 10 }).clock[1]!.overThreshold, 2);
});

Deno.test("an empty day: the summary reads 100% with nothing listed, the text says nothing was recorded", () => {
  const s = buildDailyReport({
    date: DATE,
    coverage: dayFromRows(DATE, [], []),
    files: [],
    flushes: [],
    clock: [],
  });
  assert.equal(s.pct, 100);
  assert.equal(s.gaps.count, 0);
  assert.deepEqual(s.streams, []);
  const text = formatDailyReport(s);
  assert.match(
    text,
    /^Report 2024-01-02 \(UTC\)\n⚠️ Nothing recorded on this day\nData 0 B, 0 files, 0 rows\n/,
  );
  assert.doesNotMatch(text, /Coverage/);
});

Deno.test("formatDailyReport() prints the sample day in lines of at most 40 characters", async () => {
  const text = formatDailyReport(buildDailyReport(await sampleInput()));
  assert.equal(
    text,
    `Report 2024-01-02 (UTC)
Coverage 71.51%, 6.65k msgs
Missing 1h 34m of 5h 30m
Data 57.1 KiB, 4 files, 2.35k rows
Gaps 8, 6 unrecovered
 sequence        1  20m 0s
 disconnect      3  1h 12m
 stale           3  10m 0s
 backfilled      1  6m 0s

Stream            cover    msgs
spot BTCUSDT
 aggTrade        61.66%   1.15k
 bookTicker        100%     300
 depth@100ms     83.33%   4.00k
usdm ETHUSDT
 markPrice@1s    75.00%   1.20k

Longest gaps (5 of 8)
 spot BTCUSDT aggTrade
  disconnect 03:00:00 1h 0m
  disconnect on aggTrade
 spot BTCUSDT depth@100ms
  sequence 01:50:00 20m 0s
  sequence on depth@100ms
 spot BTCUSDT aggTrade
  disconnect 05:00:00 10m 0s
  disconnect on aggTrade
 spot BTCUSDT aggTrade
  backfilled 05:00:00 6m 0s
  backfilled on aggTrade
 usdm ETHUSDT markPrice@1s
  stale 01-01 23:55 5m 0s
  stale on markPrice@1s

Flushes 3, 2.35k rows, 57.1 KiB
 mean 24.2 ms, max 40.0 ms
Clock offset ms (limit 100)
 ntp          -2.0..+3.3 rtt 12
 binance-spot -120.0..+20.0 rtt 50 !1
`,
  );
  for (const line of text.split("\n")) assert.ok(line.length <= 40, line);
});

Deno.test("formatDailyReport() lists low hours and every gap, marking recovered ones", async () => {
  const text = formatDailyReport(buildDailyReport(await sampleInput(), { longestGaps: Infinity }), {
    hours: true,
    maxGaps: Infinity,
  });
  assert.ok(
    text.includes(
      "\n aggTrade        61.66%   1.15k\n   00:00  91.66%  gap 5m 0s\n   03:00   0.00%  gap 1h 0m\n",
    ),
    text,
  );
  assert.match(text, /\nGaps\n/);
  assert.equal(
    text.split("\n").filter((l) => /^ {2}(sequence|disconnect|stale|backfilled) \d/.test(l)).length,
    8,
  );
  assert.match(text, /\n {2}stale 05:20:00 1m 0s recovered\n/);
  for (const line of text.split("\n")) assert.ok(line.length <= 40, line);
});

Deno.test("formatDailyReport() with 2,000 symbols: totals per market, the worst streams, a count of the rest", () => {
  const day = Date.UTC(2024, 0, 2) * 1000;
  const coverage: CoverageRow[] = [];
  for (
    const [market, n, streams] of [
      ["spot", 1500, ["aggTrade", "depth@100ms"]],
      ["usdm", 500, ["aggTrade", "depth@100ms", "markPrice@1s"]],
    ] as const
  ) {
    for (let i = 0; i < n; i++) {
      for (const stream of streams) {
        const low = market === "usdm" && i === 42 && stream === "depth@100ms";
        coverage.push({
          market,
          symbol: `${market === "spot" ? "S" : "F"}${i}USDT`,
          stream,
          hourUs: day,
          messages: 10_000 - i,
          gaps: low ? 1 : 0,
          recordedSeconds: 3600,
          observedSeconds: 3600,
          gapSeconds: low ? 360 : 0,
          recoveredSeconds: 0,
          coveredSeconds: low ? 3240 : 3600,
          pct: low ? 90 : 100,
        });
      }
    }
  }
  const text = formatDailyReport(
    buildDailyReport({
      date: "2024-01-02",
      coverage: dayFromRows("2024-01-02", coverage, []),
      files: [],
      flushes: [],
      clock: [],
    }),
  );
  const lines = text.split("\n");
  assert.ok(lines.length < 60, `${lines.length} lines`);
  const at = lines.indexOf("Markets");
  assert.deepEqual(lines.slice(at + 1, at + 3), [
    " spot  1.50k sym    100%  27.8M",
    " usdm    500 sym  99.99%  14.6M",
  ]);
  const worst = lines.indexOf("Worst streams     cover    msgs");
  assert.deepEqual(lines.slice(worst + 1, worst + 3), ["usdm F42USDT", " depth@100ms     90.00%   9.96k"]);
  assert.match(text, /\n… 4\.47k more streams, all 100%\n/);
  for (const line of lines) assert.ok(line.length <= 40, line);
});
