import assert from "node:assert/strict";
import { CallQueue, type Queued } from "../../lib/binance/rest_queue.ts";

const call = (priority: Queued["priority"], seq: number, deadline = 0): Queued => ({
  priority,
  seq,
  deadline,
});

Deno.test("CallQueue picks the most urgent priority, then the oldest call, and leaves it queued", () => {
  const q = new CallQueue();
  const late = call("backfill", 0);
  const normal = call("normal", 1);
  const snap2 = call("snapshot", 3);
  const snap1 = call("snapshot", 2);
  for (const c of [late, normal, snap2, snap1]) q.push(c);
  assert.equal(q.next(), snap1);
  assert.equal(q.length, 4);
  q.remove(snap1);
  assert.equal(q.next(), snap2);
  q.remove(snap2);
  assert.equal(q.next(), normal);
  q.remove(normal);
  assert.equal(q.next(), late);
  q.remove(late);
  assert.equal(q.next(), undefined);
});

Deno.test("CallQueue: a call put back keeps its place by its arrival number", () => {
  const q = new CallQueue();
  const first = call("normal", 0);
  const second = call("normal", 1);
  q.push(first);
  q.push(second);
  q.remove(first);
  q.push(first); // re-queued after a backoff: now last in the array
  assert.equal(q.next(), first);
});

Deno.test("CallQueue.removeDueBefore() takes out the calls that cannot wait, in queue order", () => {
  const q = new CallQueue();
  const a = call("normal", 0, 100);
  const b = call("backfill", 1, 50);
  const c = call("snapshot", 2, 200);
  const d = call("normal", 3, 10);
  for (const x of [a, b, c, d]) q.push(x);
  assert.deepEqual(q.removeDueBefore(100), [b, d]);
  assert.equal(q.length, 2);
  assert.deepEqual(q.removeDueBefore(100), []);
  assert.deepEqual(q.drain(), [a, c]);
  assert.equal(q.length, 0);
});
