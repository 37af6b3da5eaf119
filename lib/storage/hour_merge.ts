/**
 * Merges Parquet files of one table into one file sorted by symbol (each symbol's rows in the files' order),
 * with memory bounded by a window, not by the files: the merge walks the symbols in order, a window of them at
 * a time (planned from the row groups' `symbol` statistics, no rows read), reads from each file only the row
 * groups whose statistics overlap the window, sorts the window's rows and appends its row groups to the
 * output (parquet_container.ts), which is written piece by piece to a temp file and renamed into place. Used by
 * the hourly compaction and by the migration from the 0.3 layout (one symbol per file). Runs in a worker in the
 * collector (parquet_worker.ts).
 * @module
 */

import { createHash } from "node:crypto";
import * as arrow from "apache-arrow";
import * as pq from "parquet-wasm";
import { AtomicFileWriter } from "./atomic_file.ts";
import {
  compareSymbols,
  HOUR_ROW_GROUPS,
  planRowGroups,
  type RowGroupSizes,
  symbolOrder,
} from "./chunk_encoder.ts";
import type { RawChunk } from "./column_buffer.ts";
import {
  type ByteSource,
  extractRowGroups,
  type FileFooter,
  fileSource,
  memorySource,
  ParquetAssembler,
  readFileFooter,
  type RowGroupInfo,
} from "./parquet_container.ts";
import { encodeParquet } from "./parquet_file.ts";
import { RawAppender, symbolIndices } from "./raw_appender.ts";
import { rawToArrow } from "./raw_arrow.ts";
import type { TableName } from "./tables.ts";

/** One file to merge, with what its manifest entry says it is (checked before anything is read). */
export interface MergeSource {
  path: string;
  bytes: number;
  sha256: string;
  rows: number;
}

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
}

/** A source does not match its manifest entry, or cannot be read as Parquet of the layout. */
export class MergeSourceError extends Error {
  constructor(readonly path: string, message: string) {
    super(`${path} ${message}`);
    this.name = "MergeSourceError";
  }
}

/**
 * Rows sorted at a time: a part file's row group spans a range of symbols, read by each window it overlaps. A
 * window's rows are held several times over (rows, Arrow, the encoder's copy): compacting a whole market's
 * hour (`deno task bench:storage --rows 12000000`) peaked at 1,067 MiB with 128 MiB windows, 893 with 32 (16:
 * 871), for 14% more CPU; 700 with 32 since the windows are planned from statistics and footers stay encoded.
 * 8 MiB windows lowered one table's merge in a process of its own (2.2M depth rows: 270 against 340 MiB) but in
 * the whole-market bench compacting 19 part files per table took 5 minutes (spot book_snapshots alone 3.4: a
 * part file's group is read by every window it overlaps), the RSS no lower and the lag p99 15 ms meanwhile.
 */
const DEFAULT_WINDOW_BYTES = 32 << 20;
const READ_BLOCK = 1 << 20;

interface OpenSource {
  file: Deno.FsFile;
  src: ByteSource;
  footer: FileFooter;
  groups: (RowGroupInfo & { lo: string | null; hi: string | null })[];
}

const utf8 = new TextDecoder();

/** Hashes a file in blocks and compares it with its entry. */
async function checkSource(s: MergeSource, file: Deno.FsFile): Promise<void> {
  const hash = createHash("sha256");
  const block = new Uint8Array(READ_BLOCK);
  let size = 0;
  await file.seek(0, Deno.SeekMode.Start);
  for (;;) {
    const n = await file.read(block);
    if (n === null) break;
    hash.update(block.subarray(0, n));
    size += n;
  }
  if (size !== s.bytes || hash.digest("hex") !== s.sha256) {
    throw new MergeSourceError(s.path, "does not match its manifest checksum");
  }
}

async function openSource(s: MergeSource): Promise<OpenSource> {
  const file = await Deno.open(s.path, { read: true });
  try {
    await checkSource(s, file);
    const src = await fileSource(file);
    const footer = await readFileFooter(src);
    const groups = footer.groups.map((g) => ({
      ...g,
      lo: g.stats[0]?.min ? utf8.decode(g.stats[0].min) : null,
      hi: g.stats[0]?.max ? utf8.decode(g.stats[0].max) : null,
    }));
    const rows = groups.reduce((n, g) => n + g.rows, 0);
    if (rows !== s.rows) throw new MergeSourceError(s.path, `has ${rows} rows, manifest says ${s.rows}`);
    return { file, src, footer, groups };
  } catch (err) {
    file.close();
    throw err;
  }
}

/** Decodes row groups `only` of a source (all columns, or those named) as one Arrow table. */
async function readGroups(o: OpenSource, only: number[], columns?: string[]): Promise<arrow.Table> {
  const mini = await extractRowGroups(o.src, o.footer, only);
  const rows = only.reduce((n, i) => n + o.groups[i]!.rows, 0);
  const wasm = pq.readParquet(mini, { batchSize: Math.max(rows, 1), columns });
  return arrow.tableFromIPC(wasm.intoIPCStream());
}

/**
 * Gives the row groups without statistics their symbol range, read from their symbol column (a group with no
 * rows keeps none), so that every group is planned and skipped by its `lo`/`hi` alike.
 */
async function fillRanges(sources: OpenSource[]): Promise<void> {
  for (const o of sources) {
    for (const g of o.groups) {
      if (g.lo !== null && g.hi !== null) continue;
      for (const batch of (await readGroups(o, [g.index], ["symbol"])).batches) {
        for (const s of symbolIndices(batch).strings) {
          if (g.lo === null || compareSymbols(s, g.lo) < 0) g.lo = s;
          if (g.hi === null || compareSymbols(s, g.hi) > 0) g.hi = s;
        }
      }
    }
  }
}

/**
 * A symbol range `[from, to)` (`null`: unbounded) whose rows are sorted at once; `single` when it can hold one
 * symbol only, whose rows may then stream out before the window is complete.
 */
interface Span {
  from: string | null;
  to: string | null;
  single: boolean;
}

/** The string right after `s` in symbol order: `[s, after(s))` holds `s` alone. */
const after = (s: string) => `${s}\0`;

/**
 * Consecutive symbol ranges of about `windowBytes` each, planned from the row groups' symbol ranges without
 * reading any rows: a group of one symbol counts for that symbol, a group of several (small by construction:
 * groups are cut at the first symbol change past their minimum size) for its first; a symbol whose own groups
 * exceed the window gets a `single` window.
 */
function plan(sources: OpenSource[], windowBytes: number): Span[] {
  const own = new Map<string, number>();
  const shared = new Map<string, number>();
  const keys = new Set<string>();
  for (const g of sources.flatMap((o) => o.groups)) {
    if (g.lo === null || g.hi === null) continue; // no rows
    keys.add(g.lo).add(g.hi);
    const m = g.lo === g.hi ? own : shared;
    m.set(g.lo, (m.get(g.lo) ?? 0) + g.uncompressedBytes);
  }
  const spans: Span[] = [];
  let from: string | null = null;
  let bytes = 0;
  for (const s of [...keys].sort(compareSymbols)) {
    const mine = own.get(s) ?? 0;
    if (mine >= windowBytes) {
      // The rows before `s` (none before the first symbol of all).
      if (from !== null || spans.length > 0) spans.push({ from, to: s, single: false });
      spans.push({ from: s, to: after(s), single: true });
      from = after(s);
      bytes = shared.get(s) ?? 0;
      continue;
    }
    bytes += mine + (shared.get(s) ?? 0);
    if (bytes >= windowBytes) {
      spans.push({ from, to: after(s), single: false });
      from = after(s);
      bytes = 0;
    }
  }
  spans.push({ from, to: null, single: false });
  return spans;
}

const inSpan = (w: Span, s: string) =>
  (w.from === null || compareSymbols(s, w.from) >= 0) && (w.to === null || compareSymbols(s, w.to) < 0);

/** The merged output: row groups appended as they are encoded, hashed on the way to the temp file. */
class MergedFile {
  readonly asm = new ParquetAssembler();
  readonly hash = createHash("sha256");
  bytes = 0;
  minTime = Infinity;
  maxTime = -Infinity;

  constructor(readonly out: AtomicFileWriter, readonly sizes: RowGroupSizes) {}

  async write(piece: Uint8Array): Promise<void> {
    this.hash.update(piece);
    this.bytes += piece.length;
    await this.out.write(piece);
  }

  /**
   * Sorts `chunk` and appends its row groups; with `keepTail`, a last group smaller than the minimum is not
   * written but handed back (as an appender holding its rows) to start the next window.
   */
  async appendSorted(chunk: RawChunk, keepTail: boolean, table: TableName): Promise<RawAppender> {
    const next = new RawAppender(table);
    if (chunk.rows === 0) return next;
    const { order, runs } = symbolOrder(chunk);
    const perRow = chunk.bytes / chunk.rows;
    const groups = planRowGroups(runs, perRow, this.sizes);
    const last = groups[groups.length - 1]!;
    if (keepTail && (last[1] - last[0]) * perRow < this.sizes.minBytes) {
      groups.pop();
      next.appendRaw(chunk, order, last[0], last[1]);
    }
    for (const [from, to] of groups) {
      const part = encodeParquet(rawToArrow(chunk, order, from, to));
      for (const piece of await this.asm.add(memorySource(part))) await this.write(piece);
    }
    this.minTime = Math.min(this.minTime, chunk.minTime);
    this.maxTime = Math.max(this.maxTime, chunk.maxTime);
    return next;
  }
}

/**
 * Merges `req.sources` into `req.target` (see the module doc). Every source is first checked against its entry
 * (size, sha256, rows); nothing is written if one differs. The target is complete and fsynced when this
 * resolves; on failure its temp file is removed.
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
export async function mergeParquetFiles(req: MergeRequest): Promise<MergeResult> {
  const sources: OpenSource[] = [];
  let out: AtomicFileWriter | null = null;
  try {
    for (const s of req.sources) sources.push(await openSource(s));
    const rows = sources.reduce((n, o) => n + o.groups.reduce((m, g) => m + g.rows, 0), 0);
    await fillRanges(sources);
    const spans = plan(sources, req.windowBytes ?? DEFAULT_WINDOW_BYTES);
    out = await AtomicFileWriter.open(req.target);
    const merged = new MergedFile(out, req.sizes ?? HOUR_ROW_GROUPS);
    await merged.write(merged.asm.head());
    let acc = new RawAppender(req.table);
    for (const [w, span] of spans.entries()) {
      const inWindow = (s: string) => inSpan(span, s);
      for (const o of sources) {
        for (const g of o.groups) {
          if (g.lo === null || g.hi === null) continue; // no rows
          if (
            (span.from !== null && compareSymbols(g.hi, span.from) < 0) ||
            (span.to !== null && compareSymbols(g.lo, span.to) >= 0)
          ) {
            continue;
          }
          for (const batch of (await readGroups(o, [g.index])).batches) acc.appendBatch(batch, inWindow);
          // One symbol bigger than the window streams out in groups of the maximum size.
          if (span.single && acc.bytes >= merged.sizes.maxBytes) {
            acc = await merged.appendSorted(acc.take(), false, req.table);
          }
        }
      }
      acc = await merged.appendSorted(acc.take(), w < spans.length - 1, req.table);
    }
    if (merged.asm.rows !== rows || rows === 0) {
      throw new MergeSourceError(req.target, `merged ${merged.asm.rows} rows of ${rows}`);
    }
    await merged.write(merged.asm.finish());
    await out.commit();
    return {
      sha256: merged.hash.digest("hex"),
      bytes: merged.bytes,
      rows,
      rowGroups: merged.asm.rowGroups,
      minTime: merged.minTime,
      maxTime: merged.maxTime,
    };
  } catch (err) {
    await out?.abort();
    throw err;
  } finally {
    for (const o of sources) o.file.close();
  }
}
