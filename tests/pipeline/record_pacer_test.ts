import assert from "node:assert/strict";
import { RecordPacer } from "../../lib/pipeline/record_pacer.ts";
import { type JournalRecord, RecordKind } from "../../lib/pipeline/records.ts";

const rec = (i: number): JournalRecord => ({
  localUs: i,
  market: "spot",
  conn: 1,
  kind: RecordKind.Frame,
  symbol: "",
  text: String(i),
});

/** Busy for `ms` (a record that takes that long to normalize). */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* spin */ }
}

Deno.test("RecordPacer: a burst is normalized in order, a budget per tick, and other timers run in between", async () => {
  const handled: number[] = [];
  const events: string[] = [];
  const pacer = new RecordPacer(
    (r) => {
      busy(2);
      handled.push(r.localUs);
      events.push("record");
    },
    10,
    5,
  );
  pacer.start();
  try {
    // A timer due before the burst ends: without the pacer it would wait for all 40 records (80 ms).
    setTimeout(() => events.push("timer"), 0);
    for (let i = 0; i < 40; i++) pacer.push(rec(i));
    // ~5 within the 10 ms budget (fewer on a loaded machine), never all of them.
    const first = handled.length;
    assert.ok(first >= 1 && first < 40, `${first} handled at once`);
    assert.equal(pacer.waiting, 40 - first);
    const deadline = Date.now() + 5_000;
    while (pacer.waiting > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.equal(pacer.waiting, 0);
    assert.deepEqual(handled, Array.from({ length: 40 }, (_, i) => i), "every record once, in order");
    assert.equal(events.indexOf("timer"), first, "the timer ran right after the budget, not after the burst");
  } finally {
    pacer.stop();
  }
});

Deno.test("RecordPacer: drain() and stop() normalize what waits at once; unstarted, records go straight through", () => {
  const handled: number[] = [];
  const pacer = new RecordPacer(
    (r) => {
      busy(1);
      handled.push(r.localUs);
    },
    3,
    5,
  );
  pacer.push(rec(0));
  assert.deepEqual(handled, [0], "before start(): at once");
  pacer.start();
  for (let i = 1; i <= 10; i++) pacer.push(rec(i));
  assert.ok(pacer.waiting > 0);
  pacer.drain();
  assert.equal(pacer.waiting, 0);
  assert.deepEqual(handled, Array.from({ length: 11 }, (_, i) => i));
  for (let i = 11; i <= 20; i++) pacer.push(rec(i));
  pacer.stop();
  assert.equal(pacer.waiting, 0);
  pacer.push(rec(21));
  assert.deepEqual(handled, Array.from({ length: 22 }, (_, i) => i), "stopped: in order, at once");
});

Deno.test("RecordPacer.idle() resolves when the backlog is worked off, or after its timeout", async () => {
  const handled: number[] = [];
  let slow = 1;
  const pacer = new RecordPacer(
    (r) => {
      busy(slow);
      handled.push(r.localUs);
    },
    3,
    5,
  );
  pacer.start();
  try {
    await pacer.idle(); // nothing waits: at once
    for (let i = 0; i < 12; i++) pacer.push(rec(i));
    assert.ok(pacer.waiting > 0);
    await pacer.idle(10_000);
    assert.equal(pacer.waiting, 0, "resolved with the queue empty");
    assert.equal(handled.length, 12);
    // A backlog that outlasts the timeout: idle() gives up waiting, the records stay queued.
    slow = 20;
    for (let i = 12; i < 20; i++) pacer.push(rec(i));
    const t0 = Date.now();
    await pacer.idle(30);
    assert.ok(Date.now() - t0 < 1_000);
    assert.ok(pacer.waiting > 0, "still waiting after the timeout");
  } finally {
    pacer.stop();
  }
  assert.equal(handled.length, 20, "stop() normalized the rest");
});

Deno.test("RecordPacer.hold(): records wait through ticks until release(), then go in order; drain() refuses", async () => {
  const handled: number[] = [];
  const pacer = new RecordPacer((r) => void handled.push(r.localUs), 10, 5);
  pacer.start();
  try {
    pacer.push(rec(0));
    assert.deepEqual(handled, [0], "within the budget: at once");
    pacer.hold();
    for (let i = 1; i <= 5; i++) pacer.push(rec(i));
    await new Promise((r) => setTimeout(r, 30)); // several ticks
    assert.deepEqual(handled, [0], "held: nothing normalized, the ticks pass it by");
    assert.equal(pacer.waiting, 5);
    assert.throws(() => pacer.drain(), /while a flush holds it/);
    pacer.release();
    await pacer.idle(5_000);
    assert.deepEqual(handled, [0, 1, 2, 3, 4, 5], "released: in order, at the next ticks");
  } finally {
    pacer.stop();
  }
  // Unstarted, a release normalizes what waits at once.
  pacer.hold();
  pacer.push(rec(6));
  assert.deepEqual(handled.length, 6);
  pacer.release();
  assert.deepEqual(handled, [0, 1, 2, 3, 4, 5, 6]);
});

Deno.test("RecordPacer.share(): a smaller budget per turn until it is undone", async () => {
  const handled: number[] = [];
  const pacer = new RecordPacer((r) => (busy(1), void handled.push(r.localUs)), 60, 5);
  pacer.start();
  try {
    const unshare = pacer.share(2);
    for (let i = 0; i < 20; i++) pacer.push(rec(i));
    assert.ok(handled.length <= 5, `about 2 ms of records at once while shared: ${handled.length}`);
    assert.equal(pacer.waiting, 20 - handled.length);
    await pacer.idle(5_000);
    assert.equal(handled.length, 20, "the rest at the next ticks");
    unshare();
    for (let i = 20; i < 40; i++) pacer.push(rec(i));
    assert.equal(handled.length, 40, "20 ms of records within the budget of 60 again");
  } finally {
    pacer.stop();
  }
  assert.deepEqual(handled, Array.from({ length: 40 }, (_, i) => i));
});
