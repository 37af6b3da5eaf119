import assert from "node:assert/strict";
import { Admit, StreamCursor } from "../../lib/pipeline/stream_cursor.ts";

/** Feeds frames and returns the keys written, in the order a writer would see them. */
function harness(contiguous: boolean) {
  const c = new StreamCursor<number>(contiguous);
  const written: number[] = [];
  const holes: number[] = [];
  const take = (key: number, a: Admit) => {
    if (a === Admit.Accept || a === Admit.Hole) written.push(key);
    if (a === Admit.Hole) holes.push(key);
  };
  const feed = (conn: number, key: number): Admit => {
    const a = c.admit(conn, key, 0, key);
    for (const r of c.drain()) take(r.item, r.admit);
    take(key, a);
    return a;
  };
  const detach = (conn: number): boolean => {
    const covered = c.detach(conn);
    for (const r of c.drain()) take(r.item, r.admit);
    return covered;
  };
  return { c, written, holes, feed, detach };
}

Deno.test("StreamCursor admits the owner's contiguous keys and flags a hole", () => {
  const { c, feed, holes } = harness(true);
  c.attach(1);
  assert.equal(feed(1, 10), Admit.Accept);
  assert.equal(feed(1, 11), Admit.Accept);
  assert.equal(feed(1, 11), Admit.Duplicate);
  assert.equal(feed(1, 14), Admit.Hole);
  assert.deepEqual(holes, [14]);
  assert.equal(c.lastKey, 14);
});

Deno.test("StreamCursor: a replacement that runs ahead is held, then released when the owner catches up", () => {
  const { c, feed, detach, written, holes } = harness(true);
  c.attach(1);
  feed(1, 100);
  c.attach(2);
  // Admitting 103 now would make the owner's 101 and 102 look old: hold it.
  assert.equal(feed(2, 103), Admit.Held);
  assert.equal(feed(1, 101), Admit.Accept);
  assert.equal(feed(2, 104), Admit.Held);
  assert.equal(feed(1, 102), Admit.Accept);
  assert.equal(feed(1, 103), Admit.Accept);
  assert.equal(c.joined(2), false);
  // The owner reached the replacement's first key: its held 104 is released before its 105.
  assert.equal(feed(2, 105), Admit.Accept);
  assert.equal(c.joined(2), true);
  assert.equal(feed(1, 104), Admit.Duplicate);
  assert.equal(feed(1, 105), Admit.Duplicate);
  assert.ok(c.allJoined());
  assert.equal(detach(1), true, "a joined replacement keeps the stream covered");
  assert.equal(c.owner, 2);
  assert.equal(feed(2, 106), Admit.Accept);
  assert.deepEqual(written, [100, 101, 102, 103, 104, 105, 106]);
  assert.deepEqual(holes, []);
});

Deno.test("StreamCursor: a replacement always one frame ahead still hands over without loss", () => {
  const { c, feed, detach, written } = harness(false);
  c.attach(1);
  feed(1, 10);
  c.attach(2);
  for (let k = 20; k <= 60; k += 10) {
    feed(2, k); // the replacement always brings each frame first
    feed(1, k);
  }
  assert.equal(c.joined(2), true);
  assert.equal(detach(1), true);
  feed(2, 70);
  assert.deepEqual(written, [10, 20, 30, 40, 50, 60, 70]);
});

Deno.test("StreamCursor: the old connection closing before the replacement joined releases its held frames", () => {
  const { c, feed, detach, written } = harness(false);
  c.attach(1);
  feed(1, 10);
  c.attach(2);
  feed(2, 30);
  feed(2, 40);
  feed(1, 20);
  feed(1, 30);
  assert.equal(c.joined(2), false, "no frame of the replacement arrived since the owner caught up");
  assert.equal(detach(1), true, "the owner reached the replacement's first frame: nothing can be missing");
  assert.deepEqual(written, [10, 20, 30, 40]);
});

Deno.test("StreamCursor: a replacement whose first frame continues the sequence joins at once", () => {
  const { c, feed } = harness(true);
  c.attach(1);
  feed(1, 5);
  c.attach(2);
  assert.equal(feed(2, 6), Admit.Accept);
  assert.equal(c.joined(2), true);
  assert.equal(feed(1, 6), Admit.Duplicate);
});

Deno.test("StreamCursor: a replacement behind the owner joins on its first duplicate", () => {
  const { c, feed } = harness(false);
  c.attach(1);
  feed(1, 1000);
  feed(1, 1010);
  c.attach(2);
  assert.equal(feed(2, 1005), Admit.Duplicate);
  assert.equal(c.joined(2), true);
  assert.equal(feed(2, 1020), Admit.Accept, "non-contiguous keys never report holes");
});

Deno.test("StreamCursor.detach without a joinable replacement leaves the stream uncovered", () => {
  const { c, feed, detach, holes } = harness(true);
  c.attach(1);
  feed(1, 1);
  c.attach(2);
  assert.equal(feed(2, 9), Admit.Held);
  assert.equal(detach(1), false);
  assert.equal(c.owner, 2, "the remaining connection owns what comes next");
  assert.deepEqual(holes, [9], "its held frame is released as a hole");
  assert.equal(feed(2, 10), Admit.Accept);
  assert.equal(detach(2), false);
  assert.equal(c.owner, -1);
});

Deno.test("StreamCursor.restart makes other connections join again", () => {
  const { c, feed } = harness(false);
  c.attach(1);
  c.attach(2);
  feed(1, 10);
  feed(2, 10);
  assert.equal(c.joined(2), true);
  c.restart(50);
  assert.equal(c.joined(2), false);
  assert.equal(feed(2, 60), Admit.Held);
  assert.equal(feed(1, 60), Admit.Accept);
  assert.equal(feed(2, 61), Admit.Accept);
});

Deno.test("StreamCursor bounds the frames it holds", () => {
  const c = new StreamCursor<number>(true, 3);
  c.attach(1);
  c.admit(1, 1, 0, 1);
  c.attach(2);
  for (const k of [5, 6, 7, 8]) assert.equal(c.admit(2, k, 0, k), Admit.Held);
  assert.equal(c.detach(1), false);
  assert.deepEqual(c.drain().map((r) => [r.item, r.admit]), [[6, Admit.Hole], [7, Admit.Accept], [
    8,
    Admit.Accept,
  ]]);
});

Deno.test("StreamCursor: a quiet stream hands over to a replacement subscribed after its last frame", () => {
  const c = new StreamCursor<number>(false);
  c.attach(1, 0);
  c.admit(1, 10, 100, 10);
  c.attach(2, 200);
  assert.equal(c.ready(2), true, "nothing arrived since the replacement subscribed");
  c.admit(1, 20, 300, 20);
  assert.equal(c.ready(2), false, "the owner delivered a frame the replacement has not shown yet");
  c.admit(2, 20, 310, 20);
  assert.equal(c.ready(2), true);
  assert.equal(c.detach(1), true);
});

Deno.test("StreamCursor: a replacement with unknown subscription time is not assumed ready", () => {
  const c = new StreamCursor<number>(false);
  c.attach(1, 0);
  c.attach(2);
  assert.equal(c.ready(2), false);
  assert.equal(c.detach(1), false);
});
