import assert from "node:assert/strict";
import { addSample, coverageRows, MAX_SPANS, spansOf } from "../../lib/ledger/coverage.ts";
import { DAY_US, HOUR_US } from "../../lib/ledger/intervals.ts";
import type { CoverageValue, GapRecord } from "../../lib/ledger/records.ts";

const S = 1_000_000;
const D = 19_724 * DAY_US; // 2024-01-02

function gap(kind: string, startUs: number, endUs: number, recoveredAtUs: number | null = null): GapRecord {
  return {
    market: "spot",
    row: {
      symbol: "BTCUSDT",
      stream: "aggTrade",
      kind,
      start_time: startUs,
      end_time: endUs,
      last_update_id: null,
      resume_update_id: null,
      reason: kind,
    },
    recoveredAtUs,
    recoveryNote: null,
  };
}

Deno.test("addSample() sums messages, clips the span to the hour and merges abutting spans", () => {
  let v: CoverageValue | null = null;
  v = addSample(v, D, { messages: 5, spanStartUs: D - 10 * S, spanEndUs: D + 10 * S });
  v = addSample(v, D, { messages: 7, spanStartUs: D + 10 * S, spanEndUs: D + 20 * S });
  v = addSample(v, D, { messages: 1, spanStartUs: D + 30 * S, spanEndUs: D + HOUR_US + 5 * S });
  assert.equal(v.messages, 13);
  assert.deepEqual(spansOf(v), [[D, D + 20 * S], [D + 30 * S, D + HOUR_US]]);
});

Deno.test("addSample() keeps at most MAX_SPANS spans by closing the smallest hole", () => {
  let v: CoverageValue | null = null;
  // Spans of 1 s separated by holes of 2 s, except one hole of 1 s after span 100.
  for (let i = 0; i <= MAX_SPANS; i++) {
    const start = D + i * 3 * S - (i > 100 ? S : 0);
    v = addSample(v, D, { messages: 1, spanStartUs: start, spanEndUs: start + S });
  }
  const spans = spansOf(v!);
  assert.equal(spans.length, MAX_SPANS);
  assert.deepEqual(spans[100], [D + 300 * S, D + 303 * S]);
  assert.equal(v!.messages, MAX_SPANS + 1);
});

Deno.test("coverageRows() reports gap-only hours, clips gaps to the day and counts gap rows per hour", () => {
  const entries = [
    {
      market: "spot" as const,
      symbol: "BTCUSDT",
      stream: "aggTrade",
      hourUs: D,
      value: { messages: 9, spans: [D, D + HOUR_US] },
    },
    // Another day's entry is ignored.
    {
      market: "spot" as const,
      symbol: "BTCUSDT",
      stream: "aggTrade",
      hourUs: D + DAY_US,
      value: { messages: 1, spans: [] },
    },
  ];
  const gaps = [
    gap("disconnect", D - 30 * 60 * S, D + 60 * S),
    gap("disconnect", D + 2 * HOUR_US, D + 3 * HOUR_US),
    gap("backfilled", D + 2 * HOUR_US, D + 2 * HOUR_US + 900 * S),
  ];
  const rows = coverageRows(D, entries, gaps);
  assert.deepEqual(
    rows.map((
      r,
    ) => [r.hourUs - D, r.messages, r.gaps, r.recordedSeconds, r.gapSeconds, r.recoveredSeconds, r.pct]),
    [
      [0, 9, 1, 3600, 60, 0, (3540 / 3600) * 100],
      [2 * HOUR_US, 0, 2, 0, 2700, 900, 25],
    ],
  );
});

Deno.test("coverageRows() reads 100% for a stream with spans and no gap row", () => {
  const rows = coverageRows(D, [
    {
      market: "usdm",
      symbol: "ETHUSDT",
      stream: "markPrice@1s",
      hourUs: D + HOUR_US,
      value: { messages: 600, spans: [D + HOUR_US, D + HOUR_US + 600 * S] },
    },
  ], []);
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.pct, 100);
  assert.equal(rows[0]!.coveredSeconds, 600);
});
