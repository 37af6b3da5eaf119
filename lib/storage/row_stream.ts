/**
 * Streams the recorded rows of one (market, table) out of its Parquet files without loading them whole: file
 * by file, and within a file record batch by record batch, so memory holds one row group's compressed bytes
 * (read by range, never the whole file) and one decoded batch, whatever the size of the data.
 *
 * Rows are picked by their `symbol` column and the table's time column, never by a file's path or its manifest
 * entry's symbol (a file may hold many symbols); the entries' first/last times only skip files outside the
 * time range. Values come back as {@linkcode PlainRow}s, like read_rows.ts: timestamps and int64 as numbers (µs
 * for timestamps), lists as arrays.
 * @module
 */

import * as arrow from "apache-arrow";
import * as pq from "parquet-wasm";
import type { Market } from "../binance/types.ts";
import type { ManifestEntry } from "./manifest.ts";
import { sameBytes } from "./parquet_footer.ts";
import type { PlainRow } from "./read_rows.ts";
import { type TableName, TABLES } from "./tables.ts";

/** Which rows of a (market, table) to stream. */
export interface RowQuery<N extends TableName = TableName> {
  market: Market;
  table: N;
  /** Only rows whose `symbol` column is this (exactly); every symbol when absent. */
  symbol?: string;
  /** Inclusive lower bound (µs) on the table's time column (`local_time`; `start_time` for gaps). */
  fromUs?: number;
  /** Exclusive upper bound (µs) on the same column. */
  toUs?: number;
}

/** Options of {@linkcode streamRows}. */
export interface RowStreamOptions {
  /** Rows decoded at a time (the most a yielded batch holds). @default 8192 */
  batchRows?: number;
}

/** What {@linkcode streamRows} read so far; filled in as it goes. */
export interface RowStreamStats {
  /** Files opened. */
  files: number;
  /** Record batches decoded. */
  batches: number;
  /** Rows decoded (before filtering). */
  rowsRead: number;
  /** Rows yielded. */
  rowsYielded: number;
  /** Every symbol found in the rows decoded (before filtering by symbol or time). */
  symbols: Set<string>;
}

/** A file listed for the query could not be read. */
export class RowStreamError extends Error {
  constructor(readonly path: string, message: string, options?: ErrorOptions) {
    super(`Cannot read ${path}: ${message}`, options);
    this.name = "RowStreamError";
  }
}

/** Empty {@linkcode RowStreamStats}. */
export function newRowStreamStats(): RowStreamStats {
  return { files: 0, batches: 0, rowsRead: 0, rowsYielded: 0, symbols: new Set() };
}

/**
 * The entries of `files` that may hold rows of `query`: its market and table, time range overlapping
 * [fromUs, toUs) by the entries' first/last times; sorted by first time, then path.
 */
export function filesForQuery(files: readonly ManifestEntry[], query: RowQuery): ManifestEntry[] {
  const chosen = files.filter((e) => {
    if (e.market !== query.market || e.table !== query.table) return false;
    if (query.fromUs !== undefined && isoToMicros(e.last_local_time) < query.fromUs) return false;
    if (query.toUs !== undefined && isoToMicros(e.first_local_time) >= query.toUs) return false;
    return true;
  });
  return chosen.sort((a, b) => compare(a.first_local_time, b.first_local_time) || compare(a.path, b.path));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Yields the rows of `query` from `files` (entries of the ledger or the manifest, paths relative to
 * `dataDir`), in file order ({@linkcode filesForQuery}) and row order within a file, in batches of at most
 * `batchRows` rows; batches left empty by the filter are skipped. Throws {@linkcode RowStreamError} for a
 * file that is missing or does not decode.
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
 * const files = manifest.entries(); // or the ledger's listFiles()
 * for await (const rows of streamRows(dataDir, files, { market: "spot", table: "trades", symbol: "BTCUSDT" })) {
 *   for (const row of rows) console.log(row.local_time, row.price); // 1704178800000002 100
 * }
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function* streamRows<N extends TableName>(
  dataDir: string,
  files: readonly ManifestEntry[],
  query: RowQuery<N>,
  options: RowStreamOptions = {},
  stats: RowStreamStats = newRowStreamStats(),
): AsyncGenerator<PlainRow<N>[]> {
  const batchRows = options.batchRows ?? 8192;
  if (!Number.isSafeInteger(batchRows) || batchRows < 1) {
    throw new RangeError(`Cannot stream rows: batchRows must be a positive integer, got ${batchRows}`);
  }
  const timeColumn = TABLES[query.table].timeColumn;
  for (const entry of filesForQuery(files, query)) {
    stats.files++;
    for await (const table of recordBatches(`${dataDir}/${entry.path}`, batchRows)) {
      stats.batches++;
      stats.rowsRead += table.numRows;
      for (const batch of table.batches) {
        const picked = pickRows(batch, query, timeColumn, stats.symbols);
        if (picked.length === 0) continue;
        stats.rowsYielded += picked.length;
        yield toPlainRows<N>(batch, picked);
      }
    }
  }
}

/** The record batches of one Parquet file as Arrow tables, reading the file by range. */
async function* recordBatches(path: string, batchRows: number): AsyncGenerator<arrow.Table> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (err) {
    const why = err instanceof Deno.errors.NotFound
      ? "the file is gone (compacted or cleaned up since it was listed?)"
      : String(err);
    throw new RowStreamError(path, why, { cause: err });
  }
  let parquet: pq.ParquetFile | null = null;
  try {
    const blob = new RangeReader(file, (await file.stat()).size);
    try {
      parquet = await pq.ParquetFile.fromFile(blob as unknown as Blob);
      // One row group at a time: the reader holds that row group's column chunks, never more.
      const stream = await parquet.stream({ batchSize: batchRows, concurrency: 1 });
      for await (const wasmBatch of stream as unknown as AsyncIterable<pq.RecordBatch>) {
        yield arrow.tableFromIPC(wasmBatch.intoIPCStream());
      }
    } catch (err) {
      if (err instanceof RowStreamError) throw err;
      throw new RowStreamError(path, `not readable as Parquet: ${errorText(err)}`, { cause: err });
    }
  } finally {
    parquet?.free();
    file.close();
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The part of the Blob interface parquet-wasm's `ParquetFile.fromFile` uses (`size`, `slice(a, b)`,
 * `arrayBuffer()`), over an open file: it reads only the ranges asked for (the footer, then one row group's
 * column chunks at a time) instead of the whole file. Reads are serialized because they share the file
 * position. Relies on parquet-wasm 0.8's bindings calling these members by name (covered by the tests).
 */
class RangeReader {
  #queue: Promise<unknown> = Promise.resolve();

  constructor(readonly file: Deno.FsFile, readonly size: number) {}

  slice(start: number, end: number): { arrayBuffer(): Promise<ArrayBuffer> } {
    return { arrayBuffer: () => this.#read(start, Math.min(end, this.size)) };
  }

  #read(start: number, end: number): Promise<ArrayBuffer> {
    const result = this.#queue.then(async () => {
      const buf = new Uint8Array(Math.max(0, end - start));
      await this.file.seek(start, Deno.SeekMode.Start);
      for (let off = 0; off < buf.length;) {
        const n = await this.file.read(buf.subarray(off));
        if (n === null) throw new Error(`file ended at byte ${start + off}, expected ${end}`);
        off += n;
      }
      return buf.buffer;
    });
    this.#queue = result.catch(() => {});
    return result;
  }
}

/** Indices of the rows of `batch` that match `query`; adds every symbol present to `symbols`. */
function pickRows(
  batch: arrow.RecordBatch,
  query: RowQuery,
  timeColumn: string,
  symbols: Set<string>,
): number[] {
  const n = batch.numRows;
  const symbolData = batch.getChild("symbol")?.data[0];
  if (symbolData === undefined) throw new TypeError("Cannot filter rows: the file has no symbol column");
  const keep = symbolMask(symbolData, query.symbol, symbols);
  const times = timesOf(batch, timeColumn);
  const picked: number[] = [];
  for (let i = 0; i < n; i++) {
    if (keep !== null && !keep(i)) continue;
    const t = times[i]!;
    if (query.fromUs !== undefined && t < query.fromUs) continue;
    if (query.toUs !== undefined && t >= query.toUs) continue;
    picked.push(i);
  }
  return picked;
}

/**
 * A predicate for rows whose symbol is `symbol` (null: every row); adds the symbols present to `seen`. Reads
 * dictionary keys, or compares UTF-8 bytes run by run (files are sorted by symbol), rather than decoding a
 * string per row.
 */
function symbolMask(
  data: arrow.Data,
  symbol: string | undefined,
  seen: Set<string>,
): ((i: number) => boolean) | null {
  if (arrow.DataType.isDictionary(data.type) && data.dictionary !== undefined) {
    const keys = data.values as Int8Array | Int16Array | Int32Array;
    const used = new Uint8Array(data.dictionary.length);
    for (let i = 0; i < data.length; i++) used[keys[i]!] = 1;
    let wanted = -1;
    for (let k = 0; k < used.length; k++) {
      if (used[k] === 0) continue;
      const value = data.dictionary.get(k) as string;
      seen.add(value);
      if (value === symbol) wanted = k;
    }
    if (symbol === undefined) return null;
    return (i) => keys[i] === wanted;
  }
  if (arrow.DataType.isUtf8(data.type) || arrow.DataType.isLargeUtf8(data.type)) {
    const offsets = data.valueOffsets as Int32Array | BigInt64Array;
    const bytes = data.values as Uint8Array;
    const at = (i: number) => Number(offsets[i]!);
    const decoder = new TextDecoder();
    const match = new Uint8Array(data.length);
    let run: Uint8Array | null = null;
    let runMatches = false;
    for (let i = 0; i < data.length; i++) {
      const value = bytes.subarray(at(i), at(i + 1));
      if (run === null || !sameBytes(value, run)) {
        run = value;
        const text = decoder.decode(value);
        seen.add(text);
        runMatches = text === symbol;
      }
      match[i] = runMatches ? 1 : 0;
    }
    return symbol === undefined ? null : (i) => match[i] === 1;
  }
  throw new TypeError(`Cannot filter rows: the symbol column has type ${data.type}, expected a string`);
}

/** The time column of `batch` as µs numbers. */
function timesOf(batch: arrow.RecordBatch, column: string): Float64Array {
  const data = batch.getChild(column)?.data[0];
  if (data === undefined || !arrow.DataType.isTimestamp(data.type)) {
    throw new TypeError(`Cannot filter rows: the file has no timestamp column ${column}`);
  }
  const out = new Float64Array(data.length);
  const values = data.values as BigInt64Array;
  for (let i = 0; i < data.length; i++) out[i] = Number(values[i]!);
  return out;
}

/** The `picked` rows of `batch` as plain rows (the conventions of read_rows.ts `toRows`). */
function toPlainRows<N extends TableName>(
  batch: arrow.RecordBatch,
  picked: readonly number[],
): PlainRow<N>[] {
  const rows: Record<string, unknown>[] = picked.map(() => ({}));
  for (const field of batch.schema.fields) {
    const data = batch.getChild(field.name)!.data[0]!;
    const get = valueReader(data);
    for (let r = 0; r < picked.length; r++) rows[r]![field.name] = get(picked[r]!);
  }
  return rows as PlainRow<N>[];
}

/** Reads one value of a column chunk as a plain value: null, number (µs for timestamps), string, bool, array. */
function valueReader(data: arrow.Data): (i: number) => unknown {
  const vector = new arrow.Vector([data]);
  const hasNulls = data.nullCount > 0;
  if (arrow.DataType.isTimestamp(data.type) || arrow.DataType.isInt(data.type) && data.type.bitWidth === 64) {
    const values = data.values as BigInt64Array;
    return (i) => hasNulls && !vector.isValid(i) ? null : Number(values[i]!);
  }
  if (arrow.DataType.isFloat(data.type) && data.type.precision === arrow.Precision.DOUBLE) {
    const values = data.values as Float64Array;
    return (i) => hasNulls && !vector.isValid(i) ? null : values[i]!;
  }
  return (i) => {
    const v: unknown = vector.get(i);
    if (v instanceof arrow.Vector) return Array.from(v.toArray() as ArrayLike<number>);
    return typeof v === "bigint" ? Number(v) : v;
  };
}

/** µs since the epoch of a manifest time (`YYYY-MM-DDTHH:MM:SS.ffffffZ`, see `isoMicros`). */
function isoToMicros(iso: string): number {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?Z$/.exec(iso);
  const seconds = m ? Date.parse(`${m[1]}Z`) : NaN;
  if (!m || Number.isNaN(seconds)) throw new RangeError(`Cannot parse manifest time "${iso}"`);
  return seconds * 1000 + Number((m[2] ?? "").padEnd(6, "0"));
}
