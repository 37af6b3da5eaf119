import assert from "node:assert/strict";
import { diffFaultHits, isDue, noFaults, targets } from "../../lib/sim/faults.ts";
import { Prng } from "../../lib/sim/prng.ts";
import { symbolSpec } from "../../lib/sim/symbol_spec.ts";

const btc = symbolSpec("spot", "BTCUSDT");
const eth = symbolSpec("usdm", "ETHUSDT");

Deno.test("noFaults turns everything off", () => {
  const f = noFaults(5000);
  assert.equal(f.lifetimeMs, 5000);
  assert.equal(f.refuseConnectionsUntil, 0);
  assert.equal(f.refuseConnectionsStatus, 503);
  assert.deepEqual(f.listingChanges, []);
  const settings = ["lifetimeMs", "refuseConnectionsUntil", "refuseConnectionsStatus", "listingChanges"];
  assert.ok(Object.entries(f).every(([k, v]) => settings.includes(k) || !v));
});

Deno.test("diffFaultHits: count faults hit the next N matching events only", () => {
  const rng = new Prng(1);
  const fault = { symbol: "BTCUSDT", count: 2 };
  assert.equal(diffFaultHits(fault, eth, rng), false);
  assert.equal(diffFaultHits(fault, btc, rng), true);
  assert.equal(diffFaultHits(fault, btc, rng), true);
  assert.equal(diffFaultHits(fault, btc, rng), false);
  assert.equal(fault.count, 0);
  assert.equal(diffFaultHits(null, btc, rng), false);
});

Deno.test("diffFaultHits: probability faults hit about that often", () => {
  const rng = new Prng(2);
  let hits = 0;
  for (let i = 0; i < 10_000; i++) if (diffFaultHits({ probability: 0.2 }, btc, rng)) hits++;
  assert.ok(Math.abs(hits / 10_000 - 0.2) < 0.02, `hit rate ${hits / 10_000}`);
});

Deno.test("targets and isDue", () => {
  assert.ok(targets({}, btc));
  assert.ok(targets({ market: "usdm" }, eth) && !targets({ market: "usdm" }, btc));
  assert.ok(isDue({}, 100, 100));
  assert.ok(!isDue({ everyMs: 50 }, 100, 149) && isDue({ everyMs: 50 }, 100, 150));
});
