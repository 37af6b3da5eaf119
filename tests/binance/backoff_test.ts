import assert from "node:assert/strict";
import { Prng } from "../../lib/sim/prng.ts";
import { Backoff, classifyDisconnect, upgradeStatus } from "../../lib/binance/backoff.ts";

/** A seeded random source in [0, 1) (the simulator's PRNG). */
function seeded(seed: number): () => number {
  const rng = new Prng(seed);
  return () => rng.next();
}

Deno.test("Backoff without jitter doubles up to the cap", () => {
  const b = new Backoff({ initialMs: 100, maxMs: 1000, jitter: "none" });
  assert.deepEqual(Array.from({ length: 6 }, () => b.next()), [100, 200, 400, 800, 1000, 1000]);
  assert.equal(b.attempt, 6);
});

Deno.test("Backoff with full jitter draws below the exponential ceiling, reproducibly per seed", () => {
  const draw = (seed: number) => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000, jitter: "full", random: seeded(seed) });
    return Array.from({ length: 8 }, () => b.next());
  };
  const a = draw(42);
  assert.deepEqual(a, draw(42));
  assert.notDeepEqual(a, draw(7));
  const ceilings = [100, 200, 400, 800, 1000, 1000, 1000, 1000];
  a.forEach((d, i) => assert.ok(d >= 0 && d <= ceilings[i]!, `attempt ${i}: ${d}`));
  // The exact formula: round(random · ceiling).
  const r = seeded(42);
  assert.deepEqual(a, ceilings.map((c) => Math.round(r() * c)));
});

Deno.test("Backoff with decorrelated jitter stays within [initial, 3·previous] and the cap", () => {
  const r = seeded(3);
  const b = new Backoff({ initialMs: 100, maxMs: 5000, jitter: "decorrelated", random: seeded(3) });
  let previous = 100;
  for (let i = 0; i < 20; i++) {
    const d = b.next();
    const expected = 100 + r() * (Math.min(5000, previous * 3) - 100);
    assert.equal(d, Math.round(expected));
    assert.ok(d >= 100 && d <= 5000);
    previous = expected;
  }
});

Deno.test("Backoff starts over after reset() and rejects bad options", () => {
  const b = new Backoff({ initialMs: 100, maxMs: 10_000, jitter: "none" });
  b.next();
  b.next();
  assert.equal(b.next(), 400);
  b.reset();
  assert.equal(b.attempt, 0);
  assert.equal(b.next(), 100);
  assert.throws(() => new Backoff({ initialMs: 0 }), RangeError);
  assert.throws(() => new Backoff({ initialMs: 10, maxMs: 5 }), RangeError);
});

Deno.test("classifyDisconnect() sorts causes by how soon to come back", () => {
  const error = (status: number | null) => classifyDisconnect({ kind: "error", message: "", status });
  assert.equal(error(null), "transient");
  assert.equal(error(500), "transient");
  assert.equal(error(503), "transient");
  assert.equal(error(429), "throttled");
  assert.equal(error(418), "banned");
  assert.equal(error(403), "refused");
  assert.equal(error(404), "refused");
  assert.equal(error(451), "refused");
  assert.equal(classifyDisconnect({ kind: "closed", code: 1008, reason: "too many" }), "throttled");
  assert.equal(classifyDisconnect({ kind: "closed", code: 1006, reason: "" }), "transient");
  assert.equal(classifyDisconnect({ kind: "closed", code: 1000, reason: "" }), "transient");
  assert.equal(classifyDisconnect({ kind: "serverShutdown" }), "immediate");
  assert.equal(classifyDisconnect({ kind: "forced", reason: "stale" }), "transient");
  assert.equal(classifyDisconnect({ kind: "connectTimeout" }), "transient");
});

Deno.test("upgradeStatus() reads the status of a refused upgrade", () => {
  assert.equal(upgradeStatus("NetworkError: failed to connect to WebSocket: Invalid status code: 403"), 403);
  assert.equal(upgradeStatus("Invalid status code 503 Service Unavailable"), 503);
  assert.equal(
    upgradeStatus("NetworkError: failed to connect to WebSocket: Connection refused (os error 111)"),
    null,
  );
});
