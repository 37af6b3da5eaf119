import assert from "node:assert/strict";
import { FleetAccumulator, shardState } from "../../lib/fleet/summary.ts";
import { DATE, DAY_MS, entry, gapRow, heartbeat, NOW_MS, shardManifest } from "./_fixtures.ts";

const MIN = 60_000;

Deno.test("shardState(): live within the threshold, silent past it, stopped after a clean stop, unknown without one", () => {
  assert.equal(shardState(heartbeat(0, { atMs: NOW_MS - 15 * MIN }), NOW_MS, 15 * MIN), "live");
  assert.equal(shardState(heartbeat(0, { atMs: NOW_MS - 15 * MIN - 1 }), NOW_MS, 15 * MIN), "silent");
  // A clean stop is reported as such however old (it says why the shard is quiet).
  assert.equal(
    shardState(heartbeat(0, { atMs: NOW_MS - 60 * MIN, stoppedAtMs: NOW_MS - 60 * MIN }), NOW_MS, 15 * MIN),
    "stopped",
  );
  assert.equal(shardState(null, NOW_MS, 15 * MIN), "unknown");
});

Deno.test("FleetAccumulator: shards ordered by state then name, with the day's files, rows and gaps of each", () => {
  const acc = new FleetAccumulator(DATE, NOW_MS, 15 * MIN);
  acc.addHeartbeat(heartbeat(1, { symbols: { spot: ["BTCUSDT", "ETHUSDT"], usdm: ["BTCUSDT"] } }));
  acc.addHeartbeat(heartbeat(0, { symbols: { spot: ["SOLUSDT"] } }));
  acc.addHeartbeat(heartbeat(2, { atMs: NOW_MS - 20 * MIN, symbols: { spot: ["XRPUSDT"] } }));
  // An older heartbeat of s1 read after the newer one does not replace it.
  acc.addHeartbeat(heartbeat(1, { atMs: NOW_MS - 30 * MIN, symbols: { spot: [] } }));
  acc.addManifest(
    shardManifest("s1", [entry("s1", "spot", "trades", 1, 100), entry("s1", "spot", "trades", 2, 50)]),
  );
  // A shard that left only files (its heartbeat is gone).
  acc.addManifest(shardManifest("s9", [entry("s9", "spot", "trades", 3, 7)]));
  acc.addGap("s1", "spot", gapRow("BTCUSDT", "aggTrade", "disconnect", 60, 2));
  const { shards } = acc.summary();
  assert.deepEqual(
    shards.map((s) => [s.shard, s.state, s.symbols, s.files, s.rows, s.gaps, s.ageMs]),
    [
      ["s2", "silent", 1, 0, 0, 0, 20 * MIN],
      ["s9", "unknown", 0, 1, 7, 0, null],
      ["s0", "live", 1, 0, 0, 0, MIN],
      ["s1", "live", 3, 2, 150, 1, MIN],
    ],
  );
});

Deno.test("FleetAccumulator: symbols that only shards not live record, and those short of their replicas", () => {
  const acc = new FleetAccumulator(DATE, NOW_MS, 15 * MIN);
  const stopped = { atMs: NOW_MS - 2 * MIN, stoppedAtMs: NOW_MS - 2 * MIN };
  // replicas 2: A on s0+s1 (both live), B on s1+s2 (s2 stopped: one live), C on s2+s3 (neither live).
  acc.addHeartbeat(heartbeat(0, { replicas: 2, symbols: { spot: ["A"], usdm: ["A"] } }));
  acc.addHeartbeat(heartbeat(1, { replicas: 2, symbols: { spot: ["A", "B"] } }));
  acc.addHeartbeat(heartbeat(2, { replicas: 2, ...stopped, symbols: { spot: ["B", "C"] } }));
  acc.addHeartbeat(heartbeat(3, { replicas: 2, atMs: NOW_MS - 16 * MIN, symbols: { spot: ["C"] } }));
  assert.deepEqual(acc.summary().markets, [
    { market: "spot", symbols: 3, notRecorded: 1, underReplicated: 1 },
    { market: "usdm", symbols: 1, notRecorded: 0, underReplicated: 1 },
  ]);
});

Deno.test("FleetAccumulator: coverage per market and table over shards, only the day's files", () => {
  const acc = new FleetAccumulator(DATE, NOW_MS, 15 * MIN);
  acc.addManifest(shardManifest("s0", [
    entry("s0", "spot", "trades", 0, 1000, { minutes: 30 }),
    entry("s0", "spot", "trades", 11, 500, { minutes: 45 }),
    entry("s0", "usdm", "depth_updates", 5, 70),
    // The day before: another day's coverage.
    entry("s0", "spot", "trades", 23, 9999, { dayMs: DAY_MS - 86_400_000 }),
  ]));
  acc.addManifest(shardManifest("s1", [entry("s1", "spot", "trades", 3, 10, { bytes: 4 })]));
  const us = (h: number, m: number) => (DAY_MS + (h * 60 + m) * MIN) * 1000;
  assert.deepEqual(acc.summary().coverage, [
    {
      market: "spot",
      table: "trades",
      files: 3,
      rows: 1510,
      bytes: 15004,
      firstUs: us(0, 0),
      lastUs: us(11, 45),
      shards: 2,
    },
    {
      market: "usdm",
      table: "depth_updates",
      files: 1,
      rows: 70,
      bytes: 700,
      firstUs: us(5, 0),
      lastUs: us(5, 59),
      shards: 1,
    },
  ]);
});

Deno.test("FleetAccumulator: gaps clipped to the day, counted once, backfilled ones not missing, worst symbols first", () => {
  const acc = new FleetAccumulator(DATE, NOW_MS, 15 * MIN);
  // Starts 10 minutes before the day: 5 of its 15 minutes are on it.
  acc.addGap("s0", "spot", gapRow("ETHUSDT", "depth@100ms", "disconnect", -10, 15));
  // Ended before the day: not on it.
  acc.addGap("s0", "spot", gapRow("ETHUSDT", "depth@100ms", "disconnect", -30, 10));
  // The next day: not on it.
  acc.addGap("s0", "spot", gapRow("ETHUSDT", "aggTrade", "stale", 24 * 60, 1));
  const twice = gapRow("BTCUSDT", "aggTrade", "sequence", 100, 3);
  acc.addGap("s1", "spot", twice);
  acc.addGap("s1", "spot", twice); // e.g. in a part file and the compacted file that replaced it
  acc.addGap("s2", "spot", gapRow("BTCUSDT", "depth@100ms", "stale", 200, 2));
  acc.addGap("s2", "usdm", gapRow("BTCUSDT", "aggTrade", "backfilled", 300, 60));
  acc.addGap("s2", "usdm", gapRow("SOLUSDT", "aggTrade", "stale", 400, 1));
  const { gaps, shards } = acc.summary();
  assert.equal(gaps.count, 5);
  assert.equal(gaps.missingSeconds, (5 + 3 + 2 + 1) * 60);
  assert.deepEqual(gaps.byKind, [
    { kind: "sequence", count: 1, seconds: 180 },
    { kind: "disconnect", count: 1, seconds: 300 },
    { kind: "stale", count: 2, seconds: 180 },
    { kind: "backfilled", count: 1, seconds: 3600 },
  ]);
  assert.deepEqual(gaps.worst, [
    {
      market: "spot",
      symbol: "BTCUSDT",
      count: 2,
      seconds: 300,
      streams: ["aggTrade", "depth@100ms"],
      shards: ["s1", "s2"],
    },
    { market: "spot", symbol: "ETHUSDT", count: 1, seconds: 300, streams: ["depth@100ms"], shards: ["s0"] },
    { market: "usdm", symbol: "SOLUSDT", count: 1, seconds: 60, streams: ["aggTrade"], shards: ["s2"] },
  ]);
  assert.deepEqual(shards.map((s) => [s.shard, s.gaps]), [["s0", 1], ["s1", 1], ["s2", 2]]);
});

Deno.test("FleetAccumulator: a date that is not YYYY-MM-DD is a RangeError", () => {
  assert.throws(() => new FleetAccumulator("2026-02-30", NOW_MS, MIN), RangeError);
  assert.throws(() => new FleetAccumulator("yesterday", NOW_MS, MIN), /expected a UTC date YYYY-MM-DD/);
});
