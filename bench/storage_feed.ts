/**
 * Rows for the storage benchmark (bench/storage.ts): the whole market's table mix at the collector's row sink,
 * one fresh row object per row as the normalizer makes them. 1,500 spot and 500 USD-M symbols with a skewed
 * activity (a few busy symbols, a long quiet tail); per 10,000 rows about 5,200 depth levels, 2,500 book
 * tickers, 1,200 trades, 700 book snapshots (20 levels a side), 350 mark prices, 40 klines and a few
 * liquidations.
 * @module
 */

import type { Market } from "../lib/binance/types.ts";

/** The sink every store version has: `row(market, table, symbol, partitionUs, row)`. */
export interface RowSink {
  row(market: Market, table: string, symbol: string, partitionUs: number, row: Record<string, unknown>): void;
}

const TABLE_MIX: [string, number][] = [
  ["depth_updates", 5200],
  ["book_tickers", 2500],
  ["trades", 1200],
  ["book_snapshots", 700],
  ["mark_prices", 350],
  ["klines", 40],
  ["liquidations", 10],
];

const LEVELS = 20;

/** A deterministic generator (xorshift32), so both store versions get the same rows. */
function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** Picks from `weights` through a 64k-entry table (one array read per pick). */
function picker(weights: number[], random: () => number): () => number {
  const total = weights.reduce((a, b) => a + b, 0);
  const table = new Uint16Array(65536);
  let sum = 0;
  let at = 0;
  weights.forEach((w, i) => {
    sum += w;
    const end = Math.round(sum / total * 65536);
    table.fill(i, at, end);
    at = end;
  });
  return () => table[(random() * 65536) | 0]!;
}

/** Generates the mix. */
export class MarketFeed {
  readonly #random = xorshift(20_261_124);
  readonly #table = picker(TABLE_MIX.map(([, w]) => w), this.#random);
  readonly #spot: string[];
  readonly #usdm: string[];
  readonly #spotPick: () => number;
  readonly #usdmPick: () => number;
  readonly #levels = [0, 1, 2, 3].map(() => new Float64Array(LEVELS));
  #id = 1_000_000_000;

  constructor(spotSymbols = 1500, usdmSymbols = 500) {
    const names = (n: number, quote: string) =>
      Array.from(
        { length: n },
        (_, i) => i === 0 ? `BTC${quote}` : i === 1 ? `ETH${quote}` : `C${i}${quote}`,
      );
    this.#spot = names(spotSymbols, "USDT");
    this.#usdm = names(usdmSymbols, "USDT");
    // Zipf-like: the busiest symbol has ~100× the activity of the 100th.
    const zipf = (n: number) => Array.from({ length: n }, (_, r) => 1 / (r + 1));
    this.#spotPick = picker(zipf(spotSymbols), this.#random);
    this.#usdmPick = picker(zipf(usdmSymbols), this.#random);
  }

  /** Writes `n` rows with local times spread over `[fromUs, toUs)`. */
  push(sink: RowSink, n: number, fromUs: number, toUs: number): void {
    const r = this.#random;
    for (let i = 0; i < n; i++) {
      const us = Math.floor(fromUs + (toUs - fromUs) * i / n);
      const table = TABLE_MIX[this.#table()]![0];
      const usdmOnly = table === "mark_prices" || table === "liquidations";
      const market: Market = usdmOnly || r() < 0.3 ? "usdm" : "spot";
      const symbol = market === "spot" ? this.#spot[this.#spotPick()]! : this.#usdm[this.#usdmPick()]!;
      sink.row(market, table, symbol, us, this.#row(table, market, symbol, us));
    }
  }

  #row(table: string, market: Market, symbol: string, us: number): Record<string, unknown> {
    const r = this.#random;
    const id = this.#id++;
    const price = 100 + Math.round(r() * 1e6) / 100;
    const exchange = us - 1_500;
    const futures = market === "usdm";
    switch (table) {
      case "depth_updates":
        return {
          symbol,
          exchange_time: exchange,
          transaction_time: futures ? exchange - 200 : null,
          local_time: us,
          first_update_id: id,
          final_update_id: id + 3,
          prev_final_update_id: futures ? id - 1 : null,
          side: r() < 0.5 ? "bid" : "ask",
          price,
          quantity: Math.round(r() * 1e5) / 1e3,
          is_snapshot: false,
        };
      case "book_tickers":
        return {
          symbol,
          update_id: id,
          exchange_time: futures ? exchange : null,
          transaction_time: futures ? exchange - 200 : null,
          local_time: us,
          bid_price: price,
          bid_quantity: r() * 10,
          ask_price: price + 0.01,
          ask_quantity: r() * 10,
        };
      case "trades":
        return {
          symbol,
          exchange_time: exchange,
          trade_time: exchange - 300,
          local_time: us,
          agg_trade_id: id,
          first_trade_id: id * 2,
          last_trade_id: id * 2 + 1,
          price,
          quantity: Math.round(r() * 1e5) / 1e4,
          is_buyer_maker: r() < 0.5,
          source: "ws",
        };
      case "book_snapshots": {
        const [bp, bq, ap, aq] = this.#levels as [Float64Array, Float64Array, Float64Array, Float64Array];
        for (let k = 0; k < LEVELS; k++) {
          bp[k] = price - k * 0.01;
          ap[k] = price + 0.01 + k * 0.01;
          bq[k] = Math.round(r() * 1e4) / 1e3;
          aq[k] = Math.round(r() * 1e4) / 1e3;
        }
        return {
          symbol,
          exchange_time: exchange,
          local_time: us,
          last_update_id: id,
          bid_prices: bp,
          bid_quantities: bq,
          ask_prices: ap,
          ask_quantities: aq,
        };
      }
      case "mark_prices":
        return {
          symbol,
          exchange_time: exchange,
          local_time: us,
          mark_price: price,
          index_price: price - 0.5,
          estimated_settle_price: price - 0.2,
          funding_rate: 0.0001,
          next_funding_time: 1_800_000_000_000_000,
        };
      case "klines":
        return {
          symbol,
          interval: "1m",
          open_time: exchange - 60_000_000,
          close_time: exchange - 1,
          open: price,
          high: price + 1,
          low: price - 1,
          close: price + 0.5,
          volume: r() * 100,
          quote_volume: r() * 1e6,
          trade_count: id % 1000,
          taker_buy_volume: r() * 50,
          taker_buy_quote_volume: r() * 5e5,
          exchange_time: exchange,
          local_time: us,
        };
      default:
        return {
          symbol,
          exchange_time: exchange,
          trade_time: exchange - 10,
          local_time: us,
          side: r() < 0.5 ? "BUY" : "SELL",
          order_type: "LIMIT",
          time_in_force: "IOC",
          price,
          average_price: price,
          original_quantity: 1,
          last_filled_quantity: 1,
          filled_quantity: 1,
          status: "FILLED",
        };
    }
  }
}
