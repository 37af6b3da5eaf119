/**
 * The per-symbol stream kinds a market offers, as data (docs/binance-api.md §4, §5). A stream kind is the part of
 * a stream name after `<symbol>@`, e.g. `depth@100ms` or `kline_1m`.
 */
import type { Market } from "../binance/types.ts";

const BOTH: readonly Market[] = ["spot", "usdm"];

/** Stream kinds other than klines, with the markets that offer them. */
export const STREAM_KINDS: Readonly<Record<string, readonly Market[]>> = {
  "depth": BOTH,
  "depth@100ms": BOTH,
  "depth@1000ms": ["spot"],
  "depth@250ms": ["usdm"],
  "depth@500ms": ["usdm"],
  "aggTrade": BOTH,
  "trade": ["spot"],
  "bookTicker": BOTH,
  "forceOrder": ["usdm"],
  "markPrice": ["usdm"],
  "markPrice@1s": ["usdm"],
};

const FUTURES_INTERVALS = [
  "1m",
  "3m",
  "5m",
  "15m",
  "30m",
  "1h",
  "2h",
  "4h",
  "6h",
  "8h",
  "12h",
  "1d",
  "3d",
  "1w",
  "1M",
];

/** `kline_<interval>` intervals per market; only spot has `1s`. */
export const KLINE_INTERVALS: Readonly<Record<Market, readonly string[]>> = {
  spot: ["1s", ...FUTURES_INTERVALS],
  usdm: FUTURES_INTERVALS,
};

/** Streams recorded when a market section does not list its own. */
export const DEFAULT_STREAMS: Readonly<Record<Market, readonly string[]>> = {
  spot: ["depth@100ms", "aggTrade", "kline_1m", "bookTicker"],
  usdm: ["depth@100ms", "aggTrade", "kline_1m", "bookTicker", "forceOrder", "markPrice@1s"],
};

/** Stream kinds of which a market may record only one variant (two depth speeds would feed one book twice). */
export const EXCLUSIVE_GROUPS: readonly string[] = ["depth", "markPrice"];

/** The exclusive group of a stream kind (`depth@100ms` → `depth`), or null. */
export function exclusiveGroup(stream: string): string | null {
  const base = stream.split("@", 1)[0]!;
  return EXCLUSIVE_GROUPS.includes(base) ? base : null;
}

/**
 * Why `stream` cannot be recorded on `market`, or null if it can.
 *
 * @example
 * ```ts
 * streamProblem("spot", "forceOrder"); // '"forceOrder" is a usdm stream, not available on spot'
 * streamProblem("usdm", "kline_1m"); // null
 * ```
 */
export function streamProblem(market: Market, stream: string): string | null {
  if (stream.startsWith("kline_")) {
    const intervals = KLINE_INTERVALS[market];
    return intervals.includes(stream.slice(6))
      ? null
      : `"${stream}": no such ${market} kline interval; valid: ${intervals.join(", ")}`;
  }
  const markets = Object.hasOwn(STREAM_KINDS, stream) ? STREAM_KINDS[stream] : undefined;
  if (markets?.includes(market)) return null;
  if (markets) return `"${stream}" is a ${markets.join("/")} stream, not available on ${market}`;
  const valid = [
    ...Object.keys(STREAM_KINDS).filter((k) => STREAM_KINDS[k]!.includes(market)),
    "kline_<interval>",
  ];
  return `unknown stream "${stream}"; valid on ${market}: ${valid.join(", ")}`;
}
