import assert from "node:assert/strict";
import type { GapRecord } from "../../lib/ledger/records.ts";
import { formatGapKinds, summarizeGaps } from "../../lib/report/gaps.ts";
import { gapRow, S } from "../ledger/_sample_ledger.ts";

const rec = (
  stream: string,
  kind: string,
  s: number,
  e: number,
  recoveredAtUs: number | null = null,
): GapRecord => ({
  market: "spot",
  row: gapRow("BTCUSDT", stream, kind, s * S, e * S),
  recoveredAtUs,
  recoveryNote: null,
});

Deno.test("summarizeGaps() totals per kind and stream, clipped to the window", () => {
  const gaps = [
    rec("aggTrade", "disconnect", 0, 100),
    rec("aggTrade", "backfilled", 0, 40),
    rec("depth@100ms", "sequence", 90, 130),
    rec("depth@100ms", "stale", 200, 210, 250 * S),
    rec("aggTrade", "custom", 10, 10),
  ];
  const s = summarizeGaps(gaps, { fromUs: 50 * S, toUs: 120 * S, longest: 2 });
  assert.equal(s.count, 5);
  assert.equal(s.unrecovered, 3);
  assert.equal(s.seconds, 50 + 30);
  assert.deepEqual(s.byKind.map((k) => [k.kind, k.count, k.seconds]), [
    ["sequence", 1, 30],
    ["disconnect", 1, 50],
    ["stale", 1, 0],
    ["backfilled", 1, 0],
    ["custom", 1, 0],
  ]);
  assert.deepEqual(s.byStream.map((x) => [x.stream, x.count, x.unrecovered, x.seconds]), [
    ["aggTrade", 3, 2, 50],
    ["depth@100ms", 2, 1, 30],
  ]);
  assert.deepEqual(s.longest.map((g) => [g.gap.row.kind, g.seconds]), [["disconnect", 50], ["sequence", 30]]);
  assert.deepEqual(formatGapKinds(s).slice(0, 2), [" sequence        1  30s", " disconnect      1  50s"]);
});

Deno.test("summarizeGaps() without a window counts whole gaps", () => {
  const s = summarizeGaps([rec("aggTrade", "stale", 0, 3600)]);
  assert.equal(s.seconds, 3600);
  assert.deepEqual(summarizeGaps([]).byKind, []);
});
