/**
 * Response bodies of the simulated REST API, in Binance's shapes per market (docs/binance-api.md §3): depth
 * snapshots (spot bare; futures with `E`/`T`; COIN-M also `symbol` and `pair`), aggregate trades, klines, and
 * the futures' mark price / funding endpoints (COIN-M: `pair`, no funding for delivery contracts, no
 * `markPrice` in the funding history). Pure: values in, JSON text out.
 */
import type { BookCapture } from "./engine_params.ts";
import type { Candle } from "./events.ts";
import { formatMark, formatPrice, formatQty, formatQuote, formatRate, levelsJson } from "./frames.ts";
import { fundingHistory, type FundingQuery, fundingRateAt, nextFundingTime } from "./funding.ts";
import type { SymbolEngine } from "./symbol_engine.ts";
import type { SymbolSpec } from "./symbol_spec.ts";
import type { StoredTrade } from "./trade_history.ts";

/**
 * A depth snapshot of `book`, served at `now`.
 *
 * @example
 * ```ts
 * import { Exchange } from "./exchange.ts";
 * const now = Date.now();
 * const engine = new Exchange({ symbols: ["BTCUSD_PERP"] }, now).engine("coinm", "BTCUSD_PERP")!;
 * depthBody(engine.spec, engine.snapshot(5, now), now); // '{"lastUpdateId":…,"E":…,"T":…,"symbol":"BTCUSD_PERP",…}'
 * ```
 */
export function depthBody(spec: SymbolSpec, book: BookCapture, now: number): string {
  const levels = `"bids":${levelsJson(spec, book.bids)},"asks":${levelsJson(spec, book.asks)}}`;
  if (spec.market === "spot") return `{"lastUpdateId":${book.updateId},${levels}`;
  const head = `{"lastUpdateId":${book.updateId},"E":${now},"T":${book.transactionTime},`;
  return spec.contract === null
    ? head + levels
    : `${head}"symbol":${spec.json},"pair":"${spec.pair}",${levels}`;
}

/** REST `aggTrades` (spot carries the ignored `M`). */
export function aggTradesBody(spec: SymbolSpec, trades: readonly StoredTrade[]): string {
  const tail = spec.market === "spot" ? `,"M":true}` : "}";
  return "[" +
    trades.map((t) =>
      `{"a":${t.aggId},"p":"${formatPrice(spec, t.priceTicks)}","q":"${formatQty(spec, t.lots)}",` +
      `"f":${t.firstTradeId},"l":${t.lastTradeId},"T":${t.tradeTime},"m":${t.buyerMaker}${tail}`
    ).join(",") + "]";
}

/** REST `klines` rows (on COIN-M, column 7 and 10 are base-asset volumes). */
export function klinesBody(spec: SymbolSpec, candles: readonly Candle[]): string {
  return "[" +
    candles.map((c) =>
      `[${c.openTime},"${formatPrice(spec, c.open)}","${formatPrice(spec, c.high)}",` +
      `"${formatPrice(spec, c.low)}","${formatPrice(spec, c.close)}","${formatQty(spec, c.volumeLots)}",` +
      `${c.closeTime},"${formatQuote(spec, c.quoteVolume)}",${c.trades},"${
        formatQty(spec, c.takerBuyLots)
      }",` +
      `"${formatQuote(spec, c.takerBuyQuote)}","0"]`
    ).join(",") + "]";
}

/**
 * One `premiumIndex` entry: USD-M's, or COIN-M's with `pair` (a delivery contract: `lastFundingRate` and
 * `interestRate` `""`, `nextFundingTime` 0).
 */
export function premiumIndexItem(seed: number, engine: SymbolEngine, now: number): string {
  const s = engine.spec;
  const m = engine.mark;
  const funding = s.contract?.perpetual !== false;
  const next = funding ? nextFundingTime(now) : 0;
  const rate = funding ? fundingRateAt(seed, s.symbol, next) : null;
  const pair = s.contract === null ? "" : `"pair":"${s.pair}",`;
  return `{"symbol":${s.json},${pair}"markPrice":"${formatMark(s, m.mark)}",` +
    `"indexPrice":"${formatMark(s, m.index)}","estimatedSettlePrice":"${formatMark(s, m.settle)}",` +
    `"lastFundingRate":"${formatRate(rate)}","interestRate":"${funding ? "0.00010000" : ""}",` +
    `"nextFundingTime":${next},"time":${m.time}}`;
}

/**
 * The funding history of `engines`, ascending by time, at most `q.limit` rows: USD-M rows carry `markPrice`,
 * COIN-M rows do not, and COIN-M delivery contracts have none.
 */
export function fundingRateBody(
  seed: number,
  engines: readonly SymbolEngine[],
  q: FundingQuery,
  now: number,
): string {
  const rows = engines.filter((e) => e.spec.contract?.perpetual !== false).flatMap((e) =>
    fundingHistory(seed, e.spec.symbol, q, now, (t) => e.markAt(t)).map((r) => ({ e, r }))
  ).sort((a, b) => a.r.fundingTime - b.r.fundingTime).slice(0, q.limit);
  return "[" +
    rows.map(({ e, r }) => {
      const mark = e.spec.contract === null ? `,"markPrice":"${formatMark(e.spec, r.markPrice)}"` : "";
      return `{"symbol":${e.spec.json},"fundingTime":${r.fundingTime},"fundingRate":"${
        formatRate(r.rate)
      }"${mark}}`;
    }).join(",") + "]";
}
