import assert from "node:assert/strict";
import { nowUs } from "../lib/clock.ts";

Deno.test("nowUs() is whole microseconds of wall time and does not go backwards", () => {
  const a = nowUs();
  const wallUs = Date.now() * 1000;
  assert.ok(Number.isInteger(a));
  assert.ok(Math.abs(a - wallUs) < 50_000, `${a} vs ${wallUs}`);
  let previous = a;
  for (let i = 0; i < 10_000; i++) {
    const t = nowUs();
    assert.ok(t >= previous);
    previous = t;
  }
});
