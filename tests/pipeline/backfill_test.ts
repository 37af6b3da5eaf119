/**
 * Holes waiting for their REST backfill: every hole ends in rows or a gap row, whether its backfill completes,
 * fails, overlaps a newer hole on the same stream, or is still pending when the collector stops (and a later run
 * then completes it).
 */
import assert from "node:assert/strict";
import { planStreams } from "../../lib/binance/stream_plan.ts";
import type { Market } from "../../lib/binance/types.ts";
import type { BackfillRequest } from "../../lib/pipeline/backfill.ts";
import { MarketNormalizer } from "../../lib/pipeline/normalizer.ts";
import type { RowSink } from "../../lib/pipeline/normalizer_contract.ts";
import { type JournalRecord, RecordKind } from "../../lib/pipeline/records.ts";
import { recordsOf } from "./_records.ts";
import type { Row, TableName } from "../../lib/storage/tables.ts";

const S = 1_000_000;
const plan = planStreams({
  market: "spot",
  wsUrl: "wss://example",
  symbols: ["BTCUSDT"],
  streams: ["aggTrade", "kline_1s"],
});
const key = plan.connections[0]!.key;

function trade(id: number, ms: number): string {
  return JSON.stringify({
    stream: "btcusdt@aggTrade",
    data: { e: "aggTrade", E: ms, s: "BTCUSDT", a: id, p: "100", q: "1", f: id, l: id, T: ms, m: false },
  });
}

function restTrades(ids: number[]): string {
  return JSON.stringify(ids.map((a) => ({ a, p: "100", q: "1", f: a, l: a, T: a * 10, m: true, M: true })));
}

/** A 1 s candle opening at `openMs`, closed or not. */
function kline(openMs: number, closed: boolean): string {
  return JSON.stringify({
    stream: "btcusdt@kline_1s",
    data: {
      e: "kline",
      E: openMs + 999,
      s: "BTCUSDT",
      k: {
        t: openMs,
        T: openMs + 999,
        s: "BTCUSDT",
        i: "1s",
        o: "1",
        c: "2",
        h: "3",
        l: "0.5",
        v: "10",
        n: 4,
        x: closed,
        q: "20",
        V: "5",
        Q: "10",
      },
    },
  });
}

function restKlines(opens: number[]): string {
  return JSON.stringify(opens.map((t) => [t, "1", "3", "0.5", "2", "10", t + 999, "20", 4, "5", "10", "0"]));
}

const rec = recordsOf("spot");

/** A normalizer with everything it writes and asks for. */
function harness() {
  const rows: { table: TableName; row: Record<string, unknown> }[] = [];
  const requests: BackfillRequest[] = [];
  const recovered: Row<"gaps">[] = [];
  const sink: RowSink = {
    row: <N extends TableName>(_m: Market, table: N, _s: string, _p: number, row: Row<N>) =>
      void rows.push({ table, row: { ...row } }),
  };
  const n = new MarketNormalizer(plan, sink, {
    needSnapshot: () => {},
    needBackfill: (_m, r) => void requests.push(r),
    gapRecovered: (_m, g) => void recovered.push(g),
  }, { topLevels: 5 });
  return {
    n,
    rows,
    requests,
    recovered,
    gaps: () => rows.filter((r) => r.table === "gaps").map((r) => r.row as Row<"gaps">),
    of: (table: TableName) => rows.filter((r) => r.table === table).map((r) => r.row),
  };
}

/** The run's first connection: opened, then subscribed, at 1 s. */
function connect(n: MarketNormalizer): void {
  n.process(rec(1 * S, 1, RecordKind.ConnOpen, key));
  n.process(rec(1 * S + 1, 1, RecordKind.Subscribed));
}

/** An outage of connection `conn` from `downUs` until connection `conn + 1` subscribes at `upUs`. */
function outage(n: MarketNormalizer, conn: number, downUs: number, upUs: number): void {
  n.process(rec(downUs, conn, RecordKind.ConnClose, "reset"));
  n.process(rec(upUs, conn + 1, RecordKind.ConnOpen, key));
  n.process(rec(upUs + 1, conn + 1, RecordKind.Subscribed));
}

function answer(req: BackfillRequest, localUs: number, body: string, failed = false): JournalRecord {
  const range = req.kind === "trades"
    ? `${req.fromId} ${req.toId}`
    : `${req.interval} ${req.fromOpenMs} ${req.toOpenMs}`;
  const kind = req.kind === "trades" ? RecordKind.BackfillTrades : RecordKind.BackfillKlines;
  return rec(localUs, 0, kind, `${range} #${req.id}${failed ? " failed" : ""}\n${body}`, req.symbol);
}

Deno.test("backfill: a new outage while the last hole's candles are pending claims no candle twice, and both end in rows", () => {
  const h = harness();
  connect(h.n);
  h.n.process(rec(2 * S, 1, RecordKind.Frame, kline(1000, true)));
  outage(h.n, 1, 3 * S, 8 * S);
  h.n.process(rec(8 * S + 10, 2, RecordKind.Frame, kline(7000, false)));
  // The second outage starts before candle 7000 closes: no socket candle closed since 1000.
  outage(h.n, 2, 8.5 * S, 15 * S);
  h.n.process(rec(15 * S + 10, 3, RecordKind.Frame, kline(14000, false)));
  assert.deepEqual(
    h.requests.map((r) => r.kind === "klines" && [r.id, r.fromOpenMs, r.toOpenMs]),
    [[1, 2000, 6000], [2, 7000, 13000]],
    "the second hole starts after the candles the first one claimed",
  );
  assert.equal(h.gaps().length, 0, "both holes wait for REST");
  // Answers arrive in the opposite order.
  h.n.process(answer(h.requests[1]!, 16 * S, restKlines([7000, 8000, 9000, 10000, 11000, 12000, 13000])));
  h.n.process(answer(h.requests[0]!, 17 * S, restKlines([2000, 3000, 4000, 5000, 6000])));
  const opens = h.of("klines").map((r) => r.open_time as number / 1000);
  assert.deepEqual(opens.sort((a, b) => a - b), [
    1000,
    ...Array.from({ length: 12 }, (_, i) => 2000 + i * 1000),
  ]);
  // Each gap starts at the last frame its connection delivered.
  assert.deepEqual(h.gaps().map((g) => [g.kind, g.start_time]), [["backfilled", 8 * S + 10], [
    "backfilled",
    2 * S,
  ]]);
});

Deno.test("backfill: closed candles skipped on a live connection are a hole: recovered from REST, else a gap row", () => {
  for (const restAnswers of [true, false]) {
    const h = harness();
    connect(h.n);
    h.n.process(rec(2 * S, 1, RecordKind.Frame, kline(1000, true)));
    h.n.process(rec(3 * S, 1, RecordKind.Frame, kline(2000, true)));
    // Candles 3000 and 4000 never arrive (dropped frames); the connection stays up.
    h.n.process(rec(6 * S, 1, RecordKind.Frame, kline(5000, true)));
    assert.deepEqual(h.requests.map((r) => r.kind === "klines" && [r.fromOpenMs, r.toOpenMs]), [[
      3000,
      4000,
    ]]);
    h.n.process(
      restAnswers
        ? answer(h.requests[0]!, 7 * S, restKlines([3000, 4000]))
        : answer(h.requests[0]!, 7 * S, "HTTP 503", true),
    );
    const opens = h.of("klines").map((r) => r.open_time as number / 1000).sort((a, b) => a - b);
    const gaps = h.gaps();
    assert.equal(gaps.length, 1);
    assert.equal(gaps[0]!.stream, "kline_1s");
    assert.equal(gaps[0]!.start_time, 3 * S, "from the last frame before the hole");
    assert.match(gaps[0]!.reason, /closed candles jump from open time 2000 to 5000/);
    if (restAnswers) {
      assert.deepEqual(opens, [1000, 2000, 3000, 4000, 5000]);
      assert.equal(gaps[0]!.kind, "backfilled");
    } else {
      assert.deepEqual(opens, [1000, 2000, 5000]);
      assert.equal(gaps[0]!.kind, "sequence", "the candles stay missing, inside this gap row");
    }
  }
});

Deno.test("backfill: a stop while REST is pending writes each hole's gap row; a later run recovers it and adds a backfilled row", () => {
  const first = harness();
  connect(first.n);
  first.n.process(rec(2 * S, 1, RecordKind.Frame, trade(100, 2000)));
  outage(first.n, 1, 3 * S, 5 * S);
  first.n.process(rec(6 * S, 2, RecordKind.Frame, trade(105, 6000)));
  // A first page brings 101..102; the request for the rest is pending at the stop.
  assert.deepEqual(first.requests.map((r) => r.kind === "trades" && [r.id, r.fromId, r.toId]), [[
    1,
    101,
    104,
  ]]);
  first.n.process(answer(first.requests[0]!, 6.5 * S, restTrades([101, 102])));
  assert.deepEqual(first.requests.map((r) => r.kind === "trades" && [r.id, r.fromId, r.toId]), [
    [1, 101, 104],
    [1, 103, 104],
  ]);
  first.n.process(rec(9 * S, 0, RecordKind.Shutdown));
  const atStop = first.gaps().filter((g) => g.stream === "aggTrade");
  assert.equal(atStop.length, 1, "the pending hole has its gap row after the stop");
  assert.equal(atStop[0]!.kind, "disconnect");
  assert.equal(atStop[0]!.last_update_id, 102, "what the first page recovered is not part of it");
  assert.equal(atStop[0]!.resume_update_id, 105);
  assert.match(atStop[0]!.reason, /still pending at shutdown/);
  const saved = first.n.exportState();

  // A later run restores the state, asks REST again, and gets the rest.
  const later = harness();
  later.n.restoreState(saved);
  assert.deepEqual(later.n.pendingBackfills().map((r) => r.kind === "trades" && [r.id, r.fromId]), [[
    1,
    103,
  ]]);
  later.n.process(answer(later.n.pendingBackfills()[0]!, 60 * S, restTrades([101, 102, 103, 104])));
  assert.deepEqual(later.of("trades").map((r) => r.agg_trade_id), [103, 104]);
  const after = later.gaps().filter((g) => g.stream === "aggTrade");
  assert.equal(after.length, 1);
  assert.equal(after[0]!.kind, "backfilled");
  assert.equal(
    after[0]!.start_time,
    atStop[0]!.start_time,
    "the same interval as the row written at the stop",
  );
  assert.equal(after[0]!.end_time, atStop[0]!.end_time);
  assert.deepEqual(later.recovered.map((g) => [g.kind, g.start_time]), [["disconnect", 2 * S]]);
  // A second stop writes nothing more for it.
  later.n.process(rec(61 * S, 0, RecordKind.Shutdown));
  assert.equal(later.gaps().filter((g) => g.stream === "aggTrade").length, 1);
});

Deno.test("backfill: a pending hole that fails in a later run keeps only the row written at the stop", () => {
  const first = harness();
  connect(first.n);
  first.n.process(rec(2 * S, 1, RecordKind.Frame, trade(100, 2000)));
  outage(first.n, 1, 3 * S, 5 * S);
  first.n.process(rec(6 * S, 2, RecordKind.Frame, trade(103, 6000)));
  first.n.process(rec(7 * S, 0, RecordKind.Shutdown));
  const later = harness();
  later.n.restoreState(first.n.exportState());
  later.n.process(answer(later.n.pendingBackfills()[0]!, 9 * S, "HTTP 503", true));
  assert.equal(first.gaps().filter((g) => g.stream === "aggTrade").length, 1, "written at the stop");
  assert.equal(later.gaps().length, 0, "the interval is already a gap row");
  assert.equal(later.recovered.length, 0);
  assert.equal(later.n.pendingBackfills().length, 0);
});

Deno.test("backfill: an answer journaled before 0.4 (no hole id) still completes its hole", () => {
  const h = harness();
  connect(h.n);
  h.n.process(rec(2 * S, 1, RecordKind.Frame, trade(100, 2000)));
  h.n.process(rec(3 * S, 1, RecordKind.Frame, trade(103, 3000)));
  h.n.process(rec(4 * S, 0, RecordKind.BackfillTrades, `101 102\n${restTrades([101, 102])}`, "BTCUSDT"));
  assert.deepEqual(h.gaps().map((g) => g.kind), ["backfilled"]);
  assert.deepEqual(h.of("trades").map((r) => r.agg_trade_id), [100, 103, 101, 102]);
});

Deno.test("backfill: a restored hole of a stream no longer recorded is written as a gap row", () => {
  const first = harness();
  connect(first.n);
  first.n.process(rec(2 * S, 1, RecordKind.Frame, trade(100, 2000)));
  first.n.process(rec(3 * S, 1, RecordKind.Frame, trade(103, 3000)));
  const rows: Row<"gaps">[] = [];
  const only = planStreams({
    market: "spot",
    wsUrl: "wss://example",
    symbols: ["BTCUSDT"],
    streams: ["kline_1s"],
  });
  const next = new MarketNormalizer(
    only,
    {
      row: <N extends TableName>(_m: Market, table: N, _s: string, _p: number, row: Row<N>) => {
        if (table === "gaps") rows.push(row as Row<"gaps">);
      },
    },
    { needSnapshot: () => {} },
    { topLevels: 5 },
  );
  next.restoreState(first.n.exportState());
  assert.deepEqual(rows.map((g) => [g.stream, g.last_update_id, g.resume_update_id]), [[
    "aggTrade",
    100,
    103,
  ]]);
  assert.match(rows[0]!.reason, /no longer recorded/);
  assert.equal(next.pendingBackfills().length, 0);
});

Deno.test("backfill: a hole still pending at a flush gets its gap row in that flush, and a backfilled row once recovered", () => {
  const h = harness();
  connect(h.n);
  h.n.process(rec(2 * S, 1, RecordKind.Frame, trade(100, 2000)));
  h.n.process(rec(3 * S, 1, RecordKind.Frame, trade(104, 3000)));
  assert.equal(h.gaps().length, 0, "a hole whose backfill completes before the flush gets one row only");
  h.n.process(rec(4 * S, 0, RecordKind.FlushMark));
  assert.deepEqual(h.gaps().map((g) => [g.kind, g.last_update_id, g.resume_update_id]), [[
    "sequence",
    100,
    104,
  ]]);
  assert.match(h.gaps()[0]!.reason, /still pending at a flush/);
  h.n.process(rec(5 * S, 0, RecordKind.FlushMark));
  assert.equal(h.gaps().length, 1, "once per hole");
  h.n.process(answer(h.requests[0]!, 6 * S, restTrades([101, 102, 103])));
  assert.deepEqual(h.gaps().map((g) => g.kind), ["sequence", "backfilled"]);
  assert.deepEqual(h.recovered.map((g) => [g.kind, g.start_time]), [["sequence", 2 * S]]);
});
