/**
 * The words of alerts (pure): one alert as a message, and a coalesced group as one summary line. Output is
 * Telegram HTML; everything that comes from outside (errors, reasons, paths) is escaped.
 * @module
 */

import { fmtBytes, fmtCount, fmtDuration, fmtSignedMs } from "../report/text.ts";
import type { Alert, Tally } from "./alerts.ts";
import { clip, escapeHtml as esc } from "./html.ts";

/** Longest error or reason quoted in an alert. */
const MAX_DETAIL = 300;

const detail = (text: string) => esc(clip(text, MAX_DETAIL));

/**
 * A period for "in the last …": seconds up to 2 minutes, then minutes up to 2 hours, then hours.
 *
 * @example
 * ```ts
 * fmtSpan(60_000); // "60 s"
 * fmtSpan(300_000); // "5 min"
 * ```
 */
export function fmtSpan(ms: number): string {
  const s = Math.max(1, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  const min = Math.round(s / 60);
  return min < 120 ? `${min} min` : `${Math.round(s / 3600)} h`;
}

/** `n` and the word, plural when `n` is not 1 ("1 gap", "12 gaps"). */
function count(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** Entries by count (descending), then name: `BTCUSDT ×6, ETHUSDT, +3 more`. */
function ranked(map: ReadonlyMap<string, number>, show: number, more = false): string {
  const entries = [...map].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const parts = entries.slice(0, show).map(([name, n]) => (n > 1 ? `${esc(name)} ×${n}` : esc(name)));
  const rest = entries.length - show;
  if (rest > 0 || more) parts.push(rest > 0 ? `+${rest}${more ? "…" : ""} more` : "…");
  return parts.join(", ");
}

function gapIds(last: number | null, resume: number | null): string {
  if (last === null && resume === null) return "";
  return ` ids ${last ?? "?"}→${resume ?? "?"}`;
}

/**
 * One alert as a message.
 *
 * @example
 * ```ts
 * alertText({ kind: "reconnect", market: "spot", conn: "BTCUSDT", downtimeMs: 1200 });
 * // "🔗 Reconnected spot BTCUSDT after 1.2s down"
 * ```
 */
export function alertText(a: Alert): string {
  switch (a.kind) {
    case "start": {
      const lines = [`🟢 <b>Collector started</b> v${esc(a.version)}`];
      for (const m of a.markets) lines.push(`${m.market}: ${symbolList(m.symbols)}`);
      lines.push(`data: ${esc(a.dataDir)}`);
      return lines.join("\n");
    }
    case "stop":
      return `🔴 <b>Collector stopped</b> v${esc(a.version)}: ${detail(a.reason)}, up ${
        fmtDuration(Math.round(a.uptimeMs / 1000))
      }`;
    case "disconnect":
      return `🔌 Disconnected ${a.market} ${esc(a.conn)}: ${detail(a.cause)}`;
    case "reconnect":
      return `🔗 Reconnected ${a.market} ${esc(a.conn)} after ${fmtDuration(a.downtimeMs / 1000)} down`;
    case "gap": {
      const g = a.gap;
      const seconds = Math.max(0, g.end_time - g.start_time) / 1e6;
      return `🕳 Gap ${a.market} ${esc(g.symbol)} ${esc(g.stream)}: ${esc(g.kind)}, ${fmtDuration(seconds)}${
        gapIds(g.last_update_id, g.resume_update_id)
      }\n${detail(g.reason)}`;
    }
    case "backfill":
      return a.ok
        ? `♻️ Backfilled ${a.market} ${esc(a.symbol)} ${esc(a.stream)}: ${fmtCount(a.rows)} rows${
          a.detail ? `, ${detail(a.detail)}` : ""
        }`
        : `⚠️ Backfill failed ${a.market} ${esc(a.symbol)} ${esc(a.stream)}: ${detail(a.detail)}`;
    case "clock":
      return `⏱ Clock offset ${fmtSignedMs(a.offsetMs)} ms (${esc(a.source)}${
        a.server ? ` ${esc(a.server)}` : ""
      }), limit ±${a.thresholdMs} ms`;
    case "disk":
      return a.freeBytes < a.minBytes
        ? `🛑 <b>Disk full</b>: ${fmtBytes(a.freeBytes)} free for ${esc(a.dir)}, below the ${
          fmtBytes(a.minBytes)
        } minimum for writing`
        : `💾 Disk low: ${fmtBytes(a.freeBytes)} free for ${esc(a.dir)} (alert below ${
          fmtBytes(a.lowBytes)
        })`;
    case "flush_failed":
      return `❌ Flush failed: ${detail(a.error)}`;
    case "journal_failed":
      return `❌ <b>Journal failed</b>: ${detail(a.error)}; collecting in memory while it is reopened`;
    case "sync_failed":
      return `☁️ Upload failed: ${esc(a.path)}: ${detail(a.error)}`;
    case "universe": {
      const parts = [];
      if (a.added.length > 0) parts.push(`+${a.added.length} listed: ${symbolList(a.added)}`);
      if (a.removed.length > 0) parts.push(`−${a.removed.length} stopped trading: ${symbolList(a.removed)}`);
      return `🗂 Symbols on ${a.market}: ${parts.join("; ")}`;
    }
  }
}

/** A list of symbols that fits a phone: the first few, then how many more (thousands with `symbols: all`). */
function symbolList(symbols: readonly string[], shown = 12): string {
  if (symbols.length === 0) return "none yet (symbols: all, read from the exchange)";
  const head = esc(symbols.slice(0, shown).join(", "));
  return symbols.length > shown ? `${head} and ${symbols.length - shown} more` : head;
}

/** A coalesced group of `t.count` (more than one) alerts over the last `spanMs`, as one message. */
export function summaryText(t: Tally, spanMs: number): string {
  const last = `in the last ${fmtSpan(spanMs)}`;
  const subjects = t.subjects.size > 0 ? ` (${ranked(t.subjects, 4, t.moreSubjects)})` : "";
  // Every alert of a tally has the first one's family, so the first one tells which summary to write.
  const f = t.first;
  switch (f.kind) {
    case "disconnect":
    case "reconnect": {
      const kinds = ["reconnect", "disconnect"]
        .filter((k) => t.sorts.has(k))
        .map((k) => count(t.sorts.get(k)!, k))
        .join(", ");
      const down = t.sorts.has("reconnect") ? `, longest down ${fmtDuration(t.worst / 1000)}` : "";
      return `🔗 ${kinds} on ${f.market} ${last}${subjects}${down}`;
    }
    case "gap":
      return `🕳 ${count(t.count, "gap")} on ${f.market} ${last}${subjects}: ${ranked(t.sorts, 4)}, ${
        fmtDuration(t.worst)
      } missing`;
    case "backfill": {
      const results = ["ok", "failed"].filter((k) => t.sorts.has(k)).map((k) => `${t.sorts.get(k)} ${k}`);
      return `♻️ ${count(t.count, "backfill")} on ${f.market} ${last}: ${results.join(", ")}${subjects}`;
    }
    case "clock":
      return `⏱ ${count(t.count, "clock offset")} over ±${f.thresholdMs} ms from ${
        esc(f.source)
      } ${last}, worst ${fmtSignedMs(t.worst)} ms`;
    case "disk": {
      const full = f.freeBytes < f.minBytes;
      return `${full ? "🛑" : "💾"} Disk ${full ? "full" : "low"} ${
        count(t.count, "time")
      } ${last}, least free ${fmtBytes(t.worst)} for ${esc(f.dir)} (${
        full ? `minimum ${fmtBytes(f.minBytes)}` : `alert below ${fmtBytes(f.lowBytes)}`
      })`;
    }
    case "flush_failed":
      return `❌ ${count(t.count, "flush failure")} ${last}; last: ${detail(t.lastError)}`;
    case "journal_failed":
      return `❌ ${count(t.count, "journal failure")} ${last}; last: ${detail(t.lastError)}`;
    case "sync_failed":
      return `☁️ ${count(t.count, "upload failure")} ${last}${subjects}; last: ${detail(t.lastError)}`;
    default:
      // Start and stop are never coalesced.
      return alertText(f);
  }
}
