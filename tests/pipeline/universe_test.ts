/**
 * `symbols: all` in the normalizer: Universe records grow the plan (the same way on replay), retire symbols that
 * stopped trading without a false gap, and a checkpoint's state rebuilds the plan exactly.
 */
import assert from "node:assert/strict";
import { type PlannedStream, planStreams } from "../../lib/binance/stream_plan.ts";
import { MarketNormalizer } from "../../lib/pipeline/normalizer.ts";
import { RecordKind } from "../../lib/pipeline/records.ts";
import { recordsOf } from "./_records.ts";
import type { Row } from "../../lib/storage/tables.ts";

const S = 1_000_000;
const rec = recordsOf("spot");
const universe = (add: string[], remove: string[] = []) => JSON.stringify({ add, remove });

function normalizer() {
  const plan = planStreams({
    market: "spot",
    wsUrl: "wss://x",
    symbols: [],
    streams: ["aggTrade", "kline_1s"],
  });
  const gaps: Row<"gaps">[] = [];
  const grew: PlannedStream[][] = [];
  const retired: string[] = [];
  const n = new MarketNormalizer(plan, { row: () => {} }, {
    needSnapshot: () => {},
    gap: (_m, g) => gaps.push(g),
    planGrew: (streams) => grew.push([...streams]),
    retired: (streams) => retired.push(...streams.map((s) => s.name)),
  }, { topLevels: 5, dynamicUniverse: true });
  return { n, plan, gaps, grew, retired };
}

Deno.test("normalizer: Universe records grow the plan and retire symbols; a stale gap of a retired symbol is dropped", () => {
  const a = normalizer();
  a.n.process(rec(1 * S, 0, RecordKind.Universe, universe(["BTCUSDT", "ETHUSDT"])));
  assert.deepEqual(a.plan.connections.map((c) => c.key), ["spot/stream/0"]);
  assert.deepEqual(a.grew[0]!.map((s) => s.name), [
    "btcusdt@aggTrade",
    "btcusdt@kline_1s",
    "ethusdt@aggTrade",
    "ethusdt@kline_1s",
  ]);
  a.n.process(rec(2 * S, 7, RecordKind.ConnOpen, "spot/stream/0"));
  a.n.process(rec(2.1 * S, 7, RecordKind.Subscribed));
  a.n.process(rec(20 * S, 0, RecordKind.Stale, "ethusdt@kline_1s")); // ETHUSDT halted: its candles stop
  a.n.process(rec(30 * S, 0, RecordKind.Universe, universe(["SOLUSDT"], ["ETHUSDT"])));
  assert.deepEqual(a.n.symbols().sort(), ["BTCUSDT", "SOLUSDT"]);
  assert.deepEqual(a.retired, ["ethusdt@aggTrade", "ethusdt@kline_1s"]);
  assert.deepEqual(a.plan.connections.map((c) => c.key), ["spot/stream/0", "spot/stream/1"]);
  a.n.process(rec(40 * S, 0, RecordKind.Stale, "ethusdt@aggTrade"));
  a.n.process(rec(50 * S, 0, RecordKind.Shutdown));
  assert.deepEqual(a.gaps.filter((g) => g.symbol === "ETHUSDT"), [], "a halted symbol's silence is no gap");

  // A checkpoint's state rebuilds the same plan in a fresh normalizer; a crash after it gaps only live symbols.
  const b = normalizer();
  b.n.restoreState(a.n.exportState());
  assert.deepEqual(
    b.plan.connections.map((c) => [c.key, c.streams.map((s) => s.name)]),
    a.plan.connections.map((
      c,
    ) => [c.key, c.streams.map((s) => s.name)]),
  );
  assert.deepEqual(b.n.symbols().sort(), ["BTCUSDT", "SOLUSDT"]);
  assert.deepEqual(b.retired, ["ethusdt@aggTrade", "ethusdt@kline_1s"]);
  // ETHUSDT trades again: revived, on its old streams.
  b.n.process(rec(60 * S, 0, RecordKind.Universe, universe(["ETHUSDT"])));
  assert.deepEqual(b.n.symbols().sort(), ["BTCUSDT", "ETHUSDT", "SOLUSDT"]);
  assert.equal(b.plan.connections.length, 2, "no new connection for a symbol planned before");
});
