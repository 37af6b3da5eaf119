import assert from "node:assert/strict";
import { healthOf } from "../../lib/status/health.ts";
import { fakeSnapshot } from "./fake_source.ts";

Deno.test("healthOf() is ok when every stream is live and every book synced", () => {
  assert.deepEqual(healthOf(fakeSnapshot(0)), { ok: true, problems: [] });
});

Deno.test("healthOf() lists each disconnected or stale stream and each unsynced book", () => {
  const s = fakeSnapshot(0);
  s.streams[0]!.connected = false;
  s.streams[0]!.stale = true; // a disconnected stream is reported once, as disconnected
  s.streams[4]!.stale = true;
  s.books[3]!.state = "buffering";
  s.books[1]!.state = "idle";
  const h = healthOf(s);
  assert.equal(h.ok, false);
  assert.deepEqual(h.problems, [
    { market: "spot", symbol: "BTCUSDT", stream: "depth@100ms", problem: "disconnected" },
    { market: "spot", symbol: "ETHUSDT", stream: "aggTrade", problem: "stale" },
    { market: "spot", symbol: "ETHUSDT", stream: null, problem: "book idle" },
    { market: "usdm", symbol: "BTCUSDT", stream: null, problem: "book buffering" },
  ]);
});

Deno.test("healthOf() is not ok without any stream", () => {
  const h = healthOf({ streams: [], books: [] });
  assert.equal(h.ok, false);
  assert.deepEqual(h.problems.map((p) => p.problem), ["no streams reported"]);
});
