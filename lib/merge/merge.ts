/**
 * `deno task merge`: several recordings of the same streams (replicas on other machines, or runs with holes)
 * into one data directory of the layout: each row once (de-duplicated by its exchange ids, dedup.ts and
 * depth_tape.ts), a gap row only where every recording missed data (coverage.ts).
 *
 * Work goes one (market, table, UTC hour) at a time, in ascending hours, and within it symbol by symbol
 * (symbol_sweep.ts): memory holds one hour's row groups around the sweep, never a day. Remote inputs are fetched
 * an hour's files at a time. The output is built in a hidden directory beside OUT (every file written
 * atomically, then `_manifest/checksums.json`) and renamed to OUT at the end, so OUT appears complete or not at
 * all; `deno task verify OUT` checks it.
 * @module
 */

import { basename, dirname, join } from "node:path";
import * as arrow from "apache-arrow";
import * as pq from "parquet-wasm";
import type { Market } from "../binance/markets.ts";
import { syncDir } from "../storage/atomic_file.ts";
import { hourStartUs } from "../storage/layout.ts";
import { Manifest, type ManifestEntry, sha256Hex } from "../storage/manifest.ts";
import { toRows } from "../storage/read_rows.ts";
import type { Row, TableName } from "../storage/tables.ts";
import { Coverage, type IdHole, type RecordingGapCount } from "./coverage.ts";
import { type MergeCounts, mergerFor, type SymbolMerger, type Tagged } from "./dedup.ts";
import { DepthTape } from "./depth_tape.ts";
import { HourFileWriter } from "./hour_writer.ts";
import type { RcloneRemoteOptions } from "./rclone_remote.ts";
import {
  type Input,
  MergeInputError,
  openRecordings,
  type Recording,
  type SourceFile,
} from "./recordings.ts";
import { rowStreamKey } from "./streams.ts";
import { SweepReadError, sweepSymbols } from "./symbol_sweep.ts";

/** What to merge where. */
export interface MergeOptions {
  /** Local data directories and rclone remotes (`remote:path`). */
  inputs: readonly string[];
  /** The merged data directory; must not exist or be empty. */
  out: string;
  rclone?: RcloneRemoteOptions;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** What a merge did. */
export interface MergeReport {
  recordings: { label: string; files: number; gaps: RecordingGapCount }[];
  /** Rows read, written and dropped, per `market/table`. */
  tables: Record<string, MergeCounts>;
  /** Gap rows of the output, and of those how many mark holes found from ids alone. */
  gaps: number;
  idHoleGaps: number;
  /** Files written (with their manifest entries). */
  files: number;
  seconds: number;
}

/** Fetches (remote inputs) or finds (local ones) the files of one group. */
class FileSource {
  #next = 0;
  constructor(readonly inputs: readonly Input[], readonly fetchRoot: string) {}

  async paths(files: readonly SourceFile[]): Promise<{ paths: string[]; release: () => Promise<void> }> {
    const dirs: string[] = [];
    const paths: string[] = new Array(files.length);
    for (const [input, group] of Map.groupBy(files.map((f, i) => ({ f, i })), (x) => x.f.input)) {
      const src = this.inputs[input]!;
      if (src.kind === "local") {
        for (const { f, i } of group) paths[i] = join(src.root, f.rel);
        continue;
      }
      const dir = join(this.fetchRoot, String(this.#next++));
      dirs.push(dir);
      await src.remote.fetch(group.map((x) => x.f), dir);
      for (const { f, i } of group) paths[i] = join(dir, f.rel);
    }
    return {
      paths,
      release: async () => void await Promise.all(dirs.map((d) => Deno.remove(d, { recursive: true }))),
    };
  }
}

async function checkOut(out: string): Promise<void> {
  try {
    const info = await Deno.stat(out);
    if (!info.isDirectory) throw new MergeInputError(`--out ${out} exists and is a file`);
    for await (const _ of Deno.readDir(out)) {
      throw new MergeInputError(`--out ${out} exists and is not empty`);
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}

/** Reads every gap row of the recordings into `coverage`. */
async function readGaps(
  recordings: readonly Recording[],
  source: FileSource,
  coverage: Coverage,
): Promise<void> {
  const files = recordings.flatMap((r) => r.files.filter((f) => f.table === "gaps"));
  const { paths, release } = await source.paths(files);
  try {
    for (const [i, f] of files.entries()) {
      let rows: Row<"gaps">[];
      try {
        rows = toRows<"gaps">(
          arrow.tableFromIPC(pq.readParquet(await Deno.readFile(paths[i]!)).intoIPCStream()),
        );
      } catch (err) {
        throw new SweepReadError(paths[i]!, err instanceof Error ? err.message : String(err), { cause: err });
      }
      for (const row of rows) coverage.noteGap(f.rec, f.market, row);
    }
  } finally {
    await release();
  }
}

/** Spans and streams of each recording in one symbol's rows, for the coverage. */
function noteRows(
  coverage: Coverage,
  market: Market,
  table: TableName,
  symbol: string,
  rows: readonly Tagged[],
) {
  const seen = new Map<string, { rec: number; key: string | null; min: number; max: number }>();
  for (const { row, rec } of rows) {
    const key = rowStreamKey(table, row);
    const id = `${rec}\u0000${key}`;
    const s = seen.get(id);
    if (s === undefined) seen.set(id, { rec, key, min: row.local_time, max: row.local_time });
    else {
      if (row.local_time < s.min) s.min = row.local_time;
      if (row.local_time > s.max) s.max = row.local_time;
    }
  }
  for (const s of seen.values()) coverage.noteRows(s.rec, market, symbol, s.key, s.min, s.max);
}

const byKey = <T>(a: [string, T], b: [string, T]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/** A short tag for a file name, from what went into it. */
async function tagOf(text: string): Promise<string> {
  return (await sha256Hex(new TextEncoder().encode(text))).slice(0, 8);
}

/** Merges one (market, table) hour by hour; returns the manifest entries written. */
async function mergeTable(
  ctx: { staging: string; source: FileSource; coverage: Coverage; labels: string[] },
  market: Market,
  table: TableName,
  files: readonly SourceFile[],
  merger: SymbolMerger,
): Promise<ManifestEntry[]> {
  const entries: ManifestEntry[] = [];
  const hours = [...Map.groupBy(files, (f) => f.hourUs)].sort((a, b) => a[0] - b[0]);
  for (const [, group] of hours) {
    group.sort((a, b) => a.rec - b.rec || a.startUs - b.startUs || (a.rel < b.rel ? -1 : 1));
    const { paths, release } = await ctx.source.paths(group);
    const tag = await tagOf(group.map((f) => `${ctx.labels[f.rec]}/${f.rel}`).join("\n"));
    const nameUs = Math.min(...group.map((f) => f.startUs));
    const writer = new HourFileWriter(ctx.staging, { market, table, nameUs, tag });
    try {
      const sweep = sweepSymbols(group.map((f, i) => ({ path: paths[i]!, rec: f.rec })));
      for await (const { symbol, rows } of sweep) {
        noteRows(ctx.coverage, market, table, symbol, rows);
        await writer.append(merger.merge(symbol, rows));
      }
      const entry = await writer.finish();
      if (entry !== null) entries.push(entry);
    } catch (err) {
      await writer.abort();
      throw err;
    } finally {
      await release();
    }
    merger.endHour();
  }
  return entries;
}

/** Writes the merged gap rows, one file per market and hour of their start. */
async function writeGaps(staging: string, gaps: Map<Market, Row<"gaps">[]>): Promise<ManifestEntry[]> {
  const entries: ManifestEntry[] = [];
  for (const [market, rows] of gaps) {
    for (const [hourUs, inHour] of Map.groupBy(rows, (g) => hourStartUs(g.start_time))) {
      const nameUs = Math.min(...inHour.map((g) => g.start_time));
      const writer = new HourFileWriter(staging, {
        market,
        table: "gaps",
        nameUs,
        tag: await tagOf(`gaps ${hourUs}`),
      });
      await writer.append(inHour);
      entries.push((await writer.finish())!);
    }
  }
  return entries;
}

/** Depth updates the merged tape lacks (its diffs do not chain across a snapshot block). */
function depthHoles(market: Market, tape: DepthTape): IdHole[] {
  return tape.holes.map((h) => ({
    market,
    symbol: h.symbol,
    key: "depth",
    fromUs: h.fromUs,
    toUs: h.toUs,
    lastId: h.lastId,
    resumeId: h.resumeId,
    what: `no recording has the depth updates after ${h.lastId}` +
      (h.resumeId === null ? "" : ` (the tape resumes from the snapshot at ${h.resumeId})`),
  }));
}

/** Agg trade ids between the ones written (a REST backfill in any recording would have filled them). */
function tradeHoles(market: Market, trades: SymbolMerger): IdHole[] {
  return [...trades.idHoles?.() ?? []].flatMap(([symbol, list]) =>
    list.map((h) => ({
      market,
      symbol,
      key: "aggTrade",
      fromUs: Math.min(h.afterUs, h.beforeUs),
      toUs: Math.max(h.afterUs, h.beforeUs),
      lastId: h.afterKey,
      resumeId: h.beforeKey,
      what: `no recording has agg trades ${h.afterKey + 1}..${h.beforeKey - 1}`,
    }))
  );
}

/**
 * Merges the recordings of `options.inputs` into `options.out` (see the module doc). Throws
 * {@linkcode MergeInputError} for bad inputs (nothing is written then), other errors when a file cannot be read
 * or written (the hidden work directory is removed).
 */
export async function mergeRecordings(options: MergeOptions): Promise<MergeReport> {
  const started = performance.now();
  const log = options.log ?? (() => {});
  await checkOut(options.out);
  const { inputs, recordings } = await openRecordings(options.inputs, options.rclone);
  const labels = recordings.map((r) => r.label);
  log(`merging ${recordings.length} recordings: ${labels.join(", ")}`);
  const staging = join(
    dirname(options.out),
    `.${basename(options.out)}.merge-${crypto.randomUUID().slice(0, 8)}`,
  );
  await Deno.mkdir(staging, { recursive: true });
  try {
    const source = new FileSource(inputs, join(staging, "_fetch"));
    const coverage = new Coverage(labels);
    await readGaps(recordings, source, coverage);
    const ctx = { staging, source, coverage, labels };
    const entries: ManifestEntry[] = [];
    const tables: Record<string, MergeCounts> = {};
    const holes: IdHole[] = [];
    const all = recordings.flatMap((r) => r.files).filter((f) => f.table !== "gaps");
    const parts = [...Map.groupBy(all, (f) => `${f.market}/${f.table}`)].sort(byKey);
    for (const [part, files] of parts) {
      const [market, table] = part.split("/") as [Market, Exclude<TableName, "gaps">];
      const merger = table === "depth_updates" ? new DepthTape(market) : mergerFor(table);
      entries.push(...await mergeTable(ctx, market, table, files, merger));
      tables[part] = merger.counts;
      holes.push(...(merger instanceof DepthTape ? depthHoles(market, merger) : tradeHoles(market, merger)));
      const c = merger.counts;
      log(
        `${part}: ${c.read} rows read, ${c.kept} written, ${c.duplicates} duplicates, ${c.superseded} superseded`,
      );
    }
    const { gaps, fromHoles } = coverage.mergedGaps(holes);
    entries.push(...await writeGaps(staging, gaps));
    const manifest = await Manifest.load(staging);
    for (const e of entries) manifest.add(e);
    await manifest.save();
    await Deno.remove(join(staging, "_fetch"), { recursive: true }).catch(() => {});
    await Deno.rename(staging, options.out);
    await syncDir(dirname(options.out));
    const gapCount = [...gaps.values()].reduce((n, rows) => n + rows.length, 0);
    const gapCounts = coverage.gapCounts();
    return {
      recordings: recordings.map((r, i) => ({ label: r.label, files: r.files.length, gaps: gapCounts[i]! })),
      tables,
      gaps: gapCount,
      idHoleGaps: fromHoles,
      files: entries.length,
      seconds: (performance.now() - started) / 1000,
    };
  } catch (err) {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
    throw err;
  }
}
