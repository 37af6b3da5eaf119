/**
 * The fleet summary as plain text that reads on a phone with thousands of symbols and dozens of shards: lines of
 * at most 40 characters, totals first, then what needs attention (shards not live, symbols nothing records,
 * the worst symbols' gaps), then the per-shard and per-table detail. Pure.
 * @module
 */

import { fmtBytes, fmtCount, fmtDuration, fmtTime } from "../report/text.ts";
import type { FleetSummary, ShardView } from "./summary.ts";

/** Options of {@linkcode formatFleetReport}. */
export interface FleetFormatOptions {
  /** Shards listed; those not live always are, then live ones up to this. @default Infinity */
  maxShards?: number;
  /** Symbols listed under "Worst symbols". @default 10 */
  maxSymbols?: number;
  /** Host, rate, books and the day's totals under every shard (else only under shards not live). @default true */
  details?: boolean;
}

const WIDTH = 40;

/** Shortens a line for a phone screen. */
function fit(line: string): string {
  return line.length <= WIDTH ? line : line.slice(0, WIDTH - 1) + "…";
}

/**
 * A short age: `42s`, `17m`, `5h`, `3d`.
 *
 * @example
 * ```ts
 * fmtAge(17 * 60_000 + 5_000); // "17m"
 * ```
 */
export function fmtAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 172_800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

function shardLines(s: ShardView, nowMs: number, details: boolean): string[] {
  const hb = s.heartbeat;
  const flag = s.state === "live" ? " " : "!";
  const upload = hb?.lastUploadMs != null ? fmtAge(nowMs - hb.lastUploadMs) : "-";
  const lines = [
    fit(
      `${flag}${s.shard.padEnd(6)} ${s.state.padEnd(7)} ${
        (s.ageMs === null ? "-" : fmtAge(s.ageMs)).padStart(5)
      }${fmtCount(s.symbols).padStart(6)}${upload.padStart(7)}`,
    ),
  ];
  if (!details && s.state === "live") return lines;
  if (hb !== null) {
    lines.push(
      fit(
        `   ${hb.host} ${hb.version} ${
          fmtCount(Math.round(hb.messagesPerSec))
        }/s books ${hb.books.synced}/${hb.books.total}`,
      ),
    );
    if (s.state === "stopped") lines.push(fit(`   stopped ${fmtTime(hb.stoppedAtMs! * 1000)}`));
    else if (s.state === "silent") lines.push(fit(`   last heard ${fmtTime(hb.atMs * 1000)}`));
  }
  lines.push(fit(`   day: ${s.files} files, ${fmtCount(s.rows)} rows, ${s.gaps} gaps`));
  return lines;
}

/** `HH:MM` of a µs time. */
const hhmm = (us: number) => fmtTime(us).slice(0, 5);

/**
 * The summary as text (lines of at most 40 characters; shard names over 6 characters push theirs past that).
 *
 * @example
 * ```ts
 * import { FleetAccumulator } from "./summary.ts";
 *
 * const text = formatFleetReport(new FleetAccumulator("2024-01-02", Date.UTC(2024, 0, 2, 12), 900_000).summary());
 * text.split("\n")[1]; // "⚠️ No shard has published a heartbeat"
 * ```
 */
export function formatFleetReport(summary: FleetSummary, options: FleetFormatOptions = {}): string {
  const { maxShards = Infinity, maxSymbols = 10, details = true } = options;
  const { shards, gaps } = summary;
  const lines = [`Fleet ${summary.date} (UTC) at ${fmtTime(summary.nowMs * 1000).slice(0, 5)}`];
  const counts = new Map<string, number>();
  for (const s of shards) counts.set(s.state, (counts.get(s.state) ?? 0) + 1);
  if (shards.every((s) => s.heartbeat === null)) lines.push("⚠️ No shard has published a heartbeat");
  if (shards.length > 0) {
    const states = ["live", "silent", "stopped", "unknown"].filter((k) => counts.has(k))
      .map((k) => `${counts.get(k)} ${k === "unknown" ? "no heartbeat" : k}`);
    lines.push(fit(`Shards ${shards.length}: ${states.join(", ")}`));
  }
  const quiet = shards.filter((s) => s.state === "silent");
  if (quiet.length > 0) {
    lines.push(
      fit(`⚠️ Silent over ${fmtAge(summary.silentAfterMs)}: ${quiet.map((s) => s.shard).join(" ")}`),
    );
  }
  if (summary.markets.length > 0) lines.push("Symbols");
  for (const m of summary.markets) {
    const notes = [
      m.notRecorded > 0 ? `${fmtCount(m.notRecorded)} not recorded now` : "",
      m.underReplicated > 0 ? `${fmtCount(m.underReplicated)} short of replicas` : "",
    ].filter((n) => n !== "");
    lines.push(
      fit(
        ` ${m.market.padEnd(6)}${fmtCount(m.symbols).padStart(6)}${notes.length ? ", " : ""}${
          notes.join(", ")
        }`,
      ),
    );
  }

  lines.push("", fit(`Gaps ${fmtCount(gaps.count)}, ${fmtDuration(gaps.missingSeconds)} missing`));
  for (const k of gaps.byKind) {
    lines.push(` ${k.kind.padEnd(12)}${fmtCount(k.count).padStart(6)}  ${fmtDuration(k.seconds)}`);
  }
  const worst = gaps.worst.slice(0, maxSymbols);
  if (worst.length > 0) {
    lines.push(
      worst.length === gaps.worst.length
        ? "Symbols with gaps"
        : fit(`Worst symbols: ${worst.length} of ${fmtCount(gaps.worst.length)} with gaps`),
      `${" symbol".padEnd(21)}${"gaps".padStart(5)} ${"missing".padStart(8)}`,
    );
    for (const g of worst) {
      lines.push(
        fit(
          ` ${`${g.market} ${g.symbol}`.padEnd(20)}${String(g.count).padStart(5)} ${
            fmtDuration(g.seconds).padStart(8)
          }`,
        ),
        fit(`   ${g.streams.join(",")} ${g.shards.join(",")}`),
      );
    }
  }

  if (shards.length > 0) {
    lines.push(
      "",
      `${"Shard".padEnd(7)} ${"state".padEnd(7)} ${"beat".padStart(5)}${"sym".padStart(6)}${
        "upload".padStart(7)
      }`,
    );
    const listed = shards.filter((s, i) => s.state !== "live" || i < maxShards);
    for (const s of listed) lines.push(...shardLines(s, summary.nowMs, details));
    if (listed.length < shards.length) lines.push(`… ${shards.length - listed.length} more live shards`);
  }

  lines.push("");
  if (summary.coverage.length === 0) lines.push("⚠️ No files of this day in the manifests");
  else {
    const total = summary.coverage.reduce(
      (t, c) => ({ files: t.files + c.files, rows: t.rows + c.rows, bytes: t.bytes + c.bytes }),
      { files: 0, rows: 0, bytes: 0 },
    );
    lines.push(fit(`Files ${total.files}, ${fmtCount(total.rows)} rows, ${fmtBytes(total.bytes)}`));
    lines.push(`${"Table".padEnd(16)}${"files".padStart(5)}${"rows".padStart(7)} first-last`);
    let market = "";
    for (const c of summary.coverage) {
      if (c.market !== market) lines.push(c.market);
      market = c.market;
      lines.push(
        fit(
          ` ${c.table.padEnd(15)}${String(c.files).padStart(5)}${fmtCount(c.rows).padStart(7)} ${
            hhmm(c.firstUs)
          }-${hhmm(c.lastUs)}`,
        ),
      );
    }
  }
  if (summary.problems.length > 0) {
    lines.push("", `Unreadable files: ${summary.problems.length}`, ...summary.problems.slice(0, 5));
  }
  return lines.join("\n") + "\n";
}
