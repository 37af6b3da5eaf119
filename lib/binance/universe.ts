/**
 * `symbols: all`: which of a market's symbols to record, from exchangeInfo (and the 24 h tickers when a volume
 * minimum is set), and how the recorded set changes between two readings. Pure.
 * @module
 */
import type { ExchangeSymbol, Ticker24h } from "./rest_parse.ts";

/**
 * Which symbols `all` means: every symbol in `TRADING` status, narrowed by quote asset and 24 h quote volume.
 * `include` symbols are recorded whenever they trade, whatever the other filters say; `exclude` never.
 */
export interface SymbolFilter {
  /** Quote assets to keep (e.g. `USDT`); empty = any. */
  readonly quoteAssets: readonly string[];
  readonly include: readonly string[];
  readonly exclude: readonly string[];
  /** Least 24 h quote volume (in the quote asset; COIN-M: contracts × contract size, in USD); 0 = no minimum. */
  readonly minQuoteVolume: number;
  /** How often exchangeInfo (and the 24 h tickers, with a volume minimum) is read again. */
  readonly refreshSec: number;
}

/** Symbols the collector can record: path-safe, as the config's symbol rule (letters, digits, `_ - .`). */
const RECORDABLE = /^[\p{L}\p{N}_.-]+$/u;

/**
 * The symbols to record, sorted by name (so a reading always yields the same plan).
 *
 * @example
 * ```ts
 * const info = [
 *   { symbol: "BTCUSDT", status: "TRADING", baseAsset: "BTC", quoteAsset: "USDT" },
 *   { symbol: "ETHBTC", status: "TRADING", baseAsset: "ETH", quoteAsset: "BTC" },
 *   { symbol: "OLDUSDT", status: "BREAK", baseAsset: "OLD", quoteAsset: "USDT" },
 * ];
 * const filter = { quoteAssets: ["USDT"], include: [], exclude: [], minQuoteVolume: 0, refreshSec: 300 };
 * selectSymbols(info, null, filter); // ["BTCUSDT"]
 * ```
 */
export function selectSymbols(
  info: readonly Listing[],
  tickers: readonly Ticker24h[] | null,
  filter: SymbolFilter,
): string[] {
  const volume = tickers === null ? null : quoteVolumes(info, tickers);
  const include = new Set(filter.include);
  const exclude = new Set(filter.exclude);
  const quotes = new Set(filter.quoteAssets);
  const out: string[] = [];
  for (const s of info) {
    if (s.status !== "TRADING" || exclude.has(s.symbol) || !RECORDABLE.test(s.symbol)) continue;
    if (s.symbol !== s.symbol.toUpperCase()) continue;
    if (!include.has(s.symbol)) {
      if (quotes.size > 0 && !quotes.has(s.quoteAsset)) continue;
      // Without tickers the minimum cannot be checked: the caller reads them whenever one is set.
      if (
        filter.minQuoteVolume > 0 && volume !== null &&
        !((volume.get(s.symbol) ?? 0) >= filter.minQuoteVolume)
      ) {
        continue;
      }
    }
    out.push(s.symbol);
  }
  return out.sort();
}

/** What {@linkcode selectSymbols} reads of an exchangeInfo symbol. */
export type Listing =
  & Pick<ExchangeSymbol, "symbol" | "status" | "baseAsset" | "quoteAsset">
  & Partial<Pick<ExchangeSymbol, "contractSize">>;

/** 24 h volume in the quote asset by symbol; a COIN-M ticker has none, its contracts count `contractSize` USD. */
function quoteVolumes(info: readonly Listing[], tickers: readonly Ticker24h[]): Map<string, number> {
  const size = new Map(info.map((s) => [s.symbol, s.contractSize ?? null]));
  return new Map(tickers.map((t) => [t.symbol, t.quoteVolume ?? t.volume * (size.get(t.symbol) ?? NaN)]));
}

/** How the recorded set changes from `current` to `next`: symbols to add and to drop, each sorted. */
export function universeChange(
  current: Iterable<string>,
  next: Iterable<string>,
): { add: string[]; remove: string[] } {
  const a = new Set(current);
  const b = new Set(next);
  return {
    add: [...b].filter((s) => !a.has(s)).sort(),
    remove: [...a].filter((s) => !b.has(s)).sort(),
  };
}
