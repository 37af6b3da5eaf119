import assert from "node:assert/strict";
import type { DepthDiff, DepthSnapshot, Market } from "../../lib/binance/types.ts";
import {
  BookSync,
  type BookSyncOptions,
  type SequenceGap,
  type SnapshotRequestReason,
} from "../../lib/book/sync.ts";

const SYMBOL = "BTCUSDT";
const START = 10_000;

/**
 * A synthetic stream: diff i covers ids START+10i+1 .. START+10(i+1) on spot (contiguous), and on usdm starts at
 * START+10i+5 with pu = START+10i (U skips, as on real futures streams). Diff i sets bid 100+i and ask 1000-i, so
 * after applying diff i the best bid is 100+i and the best ask 1000-i: the book shows which diff it holds.
 */
function stream(market: Market, count: number): DepthDiff[] {
  return Array.from({ length: count }, (_, i) => ({
    symbol: SYMBOL,
    eventTime: 1_700_000_000_000 + i,
    transactionTime: market === "usdm" ? 1_700_000_000_000 + i : null,
    firstUpdateId: START + 10 * i + (market === "spot" ? 1 : 5),
    finalUpdateId: START + 10 * (i + 1),
    prevFinalUpdateId: market === "usdm" ? START + 10 * i : null,
    bids: [[100 + i, 1]],
    asks: [[1000 - i, 1]],
  }));
}

/** A snapshot at `lastUpdateId` with one deep level per side (below/above every diff's level). */
function snapshot(lastUpdateId: number): DepthSnapshot {
  return {
    symbol: SYMBOL,
    lastUpdateId,
    eventTime: null,
    transactionTime: null,
    bids: [[50, 5]],
    asks: [[2000, 5]],
  };
}

/** A snapshot id strictly inside diff i (both markets apply diff i first). */
const inside = (d: DepthDiff) => d.finalUpdateId - 2;

/** Everything the sink saw, in order; `applied` records the best bid after each applied diff. */
class Recorder {
  log: string[] = [];
  requests: SnapshotRequestReason[] = [];
  gaps: SequenceGap[] = [];
  appliedBids: number[] = [];
  readonly sync: BookSync;
  received = 0;

  constructor(market: Market, options?: BookSyncOptions) {
    this.sync = new BookSync(market, SYMBOL, {
      needSnapshot: (symbol, reason) => {
        assert.equal(symbol, SYMBOL);
        this.requests.push(reason);
        this.log.push(`need:${reason}`);
      },
      snapshotApplied: (snap, book) => {
        assert.equal(book.lastUpdateId, snap.lastUpdateId);
        this.log.push(`snapshot:${snap.lastUpdateId}`);
      },
      diffApplied: (d, book) => {
        assert.equal(book.lastUpdateId, d.finalUpdateId);
        this.appliedBids.push(book.bestBid()!);
        this.log.push(`diff:${d.finalUpdateId}`);
      },
      gap: (g) => {
        this.gaps.push(g);
        this.log.push(`gap:${g.lastUpdateId}`);
      },
    }, options);
  }

  feed(...diffs: DepthDiff[]): string[] {
    this.received += diffs.length;
    return diffs.map((d) => this.sync.onDiff(d));
  }

  /** Every diff received is applied, dropped, a duplicate, or still buffered. */
  assertAccounted(): void {
    const c = this.sync.counters;
    assert.equal(
      c.applied + c.dropped + c.duplicates + this.sync.buffered,
      this.received,
      "diffs accounted for",
    );
  }
}

for (const market of ["spot", "usdm"] as const) {
  Deno.test(`BookSync(${market}): idle -> buffering on the first diff, one snapshot request`, () => {
    const r = new Recorder(market);
    const d = stream(market, 3);
    assert.equal(r.sync.state, "idle");
    assert.deepEqual(r.feed(...d), ["buffered", "buffered", "buffered"]);
    assert.equal(r.sync.state, "buffering");
    assert.equal(r.sync.buffered, 3);
    assert.deepEqual(r.requests, ["start"]);
    assert.equal(r.sync.book.size, 0);
    r.assertAccounted();
  });

  Deno.test(`BookSync(${market}): snapshot covered by the buffer syncs and drains it in order`, () => {
    const r = new Recorder(market);
    const d = stream(market, 6);
    r.feed(...d.slice(0, 4));
    assert.equal(r.sync.onSnapshot(snapshot(inside(d[1]!))), "synced");
    assert.equal(r.sync.state, "synced");
    assert.deepEqual(r.log, [
      "need:start",
      `snapshot:${inside(d[1]!)}`,
      `diff:${d[1]!.finalUpdateId}`,
      `diff:${d[2]!.finalUpdateId}`,
      `diff:${d[3]!.finalUpdateId}`,
    ]);
    assert.deepEqual(r.feed(d[4]!, d[5]!), ["applied", "applied"]);
    assert.deepEqual(r.appliedBids, [101, 102, 103, 104, 105]); // the book was read after each diff
    assert.equal(r.sync.book.lastUpdateId, d[5]!.finalUpdateId);
    assert.equal(r.sync.book.bestAsk(), 995);
    assert.equal(r.sync.book.size, 2 + 5 * 2);
    assert.deepEqual({ ...r.sync.counters }, {
      applied: 5,
      dropped: 1,
      duplicates: 0,
      gaps: 0,
      resyncs: 0,
      snapshotsRejected: 0,
      overflowed: 0,
    });
    assert.equal(r.sync.buffered, 0);
    r.assertAccounted();
  });

  Deno.test(`BookSync(${market}): a snapshot older than the buffered stream is rejected and refetched`, () => {
    const r = new Recorder(market);
    const d = stream(market, 3);
    r.feed(...d);
    assert.equal(r.sync.onSnapshot(snapshot(START - 20)), "tooOld");
    assert.equal(r.sync.state, "buffering");
    assert.equal(r.sync.buffered, 3, "the buffer is kept whole for the next snapshot");
    assert.deepEqual(r.requests, ["start", "snapshotTooOld"]);
    assert.equal(r.sync.counters.snapshotsRejected, 1);
    assert.equal(r.sync.onSnapshot(snapshot(inside(d[0]!))), "synced");
    assert.deepEqual(r.appliedBids, [100, 101, 102]);
    r.assertAccounted();
  });

  Deno.test(`BookSync(${market}): a hole between the snapshot and the first kept diff is refetched`, () => {
    const r = new Recorder(market);
    const d = stream(market, 5);
    r.feed(d[0]!, d[3]!, d[4]!); // d[1] and d[2] never arrived
    assert.equal(r.sync.onSnapshot(snapshot(inside(d[1]!))), "tooOld");
    assert.equal(r.sync.buffered, 3);
    assert.deepEqual(r.requests, ["start", "snapshotTooOld"]);
    assert.equal(r.sync.onSnapshot(snapshot(inside(d[3]!))), "synced");
    assert.deepEqual(r.appliedBids, [103, 104]);
    assert.equal(r.sync.counters.dropped, 1);
    r.assertAccounted();
  });

  Deno.test(`BookSync(${market}): a snapshot ahead of every buffered diff syncs the book; the next diff must bridge it`, () => {
    const r = new Recorder(market);
    const d = stream(market, 6);
    r.feed(d[0]!, d[1]!);
    assert.equal(r.sync.onSnapshot(snapshot(inside(d[3]!))), "synced");
    assert.equal(r.sync.state, "synced");
    assert.equal(r.sync.buffered, 0);
    assert.equal(r.sync.book.bestBid(), 50, "the book is the snapshot's");
    assert.deepEqual(r.log.slice(1), [`snapshot:${inside(d[3]!)}`]);
    assert.deepEqual(r.feed(d[2]!), ["dropped"], "older than the snapshot");
    // d[3] straddles the snapshot (futures: pu < lastUpdateId < u, so the stream rule pu == L would call it a gap).
    assert.deepEqual(r.feed(d[3]!), ["applied"]);
    assert.deepEqual(r.feed(d[4]!, d[5]!), ["applied", "applied"]);
    assert.deepEqual(r.appliedBids, [103, 104, 105]);
    assert.deepEqual(r.requests, ["start"]);
    assert.equal(r.sync.counters.dropped, 3);
    r.assertAccounted();
  });

  Deno.test(`BookSync(${market}): a diff that jumps past such a snapshot is a gap, and the book resyncs`, () => {
    const r = new Recorder(market);
    const d = stream(market, 6);
    r.feed(d[0]!);
    const id = d[1]!.finalUpdateId + 1;
    assert.equal(r.sync.onSnapshot(snapshot(id)), "synced");
    assert.deepEqual(r.feed(d[3]!), ["gap"]); // d[2] (which covered the snapshot) was lost
    assert.equal(r.sync.state, "buffering");
    assert.deepEqual(r.requests, ["start", "gap"]);
    assert.deepEqual(r.gaps.map((g) => [g.lastUpdateId, g.finalUpdateId]), [[id, d[3]!.finalUpdateId]]);
    assert.equal(r.sync.onSnapshot(snapshot(inside(d[3]!))), "synced");
    assert.deepEqual(r.appliedBids, [103]);
    assert.equal(r.sync.counters.resyncs, 1);
    r.assertAccounted();
  });

  Deno.test(`BookSync(${market}): a snapshot in idle is kept pending`, () => {
    const r = new Recorder(market);
    const d = stream(market, 2);
    assert.equal(r.sync.onSnapshot(snapshot(inside(d[0]!))), "pending");
    assert.equal(r.sync.state, "buffering");
    assert.deepEqual(r.feed(d[0]!, d[1]!), ["applied", "applied"]);
    assert.deepEqual(r.requests, [], "no fetch needed: the snapshot came first");
    r.assertAccounted();
  });

  Deno.test(`BookSync(${market}): duplicates are ignored and counted while synced`, () => {
    const r = new Recorder(market);
    const d = stream(market, 4);
    r.feed(d[0]!, d[1]!);
    r.sync.onSnapshot(snapshot(inside(d[0]!)));
    assert.deepEqual(r.feed(d[0]!, d[1]!, d[2]!, d[2]!, d[3]!), [
      "duplicate",
      "duplicate",
      "applied",
      "duplicate",
      "applied",
    ]);
    assert.equal(r.sync.counters.duplicates, 3);
    assert.deepEqual(r.appliedBids, [100, 101, 102, 103]);
    assert.equal(r.sync.counters.gaps, 0);
    r.assertAccounted();
  });

  Deno.test(`BookSync(${market}): a gap discards the book, buffers from the breaking diff, and resyncs`, () => {
    const r = new Recorder(market);
    const d = stream(market, 8);
    r.feed(d[0]!);
    r.sync.onSnapshot(snapshot(inside(d[0]!)));
    r.feed(d[1]!);
    assert.deepEqual(r.feed(d[3]!), ["gap"]); // d[2] lost
    assert.equal(r.sync.state, "buffering");
    assert.equal(r.sync.book.size, 0);
    assert.equal(r.sync.buffered, 1);
    assert.deepEqual(r.gaps, [{
      market,
      symbol: SYMBOL,
      lastUpdateId: d[1]!.finalUpdateId,
      firstUpdateId: d[3]!.firstUpdateId,
      finalUpdateId: d[3]!.finalUpdateId,
      prevFinalUpdateId: d[3]!.prevFinalUpdateId,
      reason: r.gaps[0]!.reason,
    }]);
    assert.match(
      r.gaps[0]!.reason,
      market === "spot" ? /^spot: U \d+ > lastUpdateId \+ 1/ : /^usdm: pu \d+ !=/,
    );
    assert.deepEqual(r.log.slice(-2), [`gap:${d[1]!.finalUpdateId}`, "need:gap"]);
    assert.deepEqual(r.feed(d[4]!, d[5]!), ["buffered", "buffered"]);
    assert.equal(r.sync.onSnapshot(snapshot(inside(d[4]!))), "synced");
    assert.deepEqual(r.feed(d[6]!), ["applied"]);
    assert.deepEqual(r.appliedBids, [100, 101, 104, 105, 106]);
    assert.deepEqual(r.requests, ["start", "gap"]);
    const c = r.sync.counters;
    assert.deepEqual([c.gaps, c.resyncs, c.dropped], [1, 1, 1]);
    r.assertAccounted();
  });

  Deno.test(`BookSync(${market}): a gap inside the buffered diffs is found while draining`, () => {
    const r = new Recorder(market);
    const d = stream(market, 6);
    r.feed(d[0]!, d[1]!, d[3]!, d[4]!); // d[2] lost while buffering
    assert.equal(r.sync.onSnapshot(snapshot(inside(d[0]!))), "synced");
    assert.deepEqual(r.appliedBids, [100, 101]);
    assert.equal(r.sync.state, "buffering");
    assert.equal(r.gaps.length, 1);
    assert.equal(r.gaps[0]!.lastUpdateId, d[1]!.finalUpdateId);
    assert.equal(r.gaps[0]!.finalUpdateId, d[3]!.finalUpdateId);
    assert.equal(r.sync.buffered, 2, "the breaking diff and the rest stay buffered");
    assert.deepEqual(r.requests, ["start", "gap"]);
    assert.deepEqual(r.feed(d[5]!), ["buffered"]);
    assert.equal(r.sync.onSnapshot(snapshot(inside(d[3]!))), "synced");
    assert.deepEqual(r.appliedBids, [100, 101, 103, 104, 105]);
    assert.equal(r.sync.counters.resyncs, 1);
    r.assertAccounted();
  });

  Deno.test(`BookSync(${market}): buffer overflow drops the oldest, so older snapshots become too old`, () => {
    const r = new Recorder(market, { maxBuffered: 3 });
    const d = stream(market, 7);
    assert.deepEqual(r.feed(...d.slice(0, 5)), ["buffered", "buffered", "buffered", "buffered", "buffered"]);
    assert.equal(r.sync.buffered, 3);
    assert.equal(r.sync.counters.overflowed, 2);
    assert.equal(r.sync.counters.dropped, 2);
    // Covered by d[1], which was evicted: no longer usable.
    assert.equal(r.sync.onSnapshot(snapshot(inside(d[1]!))), "tooOld");
    assert.equal(r.sync.onSnapshot(snapshot(inside(d[2]!))), "synced");
    assert.deepEqual(r.feed(d[5]!, d[6]!), ["applied", "applied"]);
    assert.deepEqual(r.appliedBids, [102, 103, 104, 105, 106]);
    r.assertAccounted();
  });

  Deno.test(`BookSync(${market}): reset() returns to idle from any state`, () => {
    const r = new Recorder(market);
    const d = stream(market, 6);
    r.feed(d[0]!, d[1]!);
    r.sync.onSnapshot(snapshot(inside(d[0]!)));
    r.sync.reset();
    assert.equal(r.sync.state, "idle");
    assert.equal(r.sync.book.size, 0);
    assert.equal(r.sync.book.lastUpdateId, 0);
    r.feed(d[2]!, d[3]!);
    assert.deepEqual(r.requests, ["start", "start"]);
    r.sync.reset(); // while buffering: the buffered diffs are dropped
    assert.equal(r.sync.buffered, 0);
    assert.equal(r.sync.counters.dropped, 2);
    r.sync.onSnapshot(snapshot(inside(d[4]!)));
    r.sync.reset(); // while pending: the snapshot is forgotten
    assert.equal(r.sync.pendingSnapshot, null);
    assert.deepEqual(r.feed(d[4]!), ["buffered"]);
    assert.equal(r.sync.counters.resyncs, 0, "a sync after a reset is a fresh start, not a resync");
    r.assertAccounted();
  });

  Deno.test(`BookSync(${market}): a snapshot while synced is ignored`, () => {
    const r = new Recorder(market);
    const d = stream(market, 2);
    r.feed(d[0]!);
    r.sync.onSnapshot(snapshot(inside(d[0]!)));
    assert.equal(r.sync.onSnapshot(snapshot(inside(d[1]!))), "ignored");
    assert.equal(r.sync.book.lastUpdateId, d[0]!.finalUpdateId);
    assert.deepEqual(r.feed(d[1]!), ["applied"]);
  });

  Deno.test(`BookSync(${market}): diffs and snapshots of another symbol are refused`, () => {
    const r = new Recorder(market);
    const d = stream(market, 1)[0]!;
    assert.throws(() => r.sync.onDiff({ ...d, symbol: "ETHUSDT" }), RangeError);
    assert.throws(() => r.sync.onSnapshot({ ...snapshot(1), symbol: "ETHUSDT" }), /ETHUSDT/);
    assert.equal(r.sync.state, "idle");
  });
}

Deno.test("BookSync(spot): on a snapshot id equal to a diff's u, that diff is dropped and the next applies", () => {
  const r = new Recorder("spot");
  const d = stream("spot", 3);
  r.feed(...d);
  r.sync.onSnapshot(snapshot(d[0]!.finalUpdateId));
  assert.deepEqual(r.appliedBids, [101, 102]);
  assert.equal(r.sync.counters.dropped, 1);
});

Deno.test("BookSync(usdm): on a snapshot id equal to a diff's u, that diff applies (U <= L <= u)", () => {
  const r = new Recorder("usdm");
  const d = stream("usdm", 3);
  r.feed(...d);
  r.sync.onSnapshot(snapshot(d[0]!.finalUpdateId));
  assert.deepEqual(r.appliedBids, [100, 101, 102]);
  assert.equal(r.sync.counters.dropped, 0);
});

Deno.test("BookSync(usdm): a snapshot id between two diffs (pu <= L < U) syncs on the next diff", () => {
  const r = new Recorder("usdm");
  const d = stream("usdm", 3);
  r.feed(...d);
  r.sync.onSnapshot(snapshot(d[0]!.finalUpdateId + 2)); // d[1] has pu = d[0].u and U = d[0].u + 5
  assert.deepEqual(r.appliedBids, [101, 102]);
});

Deno.test("BookSync(spot): an overlapping diff (U < L+1 <= u) applies after sync", () => {
  const r = new Recorder("spot");
  const d = stream("spot", 3);
  r.feed(d[0]!);
  r.sync.onSnapshot(snapshot(inside(d[0]!)));
  const overlap = { ...d[1]!, firstUpdateId: d[0]!.finalUpdateId - 3 };
  assert.deepEqual(r.feed(overlap, d[2]!), ["applied", "applied"]);
});

Deno.test("BookSync(usdm): a diff without pu is a TypeError", () => {
  const r = new Recorder("usdm");
  const d = stream("usdm", 2);
  r.feed(d[0]!);
  r.sync.onSnapshot(snapshot(inside(d[0]!)));
  assert.throws(() => r.sync.onDiff({ ...d[1]!, prevFinalUpdateId: null }), TypeError);
});

Deno.test("BookSync rejects a non-positive maxBuffered", () => {
  const sink = { needSnapshot() {}, snapshotApplied() {}, diffApplied() {}, gap() {} };
  assert.throws(() => new BookSync("spot", SYMBOL, sink, { maxBuffered: 0 }), RangeError);
  assert.throws(() => new BookSync("spot", SYMBOL, sink, { maxBuffered: 1.5 }), RangeError);
  assert.equal(new BookSync("spot", SYMBOL, sink).counters.applied, 0);
});
