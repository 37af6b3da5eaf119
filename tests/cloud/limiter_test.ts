import assert from "node:assert/strict";
import { Limiter } from "../../lib/cloud/limiter.ts";

Deno.test("Limiter runs at most max tasks at once, in arrival order, and frees a slot on failure", async () => {
  const limiter = new Limiter(2);
  let active = 0;
  let peak = 0;
  const started: number[] = [];
  const task = (i: number) => async () => {
    started.push(i);
    peak = Math.max(peak, ++active);
    await new Promise((r) => setTimeout(r, 5));
    active--;
    if (i === 1) throw new Error("task 1 failed");
    return i;
  };
  const results = await Promise.allSettled([0, 1, 2, 3, 4].map((i) => limiter.run(task(i))));
  assert.equal(peak, 2);
  assert.deepEqual(started, [0, 1, 2, 3, 4]);
  assert.deepEqual(results.map((r) => r.status), [
    "fulfilled",
    "rejected",
    "fulfilled",
    "fulfilled",
    "fulfilled",
  ]);
  assert.equal(await limiter.run(() => Promise.resolve("free again")), "free again");
  assert.throws(() => new Limiter(0), RangeError);
});
