/**
 * Reads the files of one (market, table, hour) of several recordings symbol by symbol, in symbol order, holding
 * only the row groups that may still hold the symbols not yet handed out. Every file of the layout is sorted by
 * symbol (a part file in stretches) and its row groups carry `symbol` min/max statistics, so once the sweep has
 * decoded every row group starting at or before a symbol, that symbol's rows are complete. Memory holds the
 * decoded row groups overlapping the sweep's position, as Arrow columns (one row group per file for compacted
 * files, a few for part files, all of the hour for part files of a few symbols), and the rows of one symbol as
 * plain rows.
 * @module
 */

import * as arrow from "apache-arrow";
import * as pq from "parquet-wasm";
import { compareSymbols } from "../storage/chunk_encoder.ts";
import { extractRowGroups } from "../storage/parquet_assembler.ts";
import { type FileFooter, fileSource, readFileFooter } from "../storage/parquet_footer.ts";
import type { AnyRow, Tagged } from "./dedup.ts";

/** One file to read, of recording `rec` (files of one recording in their time order). */
export interface SweepFile {
  path: string;
  rec: number;
}

/** A file could not be read as Parquet of the layout. */
export class SweepReadError extends Error {
  constructor(readonly path: string, message: string, options?: ErrorOptions) {
    super(`Cannot read ${path}: ${message}`, options);
    this.name = "SweepReadError";
  }
}

const utf8 = new TextDecoder();

interface Group {
  file: number;
  index: number;
  lo: string | null;
}

/**
 * Yields each symbol with its rows from every file (file by file in the order given, each file's rows in
 * order), in ascending symbol order (code points, as the files are sorted).
 *
 * @example
 * ```ts
 * import { ColumnBuffer } from "../storage/column_buffer.ts";
 * import { toArrowTable } from "../storage/raw_arrow.ts";
 * import { encodeParquet } from "../storage/parquet_file.ts";
 *
 * const dir = await Deno.makeTempDir();
 * const write = async (path: string, symbols: string[]) => {
 *   const buf = new ColumnBuffer("funding_rates");
 *   for (const symbol of symbols) {
 *     buf.append({ symbol, funding_time: 1, funding_rate: 1e-4, mark_price: null, local_time: 1 });
 *   }
 *   await Deno.writeFile(path, encodeParquet(toArrowTable(buf)));
 * };
 * await write(`${dir}/a.parquet`, ["BTCUSDT", "ETHUSDT"]);
 * await write(`${dir}/b.parquet`, ["ETHUSDT"]);
 * const files = [{ path: `${dir}/a.parquet`, rec: 0 }, { path: `${dir}/b.parquet`, rec: 1 }];
 * for await (const { symbol, rows } of sweepSymbols(files)) console.log(symbol, rows.map((t) => t.rec));
 * // BTCUSDT [0], then ETHUSDT [0, 1]
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function* sweepSymbols(
  files: readonly SweepFile[],
): AsyncGenerator<{ symbol: string; rows: Tagged[] }> {
  const open: {
    file: Deno.FsFile;
    src: Awaited<ReturnType<typeof fileSource>>;
    footer: FileFooter;
  }[] = [];
  try {
    const groups: Group[] = [];
    for (const [i, f] of files.entries()) {
      const file = await Deno.open(f.path, { read: true });
      try {
        const src = await fileSource(file);
        const footer = await readFileFooter(src);
        open.push({ file, src, footer });
        for (const g of footer.groups) {
          const min = g.keyStats.min;
          groups.push({ file: i, index: g.index, lo: min === undefined ? null : utf8.decode(min) });
        }
      } catch (err) {
        if (open.at(-1)?.file !== file) file.close();
        throw new SweepReadError(f.path, err instanceof Error ? err.message : String(err), { cause: err });
      }
    }
    // Groups without statistics could hold any symbol: they are read first.
    groups.sort((a, b) =>
      (a.lo === null ? -1 : b.lo === null ? 1 : compareSymbols(a.lo, b.lo)) || a.file - b.file ||
      a.index - b.index
    );
    const pending = new Map<string, Part[][]>();
    for (const g of groups) {
      if (g.lo !== null) yield* takeBelow(pending, g.lo, files);
      const f = open[g.file]!;
      let table: arrow.Table;
      try {
        const mini = await extractRowGroups(f.src, f.footer, [g.index]);
        table = arrow.tableFromIPC(pq.readParquet(mini).intoIPCStream());
      } catch (err) {
        const path = files[g.file]!.path;
        throw new SweepReadError(path, err instanceof Error ? err.message : String(err), { cause: err });
      }
      for (const [symbol, start, end] of symbolRuns(table)) {
        let perFile = pending.get(symbol);
        if (perFile === undefined) pending.set(symbol, perFile = []);
        (perFile[g.file] ??= []).push({ table, start, end });
      }
    }
    yield* takeBelow(pending, null, files);
  } finally {
    for (const o of open) o.file.close();
  }
}

/** Rows `[start, end)` of a decoded row group, all of one symbol. */
interface Part {
  table: arrow.Table;
  start: number;
  end: number;
}

/**
 * The runs of equal symbols in a decoded row group, as `[symbol, start, end)`; compares UTF-8 bytes run by run
 * (the rows are sorted by symbol) rather than decoding a string per row.
 */
function symbolRuns(table: arrow.Table): [string, number, number][] {
  const runs: [string, number, number][] = [];
  let base = 0;
  for (const batch of table.batches) {
    const data = batch.getChild("symbol")?.data[0];
    if (data === undefined) throw new TypeError("Cannot sweep rows: the file has no symbol column");
    const vector = new arrow.Vector([data]);
    const plain = arrow.DataType.isUtf8(data.type) || arrow.DataType.isLargeUtf8(data.type);
    const offsets = data.valueOffsets as Int32Array | BigInt64Array;
    const bytes = data.values as Uint8Array;
    let prev: Uint8Array | string | null = null;
    for (let i = 0; i < data.length; i++) {
      const value = plain
        ? bytes.subarray(Number(offsets[i]!), Number(offsets[i + 1]!))
        : String(vector.get(i));
      if (prev === null || !same(value, prev)) {
        runs.push([typeof value === "string" ? value : utf8.decode(value), base + i, base + i + 1]);
        prev = value;
      } else runs[runs.length - 1]![2] = base + i + 1;
    }
    base += batch.numRows;
  }
  return runs;
}

function same(a: Uint8Array | string, b: Uint8Array | string): boolean {
  if (typeof a === "string" || typeof b === "string") return a === b;
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

/**
 * Hands out (and forgets) the pending symbols before `bound` (all when null), in order, their rows turned into
 * plain rows only now: until then a row group is held as Arrow columns.
 */
function* takeBelow(
  pending: Map<string, Part[][]>,
  bound: string | null,
  files: readonly SweepFile[],
): Generator<{ symbol: string; rows: Tagged[] }> {
  const ready = [...pending.keys()].filter((s) => bound === null || compareSymbols(s, bound) < 0)
    .sort(compareSymbols);
  for (const symbol of ready) {
    const perFile = pending.get(symbol)!;
    pending.delete(symbol);
    const rows: Tagged[] = [];
    perFile.forEach((parts, file) => {
      const rec = files[file]!.rec;
      for (const p of parts) {
        for (const row of plainRows(p.table, p.start, p.end)) rows.push({ row, rec });
      }
    });
    yield { symbol, rows };
  }
}

/** Rows `[start, end)` of a decoded row group as plain rows (read_rows.ts conventions: µs numbers, arrays). */
function plainRows(table: arrow.Table, start: number, end: number): AnyRow[] {
  const out: AnyRow[] = [];
  let base = 0;
  for (const batch of table.batches) {
    const [from, to] = [Math.max(start - base, 0), Math.min(end - base, batch.numRows)];
    base += batch.numRows;
    if (from >= to) continue;
    const columns = batch.schema.fields.map((f) =>
      [f.name, valueReader(batch.getChild(f.name)!.data[0]!)] as const
    );
    for (let i = from; i < to; i++) {
      const row: Record<string, unknown> = {};
      for (const [name, get] of columns) row[name] = get(i);
      out.push(row as AnyRow);
    }
  }
  return out;
}

/** Reads one value of a column chunk: null, a number (µs for timestamps, int64 as a number), string, bool, array. */
function valueReader(data: arrow.Data): (i: number) => unknown {
  const vector = new arrow.Vector([data]);
  const nullable = data.nullCount > 0;
  if (
    arrow.DataType.isTimestamp(data.type) || (arrow.DataType.isInt(data.type) && data.type.bitWidth === 64)
  ) {
    const values = data.values as BigInt64Array;
    return (i) => (nullable && !vector.isValid(i) ? null : Number(values[i]!));
  }
  if (arrow.DataType.isFloat(data.type) && data.type.precision === arrow.Precision.DOUBLE) {
    const values = data.values as Float64Array;
    return (i) => (nullable && !vector.isValid(i) ? null : values[i]!);
  }
  return (i) => {
    const v: unknown = vector.get(i);
    if (v instanceof arrow.Vector) return Array.from(v.toArray() as ArrayLike<number>);
    return typeof v === "bigint" ? Number(v) : v;
  };
}
