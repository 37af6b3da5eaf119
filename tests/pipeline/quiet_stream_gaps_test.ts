/**
 * Where the gap of a stream that has admitted no message yet begins: at the last point its data was known
 * whole (a book's snapshot), else when its connection subscribed; not when the silence is noticed, which would
 * leave the time before outside every gap row.
 */
import assert from "node:assert/strict";
import { planStreams } from "../../lib/binance/stream_plan.ts";
import { MarketNormalizer } from "../../lib/pipeline/normalizer.ts";
import { RecordKind } from "../../lib/pipeline/records.ts";
import type { Row } from "../../lib/storage/tables.ts";
import { recordsOf } from "./_records.ts";

const S = 1_000_000;

function normalizerOf(market: "spot" | "usdm", streams: string[]) {
  const plan = planStreams({ market, wsUrl: "wss://example", symbols: ["BTCUSDT"], streams });
  const gaps: Row<"gaps">[] = [];
  const n = new MarketNormalizer(plan, { row: () => {} }, {
    needSnapshot: () => {},
    gap: (_m, g) => gaps.push(g),
  }, { topLevels: 5 });
  return { n, gaps, key: plan.connections[0]!.key, rec: recordsOf(market) };
}

const diff = (ms: number, first: number, last: number) =>
  JSON.stringify({
    stream: "btcusdt@depth@100ms",
    data: { e: "depthUpdate", E: ms, s: "BTCUSDT", U: first, u: last, b: [["100", "1"]], a: [["101", "1"]] },
  });

const snapshot = (lastUpdateId: number) =>
  JSON.stringify({ lastUpdateId, bids: [["100", "2"]], asks: [["101", "2"]] });

/** A spot BTCUSDT book: subscribed at 1 s, a diff buffered at 1.5 s, synced from a snapshot (id 12) at 2 s. */
function syncedBook() {
  const t = normalizerOf("spot", ["depth@100ms"]);
  const { n, key, rec } = t;
  n.process(rec(1 * S, 1, RecordKind.ConnOpen, key));
  n.process(rec(1 * S, 1, RecordKind.Subscribed));
  n.process(rec(1.5 * S, 1, RecordKind.Frame, diff(1500, 10, 11)));
  n.process(rec(2 * S, 0, RecordKind.Snapshot, snapshot(12), "BTCUSDT"));
  assert.equal(n.bookOf("BTCUSDT")?.state, "synced");
  return t;
}

const mark = (ms: number) =>
  JSON.stringify({
    stream: "btcusdt@markPrice@1s",
    data: { e: "markPriceUpdate", E: ms, s: "BTCUSDT", p: "1", i: "1", P: "1", r: "0", T: ms + 1000 },
  });

Deno.test("quiet streams: a book silent since its snapshot gets a stale gap from the snapshot, unless the next diff chains", () => {
  // Updates 13–19 are lost during the silence: the gap runs from the snapshot to the next sync.
  const lost = syncedBook();
  lost.n.process(lost.rec(62 * S, 0, RecordKind.Stale, "btcusdt@depth@100ms"));
  lost.n.process(lost.rec(70 * S, 1, RecordKind.Frame, diff(70_000, 20, 21)));
  lost.n.process(lost.rec(71 * S, 0, RecordKind.Snapshot, snapshot(22), "BTCUSDT"));
  assert.deepEqual(lost.gaps.map((g) => [g.kind, g.start_time, g.end_time]), [["stale", 2 * S, 71 * S]]);
  assert.match(lost.gaps[0]!.reason, /no message on btcusdt@depth@100ms for 60\.0 s/);

  // The book did not change for a minute (Binance sends no diff then): the next diff chains on the snapshot's
  // id, so nothing was lost and no gap row is written.
  const quiet = syncedBook();
  quiet.n.process(quiet.rec(62 * S, 0, RecordKind.Stale, "btcusdt@depth@100ms"));
  quiet.n.process(quiet.rec(70 * S, 1, RecordKind.Frame, diff(70_000, 13, 14)));
  quiet.n.process(quiet.rec(80 * S, 1, RecordKind.Frame, diff(80_000, 15, 15)));
  assert.equal(quiet.gaps.length, 0, JSON.stringify(quiet.gaps));
  // The stream is live again: a later silence is a gap of its own, from the last diff.
  quiet.n.process(quiet.rec(141 * S, 0, RecordKind.Stale, "btcusdt@depth@100ms"));
  quiet.n.process(quiet.rec(150 * S, 1, RecordKind.Frame, diff(150_000, 30, 31)));
  quiet.n.process(quiet.rec(151 * S, 0, RecordKind.Snapshot, snapshot(32), "BTCUSDT"));
  assert.deepEqual(quiet.gaps.map((g) => [g.kind, g.start_time, g.end_time]), [["stale", 80 * S, 151 * S]]);
});

const futuresDiff = (ms: number, first: number, last: number, prev: number) =>
  JSON.stringify({
    stream: "btcusdt@depth@100ms",
    data: {
      e: "depthUpdate",
      E: ms,
      T: ms,
      s: "BTCUSDT",
      U: first,
      u: last,
      pu: prev,
      b: [["100", "1"]],
      a: [["101", "1"]],
    },
  });

Deno.test("quiet streams: a futures book's silence is no gap when the next diff's pu is the last diff's u", () => {
  for (const [pu, rows] of [[14, 0], [15, 1]] as const) {
    const { n, gaps, key, rec } = normalizerOf("usdm", ["depth@100ms"]);
    n.process(rec(1 * S, 1, RecordKind.ConnOpen, key));
    n.process(rec(1 * S, 1, RecordKind.Subscribed));
    n.process(rec(1.5 * S, 1, RecordKind.Frame, futuresDiff(1500, 10, 14, 9)));
    n.process(rec(2 * S, 0, RecordKind.Snapshot, snapshot(12), "BTCUSDT"));
    assert.equal(n.bookOf("BTCUSDT")?.state, "synced");
    n.process(rec(62 * S, 0, RecordKind.Stale, "btcusdt@depth@100ms"));
    n.process(rec(70 * S, 1, RecordKind.Frame, futuresDiff(70_000, 20, 25, pu)));
    n.process(rec(71 * S, 0, RecordKind.Snapshot, snapshot(30), "BTCUSDT"));
    assert.equal(gaps.length, rows, `pu ${pu}: ${JSON.stringify(gaps)}`);
  }
});

Deno.test("quiet streams: a stream that never delivered gets a stale gap from its subscription", () => {
  const { n, gaps, key, rec } = normalizerOf("usdm", ["markPrice@1s"]);
  n.process(rec(1 * S, 1, RecordKind.ConnOpen, key));
  n.process(rec(1.2 * S, 1, RecordKind.Subscribed));
  n.process(rec(6.2 * S, 0, RecordKind.Stale, "btcusdt@markPrice@1s"));
  n.process(rec(7 * S, 1, RecordKind.Frame, mark(7000)));
  assert.deepEqual(gaps.map((g) => [g.kind, g.start_time, g.end_time]), [["stale", 1.2 * S, 7 * S]]);
  assert.match(gaps[0]!.reason, /for 5\.0 s/);
});

Deno.test("quiet streams: a stream that delivered gets its stale gap from its last message", () => {
  const { n, gaps, key, rec } = normalizerOf("usdm", ["markPrice@1s"]);
  n.process(rec(1 * S, 1, RecordKind.ConnOpen, key));
  n.process(rec(1.2 * S, 1, RecordKind.Subscribed));
  n.process(rec(2 * S, 1, RecordKind.Frame, mark(2000)));
  n.process(rec(7.5 * S, 0, RecordKind.Stale, "btcusdt@markPrice@1s"));
  n.process(rec(8 * S, 1, RecordKind.Frame, mark(8000)));
  assert.deepEqual(gaps.map((g) => [g.kind, g.start_time, g.end_time]), [["stale", 2 * S, 8 * S]]);
});

Deno.test("quiet streams: a sequence gap begins at the last diff applied, or at the snapshot if none was", () => {
  const busy = syncedBook();
  busy.n.process(busy.rec(9 * S, 1, RecordKind.Frame, diff(9000, 13, 14)));
  // Updates 15–19 are lost: the diff at 30 s does not chain on 14.
  busy.n.process(busy.rec(30 * S, 1, RecordKind.Frame, diff(30_000, 20, 21)));
  busy.n.process(busy.rec(31 * S, 0, RecordKind.Snapshot, snapshot(22), "BTCUSDT"));
  assert.deepEqual(busy.gaps.map((g) => [g.kind, g.start_time, g.end_time]), [["sequence", 9 * S, 31 * S]]);

  const quiet = syncedBook();
  // The first diff after the snapshot does not bridge it: 13–19 are lost, somewhere after the snapshot.
  quiet.n.process(quiet.rec(30 * S, 1, RecordKind.Frame, diff(30_000, 20, 21)));
  quiet.n.process(quiet.rec(31 * S, 0, RecordKind.Snapshot, snapshot(22), "BTCUSDT"));
  assert.deepEqual(quiet.gaps.map((g) => [g.kind, g.start_time, g.end_time]), [["sequence", 2 * S, 31 * S]]);
});
