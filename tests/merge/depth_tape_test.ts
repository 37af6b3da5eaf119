/**
 * The merged depth tape against a small exchange: events change one level each (spot ids U = u = k; futures ids
 * jump, pu = the previous u), replicas record parts of it, and replaying the merged tape (a snapshot block resets
 * the book) must give the exchange's book after every diff.
 */
import assert from "node:assert/strict";
import type { Market } from "../../lib/binance/markets.ts";
import type { AnyRow, Tagged } from "../../lib/merge/dedup.ts";
import { DepthTape } from "../../lib/merge/depth_tape.ts";

interface Event {
  U: number;
  u: number;
  pu: number;
  levels: [side: string, price: number, qty: number][];
}

/** `n` events; futures ids step by 3 (ids between are not this book's). */
function exchange(
  n: number,
  market: Market,
): { events: Event[]; bookAfter: (u: number) => Map<string, number> } {
  const step = market === "spot" ? 1 : 3;
  const events: Event[] = [];
  for (let k = 1; k <= n; k++) {
    const u = k * step;
    const levels: Event["levels"] = [["bid", 100 - (k % 4), k % 3 === 0 ? 0 : k], [
      "ask",
      101 + (k % 5),
      k + 0.5,
    ]];
    events.push({ U: u - step + 1, u, pu: u - step, levels });
  }
  const bookAfter = (u: number) => {
    const book = new Map<string, number>();
    for (const e of events) {
      if (e.u > u) break;
      for (const [side, price, qty] of e.levels) {
        if (qty === 0) book.delete(`${side}|${price}`);
        else book.set(`${side}|${price}`, qty);
      }
    }
    return book;
  };
  return { events, bookAfter };
}

/**
 * What one replica wrote: a snapshot at `from` (after that event), then the diffs up to `to`. `bridge`: the first
 * diff is event `from` itself, the one ending at the snapshot's id (futures keep it: `u >= lastUpdateId`).
 */
function record(
  ex: ReturnType<typeof exchange>,
  rec: number,
  from: number,
  to: number,
  latencyUs: number,
  bridge = false,
): Tagged[] {
  const rows: Tagged[] = [];
  const row = (r: Record<string, unknown>) => rows.push({ rec, row: { symbol: "BTCUSDT", ...r } as AnyRow });
  const snapId = ex.events[from - 1]!.u;
  for (const [key, qty] of ex.bookAfter(snapId)) {
    const [side, price] = key.split("|");
    row({
      local_time: snapId * 1000 + latencyUs + 1,
      first_update_id: snapId,
      final_update_id: snapId,
      prev_final_update_id: null,
      side,
      price: Number(price),
      quantity: qty,
      is_snapshot: true,
    });
  }
  for (const e of ex.events.slice(bridge ? from - 1 : from, to)) {
    for (const [side, price, quantity] of e.levels) {
      row({
        local_time: e.u * 1000 + latencyUs,
        first_update_id: e.U,
        final_update_id: e.u,
        prev_final_update_id: e.pu,
        side,
        price,
        quantity,
        is_snapshot: false,
      });
    }
  }
  return rows;
}

/** Replays rows in order; after each diff, its book must be the exchange's. Returns the diffs checked. */
function replay(ex: ReturnType<typeof exchange>, rows: readonly AnyRow[]): number {
  const book = new Map<string, number>();
  let checked = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const prev = rows[i - 1];
    if (r.is_snapshot && !(prev?.is_snapshot && prev.final_update_id === r.final_update_id)) book.clear();
    if (r.quantity === 0) book.delete(`${r.side}|${r.price}`);
    else book.set(`${r.side}|${r.price}`, r.quantity as number);
    const next = rows[i + 1];
    const unitEnds = next === undefined || next.final_update_id !== r.final_update_id ||
      next.is_snapshot !== r.is_snapshot;
    if (unitEnds && !r.is_snapshot) {
      assert.deepEqual(book, ex.bookAfter(r.final_update_id as number), `book after ${r.final_update_id}`);
      checked++;
    }
  }
  return checked;
}

for (const market of ["spot", "usdm"] as const) {
  Deno.test(`depth tape (${market}): two replicas with overlapping records replay into the exchange's book`, () => {
    const ex = exchange(40, market);
    const tape = new DepthTape(market);
    // A: synced at event 2, records to 25. B (slower by 300 µs): synced at 10, records to 40.
    const a = record(ex, 0, 2, 25, 100);
    const b = record(ex, 1, 10, 40, 400);
    const out = tape.merge("BTCUSDT", [...a, ...b]);
    assert.equal(replay(ex, out), 38, "every diff from 3 to 40 once");
    assert.equal(
      out.filter((r) => r.is_snapshot).length,
      ex.bookAfter(ex.events[1]!.u).size,
      "B's snapshot is redundant",
    );
    const diffsOf = (rows: readonly AnyRow[]) => rows.filter((r) => !r.is_snapshot);
    // Diffs both have come from A (earlier arrival).
    assert.ok(
      diffsOf(out).filter((r) => (r.final_update_id as number) <= ex.events[24]!.u).every((r) =>
        r.local_time % 1000 === 100
      ),
    );
    assert.deepEqual(tape.holes, []);
    assert.equal(tape.counts.read, a.length + b.length);
    assert.equal(tape.counts.kept, out.length);
    assert.equal(tape.counts.read, tape.counts.kept + tape.counts.duplicates + tape.counts.superseded);
  });

  Deno.test(`depth tape (${market}): updates both missed are a hole across their snapshots; the book recovers`, () => {
    const ex = exchange(30, market);
    const tape = new DepthTape(market);
    // Both synced at 1; A lost 13..16 and resynced at 16, B lost 12..17 and resynced at 17.
    const rows = [
      ...record(ex, 0, 1, 12, 100),
      ...record(ex, 0, 16, 30, 100),
      ...record(ex, 1, 1, 11, 200),
      ...record(ex, 1, 17, 30, 200),
    ];
    const out = tape.merge("BTCUSDT", rows);
    assert.equal(replay(ex, out), 11 + 14);
    const id = (k: number) => ex.events[k - 1]!.u;
    assert.deepEqual(tape.holes, [{
      symbol: "BTCUSDT",
      lastId: id(12),
      resumeId: id(16),
      fromUs: id(12) * 1000 + 100,
      toUs: id(17) * 1000 + 100,
    }]);
  });
}

Deno.test("depth tape (usdm): a diff ending at its snapshot's id follows the snapshot where the tape has no book", () => {
  const ex = exchange(30, "usdm");
  const tape = new DepthTape("usdm");
  // Both first synced at 3, the diff ending at the snapshot's id first; both lost 13..15, resynced at 16 alike.
  const rows = [
    ...record(ex, 0, 3, 12, 100, true),
    ...record(ex, 0, 16, 30, 100, true),
    ...record(ex, 1, 3, 12, 200, true),
    ...record(ex, 1, 16, 30, 200, true),
  ];
  const out = tape.merge("BTCUSDT", rows);
  assert.equal(out[0]!.is_snapshot, true, "the tape starts with a snapshot");
  assert.equal(replay(ex, out), 10 + 15, "diffs 3..12 and 16..30, each on the book of its own id");
  const id = (k: number) => ex.events[k - 1]!.u;
  assert.deepEqual(tape.holes.map((h) => [h.lastId, h.resumeId]), [[id(12), id(16)]]);
  assert.equal(tape.counts.read, tape.counts.kept + tape.counts.duplicates + tape.counts.superseded);
});

Deno.test("depth tape: copies in the next hour are duplicates; an older snapshot there is superseded, not replayed", () => {
  const ex = exchange(20, "spot");
  const tape = new DepthTape("spot");
  // Arrival times shifted so that the hour turns right after event 9.
  const hour = 3_600_000_000;
  const shift = (rows: Tagged[]) =>
    rows.map((t) => ({ ...t, row: { ...t.row, local_time: t.row.local_time + hour - 10_000 } }));
  const a = shift(record(ex, 0, 1, 20, 100));
  const first = tape.merge("BTCUSDT", a.filter((t) => t.row.local_time < hour));
  tape.endHour();
  // B's copies of 9..20 arrive in the next hour, and its snapshot at 8 too: older than the tape.
  const b = shift(record(ex, 1, 8, 20, 300));
  const second = tape.merge("BTCUSDT", [...a.filter((t) => t.row.local_time >= hour), ...b]);
  assert.equal(replay(ex, [...first, ...second]), 19);
  const snapshot8 = ex.bookAfter(8).size;
  assert.equal(tape.counts.superseded, snapshot8, "B's snapshot block was dropped, not replayed");
  const levels = 2;
  assert.equal(tape.counts.duplicates, 12 * levels, "B's diffs 9..20 are copies");
  assert.equal(tape.counts.read, tape.counts.kept + tape.counts.duplicates + tape.counts.superseded);
});

Deno.test("depth tape: a diff is the union of its copies' levels; of snapshot blocks with one id the deepest stays", () => {
  const tape = new DepthTape("spot");
  const row = (rec: number, id: number, snapshot: boolean, price: number, local: number): Tagged => ({
    rec,
    row: {
      symbol: "BTCUSDT",
      local_time: local,
      first_update_id: id,
      final_update_id: id,
      prev_final_update_id: null,
      side: "bid",
      price,
      quantity: 1,
      is_snapshot: snapshot,
    },
  });
  const out = tape.merge("BTCUSDT", [
    row(0, 5, true, 99, 10),
    row(1, 5, true, 99, 5),
    row(1, 5, true, 98, 5),
    row(0, 6, false, 100, 20),
    row(1, 6, false, 100, 21),
    row(1, 6, false, 101, 21),
  ]);
  assert.deepEqual(out.map((r) => [r.final_update_id, r.is_snapshot, r.price, r.local_time]), [
    [5, true, 99, 5],
    [5, true, 98, 5],
    [6, false, 100, 20],
    [6, false, 101, 21],
  ]);
});
