import assert from "node:assert/strict";
import { Coverage, effectiveGaps } from "../../lib/merge/coverage.ts";
import type { Row } from "../../lib/storage/tables.ts";

type Gap = Row<"gaps">;
const gap = (
  stream: string,
  kind: string,
  start: number,
  end: number,
  ids: [number, number] | null = null,
  reason = kind,
): Gap => ({
  symbol: "BTCUSDT",
  stream,
  kind,
  start_time: start,
  end_time: end,
  last_update_id: ids?.[0] ?? null,
  resume_update_id: ids?.[1] ?? null,
  reason,
});

/** Two recordings of BTCUSDT spot from 0 to 1000 with the streams given. */
function twoRecordings(keys: string[] = ["depth", "aggTrade", "bookTicker"]): Coverage {
  const cov = new Coverage(["s0@a", "s1@b"]);
  for (const rec of [0, 1]) for (const key of keys) cov.noteRows(rec, "spot", "BTCUSDT", key, 0, 1000);
  return cov;
}

const spans = (rows: readonly Gap[] | undefined) =>
  (rows ?? []).map((g) => [g.stream, g.start_time, g.end_time]);

Deno.test("coverage: a gap row only where both recordings missed, bounded by their gap rows' ids", () => {
  const cov = twoRecordings();
  cov.noteGap(0, "spot", gap("depth@100ms", "disconnect", 100, 300, [10, 40], "socket closed"));
  cov.noteGap(1, "spot", gap("depth@100ms", "sequence", 200, 400, [20, 50], "U 22 > 21"));
  cov.noteGap(1, "spot", gap("depth@100ms", "disconnect", 600, 700, [70, 80])); // A covered it
  const { gaps, fromHoles } = cov.mergedGaps([]);
  const rows = gaps.get("spot")!;
  assert.deepEqual(spans(rows), [["depth@100ms", 200, 300]]);
  assert.equal(fromHoles, 0);
  const [g] = rows;
  // The tape ends where B's gap starts (B's last id) and resumes where A's gap ends (A's snapshot).
  assert.equal(g!.last_update_id, 20);
  assert.equal(g!.resume_update_id, 40);
  assert.equal(g!.kind, "disconnect"); // one of each: the more telling kind
  assert.match(
    g!.reason,
    /^missed by every recording: s0@a: disconnect \(socket closed\); s1@b: sequence \(U 22 > 21\)$/,
  );
  assert.deepEqual(cov.gapCounts(), [{ rows: 1, missing: 1 }, { rows: 2, missing: 2 }]);
});

Deno.test("coverage: a backfilled pair is no gap, and a lone backfilled row neither", () => {
  const cov = twoRecordings();
  cov.noteGap(0, "spot", gap("aggTrade", "disconnect", 100, 300));
  cov.noteGap(0, "spot", gap("aggTrade", "backfilled", 100, 300));
  cov.noteGap(1, "spot", gap("aggTrade", "disconnect", 150, 250));
  cov.noteGap(1, "spot", gap("aggTrade", "backfilled", 500, 600, null, "nothing was missed"));
  assert.equal(cov.mergedGaps([]).gaps.size, 0);
  assert.deepEqual(cov.gapCounts(), [{ rows: 2, missing: 0 }, { rows: 2, missing: 1 }]);
  // One backfilled row cancels one gap row with its bounds, not two.
  const rows = [
    gap("aggTrade", "disconnect", 1, 2),
    gap("aggTrade", "sequence", 1, 2),
    gap("aggTrade", "backfilled", 1, 2),
  ];
  assert.equal(effectiveGaps(rows).length, 1);
});

Deno.test("coverage: spans from every table; time outside every span inside the hull is a gap", () => {
  const cov = new Coverage(["s0@a", "s1@b"]);
  // A: rows until 100 (its forceOrder had two liquidations early on); B: from 150 on.
  cov.noteRows(0, "usdm", "BTCUSDT", "depth", 0, 100);
  cov.noteRows(0, "usdm", "BTCUSDT", "forceOrder", 5, 6);
  cov.noteRows(1, "usdm", "BTCUSDT", "depth", 150, 300);
  cov.noteRows(1, "usdm", "BTCUSDT", "forceOrder", 290, 290);
  cov.noteRows(1, "usdm", "BTCUSDT", null, 140, 140); // an instruments row: the recording ran from 140
  const rows = cov.mergedGaps([]).gaps.get("usdm")!;
  // A quiet stream is covered for the whole span of its recording, not between its rows only.
  assert.deepEqual(spans(rows), [["depth@100ms", 101, 140], ["forceOrder", 101, 140]]);
  assert.match(rows[0]!.reason, /s0@a: not recording; s1@b: not recording/);
  assert.equal(rows[0]!.last_update_id, null);
});

Deno.test("coverage: a recording without the stream does not cover it", () => {
  const cov = new Coverage(["s0@a", "s1@b"]);
  cov.noteRows(0, "spot", "BTCUSDT", "bookTicker", 0, 1000);
  cov.noteRows(1, "spot", "BTCUSDT", "depth", 0, 1000);
  cov.noteGap(0, "spot", gap("bookTicker", "stale", 10, 20));
  assert.deepEqual(spans(cov.mergedGaps([]).gaps.get("spot")), [["bookTicker", 10, 20]]);
});

Deno.test("coverage: an instant gap in both keeps 1 µs; a stream's name comes from its gap rows", () => {
  const cov = twoRecordings(["depth", "markPrice"]);
  cov.noteGap(0, "spot", gap("depth@500ms", "sequence", 50, 50));
  cov.noteGap(1, "spot", gap("depth@500ms", "sequence", 50, 50));
  const rows = cov.mergedGaps([]).gaps.get("spot")!;
  assert.deepEqual(spans(rows), [["depth@500ms", 50, 51]]);
  assert.equal(rows[0]!.kind, "sequence");
});

Deno.test("coverage: an id hole inside a merged gap adds nothing; one outside every gap gets a row of its own", () => {
  const cov = twoRecordings();
  cov.noteGap(0, "spot", gap("depth@100ms", "disconnect", 100, 300));
  cov.noteGap(1, "spot", gap("depth@100ms", "disconnect", 200, 400));
  const hole = {
    market: "spot" as const,
    symbol: "BTCUSDT",
    key: "depth",
    lastId: 7,
    resumeId: 9,
    what: "ids 8..9",
  };
  const { gaps, fromHoles } = cov.mergedGaps([
    { ...hole, fromUs: 250, toUs: 350 },
    { ...hole, fromUs: 800, toUs: 820 },
  ]);
  assert.equal(fromHoles, 1);
  const rows = gaps.get("spot")!;
  assert.deepEqual(spans(rows), [["depth@100ms", 200, 300], ["depth@100ms", 800, 820]]);
  assert.deepEqual([rows[1]!.kind, rows[1]!.last_update_id, rows[1]!.resume_update_id, rows[1]!.reason], [
    "sequence",
    7,
    9,
    "ids 8..9",
  ]);
});
