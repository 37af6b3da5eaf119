/**
 * Compares what a recording wrote with the simulator's ground truth, stream by stream: every true message from
 * the stream's first recorded one to its last is in the files exactly once with the exchange's values, or lies
 * inside a `gaps` row of its stream. A book snapshot must equal the true book at its update id.
 *
 * Inside a gap: by ids where the gap carries them (trades: agg trade ids; depth diffs and book tickers: update
 * ids), else by time: the message's exchange time lies in the gap's interval widened at its start by the
 * feed's latency (gap bounds are local arrival times, and a message sent just before the last one received
 * can be lost with it). The latency is measured from the recorded rows themselves.
 * @module
 */
import type { Market } from "../../lib/binance/markets.ts";
import type { GroundTruth } from "../../lib/sim/truth.ts";
import type { PlainRow } from "../../lib/storage/read_rows.ts";

/** The rows of one market, as read back. */
export interface Recorded {
  trades: PlainRow<"trades">[];
  depth: PlainRow<"depth_updates">[];
  books: PlainRow<"book_snapshots">[];
  klines: PlainRow<"klines">[];
  tickers: PlainRow<"book_tickers">[];
  marks: PlainRow<"mark_prices">[];
  liquidations: PlainRow<"liquidations">[];
  gaps: PlainRow<"gaps">[];
}

/** The verdict on one kind of message of one market (all symbols). */
export interface Tally {
  market: Market;
  what: string;
  /** True messages in the checked window. */
  compared: number;
  written: number;
  missingInsideGaps: number;
  missingOutsideGaps: number;
  duplicates: number;
  /** Written with values other than the exchange's. */
  wrong: number;
  /** A few of the problems, for the report. */
  examples: string[];
}

function tally(market: Market, what: string): Tally {
  return {
    market,
    what,
    compared: 0,
    written: 0,
    missingInsideGaps: 0,
    missingOutsideGaps: 0,
    duplicates: 0,
    wrong: 0,
    examples: [],
  };
}

function problem(t: Tally, field: "missingOutsideGaps" | "duplicates" | "wrong", text: string): void {
  t[field]++;
  if (t.examples.length < 5) t.examples.push(text);
}

/** `rows` by `key`; a key seen again counts as a duplicate (`what` names it in the example). */
function indexRows<R, K>(t: Tally, rows: Iterable<R>, key: (r: R) => K, what: (k: K) => string): Map<K, R> {
  const byKey = new Map<K, R>();
  for (const r of rows) {
    const k = key(r);
    if (byKey.has(k)) problem(t, "duplicates", what(k));
    byKey.set(k, r);
  }
  return byKey;
}

/** The smallest and the largest of `values` (none: null). */
function range(values: Iterable<number>): { lo: number; hi: number } | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? { lo, hi } : null;
}

/**
 * Counts one true message of the window as compared, then as written when `row` holds it, else as missing inside
 * a gap (`inGap`) or outside one. True when written: the caller then compares the values.
 */
function written<R>(t: Tally, row: R | undefined, inGap: () => boolean, what: string): row is R {
  t.compared++;
  if (row === undefined) {
    if (inGap()) t.missingInsideGaps++;
    else problem(t, "missingOutsideGaps", what);
    return false;
  }
  t.written++;
  return true;
}

type Gap = PlainRow<"gaps">;

function gapsOf(rec: Recorded, symbol: string, stream: (s: string) => boolean): Gap[] {
  return rec.gaps.filter((g) => g.symbol === symbol && stream(g.stream) && g.kind !== "backfilled");
}

/**
 * Inside a gap by ids: the diff's updates after the gap's `last` id, `last < final <= resume` (`resume` null:
 * the gap never closed). A diff that straddles `last` (one bridging the snapshot a book had just synced from)
 * starts with updates the book already held.
 */
function insideById(gaps: Gap[], final: number): boolean {
  return gaps.some((g) =>
    g.last_update_id !== null && g.last_update_id < final &&
    (g.resume_update_id === null || final <= g.resume_update_id)
  );
}

/** Inside a gap by exchange time (µs), the gap's start widened by `latencyUs`. */
function insideByTime(gaps: Gap[], exchangeUs: number, latencyUs: number): boolean {
  return gaps.some((g) => g.start_time - latencyUs <= exchangeUs && exchangeUs <= g.end_time);
}

/** Largest `local_time - exchange_time` of the market's rows (the feed's latency), plus 5 ms. */
function latencyUs(rec: Recorded): number {
  let max = 0;
  const rows: { local_time: number; exchange_time: number | null }[] = [
    ...rec.trades,
    ...rec.tickers,
    ...rec.marks,
    ...rec.liquidations,
  ];
  for (const r of rows) {
    if (r.exchange_time !== null && r.local_time - r.exchange_time > max) {
      max = r.local_time - r.exchange_time;
    }
  }
  return max + 5000;
}

/** Checks every stream of `market` for `symbols`; one tally per kind of message. */
export function checkMarket(
  truth: GroundTruth,
  market: Market,
  symbols: readonly string[],
  rec: Recorded,
  topN: number,
): Tally[] {
  const lat = latencyUs(rec);
  const out = [
    checkTrades(truth, market, symbols, rec),
    checkDepth(truth, market, symbols, rec),
    checkBooks(truth, market, symbols, rec, topN),
    checkKlines(truth, market, symbols, rec, lat),
    checkTickers(truth, market, symbols, rec),
  ];
  if (market !== "spot") {
    out.push(
      checkMarks(truth, market, symbols, rec, lat),
      checkLiquidations(truth, market, symbols, rec, lat),
    );
  }
  return out;
}

function checkTrades(truth: GroundTruth, market: Market, symbols: readonly string[], rec: Recorded): Tally {
  const t = tally(market, "trades");
  for (const symbol of symbols) {
    const rows = rec.trades.filter((r) => r.symbol === symbol);
    const byId = indexRows(t, rows, (r) => r.agg_trade_id, (id) => `${symbol} agg trade ${id}`);
    const window = range(byId.keys());
    if (window === null) continue;
    const gaps = gapsOf(rec, symbol, (s) => s === "aggTrade");
    for (const x of truth.trades(market, symbol)) {
      if (x.aggTradeId < window.lo || x.aggTradeId > window.hi) continue;
      const r = byId.get(x.aggTradeId);
      const what = `${symbol} agg trade ${x.aggTradeId}`;
      if (!written(t, r, () => insideById(gaps, x.aggTradeId), what)) continue;
      if (
        r.price !== x.price || r.quantity !== x.quantity || r.trade_time !== x.tradeTime * 1000 ||
        r.first_trade_id !== x.firstTradeId || r.last_trade_id !== x.lastTradeId ||
        r.is_buyer_maker !== x.isBuyerMaker ||
        r.exchange_time !== (r.source === "rest" ? null : x.eventTime * 1000)
      ) problem(t, "wrong", what);
    }
  }
  return t;
}

/** Depth diffs: each true diff after the first sync is written once with its levels, or inside a depth gap. */
function checkDepth(truth: GroundTruth, market: Market, symbols: readonly string[], rec: Recorded): Tally {
  const t = tally(market, "depth diffs");
  for (const symbol of symbols) {
    const rows = rec.depth.filter((r) => r.symbol === symbol);
    const firstSync = rows.find((r) => r.is_snapshot)?.final_update_id;
    if (firstSync === undefined) continue;
    const levels = new Map<string, PlainRow<"depth_updates">[]>();
    let last = firstSync;
    for (const r of rows) {
      if (r.is_snapshot) continue;
      const key = `${r.first_update_id}:${r.final_update_id}`;
      let list = levels.get(key);
      if (!list) levels.set(key, list = []);
      list.push(r);
      if (r.final_update_id > last) last = r.final_update_id;
    }
    const gaps = gapsOf(rec, symbol, (s) => s.startsWith("depth"));
    for (const d of truth.diffs(market, symbol)) {
      if (d.finalUpdateId <= firstSync || d.finalUpdateId > last) continue;
      const key = `${d.firstUpdateId}:${d.finalUpdateId}`;
      const got = levels.get(key);
      if (
        !written(t, got, () => insideById(gaps, d.finalUpdateId), `${symbol} diff ${key}`)
      ) {
        continue;
      }
      const want = [
        ...d.bids.map(([p, q]) => `bid ${p} ${q}`),
        ...d.asks.map(([p, q]) => `ask ${p} ${q}`),
      ];
      if (got.length > want.length) problem(t, "duplicates", `${symbol} diff ${key}`);
      else if (got.map((r) => `${r.side} ${r.price} ${r.quantity}`).join("|") !== want.join("|")) {
        problem(t, "wrong", `${symbol} diff ${key}`);
      }
    }
  }
  return t;
}

/** Book snapshots: each equals the true top N at its update id; one per applied diff. */
function checkBooks(
  truth: GroundTruth,
  market: Market,
  symbols: readonly string[],
  rec: Recorded,
  topN: number,
): Tally {
  const t = tally(market, "book snapshots");
  for (const symbol of symbols) {
    const seen = new Set<number>();
    const rows = rec.books.filter((r) => r.symbol === symbol).sort((a, b) =>
      a.last_update_id - b.last_update_id
    );
    for (const r of rows) {
      t.compared++;
      t.written++;
      if (seen.has(r.last_update_id)) problem(t, "duplicates", `${symbol} book at ${r.last_update_id}`);
      seen.add(r.last_update_id);
      const b = truth.bookAt(market, symbol, r.last_update_id, topN);
      const same = (xs: number[], ys: number[]) => xs.length === ys.length && xs.every((x, i) => x === ys[i]);
      if (
        !same(r.bid_prices as number[], b.bids.map((l) => l[0])) ||
        !same(r.bid_quantities as number[], b.bids.map((l) => l[1])) ||
        !same(r.ask_prices as number[], b.asks.map((l) => l[0])) ||
        !same(r.ask_quantities as number[], b.asks.map((l) => l[1]))
      ) problem(t, "wrong", `${symbol} book at ${r.last_update_id}`);
    }
  }
  return t;
}

function checkKlines(
  truth: GroundTruth,
  market: Market,
  symbols: readonly string[],
  rec: Recorded,
  lat: number,
): Tally {
  const t = tally(market, "klines");
  for (const symbol of symbols) {
    const intervals = new Set(rec.klines.filter((r) => r.symbol === symbol).map((r) => r.interval));
    for (const interval of intervals) {
      const rows = rec.klines.filter((r) => r.symbol === symbol && r.interval === interval);
      const byOpen = indexRows(t, rows, (r) => r.open_time, (open) => `${symbol} ${interval} ${open}`);
      const window = range(byOpen.keys())!; // the interval has rows
      const gaps = gapsOf(rec, symbol, (s) => s === `kline_${interval}`);
      for (const k of truth.klines(market, symbol, interval)) {
        const open = k.openTime * 1000;
        if (open < window.lo || open > window.hi) continue;
        const r = byOpen.get(open);
        const what = `${symbol} ${interval} candle ${k.openTime}`;
        if (!written(t, r, () => insideByTime(gaps, k.eventTime * 1000, lat), what)) continue;
        if (
          r.close !== k.close || r.volume !== k.volume || r.trade_count !== k.tradeCount || r.high !== k.high
        ) problem(t, "wrong", what);
      }
    }
  }
  return t;
}

function checkTickers(truth: GroundTruth, market: Market, symbols: readonly string[], rec: Recorded): Tally {
  const t = tally(market, "book tickers");
  for (const symbol of symbols) {
    const rows = rec.tickers.filter((x) => x.symbol === symbol);
    const byId = indexRows(t, rows, (r) => r.update_id, (id) => `${symbol} ticker ${id}`);
    const window = range(byId.keys());
    if (window === null) continue;
    const gaps = gapsOf(rec, symbol, (s) => s === "bookTicker");
    for (const b of truth.bookTickers(market, symbol)) {
      if (b.updateId < window.lo || b.updateId > window.hi) continue;
      const r = byId.get(b.updateId);
      const what = `${symbol} ticker ${b.updateId}`;
      if (!written(t, r, () => insideById(gaps, b.updateId), what)) continue;
      if (
        r.bid_price !== b.bidPrice || r.bid_quantity !== b.bidQuantity || r.ask_price !== b.askPrice ||
        r.ask_quantity !== b.askQuantity
      ) problem(t, "wrong", what);
    }
  }
  return t;
}

function checkMarks(
  truth: GroundTruth,
  market: Market,
  symbols: readonly string[],
  rec: Recorded,
  lat: number,
): Tally {
  const t = tally(market, "mark prices");
  for (const symbol of symbols) {
    const rows = rec.marks.filter((x) => x.symbol === symbol);
    const byTime = indexRows(t, rows, (r) => r.exchange_time, (at) => `${symbol} mark price at ${at}`);
    const window = range(byTime.keys());
    if (window === null) continue;
    const gaps = gapsOf(rec, symbol, (s) => s.startsWith("markPrice"));
    for (const m of truth.markPrices(market, symbol)) {
      const at = m.eventTime * 1000;
      if (at < window.lo || at > window.hi) continue;
      const r = byTime.get(at);
      const what = `${symbol} mark price at ${m.eventTime}`;
      if (!written(t, r, () => insideByTime(gaps, at, lat), what)) continue;
      if (r.mark_price !== m.markPrice || r.index_price !== m.indexPrice) problem(t, "wrong", what);
    }
  }
  return t;
}

function checkLiquidations(
  truth: GroundTruth,
  market: Market,
  symbols: readonly string[],
  rec: Recorded,
  lat: number,
): Tally {
  const t = tally(market, "liquidations");
  const keyOf = (exchangeUs: number, tradeUs: number, price: number, qty: number) =>
    `${exchangeUs}:${tradeUs}:${price}:${qty}`;
  for (const symbol of symbols) {
    const rows = rec.liquidations.filter((x) => x.symbol === symbol);
    const byKey = indexRows(
      t,
      rows,
      (r) => keyOf(r.exchange_time, r.trade_time, r.price, r.original_quantity),
      (key) => `${symbol} liquidation ${key}`,
    );
    // Liquidations are rare: the window is the symbol's whole recording (first to last row of any stream).
    const window = range(rec.trades.filter((r) => r.symbol === symbol).map((r) => r.local_time));
    if (window === null) continue;
    const gaps = gapsOf(rec, symbol, (s) => s === "forceOrder");
    for (const l of truth.forceOrders(market, symbol)) {
      const at = l.eventTime * 1000;
      if (at < window.lo || at > window.hi) continue;
      const r = byKey.get(keyOf(at, l.tradeTime * 1000, l.price, l.originalQuantity));
      const what = `${symbol} liquidation at ${l.eventTime}`;
      if (!written(t, r, () => insideByTime(gaps, at, lat), what)) continue;
      if (r.side !== l.side || r.filled_quantity !== l.filledQuantity) problem(t, "wrong", what);
    }
  }
  return t;
}
