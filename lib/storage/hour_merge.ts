/**
 * Merges Parquet files of one table into one file sorted by symbol (each symbol's rows in the files' order),
 * with memory bounded by a window, not by the files: the merge walks the symbols in order, a window of them at
 * a time (merge_plan.ts: planned from the row groups' `symbol` statistics, no rows read), reads from each file
 * (merge_source.ts) only the row groups whose statistics overlap the window, sorts the window's rows and appends
 * its row groups to the output (merged_file.ts), which is written piece by piece to a temp file and renamed into
 * place.
 *
 * A part file is sorted in stretches (one per chunk the collector encoded), and every window decodes a group of
 * each stretch it covers: an hour of a whole market holds 600–1,200 of them per table, so one pass decoded
 * several times the rows it kept, window after window. Batches of at most `maxRuns` stretches are merged first,
 * each into a sorted temp file beside the target (removed after; a crash leaves only temp files, which start-up
 * removes), and those are merged in turn: an hour of 36M rows peaked at 558 MiB against 639 in one pass, for
 * 35% more CPU (the rows are encoded twice). Used by the hourly compaction and by the migration from the 0.3
 * layout (one symbol per file). Runs in the collector's Parquet worker (parquet_worker.ts).
 * @module
 */

import * as pq from "parquet-wasm";
import { AtomicFileWriter } from "./atomic_file.ts";
import { HOUR_ROW_GROUPS, type RowGroupSizes } from "./chunk_encoder.ts";
import { freeTable } from "./free_buffers.ts";
import { batchRuns, inSpan, overlaps, planWindows } from "./merge_plan.ts";
import {
  describeFile,
  fillRanges,
  type MergeSource,
  MergeSourceError,
  type OpenSource,
  openSource,
  readGroups,
  rowsIn,
  type Slice,
} from "./merge_source.ts";
import { appendWindow, HashedSink, MergedFile, RunFile } from "./merged_file.ts";
import { RawAppender } from "./raw_appender.ts";
import type { TableName } from "./tables.ts";

/** What to merge where. */
export interface MergeRequest {
  table: TableName;
  /** In the order their rows were recorded (the order each symbol's rows keep). */
  sources: MergeSource[];
  /** Where the merged file goes (written atomically). */
  target: string;
  sizes?: RowGroupSizes;
  /** Rows of this many approximate bytes are sorted at a time (one busy symbol may stream past it). */
  windowBytes?: number;
  /** Sorted stretches of the sources one pass merges at most (more are merged in batches first). */
  maxRuns?: number;
}

/** How a merge shares its thread. */
export interface MergeOptions {
  /** Awaited before each window (a step of hundreds of ms): the worker lets the flush's jobs go first. */
  turn?: () => Promise<void>;
}

/** The merged file. */
export interface MergeResult {
  sha256: string;
  bytes: number;
  rows: number;
  rowGroups: number;
  /** Range of the table's time column (µs). */
  minTime: number;
  maxTime: number;
  /** Passes over the rows: 1, or more when the sources held more sorted stretches than one pass takes. */
  passes: number;
}

/**
 * Rows sorted at a time, in decoded bytes. A window's rows are held several times over (rows, Arrow, the
 * encoder's copy): compacting a whole market's hour (`deno task bench:storage --rows 12000000`) peaked at 1,067
 * MiB with 128 MiB windows, 893 with 32 (16: 871) when every stretch of every file was read by each window.
 * With the windows' arrays reused and groups of at most 2–4 MiB, a generated hour's compaction (the same rows)
 * peaked at 202–222 MiB with 16 MiB windows (56.9 CPU s), 180–208 with 8 (60.7), 173–183 with 4 (75.0): a
 * smaller window decodes again more of the groups it shares with the next, but the compaction's CPU is a
 * minute an hour, its memory what the whole market's RSS swings by.
 */
const DEFAULT_WINDOW_BYTES = 4 << 20;
/** Sorted stretches one pass merges at most (each window reads a group of every one). */
const DEFAULT_MAX_RUNS = 32;
/**
 * Row groups of the temp files of a first pass: small, since the next pass reads a group of each per window,
 * and parquet-wasm's memory, which never shrinks, grows to the biggest group encoded or decoded: at most 8 MiB
 * took it to 40 MiB in a generated hour's compaction (`deno task bench:storage`'s rows), 2 MiB to 26.
 */
const RUN_ROW_GROUPS: RowGroupSizes = { minBytes: 256 << 10, maxBytes: 2 << 20 };
/** A first pass's temp files are read once, soon: LZ4 encodes several times faster than zstd. */
const RUN_COMPRESSION = pq.Compression.LZ4_RAW;

/** Merges the groups of `slices` (in order) into `merged`, a window of symbols at a time. */
async function mergeSlices(
  slices: Slice[],
  merged: MergedFile,
  windowBytes: number,
  table: TableName,
  options: MergeOptions,
) {
  await merged.write(merged.asm.head());
  const spans = planWindows(slices.flatMap((s) => s.groups), windowBytes);
  let acc = new RawAppender(table);
  for (const [w, span] of spans.entries()) {
    await options.turn?.();
    const inWindow = (s: string) => inSpan(span, s);
    for (const { o, groups } of slices) {
      for (const g of groups) {
        if (g.lo === null || g.hi === null || !overlaps(span, g.lo, g.hi)) continue;
        const decoded = await readGroups(o, [g.index]);
        for (const batch of decoded.batches) acc.appendBatch(batch, inWindow);
        freeTable(decoded); // its rows are copied: tens of MiB a window would wait for a full GC
        // One symbol bigger than the window streams out in groups of the maximum size.
        if (span.single && acc.bytes >= merged.sizes.maxBytes) {
          acc = await appendWindow(merged, acc, false, table);
        }
      }
    }
    acc = await appendWindow(merged, acc, w < spans.length - 1, table);
  }
  await merged.write(merged.asm.finish());
}

/**
 * Merges the stretches of `slices` in batches of at most `maxRuns` sorted runs, each into a temp file (added to
 * `temps`), until the runs left fit one pass; returns the slices of that pass.
 */
async function mergeRuns(
  slices: Slice[],
  req: MergeRequest,
  windowBytes: number,
  temps: RunFile[],
  options: MergeOptions,
): Promise<{ slices: Slice[]; passes: number }> {
  // Fewer than 2 would never get fewer runs.
  const maxRuns = Math.max(2, req.maxRuns ?? DEFAULT_MAX_RUNS);
  for (let passes = 1;; passes++) {
    const batches = batchRuns(slices.map((s) => s.groups), maxRuns);
    if (batches.length <= 1) return { slices, passes };
    const next: Slice[] = [];
    for (const batch of batches) {
      const run = await RunFile.create(req.target);
      temps.push(run);
      const part = batch.map((b) => ({
        o: slices[b.source]!.o,
        groups: slices[b.source]!.groups.slice(b.from, b.to),
      }));
      const rows = part.reduce((n, s) => n + rowsIn(s.groups), 0);
      const merged = new MergedFile(run, RUN_ROW_GROUPS, RUN_COMPRESSION);
      await mergeSlices(part, merged, windowBytes, req.table, options);
      if (merged.asm.rows !== rows) {
        throw new MergeSourceError(run.path, `merged ${merged.asm.rows} rows of ${rows}`);
      }
      const o = await describeFile(run.file, req.table);
      next.push({ o, groups: o.groups });
    }
    // The previous pass's temp files (those before this pass's) are read no more.
    for (const t of temps.splice(0, temps.length - next.length)) await t.remove();
    slices = next;
  }
}

/**
 * Merges `req.sources` into `req.target` (see the module doc). Every source is first checked against its entry
 * (size, sha256, rows); nothing is written if one differs. The target is complete and fsynced when this
 * resolves; on failure its temp file is removed, and so are a first pass's files either way.
 *
 * @example
 * ```ts
 * import { TableStore } from "../pipeline/table_store.ts";
 * import { Manifest } from "./manifest.ts";
 * import type { Row } from "./tables.ts";
 *
 * // Two flushes of the 07:00 UTC hour: two part files.
 * const dataDir = await Deno.makeTempDir();
 * const manifest = await Manifest.load(dataDir);
 * const store = new TableStore(dataDir, { manifest });
 * const hourUs = Date.UTC(2024, 0, 2, 7) * 1000;
 * const trade = (symbol: string, id: number): Row<"trades"> => ({
 *   symbol, exchange_time: null, trade_time: hourUs + id, local_time: hourUs + id, agg_trade_id: id,
 *   first_trade_id: id, last_trade_id: id, price: 100, quantity: 1, is_buyer_maker: false, source: "ws",
 * });
 * for (const [id, symbol] of [[1, "ETHUSDT"], [2, "BTCUSDT"]] as const) {
 *   store.row("spot", "trades", symbol, hourUs + id, trade(symbol, id));
 *   await store.flush();
 * }
 *
 * const sources = manifest.entries().map((e) => ({ ...e, path: `${dataDir}/${e.path}` }));
 * const merged = await mergeParquetFiles({ table: "trades", sources, target: `${dataDir}/merged.parquet` });
 * merged.rows; // 2, sorted by symbol: BTCUSDT first
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function mergeParquetFiles(
  req: MergeRequest,
  options: MergeOptions = {},
): Promise<MergeResult> {
  const sources: OpenSource[] = [];
  const temps: RunFile[] = [];
  let out: AtomicFileWriter | null = null;
  try {
    for (const s of req.sources) sources.push(await openSource(s, req.table));
    const rows = sources.reduce((n, o) => n + rowsIn(o.groups), 0);
    await fillRanges(sources);
    const windowBytes = req.windowBytes ?? DEFAULT_WINDOW_BYTES;
    const { slices, passes } = await mergeRuns(
      sources.map((o) => ({ o, groups: o.groups })),
      req,
      windowBytes,
      temps,
      options,
    );
    out = await AtomicFileWriter.open(req.target);
    const sink = new HashedSink(out);
    const merged = new MergedFile(sink, req.sizes ?? HOUR_ROW_GROUPS);
    await mergeSlices(slices, merged, windowBytes, req.table, options);
    if (merged.asm.rows !== rows || rows === 0) {
      throw new MergeSourceError(req.target, `merged ${merged.asm.rows} rows of ${rows}`);
    }
    await out.commit();
    return {
      sha256: sink.hash.digest("hex"),
      bytes: sink.bytes,
      rows,
      rowGroups: merged.asm.rowGroups,
      minTime: merged.minTime,
      maxTime: merged.maxTime,
      passes,
    };
  } catch (err) {
    await out?.abort();
    throw err;
  } finally {
    for (const o of sources) o.file.close();
    for (const t of temps) await t.remove();
  }
}
