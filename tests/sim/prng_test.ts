import assert from "node:assert/strict";
import { hashSeed, Prng } from "../../lib/sim/prng.ts";

Deno.test("Prng repeats its sequence for the same seed and differs for another", () => {
  const a = new Prng(42);
  const b = new Prng(42);
  const c = new Prng(43);
  const seqA = Array.from({ length: 20 }, () => a.next());
  const seqB = Array.from({ length: 20 }, () => b.next());
  const seqC = Array.from({ length: 20 }, () => c.next());
  assert.deepEqual(seqA, seqB);
  assert.notDeepEqual(seqA, seqC);
  assert.ok(seqA.every((x) => x >= 0 && x < 1));
});

Deno.test("Prng.int and count stay in bounds and average right", () => {
  const rng = new Prng(5);
  let sum = 0;
  for (let i = 0; i < 10_000; i++) {
    const n = rng.int(10);
    assert.ok(Number.isInteger(n) && n >= 0 && n < 10);
    sum += rng.count(2.5);
  }
  assert.ok(Math.abs(sum / 10_000 - 2.5) < 0.05, `mean count ${sum / 10_000}`);
});

Deno.test("Prng.normal has mean 0 and standard deviation 1", () => {
  const rng = new Prng(9);
  const xs = Array.from({ length: 20_000 }, () => rng.normal());
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length);
  assert.ok(Math.abs(mean) < 0.03 && Math.abs(sd - 1) < 0.03, `mean ${mean} sd ${sd}`);
});

Deno.test("hashSeed separates parts", () => {
  assert.equal(hashSeed(1, "spot", "BTCUSDT"), hashSeed(1, "spot", "BTCUSDT"));
  assert.notEqual(hashSeed("ab", "c"), hashSeed("a", "bc"));
  assert.notEqual(hashSeed(1, "spot", "BTCUSDT"), hashSeed(1, "usdm", "BTCUSDT"));
});
