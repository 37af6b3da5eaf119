import assert from "node:assert/strict";
import { DepthBatcher } from "../../lib/sim/depth_batcher.ts";
import { symbolSpec } from "../../lib/sim/symbol_spec.ts";

const spec = symbolSpec("usdm", "BTCUSDT");

Deno.test("DepthBatcher emits one event per window with the latest quantity per level", () => {
  const b = new DepthBatcher(spec, "btcusdt@depth@100ms", 100, 1000, 1_000_050);
  b.record("bid", 500, 3, 1001, 1_000_060);
  b.record("bid", 500, 4, 1005, 1_000_070);
  b.record("ask", 510, 0, 1009, 1_000_080);
  assert.equal(b.flush(1_000_099), null, "window still open");
  const e = b.flush(1_000_100)!;
  assert.deepEqual(
    [e.firstId, e.finalId, e.prevFinalId, e.eventTime, e.transactionTime],
    [1001, 1009, 1000, 1_000_100, 1_000_080],
  );
  assert.deepEqual(e.bids, [500, 4]);
  assert.deepEqual(e.asks, [510, 0]);
  assert.equal(b.flush(1_000_200), null, "no changes, no event");
  b.record("ask", 511, 1, 1020, 1_000_210);
  const next = b.flush(1_000_305)!;
  assert.equal(next.prevFinalId, 1009);
  assert.equal(next.firstId, 1020);
});
