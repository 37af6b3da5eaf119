import assert from "node:assert/strict";
import { HEALTH_LOG_MS, HealthLine, type HealthMarket } from "../../lib/pipeline/health_line.ts";
import type { Level } from "../../lib/log.ts";

function market(frames: number, synced: number, throttled: number): HealthMarket {
  return {
    normalizer: { stats: { frames }, bookCounts: () => ({ synced }) },
    rest: { stats: { throttled, banned: 0 } },
    symbols: ["BTCUSDT", "ETHUSDT"],
  };
}

Deno.test("health line: sums the markets, once a minute, with the frame rate since the last line", () => {
  const lines: Record<string, unknown>[] = [];
  const spot = market(1_000, 2, 1);
  const usdm = market(500, 1, 0);
  const health = new HealthLine({
    markets: [spot, usdm],
    lag: () => ({ samples: 100, p50: 0.5, p99: 7.5, max: 12.34 }),
    bufferedBytes: () => 3 * 1048576,
    log: (_level: Level, msg: string, fields?: Record<string, unknown>) => {
      if (msg === "health") lines.push(fields ?? {});
    },
  });
  health.maybeLog(0);
  assert.equal(lines.length, 1);
  assert.deepEqual(
    { ...lines[0], rssMb: 0, heapMb: 0, heapTotalMb: 0, externalMb: 0 },
    {
      frames: 1_500,
      msgsPerSec: 0,
      lagP99Ms: 7.5,
      lagMaxMs: 12.3,
      restThrottled: 1,
      restBanned: 0,
      bufferedMb: 3,
      rssMb: 0,
      heapMb: 0,
      heapTotalMb: 0,
      externalMb: 0,
      symbols: 4,
      booksSynced: 3,
    },
  );
  assert.equal(typeof lines[0]!.rssMb, "number");

  spot.normalizer.stats.frames += 60_000;
  health.maybeLog(HEALTH_LOG_MS - 1);
  assert.equal(lines.length, 1, "not again within a minute");
  health.maybeLog(HEALTH_LOG_MS);
  assert.equal(lines.length, 2);
  assert.equal(lines[1]!.frames, 61_500);
  assert.equal(lines[1]!.msgsPerSec, 1_000);
});
