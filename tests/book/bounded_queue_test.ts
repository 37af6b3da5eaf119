import assert from "node:assert/strict";
import { BoundedQueue } from "../../lib/book/bounded_queue.ts";

function contents<T>(q: BoundedQueue<T>): T[] {
  return Array.from({ length: q.size }, (_, i) => q.at(i)!);
}

Deno.test("BoundedQueue is FIFO and evicts the oldest item when full", () => {
  const q = new BoundedQueue<number>(3);
  assert.deepEqual([q.push(1), q.push(2), q.push(3)], [undefined, undefined, undefined]);
  assert.equal(q.push(4), 1);
  assert.equal(q.push(5), 2);
  assert.deepEqual(contents(q), [3, 4, 5]);
  assert.equal(q.shift(), 3);
  assert.equal(q.size, 2);
  assert.equal(q.max, 3);
  assert.equal(q.at(-1), undefined);
  assert.equal(q.at(2), undefined);
});

Deno.test("BoundedQueue.drop() and clear() remove from the front", () => {
  const q = new BoundedQueue<string>(10);
  for (const s of "abcdef") q.push(s);
  q.drop(2);
  assert.deepEqual(contents(q), ["c", "d", "e", "f"]);
  q.drop(0);
  assert.equal(q.size, 4);
  q.drop(99);
  assert.equal(q.size, 0);
  assert.equal(q.shift(), undefined);
  q.push("g");
  q.clear();
  assert.equal(q.size, 0);
});

Deno.test("BoundedQueue keeps order across compaction of a long-lived queue", () => {
  const q = new BoundedQueue<number>(5000);
  let next = 0;
  let expected = 0;
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 300; i++) q.push(next++);
    for (let i = 0; i < 250; i++) assert.equal(q.shift(), expected++);
  }
  assert.equal(q.size, next - expected);
  assert.deepEqual(contents(q), Array.from({ length: q.size }, (_, i) => expected + i));
});

Deno.test("BoundedQueue rejects a non-positive or fractional max", () => {
  assert.throws(() => new BoundedQueue(0), RangeError);
  assert.throws(() => new BoundedQueue(2.5), RangeError);
});
