/**
 * The weight-aware Binance REST client, one per market.
 *
 * All requests go through one priority queue and are sent one at a time, so many symbols resyncing at once never
 * burst: before each request the client waits until the used weight (from `X-MBX-USED-WEIGHT-1M`) plus the
 * request's weight fits the budget. A 429 or 418 stops every request until `Retry-After` has passed; callers
 * whose deadline ends first get a {@link BinanceBanError}. 5xx answers and network failures are retried with
 * backoff. The clock, sleep and fetch are injected so tests drive time.
 */
import type { AggTrade } from "./messages.ts";
import { type Endpoint, type EndpointName, EXTRA_BUDGETS, requestWeight } from "./endpoints.ts";
import { PROFILES } from "./markets.ts";
import { BinanceApiError, BinanceBanError, BinanceNetworkError, BinanceRetryError } from "./rest_errors.ts";
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
import { backoffDelay, retryAfterMs, SlidingBudget, WeightWindow } from "./rest_pacing.ts";
import type { DepthSnapshot, Market } from "./types.ts";

export { parseDepthSnapshot } from "./rest_parse.ts";

/** Queue order: snapshots (book resyncs) first, then everything else, then history backfill. */
export type Priority = "snapshot" | "normal" | "backfill";

const RANK: Readonly<Record<Priority, number>> = { snapshot: 0, normal: 1, backfill: 2 };

/** Per-call options. */
export interface CallOptions {
  /** Defaults: `snapshot` for depth, `backfill` for aggTrades/klines/fundingRate, else `normal`. */
  priority?: Priority;
  /** How long the caller will wait for a 418/429 block to end before getting a BinanceBanError. */
  maxWaitMs?: number;
}

/** Fraction of each REST budget the client leaves unused, unless told otherwise. */
export const DEFAULT_SAFETY_MARGIN = 0.1;

/** Construction options; everything but `market` and `baseUrl` has a production default. */
export interface RestClientOptions {
  market: Market;
  /** e.g. `https://api.binance.com`, without a trailing slash. */
  baseUrl: string;
  fetch?: typeof fetch;
  /** Milliseconds since the epoch. */
  now?: () => number;
  /** Resolves after `ms`, rejects when `signal` aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** In [0, 1), for backoff jitter. */
  random?: () => number;
  /** Per-attempt timeout (default 10 s). */
  timeoutMs?: number;
  /** Attempts for 5xx/network failures (default 5). */
  maxAttempts?: number;
  /** Backoff base and cap (defaults 500 ms, 15 s). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Fraction of each budget left unused (default 0.1). */
  safetyMargin?: number;
  /** Default for {@link CallOptions.maxWaitMs} (5 min). */
  maxWaitMs?: number;
}

/** Counters for metrics; they only grow. */
export interface RestStats {
  /** HTTP attempts sent. */
  requests: number;
  /** Attempts repeated after a 5xx or network failure. */
  retries: number;
  /** 429 answers. */
  throttled: number;
  /** 418 answers. */
  banned: number;
  /** Calls the client rejected (API, ban, retry or close errors; body parse errors are not counted). */
  failed: number;
  /** Waits to stay under a budget, and their total length. */
  pacingWaits: number;
  pacingWaitMs: number;
}

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

type Params = Record<string, string | number | undefined>;

interface Task {
  readonly endpoint: Endpoint;
  readonly url: string;
  readonly weight: number;
  readonly rank: number;
  readonly seq: number;
  readonly deadline: number;
  attempts: number;
  readonly resolve: (r: Sent) => void;
  readonly reject: (e: unknown) => void;
}

interface Sent {
  text: string;
  sentAt: number;
  receivedAt: number;
}

const BAN_FALLBACK_MS = 120_000; // the shortest documented ban, when a 418 lacks Retry-After

function defaultSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(id);
      reject(signal.reason);
    };
    const id = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
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
  readonly #baseUrl: string;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;
  readonly #sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly #random: () => number;
  readonly #timeoutMs: number;
  readonly #maxAttempts: number;
  readonly #backoffBaseMs: number;
  readonly #backoffMaxMs: number;
  readonly #maxWaitMs: number;
  readonly #weight: WeightWindow;
  readonly #fundingBudget: SlidingBudget;
  readonly #closing = new AbortController();
  readonly #stats: RestStats = {
    requests: 0,
    retries: 0,
    throttled: 0,
    banned: 0,
    failed: 0,
    pacingWaits: 0,
    pacingWaitMs: 0,
  };
  #queue: Task[] = [];
  #seq = 0;
  #running = false;
  #blockedUntil = 0;
  #blockStatus: 418 | 429 = 429;
  #clockOffsetMs = 0;

  constructor(opts: RestClientOptions) {
    this.market = opts.market;
    this.#baseUrl = opts.baseUrl.replace(/\/+$/, "");
    this.#fetch = opts.fetch ?? globalThis.fetch;
    this.#now = opts.now ?? Date.now;
    this.#sleep = opts.sleep ?? defaultSleep;
    this.#random = opts.random ?? Math.random;
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
    this.#maxAttempts = opts.maxAttempts ?? 5;
    this.#backoffBaseMs = opts.backoffBaseMs ?? 500;
    this.#backoffMaxMs = opts.backoffMaxMs ?? 15_000;
    this.#maxWaitMs = opts.maxWaitMs ?? 300_000;
    const margin = opts.safetyMargin ?? DEFAULT_SAFETY_MARGIN;
    this.#weight = new WeightWindow(PROFILES[this.market].weightLimit, { margin });
    const fr = EXTRA_BUDGETS.fundingRate;
    this.#fundingBudget = new SlidingBudget(fr.limit, fr.intervalMs, margin);
  }

  /** REQUEST_WEIGHT allowed per minute (from the last {@link exchangeInfo}, else the documented value). */
  get limit(): number {
    return this.#weight.limit;
  }

  /** Weight used in the current minute, as last reported by Binance (or estimated). */
  get usedWeight(): number {
    return this.#weight.used(this.#serverNow());
  }

  /** Server clock minus local clock, measured by the last {@link serverTime} call (0 before). */
  get clockOffsetMs(): number {
    return this.#clockOffsetMs;
  }

  /** Calls waiting to be sent. */
  get queueLength(): number {
    return this.#queue.length;
  }

  /** When the current 418/429 block ends (ms since the epoch), or null if requests may flow. */
  get blockedUntil(): number | null {
    return this.#blockedUntil > this.#now() ? this.#blockedUntil : null;
  }

  /** Counters for metrics (a live, read-only view). */
  get stats(): Readonly<RestStats> {
    return this.#stats;
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
    const { text } = await this.#call("depth", { symbol, limit }, "snapshot", opts);
    return { text, snapshot: parseDepthSnapshot(text, symbol, this.market) };
  }

  /** The exchange's rate limits and symbols; adopts its `REQUEST_WEIGHT` per 1 minute limit when it has one. */
  async exchangeInfo(opts?: CallOptions): Promise<RestResult<ExchangeInfo>> {
    const { text } = await this.#call("exchangeInfo", {}, "normal", opts);
    const value = parseExchangeInfo(text);
    const rl = value.rateLimits.find((r) =>
      r.rateLimitType === "REQUEST_WEIGHT" && r.interval === "MINUTE" && r.intervalNum === 1
    );
    if (rl && rl.limit > 0) this.#weight.limit = rl.limit;
    return { text, value };
  }

  /** The server time in ms; also updates {@link clockOffsetMs} (assuming symmetric latency). */
  async serverTime(opts?: CallOptions): Promise<RestResult<number>> {
    const { text, sentAt, receivedAt } = await this.#call("time", {}, "normal", opts);
    const value = parseServerTime(text);
    this.#clockOffsetMs = value - (sentAt + receivedAt) / 2;
    return { text, value };
  }

  /** Aggregate trades, e.g. to backfill a socket outage (`fromId` or a time range). */
  async aggTrades(q: AggTradesQuery, opts?: CallOptions): Promise<RestResult<AggTrade[]>> {
    const { text } = await this.#call("aggTrades", { ...q }, "backfill", opts);
    return { text, value: parseAggTrades(text) };
  }

  /** Klines, e.g. to backfill candles missed at a disconnect. */
  async klines(q: KlinesQuery, opts?: CallOptions): Promise<RestResult<RestKline[]>> {
    const { text } = await this.#call("klines", { ...q }, "backfill", opts);
    return { text, value: parseKlines(text) };
  }

  /** Futures mark price and funding state, for one symbol or all (USD-M weight 1 or 10; COIN-M 10 either way). */
  async premiumIndex(symbol?: string, opts?: CallOptions): Promise<RestResult<PremiumIndex[]>> {
    const { text } = await this.#call("premiumIndex", { symbol }, "normal", opts);
    return { text, value: parsePremiumIndex(text) };
  }

  /** Rolling 24 h statistics of every symbol (spot weight 80, futures 40): their volumes. */
  async tickers24h(opts?: CallOptions): Promise<RestResult<Ticker24h[]>> {
    const { text } = await this.#call("ticker24h", {}, "normal", opts);
    return { text, value: parseTickers24h(text) };
  }

  /** Futures funding-rate history (on USD-M its own budget: 500 requests per 5 min). */
  async fundingRate(q: FundingRateQuery = {}, opts?: CallOptions): Promise<RestResult<FundingRate[]>> {
    const { text } = await this.#call("fundingRate", { ...q }, "backfill", opts);
    return { text, value: parseFundingRates(text) };
  }

  /** Rejects every queued call with an AbortError, aborts the one in flight, and refuses new ones. */
  close(): void {
    if (this.#closing.signal.aborted) return;
    this.#closing.abort(new DOMException("RestClient closed", "AbortError"));
    for (const t of this.#queue.splice(0)) t.reject(this.#closing.signal.reason);
  }

  #serverNow(): number {
    return this.#now() + this.#clockOffsetMs;
  }

  #call(name: EndpointName, params: Params, priority: Priority, opts?: CallOptions): Promise<Sent> {
    const endpoint = PROFILES[this.market].endpoints[name];
    if (!endpoint) {
      return Promise.reject(new TypeError(`Cannot call ${name}: not available on ${this.market}`));
    }
    if (this.#closing.signal.aborted) return Promise.reject(this.#closing.signal.reason);
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) query.set(k, String(v));
    const qs = query.toString();
    const now = this.#now();
    return new Promise<Sent>((resolve, reject) => {
      const task: Task = {
        endpoint,
        url: `${this.#baseUrl}${endpoint.path}${qs === "" ? "" : `?${qs}`}`,
        weight: requestWeight(endpoint, params as { limit?: number; symbol?: string }),
        rank: RANK[opts?.priority ?? priority],
        seq: this.#seq++,
        deadline: now + (opts?.maxWaitMs ?? this.#maxWaitMs),
        attempts: 0,
        resolve,
        reject: (e) => {
          this.#stats.failed++;
          reject(e);
        },
      };
      if (this.#blockedUntil > task.deadline) {
        return task.reject(new BinanceBanError(this.#blockStatus, this.#blockedUntil));
      }
      this.#queue.push(task);
      if (!this.#running) this.#run();
    });
  }

  /** The single worker: waits out blocks and budgets, then sends the most urgent call. */
  async #run(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length > 0) {
        const now = this.#now();
        if (this.#blockedUntil > now) {
          await this.#sleep(this.#blockedUntil - now, this.#closing.signal);
          continue;
        }
        const task = this.#next();
        const wait = Math.max(
          this.#weight.delay(task.weight, this.#serverNow()),
          task.endpoint.extraBudget === "fundingRate" ? this.#fundingBudget.delay(now) : 0,
        );
        if (wait > 0) {
          this.#stats.pacingWaits++;
          this.#stats.pacingWaitMs += wait;
          // Pick again afterwards: a more urgent call may have arrived meanwhile.
          await this.#sleep(wait, this.#closing.signal);
          continue;
        }
        this.#queue.splice(this.#queue.indexOf(task), 1);
        await this.#attempt(task);
      }
    } catch (e) {
      // Only close() ends the loop early (its abort rejects a sleep); it has already rejected the queue.
      if (!this.#closing.signal.aborted) throw e;
    } finally {
      this.#running = false;
    }
  }

  #next(): Task {
    let best = this.#queue[0]!;
    for (const t of this.#queue) {
      if (t.rank < best.rank || (t.rank === best.rank && t.seq < best.seq)) best = t;
    }
    return best;
  }

  /** Sends `task` once and settles it, re-queues it (after a block or backoff), or fails it. */
  async #attempt(task: Task): Promise<void> {
    const path = task.endpoint.path;
    const sentAt = this.#now();
    task.attempts++;
    this.#stats.requests++;
    if (task.endpoint.extraBudget === "fundingRate") this.#fundingBudget.record(sentAt);
    let res: Response;
    let text: string;
    try {
      const signal = AbortSignal.any([AbortSignal.timeout(this.#timeoutMs), this.#closing.signal]);
      res = await this.#fetch(task.url, { signal });
      text = await res.text();
    } catch (e) {
      if (this.#closing.signal.aborted) return task.reject(this.#closing.signal.reason);
      const timedOut = e instanceof DOMException && e.name === "TimeoutError";
      return await this.#retryLater(task, new BinanceNetworkError(path, timedOut, { cause: e }));
    }
    const receivedAt = this.#now();
    const used = Number.parseInt(res.headers.get("x-mbx-used-weight-1m") ?? "", 10);
    this.#weight.observe(task.weight, Number.isFinite(used) ? used : null, receivedAt + this.#clockOffsetMs);

    if (res.ok) return task.resolve({ text, sentAt, receivedAt });
    if (res.status === 429 || res.status === 418) {
      const status = res.status;
      if (status === 429) this.#stats.throttled++;
      else this.#stats.banned++;
      const fallback = status === 418 ? BAN_FALLBACK_MS : this.#weight.untilNextWindow(this.#serverNow());
      const wait = retryAfterMs(res.headers.get("retry-after"), receivedAt) ?? fallback;
      // A block is not the request's fault: it does not use up an attempt.
      task.attempts--;
      this.#block(status, receivedAt + wait);
      if (task.deadline < this.#blockedUntil) {
        return task.reject(new BinanceBanError(status, this.#blockedUntil));
      }
      this.#queue.push(task);
      return;
    }
    const error = BinanceApiError.fromBody(res.status, text, path);
    if (res.status >= 500) return await this.#retryLater(task, error);
    task.reject(error);
  }

  async #retryLater(task: Task, error: BinanceApiError | BinanceNetworkError): Promise<void> {
    if (task.attempts >= this.#maxAttempts) {
      return task.reject(new BinanceRetryError(task.endpoint.path, task.attempts, error));
    }
    this.#stats.retries++;
    // The host is failing for everyone, so the whole queue waits out the backoff.
    await this.#sleep(
      backoffDelay(task.attempts, this.#backoffBaseMs, this.#backoffMaxMs, this.#random),
      this.#closing.signal,
    ).catch((e) => {
      task.reject(e);
      throw e;
    });
    this.#queue.push(task);
  }

  /** Stops all requests until `until`, failing the queued calls that cannot wait that long. */
  #block(status: 418 | 429, until: number): void {
    if (until > this.#blockedUntil) {
      this.#blockedUntil = until;
      this.#blockStatus = status;
    }
    this.#queue = this.#queue.filter((t) => {
      if (t.deadline >= this.#blockedUntil) return true;
      t.reject(new BinanceBanError(this.#blockStatus, this.#blockedUntil));
      return false;
    });
  }
}
