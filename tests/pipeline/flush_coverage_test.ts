/**
 * A flush's coverage: every stream recorded gets its span in each hour the flush covers, with the messages
 * counted for that hour (0 without any), written a slice of streams at a time.
 */
import assert from "node:assert/strict";
import type { PlannedStream } from "../../lib/binance/stream_plan.ts";
import type { CoverageItem } from "../../lib/ledger/coverage_writer.ts";
import { HOUR_US } from "../../lib/ledger/intervals.ts";
import { recordFlushCoverage } from "../../lib/pipeline/flush_coverage.ts";

const planned = (symbol: string, stream: string): PlannedStream =>
  ({ symbol, stream, name: `${symbol.toLowerCase()}@${stream}` }) as PlannedStream;

Deno.test("recordFlushCoverage(): a flush across an hour covers each stream in both hours, with its counts", async () => {
  const writes: CoverageItem[][] = [];
  const ledger = { addCoverageMany: (items: CoverageItem[]) => (writes.push(items), Promise.resolve()) };
  const h = 490_000 * HOUR_US;
  const fromUs = h - 20_000_000; // 20 s before the hour
  const toUs = h + 40_000_000;
  const streams = [
    planned("BTCUSDT", "aggTrade"),
    planned("BTCUSDT", "depth@100ms"),
    planned("ETHUSDT", "aggTrade"),
  ];
  await recordFlushCoverage(
    ledger,
    { market: "usdm", streams: () => streams },
    [
      { symbol: "BTCUSDT", stream: "aggTrade", hourUs: h - HOUR_US, messages: 7 },
      { symbol: "BTCUSDT", stream: "aggTrade", hourUs: h, messages: 5 },
      { symbol: "BTCUSDT", stream: "aggTrade", hourUs: h, messages: 1 }, // a count put back by a failed flush
      { symbol: "ETHUSDT", stream: "aggTrade", hourUs: h, messages: 2 },
    ],
    fromUs,
    toUs,
  );
  assert.equal(writes.length, 1);
  const line = (i: CoverageItem) =>
    `${i.market} ${i.symbol} ${i.stream} ${i.hourUs - h} ${i.sample.messages} ${i.sample.spanStartUs - h}..${
      i.sample.spanEndUs - h
    }`;
  assert.deepEqual(writes[0]!.map(line), [
    `usdm BTCUSDT aggTrade ${-HOUR_US} 7 -20000000..0`,
    "usdm BTCUSDT aggTrade 0 6 0..40000000",
    `usdm BTCUSDT depth@100ms ${-HOUR_US} 0 -20000000..0`,
    "usdm BTCUSDT depth@100ms 0 0 0..40000000",
    `usdm ETHUSDT aggTrade ${-HOUR_US} 0 -20000000..0`,
    "usdm ETHUSDT aggTrade 0 2 0..40000000",
  ]);
});

Deno.test("recordFlushCoverage(): a whole market's streams are written 1,000 at a time, every one once", async () => {
  const writes: CoverageItem[][] = [];
  const ledger = { addCoverageMany: (items: CoverageItem[]) => (writes.push(items), Promise.resolve()) };
  const streams = Array.from({ length: 2_500 }, (_, i) => planned(`S${i}USDT`, "aggTrade"));
  const fromUs = 490_000 * HOUR_US + 1_000_000;
  await recordFlushCoverage(
    ledger,
    { market: "spot", streams: () => streams },
    [],
    fromUs,
    fromUs + 60_000_000,
  );
  assert.deepEqual(writes.map((w) => w.length), [1000, 1000, 500]);
  assert.equal(new Set(writes.flat().map((i) => i.symbol)).size, 2_500);
  assert.ok(
    writes.flat().every((i) => i.sample.messages === 0 && i.sample.spanEndUs - i.sample.spanStartUs === 60e6),
  );
});
