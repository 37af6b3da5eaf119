/**
 * The weight-aware Binance REST client, one per market: one typed method per endpoint, which picks the call's
 * default priority, checks what only the endpoint knows (depth limits) and parses the answer. How calls are
 * queued, paced by used weight, held through 429/418 blocks and retried is the scheduler's (rest_scheduler.ts).
 *
 * @module
 */
import type { AggTrade } from "./messages.ts";
import { PROFILES } from "./markets.ts";
import {
  type ExchangeInfo,
  type FundingRate,
  parseAggTrades,
  parseDepthSnapshot,
  parseExchangeInfo,
  parseFundingRates,
  parseKlines,
  parsePremiumIndex,
  parseServerTime,
  parseTickers24h,
  type PremiumIndex,
  type RestKline,
  type Ticker24h,
} from "./rest_parse.ts";
import { type CallOptions, type RestClientOptions, RestScheduler, type RestStats } from "./rest_scheduler.ts";
import type { DepthSnapshot, Market } from "./types.ts";

export { parseDepthSnapshot } from "./rest_parse.ts";

/** A body as received plus its parsed value; the collector journals `text`. */
export interface RestResult<T> {
  text: string;
  value: T;
}

/** Query of `aggTrades`. */
export interface AggTradesQuery {
  symbol: string;
  fromId?: number;
  startTime?: number;
  endTime?: number;
  limit?: number;
}

/** Query of `klines`. */
export interface KlinesQuery {
  symbol: string;
  interval: string;
  startTime?: number;
  endTime?: number;
  limit?: number;
}

/** Query of `fundingRate`. */
export interface FundingRateQuery {
  symbol?: string;
  startTime?: number;
  endTime?: number;
  limit?: number;
}

/**
 * REST client for one market.
 *
 * @example
 * ```ts
 * import { startSimulator } from "../sim/server.ts";
 *
 * // The built-in simulator stands in for https://api.binance.com here.
 * const sim = await startSimulator({ symbols: ["BTCUSDT"], seed: 1 });
 * const rest = new RestClient({ market: "spot", baseUrl: sim.spot.restUrl });
 * await rest.exchangeInfo(); // also adopts the IP's REQUEST_WEIGHT limit
 * const { text, snapshot } = await rest.depth("BTCUSDT", 1000);
 * snapshot.bids.length > 0; // true; `text` is the body as received, for the journal
 * rest.close();
 * await sim.close();
 * ```
 */
export class RestClient {
  readonly market: Market;
  readonly #requests: RestScheduler;

  constructor(opts: RestClientOptions) {
    this.market = opts.market;
    this.#requests = new RestScheduler(opts);
  }

  /** REQUEST_WEIGHT allowed per minute (from the last {@link exchangeInfo}, else the documented value). */
  get limit(): number {
    return this.#requests.limit;
  }

  /** Weight used in the current minute, as last reported by Binance (or estimated). */
  get usedWeight(): number {
    return this.#requests.usedWeight;
  }

  /** Server clock minus local clock, measured by the last {@link serverTime} call (0 before). */
  get clockOffsetMs(): number {
    return this.#requests.clockOffsetMs;
  }

  /** Calls waiting to be sent. */
  get queueLength(): number {
    return this.#requests.queueLength;
  }

  /** When the current 418/429 block ends (ms since the epoch), or null if requests may flow. */
  get blockedUntil(): number | null {
    return this.#requests.blockedUntil;
  }

  /** Counters for metrics (a live, read-only view). */
  get stats(): Readonly<RestStats> {
    return this.#requests.stats;
  }

  /** An order-book snapshot; `limit` must be valid for the market (spot 1..5000, futures one of 5..1000). */
  async depth(
    symbol: string,
    limit: number,
    opts?: CallOptions,
  ): Promise<{ text: string; snapshot: DepthSnapshot }> {
    const rule = PROFILES[this.market].depthLimits;
    if (
      !Number.isInteger(limit) || limit < 1 || limit > rule.max ||
      (rule.allowed && !rule.allowed.includes(limit))
    ) {
      throw new RangeError(`Cannot request ${this.market} depth with limit ${limit}`);
    }
    const { text } = await this.#requests.call("depth", { symbol, limit }, "snapshot", opts);
    return { text, snapshot: parseDepthSnapshot(text, symbol, this.market) };
  }

  /** The exchange's rate limits and symbols; adopts its `REQUEST_WEIGHT` per 1 minute limit when it has one. */
  async exchangeInfo(opts?: CallOptions): Promise<RestResult<ExchangeInfo>> {
    const { text } = await this.#requests.call("exchangeInfo", {}, "normal", opts);
    const value = parseExchangeInfo(text);
    const rl = value.rateLimits.find((r) =>
      r.rateLimitType === "REQUEST_WEIGHT" && r.interval === "MINUTE" && r.intervalNum === 1
    );
    if (rl && rl.limit > 0) this.#requests.limit = rl.limit;
    return { text, value };
  }

  /** The server time in ms; also updates {@link clockOffsetMs} (assuming symmetric latency). */
  async serverTime(opts?: CallOptions): Promise<RestResult<number>> {
    const { text, sentAt, receivedAt } = await this.#requests.call("time", {}, "normal", opts);
    const value = parseServerTime(text);
    this.#requests.clockOffsetMs = value - (sentAt + receivedAt) / 2;
    return { text, value };
  }

  /** Aggregate trades, e.g. to backfill a socket outage (`fromId` or a time range). */
  async aggTrades(q: AggTradesQuery, opts?: CallOptions): Promise<RestResult<AggTrade[]>> {
    const { text } = await this.#requests.call("aggTrades", { ...q }, "backfill", opts);
    return { text, value: parseAggTrades(text) };
  }

  /** Klines, e.g. to backfill candles missed at a disconnect. */
  async klines(q: KlinesQuery, opts?: CallOptions): Promise<RestResult<RestKline[]>> {
    const { text } = await this.#requests.call("klines", { ...q }, "backfill", opts);
    return { text, value: parseKlines(text) };
  }

  /** Futures mark price and funding state, for one symbol or all (USD-M weight 1 or 10; COIN-M 10 either way). */
  async premiumIndex(symbol?: string, opts?: CallOptions): Promise<RestResult<PremiumIndex[]>> {
    const { text } = await this.#requests.call("premiumIndex", { symbol }, "normal", opts);
    return { text, value: parsePremiumIndex(text) };
  }

  /** Rolling 24 h statistics of every symbol (spot weight 80, futures 40): their volumes. */
  async tickers24h(opts?: CallOptions): Promise<RestResult<Ticker24h[]>> {
    const { text } = await this.#requests.call("ticker24h", {}, "normal", opts);
    return { text, value: parseTickers24h(text) };
  }

  /** Futures funding-rate history (on USD-M its own budget: 500 requests per 5 min). */
  async fundingRate(q: FundingRateQuery = {}, opts?: CallOptions): Promise<RestResult<FundingRate[]>> {
    const { text } = await this.#requests.call("fundingRate", { ...q }, "backfill", opts);
    return { text, value: parseFundingRates(text) };
  }

  /** Rejects every queued call with an AbortError, aborts the one in flight, and refuses new ones. */
  close(): void {
    this.#requests.close();
  }
}
