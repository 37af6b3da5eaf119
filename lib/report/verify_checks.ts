/**
 * The checks of `deno task verify` as pure functions: a manifest entry against what the file on disk holds,
 * the manifest's paths against the files found, and the text of the result.
 * @module
 */

import { parseLegacyParquetPath, parseParquetPath } from "../storage/layout.ts";
import type { ManifestEntry } from "../storage/manifest.ts";
import { formatGapKinds, type GapSummary } from "./gaps.ts";
import { fmtDuration } from "./text.ts";

/** What can be wrong with a file. */
export type ProblemKind =
  | "missing"
  | "unlisted"
  | "unreadable"
  | "sha256"
  | "bytes"
  | "rows"
  | "range"
  | "partition";

/** One mismatch, naming the file. */
export interface Problem {
  path: string;
  kind: ProblemKind;
  detail: string;
}

/** What a file on disk holds: its hash and size, and if it decodes as Parquet, its rows and time range. */
export type FileFacts =
  | { readable: true; sha256: string; bytes: number; rows: number; firstTime: string; lastTime: string }
  | { readable: false; sha256: string; bytes: number; error: string };

/**
 * Why the rows' time range (ISO 8601 UTC, as in the manifest) does not fit the file's partition, or null if it
 * does: the `date=` segment must be the rows' UTC date, a `part-HH-` or `hour-HH-` name their UTC hour, and a file never
 * spans two UTC hours.
 */
export function partitionMismatch(path: string, firstTime: string, lastTime: string): string | null {
  const parsed = parseParquetPath(path);
  if (parsed === null) {
    return parseLegacyParquetPath(path) !== null
      ? "in the 0.3 layout (a symbol= directory): `deno task migrate` rewrites it into the current one"
      : "not a Parquet path of the layout";
  }
  const [firstDate, lastDate] = [firstTime.slice(0, 10), lastTime.slice(0, 10)];
  const [firstHour, lastHour] = [firstTime.slice(11, 13), lastTime.slice(11, 13)];
  if (firstDate !== parsed.date || lastDate !== parsed.date) {
    return `rows from ${firstTime} to ${lastTime} are outside date=${parsed.date}`;
  }
  if (firstHour !== lastHour) return `rows from ${firstTime} to ${lastTime} span two UTC hours`;
  // Part files (`part-HH-`) and compacted files (`hour-HH-`) carry their hour in the name.
  const hour = /^(?:part|hour)-(\d{2})-/.exec(parsed.file)?.[1];
  if (hour !== undefined && hour !== firstHour) {
    return `rows from ${firstTime} to ${lastTime} are outside hour ${hour} of the file name`;
  }
  return null;
}

/** The problems of one listed file whose bytes were read (an empty list when it matches its entry). */
export function checkFile(entry: ManifestEntry, facts: FileFacts): Problem[] {
  const problems: Problem[] = [];
  const add = (kind: ProblemKind, detail: string) => problems.push({ path: entry.path, kind, detail });
  if (facts.sha256 !== entry.sha256) {
    add("sha256", `manifest ${entry.sha256.slice(0, 16)}…, file ${facts.sha256.slice(0, 16)}…`);
  }
  if (facts.bytes !== entry.bytes) add("bytes", `manifest ${entry.bytes}, file ${facts.bytes}`);
  if (!facts.readable) {
    add("unreadable", facts.error);
    return problems;
  }
  if (facts.rows !== entry.rows) add("rows", `manifest ${entry.rows}, file ${facts.rows}`);
  if (facts.firstTime !== entry.first_local_time || facts.lastTime !== entry.last_local_time) {
    add(
      "range",
      `manifest ${entry.first_local_time}..${entry.last_local_time}, file ${facts.firstTime}..${facts.lastTime}`,
    );
  }
  const why = partitionMismatch(entry.path, facts.firstTime, facts.lastTime);
  if (why !== null) add("partition", why);
  return problems;
}

/** Entries whose file is missing, and files found that the manifest does not list. */
export function compareListings(listed: Iterable<string>, found: Iterable<string>): Problem[] {
  const onDisk = new Set(found);
  const inManifest = new Set(listed);
  const problems: Problem[] = [];
  for (const path of inManifest) {
    if (!onDisk.has(path)) {
      problems.push({ path, kind: "missing", detail: "listed in the manifest, not on disk" });
    }
  }
  for (const path of onDisk) {
    if (!inManifest.has(path)) {
      problems.push({ path, kind: "unlisted", detail: "on disk, not in the manifest" });
    }
  }
  return problems;
}

/** The outcome of a verify run. */
export interface VerifyReport {
  dataDir: string;
  /** Entries in the manifest. */
  listed: number;
  /** Parquet files found on disk. */
  found: number;
  /** Listed files found and read. */
  checked: number;
  problems: Problem[];
  /** Where the gap summary came from. */
  gapSource: "ledger" | "parquet";
  gaps: GapSummary;
}

/** The report as text: one line per problem (kind, path, detail), the gap summary, and the verdict. */
export function formatVerifyReport(report: VerifyReport): string {
  const bad = new Set(report.problems.map((p) => p.path));
  const lines = [
    `verify ${report.dataDir}`,
    `files: ${report.listed} in manifest, ${report.found} on disk, ${
      report.checked - countListedBad(report)
    } ok`,
  ];
  for (const p of report.problems) {
    lines.push(`${p.kind.toUpperCase().padEnd(10)} ${p.path}`, `           ${p.detail}`);
  }
  const g = report.gaps;
  lines.push(
    `gaps (${report.gapSource}): ${g.count}, ${g.unrecovered} unrecovered, ${fmtDuration(g.seconds)}`,
    ...formatGapKinds(g),
    ...g.byStream.map((s) =>
      ` ${s.market} ${s.symbol} ${s.stream}: ${s.count} (${s.unrecovered} unrecovered) ${
        fmtDuration(s.seconds)
      }`
    ),
    report.problems.length === 0 ? "OK" : `FAILED: ${report.problems.length} problems in ${bad.size} files`,
  );
  return lines.join("\n") + "\n";
}

function countListedBad(report: VerifyReport): number {
  return new Set(
    report.problems.filter((p) => p.kind !== "missing" && p.kind !== "unlisted").map((p) => p.path),
  )
    .size;
}
