import assert from "node:assert/strict";
import {
  collectorFleetSource,
  type FleetCollector,
  fleetIdentity,
} from "../../lib/fleet/collector_source.ts";
import type { MarketStatus, StreamStatus } from "../../lib/pipeline/collector_status.ts";
import { entry } from "./_fixtures.ts";

function collector(flushes: number): FleetCollector {
  const book = (symbol: string, state: string) => ({ symbol, state, lastUpdateId: 1, resyncs: 0 });
  const stream = (symbol: string, messages: number) => ({ symbol, messages }) as StreamStatus;
  return {
    symbolsOf: (m) => (m === "spot" ? ["BTCUSDT", "ETHUSDT"] : m === "usdm" ? ["BTCUSDT"] : []),
    status: () =>
      [
        { market: "spot", books: [book("BTCUSDT", "synced"), book("ETHUSDT", "syncing")] },
        { market: "usdm", books: [book("BTCUSDT", "synced")] },
      ] as MarketStatus[],
    streams: () => [stream("BTCUSDT", 100), stream("ETHUSDT", 20), stream("BTCUSDT", 3)],
    lastFlushMs: 1234,
    flushCount: flushes,
  };
}

Deno.test("collectorFleetSource(): symbols per enabled market, books in sync, total messages, flush and uploads", () => {
  const files = [entry("s0", "spot", "trades", 1, 5)];
  let uploaded: number | null = null;
  const source = collectorFleetSource(
    collector(2),
    ["spot", "usdm"],
    { entries: () => files },
    () => uploaded,
  );
  assert.deepEqual(source.symbols(), { spot: ["BTCUSDT", "ETHUSDT"], usdm: ["BTCUSDT"] });
  assert.deepEqual(source.books(), { synced: 2, total: 3 });
  assert.equal(source.messages(), 123);
  assert.equal(source.lastFlushMs(), 1234);
  assert.deepEqual(source.files(), files);
  assert.equal(source.lastUploadMs(), null);
  uploaded = 99;
  assert.equal(source.lastUploadMs(), 99);
  const before = collectorFleetSource(collector(0), ["spot"], { entries: () => [] }, () => null);
  assert.equal(before.lastFlushMs(), null, "no flush yet");
});

Deno.test("fleetIdentity(): the shard's name and place, `main` without shards, and this host", () => {
  const shard = fleetIdentity({ index: 2, count: 3, replicas: 2, name: "eu-2" }, "1.2.3", 42);
  assert.deepEqual(shard, {
    shard: "eu-2",
    index: 2,
    count: 3,
    replicas: 2,
    host: Deno.hostname(),
    version: "1.2.3",
    startedAtMs: 42,
  });
  assert.deepEqual(
    fleetIdentity(null, "1.2.3", 42),
    { ...shard, shard: "main", index: null, count: null, replicas: null },
  );
});
