/**
 * Reads the files of one (market, table, hour) of several recordings symbol by symbol, in symbol order, holding
 * only the row groups that may still hold the symbols not yet handed out. Every file of the layout is sorted by
 * symbol (a part file in stretches) and its row groups carry `symbol` min/max statistics, so once the sweep has
 * decoded every row group starting at or before a symbol, that symbol's rows are complete. Memory holds the
 * decoded row groups overlapping the sweep's position: one row group per file for compacted files, a few for
 * part files, and all of a busy symbol's row groups of the hour.
 * @module
 */

import * as arrow from "apache-arrow";
import * as pq from "parquet-wasm";
import { compareSymbols } from "../storage/chunk_encoder.ts";
import { extractRowGroups, fileSource, readFooter, rowGroupsOf } from "../storage/parquet_container.ts";
import { toRows } from "../storage/read_rows.ts";
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
 * import { encodeParquet } from "../storage/parquet_file.ts";
 *
 * const dir = await Deno.makeTempDir();
 * const write = async (path: string, symbols: string[]) => {
 *   const buf = new ColumnBuffer("funding_rates");
 *   for (const symbol of symbols) {
 *     buf.append({ symbol, funding_time: 1, funding_rate: 1e-4, mark_price: null, local_time: 1 });
 *   }
 *   await Deno.writeFile(path, encodeParquet(buf.toArrowTable()));
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
    meta: Awaited<ReturnType<typeof readFooter>>;
  }[] = [];
  try {
    const groups: Group[] = [];
    for (const [i, f] of files.entries()) {
      const file = await Deno.open(f.path, { read: true });
      try {
        const src = await fileSource(file);
        const meta = await readFooter(src);
        open.push({ file, src, meta });
        for (const g of rowGroupsOf(meta)) {
          const min = g.stats[0]?.min;
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
    const pending = new Map<string, Tagged[][]>();
    for (const g of groups) {
      if (g.lo !== null) yield* takeBelow(pending, g.lo);
      const f = open[g.file]!;
      let rows: AnyRow[];
      try {
        const mini = await extractRowGroups(f.src, f.meta, [g.index]);
        rows = toRows(arrow.tableFromIPC(pq.readParquet(mini).intoIPCStream())) as unknown as AnyRow[];
      } catch (err) {
        const path = files[g.file]!.path;
        throw new SweepReadError(path, err instanceof Error ? err.message : String(err), { cause: err });
      }
      const rec = files[g.file]!.rec;
      for (const row of rows) {
        let perFile = pending.get(row.symbol);
        if (perFile === undefined) pending.set(row.symbol, perFile = []);
        (perFile[g.file] ??= []).push({ row, rec });
      }
    }
    yield* takeBelow(pending, null);
  } finally {
    for (const o of open) o.file.close();
  }
}

/** Hands out (and forgets) the pending symbols before `bound` (all when null), in order. */
function* takeBelow(
  pending: Map<string, Tagged[][]>,
  bound: string | null,
): Generator<{ symbol: string; rows: Tagged[] }> {
  const ready = [...pending.keys()].filter((s) => bound === null || compareSymbols(s, bound) < 0)
    .sort(compareSymbols);
  for (const symbol of ready) {
    const perFile = pending.get(symbol)!;
    pending.delete(symbol);
    yield { symbol, rows: perFile.flatMap((rows) => rows ?? []) };
  }
}
