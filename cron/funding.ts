/**
 * Cron job `funding` (at the funding times 00:00, 08:00, 16:00 UTC plus 5 minutes, and at start): for each
 * futures market (USD-M, COIN-M), records the perpetuals' realized funding from REST `fundingRate` into
 * `funding_rates`, continuing after the last funding time already recorded, and polls REST `premiumIndex` into
 * `mark_prices` for the symbols not streamed with `markPrice`. Where to continue comes from the recorded data,
 * so a missed run is caught up by the next.
 *
 * The answers are journaled like frames and become rows in the normalizer, so a crash before the next flush
 * replays them instead of losing them.
 * @module
 */

import type { FundingRateQuery } from "../lib/binance/rest.ts";
import type { FundingRate, PremiumIndex } from "../lib/binance/rest_parse.ts";
import { profile } from "../lib/binance/markets.ts";
import type { Market } from "../lib/binance/types.ts";
import { type Logger, silentLogger } from "../lib/log.ts";
import { RecordKind, type RestRecordKind } from "../lib/pipeline/records.ts";
import type { Manifest, ManifestEntry } from "../lib/storage/manifest.ts";
import { CronJob, type CronRegistrar, denoCron } from "./job.ts";

/** The REST calls the job makes (a futures market's `RestClient` fits). */
export interface FundingRestClient {
  fundingRate(q: FundingRateQuery): Promise<{ text: string; value: FundingRate[] }>;
  premiumIndex(symbol?: string): Promise<{ text: string; value: PremiumIndex[] }>;
}

/**
 * Where the answers go: the collector's journal (`Collector.recordRest`), which hands them to the normalizer.
 * `fundingRates` entries from `startTimeMs` on become rows; `premiumIndex` entries of the symbols whose mark
 * price is not streamed do.
 */
export interface FundingJournal {
  fundingRates(symbol: string, startTimeMs: number, text: string): void;
  premiumIndex(text: string): void;
}

/** Where the job learns how far each symbol's funding is recorded (the files, or the ledger). */
export interface FundingHistory {
  /** The latest `funding_time` (ms) recorded for `symbol`, or null if none. */
  lastFundingTime(symbol: string): Promise<number | null>;
  /** Notes rows handed to the sink: they reach the files only at the next flush. */
  noteWritten(symbol: string, fundingTimeMs: number): void;
}

/** The {@linkcode FundingJournal} of a collector's market: its journal, then its normalizer. */
export function collectorJournal(
  collector: { recordRest(market: Market, kind: RestRecordKind, symbol: string, text: string): void },
  market: Market,
): FundingJournal {
  return {
    fundingRates: (symbol, startTimeMs, text) =>
      collector.recordRest(market, RecordKind.FundingRates, symbol, `${startTimeMs}\n${text}`),
    premiumIndex: (text) => collector.recordRest(market, RecordKind.PremiumIndex, "", text),
  };
}

/** Dependencies of {@linkcode runFunding}: one futures market. */
export interface FundingDeps {
  market: Market;
  rest: FundingRestClient;
  /** Journals the REST answers (they become `funding_rates` and `mark_prices` rows). */
  journal: FundingJournal;
  history: FundingHistory;
  /** Perpetuals whose funding is recorded (delivery contracts pay none; see {@linkcode isPerpetual}). */
  symbols: readonly string[];
  /** Symbols whose mark price is polled (see {@linkcode symbolsWithoutMarkPrice}). */
  markPriceSymbols: readonly string[];
  /** How far back to start for a symbol with no recorded funding. @default {604800000} (7 days) */
  initialLookbackMs?: number;
  log?: Logger;
}

/** What one run wrote. */
export interface FundingResult {
  fundingRows: number;
  markPriceRows: number;
  failures: { symbol: string; error: string }[];
}

/** A run in which some symbols failed (the others were written); the cron retries. */
export class FundingRunError extends AggregateError {
  constructor(readonly result: FundingResult, errors: unknown[]) {
    const first = result.failures[0];
    super(
      errors,
      `Funding poll failed for ${result.failures.length} symbol(s): ${first?.symbol}: ${first?.error}`,
    );
    this.name = "FundingRunError";
  }
}

/** Largest page of `fundingRate`. */
const PAGE = 1000;

/**
 * From how many symbols one `premiumIndex` call for all costs no more than a call per symbol (USD-M: 10 / 1
 * weight, so from 10; COIN-M: 10 either way, so always).
 */
function allSymbolsFrom(market: Market): number {
  const weight = profile(market).endpoints.premiumIndex?.weight;
  return weight?.kind === "bySymbol" ? Math.ceil(weight.withoutSymbol / weight.withSymbol) : 1;
}

/**
 * Whether a futures symbol is a perpetual (delivery contracts end in their delivery date, `BTCUSD_261225`).
 *
 * @example
 * ```ts
 * isPerpetual("BTCUSD_PERP"); // true
 * isPerpetual("BTCUSDT_261225"); // false
 * ```
 */
export function isPerpetual(symbol: string): boolean {
  return !/_\d{6}$/u.test(symbol);
}

/**
 * The symbols of a market section whose mark price is not streamed (no `markPrice` stream kind), so the job
 * polls it.
 *
 * @example
 * ```ts
 * symbolsWithoutMarkPrice({ symbols: ["BTCUSDT"], streams: ["aggTrade"] }); // ["BTCUSDT"]
 * symbolsWithoutMarkPrice({ symbols: ["BTCUSDT"], streams: ["markPrice@1s"] }); // []
 * ```
 */
export function symbolsWithoutMarkPrice(
  market: { symbols: readonly string[]; streams: readonly string[] },
): string[] {
  return market.streams.some((s) => s.split("@", 1)[0] === "markPrice") ? [] : [...market.symbols];
}

async function recordFunding(deps: FundingDeps, symbol: string, nowMs: number): Promise<number> {
  const last = await deps.history.lastFundingTime(symbol);
  let startTime = last === null ? nowMs - (deps.initialLookbackMs ?? 7 * 86_400_000) : last + 1;
  let rows = 0;
  for (;;) {
    const { text, value } = await deps.rest.fundingRate({ symbol, startTime, limit: PAGE });
    deps.journal.fundingRates(symbol, startTime, text);
    const before = startTime;
    for (const f of value) {
      // Binance answers in ascending time; anything before the cursor was recorded already (the normalizer
      // applies the same rule to the journaled page).
      if (f.symbol !== symbol || f.fundingTime < startTime) continue;
      deps.history.noteWritten(symbol, f.fundingTime);
      startTime = f.fundingTime + 1;
      rows++;
    }
    // A short page is the last; a full page that moved nothing on would repeat forever.
    if (value.length < PAGE || startTime === before) return rows;
  }
}

/**
 * Records new realized funding for every symbol and one mark-price sample per polled symbol. A failing symbol
 * does not stop the others; the run then throws {@linkcode FundingRunError} so the cron retries.
 */
export async function runFunding(deps: FundingDeps, nowMs: number): Promise<FundingResult> {
  const result: FundingResult = { fundingRows: 0, markPriceRows: 0, failures: [] };
  const errors: unknown[] = [];
  const fail = (symbol: string, err: unknown) => {
    result.failures.push({ symbol, error: String(err) });
    errors.push(err);
  };
  for (const symbol of deps.symbols) {
    try {
      result.fundingRows += await recordFunding(deps, symbol, nowMs);
    } catch (err) {
      fail(symbol, err);
    }
  }
  const wanted = new Set(deps.markPriceSymbols);
  if (wanted.size > 0 && wanted.size >= allSymbolsFrom(deps.market)) {
    try {
      const { text, value } = await deps.rest.premiumIndex();
      deps.journal.premiumIndex(text);
      result.markPriceRows += value.filter((p) => wanted.has(p.symbol)).length;
    } catch (err) {
      fail("*", err);
    }
  } else {
    for (const symbol of wanted) {
      try {
        const { text, value } = await deps.rest.premiumIndex(symbol);
        deps.journal.premiumIndex(text);
        result.markPriceRows += value.filter((p) => wanted.has(p.symbol)).length;
      } catch (err) {
        fail(symbol, err);
      }
    }
  }
  (deps.log ?? silentLogger)("info", "funding polled", {
    market: deps.market,
    funding_rows: result.fundingRows,
    mark_price_rows: result.markPriceRows,
  });
  if (errors.length > 0) throw new FundingRunError(result, errors);
  return result;
}

/**
 * {@linkcode FundingHistory} read from the `funding_rates` files in the manifest: the newest file holding rows
 * of a symbol (its rows were fetched last, so it holds the latest funding time) is read once, only its row
 * groups that may hold the symbol (a file holds every symbol), after which rows noted as written keep the
 * answer current.
 */
export class FileFundingHistory implements FundingHistory {
  readonly #latest = new Map<string, number | null>();
  /**
   * The market's funding files, newest first, as of a manifest version: a whole market asks for ~500
   * symbols at start, and filtering and sorting every file recorded for each took ~15 ms after a year.
   */
  #files: { version: number; files: ManifestEntry[] } | null = null;

  constructor(private readonly manifest: Manifest, private readonly market: Market) {}

  async lastFundingTime(symbol: string): Promise<number | null> {
    if (!this.#latest.has(symbol)) this.#latest.set(symbol, await this.#readFiles(symbol));
    return this.#latest.get(symbol) ?? null;
  }

  noteWritten(symbol: string, fundingTimeMs: number): void {
    const known = this.#latest.get(symbol);
    if (known === undefined || known === null || fundingTimeMs > known) {
      this.#latest.set(symbol, fundingTimeMs);
    }
  }

  #fundingFiles(): ManifestEntry[] {
    const version = this.manifest.version;
    if (this.#files?.version !== version) {
      const files = this.manifest.entries()
        .filter((e) => e.market === this.market && e.table === "funding_rates")
        .sort((
          a,
          b,
        ) => (a.last_local_time < b.last_local_time ? 1 : a.last_local_time > b.last_local_time ? -1 : 0));
      this.#files = { version, files };
    }
    return this.#files.files;
  }

  async #readFiles(symbol: string): Promise<number | null> {
    for (const e of this.#fundingFiles()) {
      // Loaded here: the collector's main thread otherwise never needs parquet-wasm.
      const { readTableRows } = await import("../lib/storage/read_rows.ts");
      const rows = await readTableRows(this.manifest.dataDir, [e], this.market, "funding_rates", { symbol });
      if (rows.length > 0) return Math.max(...rows.map((r) => r.funding_time / 1000));
    }
    return null;
  }
}

/** Runs {@linkcode runFunding} for each market; one market's failures do not stop the next. */
export async function runFundingMarkets(
  markets: readonly FundingDeps[],
  nowMs: number,
): Promise<FundingResult> {
  const total: FundingResult = { fundingRows: 0, markPriceRows: 0, failures: [] };
  const errors: unknown[] = [];
  for (const deps of markets) {
    let result: FundingResult;
    try {
      result = await runFunding(deps, nowMs);
    } catch (err) {
      if (!(err instanceof FundingRunError)) throw err;
      result = err.result;
      errors.push(...err.errors);
    }
    total.fundingRows += result.fundingRows;
    total.markPriceRows += result.markPriceRows;
    total.failures.push(...result.failures.map((f) => ({ ...f, symbol: `${deps.market}:${f.symbol}` })));
  }
  if (errors.length > 0) throw new FundingRunError(total, errors);
  return total;
}

/**
 * Registers `funding` (00:05, 08:05, 16:05 UTC) for the given futures markets with `cron` and returns the job;
 * trigger it once at start.
 */
export function registerFunding(
  markets: readonly FundingDeps[],
  cron: CronRegistrar = denoCron,
  signal?: AbortSignal,
): CronJob<FundingResult> {
  const job = new CronJob({
    name: "funding",
    schedule: "5 0,8,16 * * *",
    backoffSchedule: [60_000, 300_000, 900_000],
    run: (nowMs) => runFundingMarkets(markets, nowMs),
  }, markets[0]?.log ?? silentLogger);
  return job.register(cron, signal);
}
