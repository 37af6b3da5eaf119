/**
 * Replies to chat commands (pure): short headers and monospace tables of at most about 36 columns, which
 * read without wrapping on a phone held upright. Output is Telegram HTML. With many symbols (`symbols: all`)
 * the tables list the worst rows first and count the rest, so a reply stays one screen, not 2,000 lines.
 * @module
 */

import { type DayCoverage, type StreamTotal, streamTotals } from "../charts/day_coverage.ts";
import { type DiskSpace, MIB } from "../disk.ts";
import { isRecovered } from "../ledger/coverage.ts";
import { DAY_US, utcDayStartUs } from "../ledger/intervals.ts";
import { CLOCK_SOURCES, type ClockSample, compareText as cmp, type GapRecord } from "../ledger/records.ts";
import { summarizeGaps } from "../report/gaps.ts";
import { fmtBytes, fmtCount, fmtDuration, fmtPct, fmtSignedMs, fmtTime } from "../report/text.ts";
import type { GapsArgs, MarketSymbols } from "./args.ts";
import type { SymbolStatus } from "../pipeline/collector.ts";
import { escapeHtml as esc, preBlock } from "./html.ts";

/** One row of `/status` (the collector's per-symbol view). */
export type { SymbolStatus };

/** A command, its arguments and what it answers: the source of `/help` and of the bot's command menu. */
export const COMMANDS: readonly { command: string; args: string; description: string }[] = [
  { command: "status", args: "", description: "Connections, books, message age and rate" },
  { command: "gaps", args: "[symbol] [date]", description: "Gaps of a day" },
  { command: "coverage", args: "[date]", description: "Share of the day recorded: worst streams, heatmap" },
  { command: "report", args: "[date]", description: "The daily report" },
  { command: "clock", args: "", description: "Clock offsets (NTP, Binance)" },
  { command: "disk", args: "", description: "Free space for the data" },
  { command: "help", args: "", description: "This list" },
];

/** `/help`. */
export function formatHelp(): string {
  const lines = COMMANDS.map((c) => `/${c.command}${c.args ? ` ${esc(c.args)}` : ""} – ${c.description}`);
  return `<b>Commands</b>\n${lines.join("\n")}\nDates: YYYY-MM-DD, today or yesterday (UTC).`;
}

const BOOK_WORDS: Readonly<Record<string, string>> = { synced: "ok", buffering: "sync", idle: "idle" };

function fmtAge(ms: number | null): string {
  return ms === null ? "-" : fmtDuration(Math.round(ms / 100) / 10);
}

function fmtRate(perSec: number): string {
  if (perSec === 0) return "0";
  return perSec >= 10_000
    ? fmtCount(Math.round(perSec))
    : perSec >= 10
    ? perSec.toFixed(0)
    : perSec.toFixed(1);
}

/** Symbol rows `/status` and `/coverage` list before counting the rest. */
export const MAX_ROWS = 20;

/** Silence longer than this marks a symbol in `/status` (its streams' own thresholds are shorter). */
const SILENT_MS = 60_000;

/** 0 = worst: unknown or down, then book not in sync, then silent, then fine. */
function trouble(r: SymbolStatus | undefined): number {
  if (r === undefined || !r.connected) return 0;
  if (r.book !== null && r.book !== "synced") return 1;
  if (r.lastMessageAgeMs === null || r.lastMessageAgeMs > SILENT_MS) return 2;
  return 3;
}

/**
 * `/status`: totals, then one row per (market, symbol). Up to {@linkcode MAX_ROWS} symbols every one is
 * listed in config order; beyond that the worst (down, book not in sync, silent) and then the busiest are
 * listed, grouped by market, and the rest counted. A symbol the collector does not report reads `?`.
 *
 * @example
 * ```ts
 * import type { SymbolStatus } from "../pipeline/collector_status.ts";
 *
 * const rows: SymbolStatus[] = [ // collector.symbolStatus()
 *   { market: "spot", symbol: "BTCUSDT", connected: true, book: "synced", lastMessageAgeMs: 40, msgsPerSec: 25 },
 * ];
 * formatStatus([{ market: "spot", symbols: ["BTCUSDT"] }], rows, Date.now()).includes("BTCUSDT"); // true
 * ```
 */
export function formatStatus(
  markets: readonly MarketSymbols[],
  rows: readonly SymbolStatus[],
  nowMs: number,
): string {
  const byKey = new Map(rows.map((r) => [`${r.market}\u0000${r.symbol}`, r]));
  let symbols = 0;
  let connected = 0;
  let books = 0;
  let synced = 0;
  let troubled = 0;
  const all: { market: string; symbol: string; order: number; r: SymbolStatus | undefined }[] = [];
  for (const m of markets) {
    for (const symbol of m.symbols) {
      const r = byKey.get(`${m.market}\u0000${symbol}`);
      all.push({ market: m.market, symbol, order: all.length, r });
      symbols++;
      if (r?.connected) connected++;
      if (r !== undefined && r.book !== null) books++;
      if (r?.book === "synced") synced++;
      if (trouble(r) < 3) troubled++;
    }
  }
  const shown = all.length <= MAX_ROWS
    ? all
    : [...all].sort((a, b) =>
      trouble(a.r) - trouble(b.r) || (b.r?.msgsPerSec ?? 0) - (a.r?.msgsPerSec ?? 0) || a.order - b.order
    ).slice(0, MAX_ROWS).sort((a, b) =>
      markets.findIndex((m) => m.market === a.market) - markets.findIndex((m) => m.market === b.market) ||
      trouble(a.r) - trouble(b.r) || (b.r?.msgsPerSec ?? 0) - (a.r?.msgsPerSec ?? 0) || a.order - b.order
    );
  const width = Math.min(14, Math.max(7, ...shown.map((s) => s.symbol.length)));
  const lines = [`${"symbol".padEnd(width)} conn book ${"age".padStart(6)} ${"msg/s".padStart(6)}`];
  let group = "";
  for (const { market, symbol, r } of shown) {
    if (market !== group) lines.push(market);
    group = market;
    if (r === undefined) {
      lines.push(`${symbol.padEnd(width)} ?    ?    ${"?".padStart(6)} ${"?".padStart(6)}`);
      continue;
    }
    const book = r.book === null ? "-" : BOOK_WORDS[r.book] ?? r.book.slice(0, 4);
    lines.push(
      `${symbol.padEnd(width)} ${(r.connected ? "up" : "DOWN").padEnd(4)} ${book.padEnd(4)} ${
        fmtAge(r.lastMessageAgeMs).padStart(6)
      } ${fmtRate(r.msgsPerSec).padStart(6)}`,
    );
  }
  const rest = all.length - shown.length;
  if (rest > 0) {
    const restTroubled = troubled - shown.filter((s) => trouble(s.r) < 3).length;
    lines.push(`… ${fmtCount(rest)} more${restTroubled > 0 ? `, ${restTroubled} in trouble` : ", all fine"}`);
  }
  const healthy = connected === symbols && synced === books;
  const summary = `${
    healthy ? "✅" : "⚠️"
  } ${connected}/${symbols} connected, ${synced}/${books} books synced`;
  const perMarket = all.length <= MAX_ROWS
    ? ""
    : `\n${
      markets.map((m) => `${m.market} ${fmtCount(m.symbols.length)}`).join(", ")
    } symbols; worst and busiest first`;
  return `<b>Status</b> ${fmtTime(nowMs * 1000)} UTC\n${summary}${perMarket}\n${preBlock(lines)}`;
}

const KIND_WORDS: Readonly<Record<string, string>> = {
  sequence: "seq",
  disconnect: "disc",
  stale: "stale",
  backfilled: "fill",
};

/** `HH:MM:SS` on the day, `MM-DD HH:MM` before it. */
function fmtStart(us: number, dayUs: number): string {
  return us >= dayUs
    ? fmtTime(us)
    : `${new Date(Math.floor(us / 1000)).toISOString().slice(5, 10)} ${fmtTime(us).slice(0, 5)}`;
}

/**
 * `/gaps`: totals, then each gap under its market and symbol (time, stream, kind, length; `✓` = data
 * recovered).
 */
export function formatGaps(args: GapsArgs, gaps: readonly GapRecord[]): string {
  const dayUs = utcDayStartUs(args.date);
  const title = `<b>Gaps ${args.date}</b>${args.symbol ? ` ${esc(args.symbol)}` : ""}`;
  if (gaps.length === 0) return `${title}\n✅ none`;
  const s = summarizeGaps(gaps, { fromUs: dayUs, toUs: dayUs + DAY_US });
  const lines: string[] = [];
  const sorted = [...gaps].sort((a, b) =>
    cmp(a.market, b.market) || cmp(a.row.symbol, b.row.symbol) || a.row.start_time - b.row.start_time
  );
  let group = "";
  for (const g of sorted) {
    const name = `${g.market} ${g.row.symbol}`;
    if (name !== group) lines.push(name);
    group = name;
    const seconds = Math.max(0, g.row.end_time - g.row.start_time) / 1e6;
    lines.push(
      ` ${fmtStart(g.row.start_time, dayUs)} ${g.row.stream.padEnd(12)} ${
        (KIND_WORDS[g.row.kind] ?? g.row.kind).padEnd(5)
      } ${fmtDuration(seconds)}${isRecovered(g) && g.row.kind !== "backfilled" ? " ✓" : ""}`,
    );
  }
  const total = `${s.count} gap${s.count === 1 ? "" : "s"} (${s.unrecovered} unrecovered), ${
    fmtDuration(s.seconds)
  } in total`;
  return `${title}\n${total}\n${preBlock(lines)}`;
}

/** Streams `/coverage` lists in full; with more, the worst {@linkcode MAX_ROWS} and a count of the rest. */
const COVERAGE_ALL_STREAMS = 30;

/**
 * `/coverage`: the day's covered share over all streams, then per stream under its market and symbol: every
 * stream when there are at most 30, else the worst {@linkcode MAX_ROWS} (lowest share, then busiest) and a
 * count of the rest.
 */
export function formatCoverage(day: DayCoverage): string {
  const title = `<b>Coverage ${day.date}</b>`;
  const streams = streamTotals(day);
  if (streams.length === 0) return `${title}\nnothing recorded`;
  let observed = 0;
  let covered = 0;
  let messages = 0;
  for (const t of streams) {
    observed += t.observedSeconds;
    covered += t.coveredSeconds;
    messages += t.messages;
  }
  const byName = (a: StreamTotal, b: StreamTotal) =>
    cmp(a.market, b.market) || cmp(a.symbol, b.symbol) || cmp(a.stream, b.stream);
  let shown: StreamTotal[];
  let footer: string[] = [];
  if (streams.length <= COVERAGE_ALL_STREAMS) shown = streams.sort(byName);
  else {
    const worst = [...streams].sort((a, b) => a.pct - b.pct || b.messages - a.messages || byName(a, b));
    shown = worst.slice(0, MAX_ROWS);
    // Group the symbols' streams together, worst symbol first.
    const symbolPct = new Map<string, number>();
    for (const t of shown) {
      const key = `${t.market} ${t.symbol}`;
      symbolPct.set(key, Math.min(symbolPct.get(key) ?? 100, t.pct));
    }
    const pctOf = (t: StreamTotal) => symbolPct.get(`${t.market} ${t.symbol}`)!;
    shown.sort((a, b) => pctOf(a) - pctOf(b) || byName(a, b));
    const rest = worst.slice(MAX_ROWS);
    const low = rest.filter((t) => t.pct < 100).length;
    footer = [`… ${fmtCount(rest.length)} more streams${low > 0 ? `, ${low} below 100%` : ", all 100%"}`];
  }
  const lines: string[] = [];
  let group = "";
  for (const s of shown) {
    const name = `${s.market} ${s.symbol}`;
    if (name !== group) lines.push(name);
    group = name;
    lines.push(` ${s.stream.padEnd(13)} ${fmtPct(s.pct).padStart(7)} ${fmtCount(s.messages).padStart(6)}`);
  }
  const symbols = new Set(streams.map((t) => `${t.market} ${t.symbol}`)).size;
  const scope = streams.length <= COVERAGE_ALL_STREAMS
    ? ""
    : `\n${fmtCount(symbols)} symbols, worst streams first`;
  return `${title}\n${fmtPct(observed === 0 ? 100 : (covered / observed) * 100)} of ${
    fmtDuration(observed)
  } observed, ${fmtCount(messages)} msgs${scope}\n${preBlock([...lines, ...footer])}`;
}

/**
 * `/clock`: the latest offset per source (`!` beyond the threshold), then each source's range over the
 * samples given (the bot passes the last 24 hours).
 */
export function formatClock(samples: readonly ClockSample[], thresholdMs: number, nowMs: number): string {
  const title = `<b>Clock</b> offsets, limit ±${thresholdMs} ms`;
  if (samples.length === 0) return `${title}\nno measurements in the last 24 h`;
  const lines = [`${"source".padEnd(12)} ${"ms".padStart(8)} ${"rtt".padStart(5)}  age`];
  const ranges: string[] = [];
  for (const source of CLOCK_SOURCES) {
    const mine = samples.filter((s) => s.source === source);
    const last = mine.at(-1);
    if (last === undefined) continue;
    const flag = Math.abs(last.offsetMs) > thresholdMs ? "!" : " ";
    lines.push(
      `${source.padEnd(12)} ${fmtSignedMs(last.offsetMs).padStart(7)}${flag} ${
        last.rttMs.toFixed(0).padStart(5)
      }  ${fmtDuration(Math.max(0, Math.round(nowMs / 1000 - last.atUs / 1e6)))}`,
    );
    const offsets = mine.map((s) => s.offsetMs);
    const over = offsets.filter((o) => Math.abs(o) > thresholdMs).length;
    ranges.push(
      `${source.padEnd(12)} ${fmtSignedMs(Math.min(...offsets))}..${fmtSignedMs(Math.max(...offsets))}${
        over > 0 ? ` !${over}` : ""
      }`,
    );
  }
  return `${title}\n${preBlock([...lines, "", "24 h range", ...ranges])}`;
}

/** `/disk`: free space of the data's filesystem against the thresholds (MiB). */
export function formatDisk(space: DiskSpace, lowMb: number, minMb: number, dir: string): string {
  const used = space.totalBytes === 0 ? 0 : (1 - space.freeBytes / space.totalBytes) * 100;
  const state = space.freeBytes < minMb * MIB
    ? "🛑 below the minimum: no writing"
    : space.freeBytes < lowMb * MIB
    ? "⚠️ low"
    : "✅ ok";
  const lines = [
    `free    ${fmtBytes(space.freeBytes)} of ${fmtBytes(space.totalBytes)}`,
    `used    ${used.toFixed(0)}%`,
    `alert   below ${fmtBytes(lowMb * MIB)}`,
    `minimum ${fmtBytes(minMb * MIB)}`,
  ];
  return `<b>Disk</b> ${esc(dir)}\n${state}\n${preBlock(lines)}`;
}
