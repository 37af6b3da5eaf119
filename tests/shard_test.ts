import assert from "node:assert/strict";
import { assignedShards, recordsSymbol, type Shard } from "../lib/shard.ts";

const SYMBOLS = Array.from({ length: 2000 }, (_, i) => `SYM${i}USDT`);
const shards = (count: number, replicas = 1): Shard[] =>
  Array.from({ length: count }, (_, index) => ({ index, count, replicas, name: `s${index}` }));

Deno.test("every symbol goes to exactly `replicas` shards, the same ones every time, spread evenly", () => {
  for (const replicas of [1, 2]) {
    const fleet = shards(3, replicas);
    const load = [0, 0, 0];
    for (const symbol of SYMBOLS) {
      const owners = fleet.filter((s) => recordsSymbol(s, "spot", symbol)).map((s) => s.index);
      assert.equal(owners.length, replicas, symbol);
      assert.deepEqual(owners, [...assignedShards("spot", symbol, 3, replicas)].sort(), symbol);
      for (const i of owners) load[i]!++;
    }
    // 2,000 × replicas / 3 each, within 10 %.
    const even = (SYMBOLS.length * replicas) / 3;
    for (const n of load) assert.ok(Math.abs(n - even) < even * 0.1, `load ${load} (replicas ${replicas})`);
  }
});

Deno.test("adding a shard moves only the symbols it takes (about one in four), to it alone", () => {
  let moved = 0;
  for (const symbol of SYMBOLS) {
    const [before] = assignedShards("usdm", symbol, 3, 1);
    const [after] = assignedShards("usdm", symbol, 4, 1);
    if (before === after) continue;
    moved++;
    assert.equal(after, 3, `${symbol} moved from ${before} to ${after}, not to the new shard`);
  }
  assert.ok(moved > SYMBOLS.length * 0.2 && moved < SYMBOLS.length * 0.3, `moved ${moved}`);
});

Deno.test("markets are assigned independently; without a shard every symbol is recorded", () => {
  const differ = SYMBOLS.filter((s) =>
    assignedShards("spot", s, 3, 1)[0] !== assignedShards("usdm", s, 3, 1)[0]
  );
  assert.ok(differ.length > SYMBOLS.length / 2, "a symbol's spot and USD-M books need not share a shard");
  assert.ok(SYMBOLS.every((s) => recordsSymbol(null, "coinm", s)));
  assert.deepEqual(assignedShards("spot", "BTCUSDT", 2, 5).sort(), [0, 1], "replicas capped at the count");
});
