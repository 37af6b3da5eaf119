import assert from "node:assert/strict";
import { forEachPaced, LagHistogram, LoopLagMonitor, paced } from "../lib/loop_lag.ts";
import { LIST_BATCH, listPaced } from "../lib/ledger/paced_list.ts";

Deno.test("LagHistogram: percentiles are bucket bounds at or above the samples, max is exact", () => {
  const h = new LagHistogram();
  for (let i = 0; i < 1000; i++) h.add(i % 100 === 0 ? 12 : 0.3);
  const s = h.stats();
  assert.equal(s.samples, 1000);
  assert.equal(s.p50, 0.5);
  assert.equal(s.p99, 0.5, "1% of the samples are slow: p99 is still the fast bucket");
  h.add(7000);
  for (let i = 0; i < 20; i++) h.add(40);
  assert.equal(h.stats().p99, 50);
  assert.equal(h.stats().max, 7000);
  h.reset();
  assert.deepEqual(h.stats(), { samples: 0, p50: 0, p99: 0, max: 0 });
  for (let i = 0; i < 10; i++) h.add(12);
  assert.deepEqual(
    h.stats(),
    { samples: 10, p50: 12, p99: 12, max: 12 },
    "a bucket's bound is capped by the max",
  );
  h.add(10.73);
  assert.equal(h.stats().p99, 12);
  h.reset();
  h.add(10.73);
  assert.deepEqual(h.stats(), { samples: 1, p50: 10.8, p99: 10.8, max: 10.73 }, "to 0.1 ms, rounded up");
});

Deno.test("LoopLagMonitor sees a blocked event loop", async () => {
  const m = new LoopLagMonitor(5, 60_000);
  m.start();
  try {
    await new Promise((r) => setTimeout(r, 50));
    const until = performance.now() + 120;
    while (performance.now() < until) { /* block the loop */ }
    await new Promise((r) => setTimeout(r, 30));
    assert.ok(m.total.stats().max >= 100, `max lag ${m.total.stats().max} ms`);
    assert.ok(m.recent().samples > 0);
  } finally {
    m.stop();
  }
});

Deno.test("forEachPaced() visits every item in order, a slice per event-loop turn", async () => {
  const seen: number[] = [];
  let seenWhenTimerRan = -1;
  setTimeout(() => seenWhenTimerRan = seen.length, 0);
  await forEachPaced([1, 2, 3, 4, 5], 2, (n) => seen.push(n));
  assert.deepEqual(seen, [1, 2, 3, 4, 5]);
  assert.equal(seenWhenTimerRan, 2, "a timer armed before runs after the first slice");
});

Deno.test("paced() yields every item in order, giving timers a turn once a slice of time passed", async () => {
  // An async source that resolves by microtasks only, 3 ms of work an item: iterated plainly, no timer runs
  // before it ends.
  async function* items() {
    for (let i = 1; i <= 7; i++) {
      const until = performance.now() + 3;
      while (performance.now() < until) { /* busy */ }
      yield await Promise.resolve(i);
    }
  }
  const seen: number[] = [];
  let seenWhenTimerRan = -1;
  setTimeout(() => seenWhenTimerRan = seen.length, 0);
  for await (const n of paced(items(), 5)) seen.push(n);
  assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7]);
  // At least 3 ms an item: the turn comes after the first item (a slow machine) or the second (6 ms).
  assert.ok(
    seenWhenTimerRan === 1 || seenWhenTimerRan === 2,
    `the timer ran after ${seenWhenTimerRan} items`,
  );
});

Deno.test("listPaced() lists every entry in key order", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const n = LIST_BATCH * 2 + 7;
    for (let at = 0; at < n; at += 100) {
      const op = kv.atomic();
      for (let i = at; i < Math.min(n, at + 100); i++) op.set(["k", i], i * 2);
      await op.commit();
    }
    const values: number[] = [];
    for await (const e of listPaced<number>(kv, { prefix: ["k"] })) values.push(e.value);
    assert.deepEqual(values, Array.from({ length: n }, (_, i) => i * 2));
  } finally {
    kv.close();
  }
});

Deno.test("LoopLagMonitor keeps the lag of marked spans apart, a stall at a span's very end included", async () => {
  const m = new LoopLagMonitor(5, 60_000);
  const block = (ms: number) => {
    const until = performance.now() + ms;
    while (performance.now() < until) { /* block the loop */ }
  };
  const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));
  m.start();
  try {
    await tick(30);
    block(80); // outside any span
    await tick(30);
    assert.ok(m.total.stats().max >= 70);
    assert.equal(m.spans.stats().max < 70, true, `a stall outside spans counted: ${m.spans.stats().max}`);
    m.openSpan();
    await tick(20);
    block(60); // the span's last step: the timer fires only after it closed
    m.closeSpan();
    await tick(30);
    assert.ok(m.spans.stats().max >= 50, `span max ${m.spans.stats().max}`);
    assert.ok(m.spanMax >= 50, `spanMax ${m.spanMax}`);
    const after = m.spans.stats().samples;
    await tick(40);
    assert.equal(m.spans.stats().samples, after, "samples after the span's next one are not the span's");
    m.openSpan();
    assert.equal(m.spanMax, 0, "a new span starts its own max");
    m.closeSpan();
  } finally {
    m.stop();
  }
});

Deno.test("LagHistogram: a p99 just under 10 ms is told from one at 10", () => {
  const h = new LagHistogram();
  for (let i = 0; i < 98; i++) h.add(1);
  h.add(8.6);
  h.add(30);
  assert.equal(h.stats().p99, 9, "the 99th sample (8.6 ms) is in the bucket up to 9 ms");
  h.add(9.4);
  h.add(9.7);
  assert.equal(h.stats().p99, 10);
});
