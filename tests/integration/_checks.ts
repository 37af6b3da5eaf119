/**
 * Comparisons of what the collector wrote with the simulator's ground truth.
 */
import assert from "node:assert/strict";
import type { Market } from "../../lib/binance/markets.ts";
import type { DiffFaultRecord } from "../../lib/sim/truth.ts";
import { type PlainRow, readRows, type Sim } from "./_harness.ts";

/** Everything a run wrote for one market, read back from Parquet. */
export interface Written {
  trades: PlainRow<"trades">[];
  books: PlainRow<"book_snapshots">[];
  depth: PlainRow<"depth_updates">[];
  gaps: PlainRow<"gaps">[];
  klines: PlainRow<"klines">[];
  tickers: PlainRow<"book_tickers">[];
}

/** Reads one market's tables; every row of a table with arrival times has one. */
export async function readWritten(dataDir: string, market: Market): Promise<Written> {
  const w: Written = {
    trades: await readRows(dataDir, market, "trades"),
    books: await readRows(dataDir, market, "book_snapshots"),
    depth: await readRows(dataDir, market, "depth_updates"),
    gaps: await readRows(dataDir, market, "gaps"),
    klines: await readRows(dataDir, market, "klines"),
    tickers: await readRows(dataDir, market, "book_tickers"),
  };
  for (const table of ["trades", "books", "depth", "klines", "tickers"] as const) {
    const bad = w[table].find((r) => !Number.isFinite(Number(r.local_time)) || Number(r.local_time) <= 0);
    assert.equal(bad, undefined, `${market} ${table}: a row without its arrival time`);
  }
  return w;
}

/**
 * Every recorded trade equals the exchange's trade with its id, each id is written once, and every hole in the
 * id sequence lies inside a gap row. Returns the number of trades checked.
 */
export function checkTrades(sim: Sim, market: Market, symbol: string, w: Written): number {
  const truth = new Map(sim.truth.trades(market, symbol).map((t) => [t.aggTradeId, t]));
  const rows = w.trades.filter((r) => r.symbol === symbol).sort((a, b) => a.agg_trade_id - b.agg_trade_id);
  assert.ok(rows.length > 0, `${market} ${symbol}: trades were written`);
  const gaps = w.gaps.filter((g) => g.symbol === symbol && g.stream === "aggTrade");
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const t = truth.get(r.agg_trade_id);
    assert.ok(t, `${market} ${symbol}: agg trade ${r.agg_trade_id} exists on the exchange`);
    assert.equal(r.price, t.price);
    assert.equal(r.quantity, t.quantity);
    assert.equal(r.trade_time, t.tradeTime * 1000);
    // REST aggTrades (backfill) have no event time.
    assert.equal(r.exchange_time, r.source === "rest" ? null : t.eventTime * 1000);
    assert.equal(r.first_trade_id, t.firstTradeId);
    assert.equal(r.last_trade_id, t.lastTradeId);
    assert.equal(r.is_buyer_maker, t.isBuyerMaker);
    assert.ok(r.source === "ws" || r.source === "rest");
    if (i > 0) {
      const prev = rows[i - 1]!.agg_trade_id;
      assert.notEqual(r.agg_trade_id, prev, `${market} ${symbol}: agg trade ${prev} written twice`);
      if (r.agg_trade_id !== prev + 1) {
        const covered = gaps.some((g) =>
          g.kind !== "backfilled" && g.last_update_id! <= prev && g.resume_update_id! >= r.agg_trade_id
        );
        assert.ok(
          covered,
          `${market} ${symbol}: trades ${prev + 1}..${r.agg_trade_id - 1} missing without a gap row`,
        );
      }
    }
  }
  return rows.length;
}

/** Every written book snapshot equals the exchange's true top N at its update id. Returns the number checked. */
export function checkBooks(sim: Sim, market: Market, symbol: string, w: Written, topN: number): number {
  const rows = w.books.filter((r) => r.symbol === symbol);
  assert.ok(rows.length > 0, `${market} ${symbol}: book snapshots were written`);
  for (const r of rows) {
    const t = sim.truth.bookAt(market, symbol, r.last_update_id, topN);
    assert.deepEqual(
      r.bid_prices,
      t.bids.map((l) => l[0]),
      `${market} ${symbol} bids at ${r.last_update_id}`,
    );
    assert.deepEqual(r.bid_quantities, t.bids.map((l) => l[1]));
    assert.deepEqual(
      r.ask_prices,
      t.asks.map((l) => l[0]),
      `${market} ${symbol} asks at ${r.last_update_id}`,
    );
    assert.deepEqual(r.ask_quantities, t.asks.map((l) => l[1]));
  }
  return rows.length;
}

/** Every closed kline written equals the exchange's candle; none twice. */
export function checkKlines(sim: Sim, market: Market, symbol: string, w: Written): number {
  const rows = w.klines.filter((r) => r.symbol === symbol);
  const seen = new Set<string>();
  for (const r of rows) {
    const key = `${r.interval}@${r.open_time}`;
    assert.ok(!seen.has(key), `${market} ${symbol}: kline ${key} written twice`);
    seen.add(key);
    const t = sim.truth.klines(market, symbol, r.interval).find((k) => k.openTime * 1000 === r.open_time);
    assert.ok(t, `${market} ${symbol}: kline ${key} exists`);
    assert.equal(r.close, t.close);
    assert.equal(r.volume, t.volume);
    assert.equal(r.trade_count, t.tradeCount);
  }
  return rows.length;
}

/** Every closed candle of `interval` between the first and last one written is written (none missing). */
export function checkKlinesComplete(
  sim: Sim,
  market: Market,
  symbol: string,
  interval: string,
  w: Written,
): number {
  const written = new Set(
    w.klines.filter((r) => r.symbol === symbol && r.interval === interval).map((r) => r.open_time),
  );
  const opens = [...written].sort((a, b) => a - b);
  assert.ok(opens.length > 1, `${market} ${symbol}: ${interval} klines were written`);
  const truth = sim.truth.klines(market, symbol, interval).map((k) => k.openTime * 1000)
    .filter((t) => t >= opens[0]! && t <= opens.at(-1)!);
  const missing = truth.filter((t) => !written.has(t));
  assert.deepEqual(missing, [], `${market} ${symbol}: ${interval} candles missing`);
  return truth.length;
}

/**
 * Every diff the simulator dropped after the collector's first sync lies inside a `sequence` or `disconnect`
 * gap row of that symbol's depth stream: its updates after the book's last id, that is (a dropped diff that
 * straddled the snapshot a book had just synced from starts inside that snapshot, whose id the gap row names).
 * Returns the number of dropped diffs checked.
 */
export function checkDroppedDiffsInGaps(sim: Sim, market: Market, symbol: string, w: Written): number {
  const firstSync = w.depth.find((r) => r.symbol === symbol && r.is_snapshot)?.final_update_id;
  assert.ok(firstSync !== undefined, `${market} ${symbol}: the book was synced`);
  const dropped = sim.truth.faults(market, symbol)
    .filter((f): f is DiffFaultRecord => "action" in f && f.action === "drop" && "finalUpdateId" in f)
    .filter((f) => f.finalUpdateId > firstSync);
  const gaps = w.gaps.filter((g) => g.symbol === symbol && g.stream.startsWith("depth"));
  for (const f of dropped) {
    const inside = gaps.some((g) =>
      g.last_update_id !== null && g.resume_update_id !== null && g.last_update_id < f.finalUpdateId &&
      f.finalUpdateId <= g.resume_update_id
    );
    assert.ok(
      inside,
      `${market} ${symbol}: dropped diff ${f.firstUpdateId}..${f.finalUpdateId} is inside a gap`,
    );
  }
  return dropped.length;
}
