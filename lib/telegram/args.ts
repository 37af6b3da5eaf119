/**
 * Chat command arguments (pure): `/gaps [symbol] [date]`, `/coverage [date]`, `/report [date]`. Dates are UTC
 * days (`YYYY-MM-DD`, `today`, `yesterday`); symbols are matched case-insensitively against the configured ones,
 * since phones like to capitalise and lower-case words.
 * @module
 */

import type { Market } from "../binance/types.ts";

/** A market and the symbols recorded on it. */
export interface MarketSymbols {
  market: Market;
  symbols: readonly string[];
}

/** A command's arguments are wrong; the message is meant for the chat, with the usage. */
export class CommandArgError extends Error {
  constructor(readonly command: string, detail: string, readonly usage: string) {
    super(`/${command}: ${detail}\nUsage: ${usage}`);
    this.name = "CommandArgError";
  }
}

const DAY_MS = 86_400_000;

/** The UTC date (`YYYY-MM-DD`) of a time in ms. */
export function utcDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Whether `word` is a date argument (it may still be an impossible date). */
function looksLikeDate(word: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(word) || /^(today|yesterday)$/i.test(word);
}

/** Resolves a date word to `YYYY-MM-DD`, or returns why it is not a usable day. */
function resolveDate(word: string, nowMs: number): string | { problem: string } {
  const lower = word.toLowerCase();
  if (lower === "today") return utcDate(nowMs);
  if (lower === "yesterday") return utcDate(nowMs - DAY_MS);
  const ms = Date.parse(`${word}T00:00:00Z`);
  // V8 parses 2024-02-31 as March 2nd; the round trip rejects such days.
  if (Number.isNaN(ms) || utcDate(ms) !== word) return { problem: `${word} is not a date` };
  if (word > utcDate(nowMs)) return { problem: `${word} is in the future` };
  return word;
}

/** Words of an argument string (`ctx.match`). */
function words(text: string): string[] {
  return text.trim().split(/\s+/).filter((w) => w !== "");
}

/** What `/gaps` asks for. */
export interface GapsArgs {
  /** A configured symbol, or null for all. */
  symbol: string | null;
  date: string;
}

const DATE_USAGE = "YYYY-MM-DD | today | yesterday";

/**
 * Parses `/gaps [symbol] [date]` (in either order; date defaults to today UTC).
 *
 * @example
 * ```ts
 * parseGapsArgs("btcusdt 2024-01-02", ["BTCUSDT"], Date.parse("2024-01-03T10:00:00Z"));
 * // { symbol: "BTCUSDT", date: "2024-01-02" }
 * ```
 */
export function parseGapsArgs(text: string, symbols: readonly string[], nowMs: number): GapsArgs {
  const usage = `/gaps [symbol] [${DATE_USAGE}]`;
  let symbol: string | null = null;
  let date: string | null = null;
  for (const word of words(text)) {
    if (looksLikeDate(word)) {
      if (date !== null) throw new CommandArgError("gaps", "give at most one date", usage);
      const d = resolveDate(word, nowMs);
      if (typeof d !== "string") throw new CommandArgError("gaps", d.problem, usage);
      date = d;
      continue;
    }
    if (symbol !== null) throw new CommandArgError("gaps", "give at most one symbol", usage);
    const upper = word.toUpperCase();
    if (!symbols.includes(upper)) {
      throw new CommandArgError("gaps", `unknown symbol ${word} (recorded: ${symbols.join(", ")})`, usage);
    }
    symbol = upper;
  }
  return { symbol, date: date ?? utcDate(nowMs) };
}

/**
 * Parses the optional single date of `/coverage` and `/report` (default today UTC).
 *
 * @example
 * ```ts
 * parseDateArg("report", "yesterday", Date.parse("2024-01-03T10:00:00Z")); // "2024-01-02"
 * ```
 */
export function parseDateArg(command: string, text: string, nowMs: number): string {
  const usage = `/${command} [${DATE_USAGE}]`;
  const given = words(text);
  if (given.length > 1) throw new CommandArgError(command, "give at most one date", usage);
  const word = given[0];
  if (word === undefined) return utcDate(nowMs);
  if (!looksLikeDate(word)) throw new CommandArgError(command, `${word} is not a date`, usage);
  const d = resolveDate(word, nowMs);
  if (typeof d !== "string") throw new CommandArgError(command, d.problem, usage);
  return d;
}

/** Every symbol recorded on any market, each once, in config order. */
export function allSymbols(markets: readonly MarketSymbols[]): string[] {
  return [...new Set(markets.flatMap((m) => m.symbols))];
}
