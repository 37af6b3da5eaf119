/**
 * The live ticker message (pure: data in, Telegram HTML out), as the old Python collector sent it every few
 * minutes: per symbol the mid price, the spread and the change since the previous ticker (both in basis points),
 * messages per second and the rows of the last flush; then memory, free disk and today's gaps.
 *
 * It has to read on a phone with any number of symbols: rows are about 40 columns, symbols in trouble (down, book
 * not in sync, silent, gaps today) are named first and lead their market's rows, then the busiest follow, and
 * beyond `maxRows` the rest is one count.
 * @module
 */

import { fmtBytes, fmtCount, fmtDuration, fmtTime } from "../report/text.ts";
import { escapeHtml as esc, preBlock } from "./html.ts";

/** One (market, symbol) as the ticker shows it. */
export interface TickerSymbol {
  market: string;
  symbol: string;
  /** Best bid and ask of the synced book; null while it is not synced, or without a depth stream. */
  bid: number | null;
  ask: number | null;
  /** Every connection carrying the symbol is subscribed. */
  connected: boolean;
  /** Book state (`synced`, `buffering`, `idle`); null without a depth stream. */
  book: string | null;
  /** Age of the symbol's freshest message; null before the first. */
  lastMessageAgeMs: number | null;
  msgsPerSec: number;
  /** Rows of this symbol in the last flush. */
  flushRows: number;
  /** Gaps of this symbol in the ledger that touch today (UTC). */
  gapsToday: number;
}

/** Everything one ticker message is made of. */
export interface TickerInput {
  nowMs: number;
  /** In config order: markets appear in the order of their first symbol. */
  symbols: readonly TickerSymbol[];
  /** Mid price per {@linkcode quoteKey} at the previous ticker (empty for the first one). */
  previousMids: ReadonlyMap<string, number>;
  rssBytes: number;
  /** Free space for the data; null when it could not be read. */
  freeDiskBytes: number | null;
  /** All gaps touching today (UTC); null when the ledger could not be read. */
  gapsToday: number | null;
  /** The last flush: when it started, its rows and files; null before the first. */
  lastFlush: { atMs: number; rows: number; files: number } | null;
}

/** Options of {@linkcode formatTicker}. */
export interface TickerFormatOptions {
  /** Symbol rows shown; the rest is summed up in one line. @default 20 */
  maxRows?: number;
  /** Troubles named below the table. @default 5 */
  maxTroubles?: number;
}

/** A symbol whose freshest message is older than this is "silent". */
export const SILENT_MS = 60_000;

/** The key of a symbol in {@linkcode TickerInput.previousMids}. */
export function quoteKey(market: string, symbol: string): string {
  return `${market} ${symbol}`;
}

/** The mid price of a symbol with both sides, else null. */
export function midOf(s: Pick<TickerSymbol, "bid" | "ask">): number | null {
  return s.bid === null || s.ask === null ? null : (s.bid + s.ask) / 2;
}

/** The mids of this ticker, to pass as `previousMids` to the next one. */
export function midsOf(symbols: readonly TickerSymbol[]): Map<string, number> {
  const mids = new Map<string, number>();
  for (const s of symbols) {
    const mid = midOf(s);
    if (mid !== null) mids.set(quoteKey(s.market, s.symbol), mid);
  }
  return mids;
}

/** What is wrong with a symbol, worst first: its rank (0 = worst, 4 = fine) and words. */
export function troubleOf(s: TickerSymbol): { rank: number; words: string | null } {
  const age = s.lastMessageAgeMs;
  if (!s.connected) {
    const silent = age === null || age < 1000 ? "" : `, silent ${fmtDuration(Math.round(age / 1000))}`;
    return { rank: 0, words: `down${silent}` };
  }
  if (s.book !== null && s.book !== "synced") return { rank: 1, words: "book not in sync" };
  if (age === null || age > SILENT_MS) {
    return {
      rank: 2,
      words: age === null ? "no message yet" : `silent ${fmtDuration(Math.round(age / 1000))}`,
    };
  }
  if (s.gapsToday > 0) return { rank: 3, words: `${s.gapsToday} gap${s.gapsToday === 1 ? "" : "s"} today` };
  return { rank: 4, words: null };
}

/** Six significant digits, at most 9 characters. */
export function fmtPrice(p: number): string {
  const s = p >= 1e5 ? p.toFixed(0) : String(Number(p.toPrecision(6)));
  return s.length <= 9 ? s : p.toExponential(2);
}

/** A spread in basis points, at most 4 characters up to 9999; a one-tick spread of a high price reads `<.01`. */
export function fmtSpreadBp(bp: number): string {
  const a = Math.abs(bp);
  if (bp > 0 && bp < 0.005) return "<.01";
  return a < 9.995 ? bp.toFixed(2) : a < 99.95 ? bp.toFixed(1) : bp.toFixed(0);
}

/** A change in basis points with its sign, at most 5 characters. */
function fmtChangeBp(bp: number): string {
  const a = Math.abs(bp);
  const digits = a < 9.95 ? a.toFixed(1) : a < 9999.5 ? a.toFixed(0) : "9999";
  return `${bp < 0 ? "-" : "+"}${digits}`;
}

function fmtRate(perSec: number): string {
  return perSec >= 1000 ? fmtCount(Math.round(perSec)) : perSec >= 10 ? perSec.toFixed(0) : perSec.toFixed(1);
}

const SYMBOL_WIDTH = { min: 7, max: 12 };

/**
 * The ticker message (Telegram HTML), well under Telegram's 4096 characters whatever the number of symbols.
 *
 * @example
 * ```ts
 * const text = formatTicker({
 *   nowMs: Date.now(),
 *   symbols: [{
 *     market: "spot", symbol: "BTCUSDT", bid: 61602.01, ask: 61602.02, connected: true, book: "synced",
 *     lastMessageAgeMs: 40, msgsPerSec: 25, flushRows: 1500, gapsToday: 0,
 *   }],
 *   previousMids: new Map(), // the mids of the previous ticker (midsOf)
 *   rssBytes: Deno.memoryUsage().rss,
 *   freeDiskBytes: 80e9,
 *   gapsToday: 0,
 *   lastFlush: null,
 * });
 * text.includes("61602"); // true
 * ```
 */
export function formatTicker(input: TickerInput, options: TickerFormatOptions = {}): string {
  const { maxRows = 20, maxTroubles = 5 } = options;
  const ranked = input.symbols.map((s, order) => ({ s, order, trouble: troubleOf(s) }))
    .sort((a, b) => a.trouble.rank - b.trouble.rank || b.s.msgsPerSec - a.s.msgsPerSec || a.order - b.order);
  const shown = ranked.slice(0, maxRows);
  const rest = ranked.slice(maxRows);
  const troubled = ranked.filter((r) => r.trouble.words !== null);

  const width = Math.min(
    SYMBOL_WIDTH.max,
    Math.max(SYMBOL_WIDTH.min, ...shown.map((r) => r.s.symbol.length)),
  );
  const lines = [
    ` ${"symbol".padEnd(width)}${"mid".padStart(10)}${"sprd".padStart(5)}${"chg".padStart(6)}${
      "msg/s".padStart(6)
    }${"rows".padStart(6)}`,
  ];
  const markets = [...new Set(input.symbols.map((s) => s.market))];
  for (const market of markets) {
    const mine = shown.filter((r) => r.s.market === market);
    if (mine.length === 0) continue;
    lines.push(market);
    for (const { s, trouble } of mine) {
      const mid = midOf(s);
      const prev = input.previousMids.get(quoteKey(s.market, s.symbol));
      const name = s.symbol.length > width ? s.symbol.slice(0, width - 1) + "…" : s.symbol.padEnd(width);
      lines.push(
        `${trouble.words === null ? " " : "!"}${name}${(mid === null ? "-" : fmtPrice(mid)).padStart(10)}${
          (mid === null ? "-" : fmtSpreadBp(((s.ask! - s.bid!) / mid) * 1e4)).padStart(5)
        }${
          (mid === null || prev === undefined ? "-" : fmtChangeBp(((mid - prev) / prev) * 1e4)).padStart(6)
        }${fmtRate(s.msgsPerSec).padStart(6)}${fmtCount(s.flushRows).padStart(6)}`,
      );
    }
  }
  if (rest.length > 0) {
    const rate = rest.reduce((n, r) => n + r.s.msgsPerSec, 0);
    const restTroubled = rest.filter((r) => r.trouble.words !== null).length;
    lines.push(
      `+${rest.length} more: ${fmtRate(rate)} msg/s, ${
        restTroubled === 0 ? "all ok" : `${restTroubled} in trouble`
      }`,
    );
  }

  const total = input.symbols.length;
  const state = troubled.length === 0
    ? `✅ ${total}/${total} ok`
    : `⚠️ ${troubled.length}/${total} in trouble`;
  const out = [`📈 <b>Ticker</b> ${fmtTime(input.nowMs * 1000)} UTC · ${state}`];
  if (troubled.length > 0) {
    const named = troubled.slice(0, maxTroubles).map((r) => `${r.s.market} ${r.s.symbol} ${r.trouble.words}`);
    if (troubled.length > maxTroubles) named.push(`+${troubled.length - maxTroubles} more`);
    out.push(`⚠️ ${esc(named.join(" · "))}`);
  }
  out.push(preBlock(lines));
  out.push(
    [
      `RSS ${fmtBytes(input.rssBytes)}`,
      `disk ${input.freeDiskBytes === null ? "?" : fmtBytes(input.freeDiskBytes)} free`,
      `gaps today ${input.gapsToday ?? "?"}`,
    ].join(" · "),
  );
  const flush = input.lastFlush;
  out.push(
    `${
      flush === null
        ? "No flush yet"
        : `Last flush ${fmtDuration(Math.max(0, Math.round((input.nowMs - flush.atMs) / 1000)))} ago: ${
          fmtCount(flush.rows)
        } rows, ${flush.files} files`
    } · sprd, chg in bp`,
  );
  return out.join("\n");
}
