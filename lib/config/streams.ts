/**
 * The per-symbol stream kinds a market offers, as data (docs/binance-api.md §4, §5). A stream kind is the part of
 * a stream name after `<symbol>@`, e.g. `depth@100ms` or `kline_1m`.
 */
import { parseStream, StreamPlanError } from "../binance/stream_plan.ts";
import type { Market } from "../binance/types.ts";

/** Stream kinds of which a market may record only one variant (two depth speeds would feed one book twice). */
export const EXCLUSIVE_GROUPS: readonly string[] = ["depth", "markPrice"];

/** The exclusive group of a stream kind (`depth@100ms` → `depth`), or null. */
export function exclusiveGroup(stream: string): string | null {
  const base = stream.split("@", 1)[0]!;
  return EXCLUSIVE_GROUPS.includes(base) ? base : null;
}

/**
 * Why `stream` cannot be recorded on `market`, or null if it can. The stream planner is the one authority on
 * which streams exist (lib/binance/stream_plan.ts), so the config accepts exactly what can be subscribed.
 *
 * @example
 * ```ts
 * streamProblem("spot", "forceOrder"); // '"forceOrder" is a usdm/coinm stream, not available on spot'
 * streamProblem("usdm", "kline_1m"); // null
 * ```
 */
export function streamProblem(market: Market, stream: string): string | null {
  try {
    parseStream(stream, market);
    return null;
  } catch (err) {
    if (err instanceof StreamPlanError) return err.message;
    throw err;
  }
}
