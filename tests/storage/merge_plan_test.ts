import assert from "node:assert/strict";
import {
  batchRuns,
  inSpan,
  type PlannedGroup,
  planWindows,
  runStarts,
} from "../../lib/storage/merge_plan.ts";

const g = (lo: string | null, hi: string | null = lo, bytes = 100): PlannedGroup => ({
  lo,
  hi,
  rows: 1,
  bytes,
});

Deno.test("runStarts() starts a run wherever a file's symbols go back, skipping groups without rows", () => {
  assert.deepEqual(runStarts([g("A", "C"), g("D", "F"), g("B"), g(null), g("B", "E"), g("A")]), [0, 2, 5]);
  assert.deepEqual(
    runStarts([g(null), g("A"), g("A"), g("B")]),
    [1],
    "the same symbol again continues a run",
  );
  assert.deepEqual(runStarts([]), []);
});

Deno.test("batchRuns() cuts the sources' runs into batches of at most maxRuns, inside a file where needed", () => {
  const a = [g("A", "C"), g("D"), g("B"), g("A")]; // 3 runs: [0, 2), [2, 3), [3, 4)
  const b = [g("A", "Z")]; // 1 run
  const c = [g(null)]; // no rows
  assert.deepEqual(batchRuns([a, b, c], 2), [
    [{ source: 0, from: 0, to: 3 }],
    [{ source: 0, from: 3, to: 4 }, { source: 1, from: 0, to: 1 }, { source: 2, from: 0, to: 1 }],
  ]);
  assert.deepEqual(batchRuns([a, b, c], 4), [[
    { source: 0, from: 0, to: 4 },
    { source: 1, from: 0, to: 1 },
    { source: 2, from: 0, to: 1 },
  ]]);
  // Every group is in exactly one batch, in order.
  const batches = batchRuns([a, b, a], 1);
  assert.equal(batches.length, 7);
  assert.deepEqual(
    batches.flat().flatMap((s) =>
      Array.from({ length: s.to - s.from }, (_, k) => `${s.source}:${s.from + k}`)
    ),
    ["0:0", "0:1", "0:2", "0:3", "1:0", "2:0", "2:1", "2:2", "2:3"],
  );
});

Deno.test("planWindows() spans every symbol once, a busy symbol alone in its window", () => {
  const spans = planWindows([g("A", "B", 60), g("C", "D", 60), g("E", "E", 500), g("F", "G", 60)], 100);
  assert.deepEqual(spans, [
    { from: null, to: "C\0", single: false },
    { from: "C\0", to: "E", single: false },
    { from: "E", to: "E\0", single: true },
    { from: "E\0", to: null, single: false },
  ]);
});

Deno.test("planWindows() covers the symbols before a busy one even when they come first", () => {
  // A quiet first symbol, then a busy one: whole markets list e.g. 1000BONKUSDC before 1000BONKUSDT.
  const groups = [g("A", "A", 10), g("B", "B", 500), g("C", "D", 60)];
  const spans = planWindows(groups, 100);
  assert.deepEqual(spans, [
    { from: null, to: "B", single: false },
    { from: "B", to: "B\0", single: true },
    { from: "B\0", to: null, single: false },
  ]);
  // Every symbol of every group falls in exactly one window.
  for (const s of ["A", "B", "C", "D", "0", "Z"]) {
    assert.equal(spans.filter((w) => inSpan(w, s)).length, 1, s);
  }
  // A busy first symbol has nothing before it.
  assert.deepEqual(planWindows([g("B", "B", 500), g("C", "C", 10)], 100)[0], {
    from: "B",
    to: "B\0",
    single: true,
  });
});
