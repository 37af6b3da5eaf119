/**
 * A checkpoint's saved state restores every synced book exactly (each side packed as float64 bytes in base64),
 * and states saved before 0.4 (books as [price, qty] pairs) still restore.
 */
import assert from "node:assert/strict";
import { planStreams } from "../../lib/binance/stream_plan.ts";
import { MarketNormalizer } from "../../lib/pipeline/normalizer.ts";
import { RecordKind } from "../../lib/pipeline/records.ts";
import { recordsOf } from "./_records.ts";

const S = 1_000_000;
const plan = () =>
  planStreams({ market: "spot", wsUrl: "wss://x", symbols: ["BTCUSDT"], streams: ["depth@100ms"] });
const rec = recordsOf("spot");
const normalizer = () =>
  new MarketNormalizer(plan(), { row: () => {} }, { needSnapshot: () => {} }, { topLevels: 5 });

function levels(n: MarketNormalizer, side: "bid" | "ask"): number[] {
  return Array.from(n.bookOf("BTCUSDT")!.book.levels(side));
}

Deno.test("saved state: a synced book comes back level for level, including awkward doubles", () => {
  const a = normalizer();
  const key = plan().connections[0]!.key;
  a.process(rec(1 * S, 1, RecordKind.ConnOpen, key));
  a.process(rec(1 * S, 1, RecordKind.Subscribed));
  const bids = Array.from({ length: 300 }, (_, i) => [String(60000 - i * 0.01 - 0.1 - 0.2), String(0.1 + i)]);
  const asks = Array.from({ length: 300 }, (_, i) => [String(60001 + i * 0.01), "1e-8"]);
  a.process(rec(
    2 * S,
    1,
    RecordKind.Frame,
    JSON.stringify({
      stream: "btcusdt@depth@100ms",
      data: { e: "depthUpdate", E: 2000, s: "BTCUSDT", U: 11, u: 12, b: [["59999.5", "3"]], a: [] },
    }),
  ));
  a.process(rec(3 * S, 0, RecordKind.Snapshot, JSON.stringify({ lastUpdateId: 10, bids, asks }), "BTCUSDT"));
  assert.equal(a.bookOf("BTCUSDT")?.state, "synced");
  const saved = a.exportState();
  assert.ok(saved.length < 20_000, `600 levels in ${saved.length} characters`);
  const b = normalizer();
  b.restoreState(saved);
  assert.equal(b.bookOf("BTCUSDT")?.state, "synced");
  assert.equal(b.bookOf("BTCUSDT")?.book.lastUpdateId, 12);
  assert.deepEqual(levels(b, "bid"), levels(a, "bid"));
  assert.deepEqual(levels(b, "ask"), levels(a, "ask"));
  assert.ok(levels(b, "bid").includes(59999.5));
});

Deno.test("saved state: books saved as [price, qty] pairs (before 0.4) restore", () => {
  const a = normalizer();
  const state = JSON.parse(a.exportState());
  state.streams[0].book = { lastUpdateId: 77, bids: [[10, 1], [9, 2]], asks: [[11, 3]] };
  const b = normalizer();
  b.restoreState(JSON.stringify(state));
  assert.equal(b.bookOf("BTCUSDT")?.state, "synced");
  assert.deepEqual(levels(b, "bid"), [10, 1, 9, 2]);
  assert.deepEqual(levels(b, "ask"), [11, 3]);
});
