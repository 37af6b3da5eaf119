import assert from "node:assert/strict";
import type { DepthDiff, Market } from "../../lib/binance/types.ts";
import {
  gapReason,
  snapshotVerdict,
  spotCoversNext,
  spotHasGap,
  spotIsStale,
  streamVerdict,
  usdmBridgesSnapshot,
  usdmChains,
  usdmIsDuplicate,
  usdmIsStaleBeforeSync,
  type Verdict,
} from "../../lib/book/sequencer.ts";

const L = 1000;

function diff(U: number, u: number, pu: number | null = null): DepthDiff {
  return {
    symbol: "BTCUSDT",
    eventTime: 0,
    transactionTime: null,
    firstUpdateId: U,
    finalUpdateId: u,
    prevFinalUpdateId: pu,
    bids: [],
    asks: [],
  };
}

function table<A extends unknown[]>(fn: (...args: A) => boolean, rows: [string, A, boolean][]): void {
  for (const [name, args, want] of rows) assert.equal(fn(...args), want, `${fn.name}: ${name}`);
}

Deno.test("spotIsStale() is u <= L, so u == L is stale and u == L+1 is not", () => {
  table(spotIsStale, [
    ["u < L", [L - 1, L], true],
    ["u == L (last dropped event in the fixtures)", [L, L], true],
    ["u == L+1", [L + 1, L], false],
    ["u > L+1", [L + 50, L], false],
  ]);
});

Deno.test("spotCoversNext() is U <= L+1 <= u", () => {
  table(spotCoversNext, [
    ["U == L+1, u > L+1 (plain continuation)", [L + 1, L + 9, L], true],
    ["U == u == L+1 (single-update event)", [L + 1, L + 1, L], true],
    ["U < L, u == L+1", [L - 5, L + 1, L], true],
    ["U == L (straddles the snapshot)", [L, L + 3, L], true],
    ["u == L (nothing new)", [L - 5, L, L], false],
    ["U == L+2 (one update missing)", [L + 2, L + 9, L], false],
  ]);
});

Deno.test("spotHasGap() is U > L+1", () => {
  table(spotHasGap, [
    ["U == L+1", [L + 1, L], false],
    ["U == L", [L, L], false],
    ["U < L", [L - 10, L], false],
    ["U == L+2", [L + 2, L], true],
  ]);
});

Deno.test("usdmIsStaleBeforeSync() is u < L, so u == L is kept", () => {
  table(usdmIsStaleBeforeSync, [
    ["u < L", [L - 1, L], true],
    ["u == L (kept: a 'u > L' rule would drop it)", [L, L], false],
    ["u > L", [L + 1, L], false],
  ]);
});

Deno.test("usdmBridgesSnapshot() is U <= L <= u, or pu <= L <= u", () => {
  table(usdmBridgesSnapshot, [
    ["U == L", [L, L + 20, L - 7, L], true],
    ["u == L", [L - 20, L, L - 30, L], true],
    ["U < L < u", [L - 5, L + 5, L - 9, L], true],
    ["U == u == L (single update)", [L, L, L - 4, L], true],
    ["pu == L < U (snapshot id between two events)", [L + 4, L + 20, L, L], true],
    ["pu < L < U", [L + 4, L + 20, L - 2, L], true],
    ["pu > L and U > L (a hole)", [L + 9, L + 20, L + 1, L], false],
    ["u < L", [L - 20, L - 1, L - 30, L], false],
  ]);
});

Deno.test("usdmIsDuplicate() is u <= L", () => {
  table(usdmIsDuplicate, [
    ["u < L", [L - 1, L], true],
    ["u == L (the last applied event again)", [L, L], true],
    ["u == L+1", [L + 1, L], false],
  ]);
});

Deno.test("usdmChains() is pu == L exactly", () => {
  table(usdmChains, [
    ["pu == L", [L, L], true],
    ["pu == L-1", [L - 1, L], false],
    ["pu == L+1", [L + 1, L], false],
  ]);
});

Deno.test("snapshotVerdict() and streamVerdict() follow each market's rules at the boundaries", () => {
  const rows: [string, Market, DepthDiff, Verdict, Verdict][] = [
    // name, market, diff, verdict against a snapshot id L, verdict against a synced book at L
    ["spot u == L", "spot", diff(L - 3, L), "stale", "stale"],
    ["spot U == L+1", "spot", diff(L + 1, L + 4), "apply", "apply"],
    ["spot U == u == L+1", "spot", diff(L + 1, L + 1), "apply", "apply"],
    ["spot u == L+1", "spot", diff(L - 3, L + 1), "apply", "apply"],
    ["spot U == L", "spot", diff(L, L + 2), "apply", "apply"],
    ["spot U == L+2", "spot", diff(L + 2, L + 4), "gap", "gap"],
    ["usdm u < L", "usdm", diff(L - 9, L - 1, L - 12), "stale", "stale"],
    ["usdm u == L", "usdm", diff(L - 3, L, L - 8), "apply", "stale"],
    ["usdm U == L", "usdm", diff(L, L + 6, L - 2), "apply", "gap"],
    ["usdm pu == L, U skips", "usdm", diff(L + 7, L + 9, L), "apply", "apply"],
    ["usdm pu > L", "usdm", diff(L + 7, L + 9, L + 2), "gap", "gap"],
    ["usdm pu < L < U", "usdm", diff(L + 7, L + 9, L - 2), "apply", "gap"],
  ];
  for (const [name, market, d, atSnapshot, whenSynced] of rows) {
    assert.equal(snapshotVerdict(market, d, L), atSnapshot, `snapshotVerdict: ${name}`);
    assert.equal(streamVerdict(market, d, L), whenSynced, `streamVerdict: ${name}`);
  }
});

Deno.test("verdicts ignore U skips on usdm that the spot rule would call gaps", () => {
  const d = diff(L + 40, L + 50, L); // U != L + 1, yet pu chains
  assert.equal(streamVerdict("usdm", d, L), "apply");
  assert.equal(streamVerdict("spot", d, L), "gap");
});

Deno.test("usdm verdicts throw a TypeError when pu is missing", () => {
  assert.throws(() => streamVerdict("usdm", diff(L + 1, L + 2), L), TypeError);
  assert.throws(() => snapshotVerdict("usdm", diff(L + 1, L + 2), L), /pu is missing/);
  // A stale diff is judged on u alone.
  assert.equal(streamVerdict("usdm", diff(L - 2, L - 1), L), "stale");
});

Deno.test("gapReason() names the broken rule with the ids", () => {
  assert.equal(gapReason("spot", diff(L + 5, L + 9), L), "spot: U 1005 > lastUpdateId + 1 = 1001");
  assert.equal(gapReason("usdm", diff(L + 5, L + 9, L + 3), L), "usdm: pu 1003 != lastUpdateId 1000");
});
