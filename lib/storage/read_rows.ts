/**
 * Reads recorded tables back as plain rows: the one place that turns the dataset's Parquet files into values
 * (tools such as the chaos check, exports and tests use it, so a layout change touches only this file and
 * layout.ts). Timestamps come back as exact µs numbers (arrow-js would give float milliseconds), int64 as
 * numbers, lists as arrays. A file holds every symbol of its (market, table), sorted by symbol; reading one
 * symbol decodes only the row groups whose statistics admit it.
 * @module
 */
import * as arrow from "apache-arrow";
import * as pq from "parquet-wasm";
import type { Market } from "../binance/types.ts";
import { compareSymbols } from "./chunk_encoder.ts";
import { fileStartUs } from "./layout.ts";
import type { ManifestEntry } from "./manifest.ts";
import { extractRowGroups } from "./parquet_assembler.ts";
import { readParquet } from "./parquet_file.ts";
import { fileSource, readFileFooter } from "./parquet_footer.ts";
import type { Row, TableName } from "./tables.ts";

/** A plain row: int64 and timestamps as numbers (µs for timestamps), lists as arrays. */
export type PlainRow<N extends TableName> = Row<N> & Record<string, unknown>;

/** Options of {@linkcode readTableRows}. */
export interface ReadRowsOptions {
  /** Only the rows of this symbol. */
  symbol?: string;
}

function fileName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** Files in the order their rows were recorded: by the start time in their name, then by name. */
function byStart(a: ManifestEntry, b: ManifestEntry): number {
  const [na, nb] = [fileName(a.path), fileName(b.path)];
  return (fileStartUs(na) ?? 0) - (fileStartUs(nb) ?? 0) || (na < nb ? -1 : na > nb ? 1 : 0);
}

/**
 * Every row of (market, table) in `files` (entries of the manifest or the ledger), file by file in time order;
 * within a file by symbol, each symbol's rows in the order they were recorded.
 */
export async function readTableRows<N extends TableName>(
  dataDir: string,
  files: readonly ManifestEntry[],
  market: Market,
  table: N,
  options: ReadRowsOptions = {},
): Promise<PlainRow<N>[]> {
  const out: PlainRow<N>[] = [];
  const chosen = files.filter((e) => e.market === market && e.table === table).sort(byStart);
  for (const e of chosen) {
    const path = `${dataDir}/${e.path}`;
    if (options.symbol === undefined) out.push(...toRows<N>(await readParquet(path)));
    else out.push(...await readSymbolRows<N>(path, options.symbol));
  }
  return out;
}

/** The rows of `symbol` in one file, decoding only the row groups that may hold it. */
async function readSymbolRows<N extends TableName>(path: string, symbol: string): Promise<PlainRow<N>[]> {
  const file = await Deno.open(path, { read: true });
  try {
    const src = await fileSource(file);
    const footer = await readFileFooter(src);
    const text = new TextDecoder();
    const out: PlainRow<N>[] = [];
    for (const g of footer.groups) {
      const [lo, hi] = [g.keyStats.min, g.keyStats.max];
      if (
        lo && hi &&
        (compareSymbols(symbol, text.decode(lo)) < 0 || compareSymbols(symbol, text.decode(hi)) > 0)
      ) {
        continue;
      }
      const mini = await extractRowGroups(src, footer, [g.index]);
      const rows = toRows<N>(arrow.tableFromIPC(pq.readParquet(mini).intoIPCStream()));
      out.push(...rows.filter((r) => r.symbol === symbol));
    }
    return out;
  } finally {
    file.close();
  }
}

/** Arrow table → plain rows with exact µs timestamps. */
export function toRows<N extends TableName>(t: arrow.Table): PlainRow<N>[] {
  const rows: Record<string, unknown>[] = Array.from({ length: t.numRows }, () => ({}));
  for (const field of t.schema.fields) {
    const vec = t.getChild(field.name)!;
    let base = 0;
    for (const data of vec.data) {
      const chunk = new arrow.Vector([data]);
      for (let j = 0; j < data.length; j++) {
        let v: unknown = chunk.get(j);
        if (v !== null) {
          if (arrow.DataType.isTimestamp(field.type)) {
            // arrow-js slices a sliced Data's value buffer itself: index it from 0, not from `data.offset`.
            v = Number((data.values as BigInt64Array)[j]!);
          } else if (typeof v === "bigint") v = Number(v);
          else if (v instanceof arrow.Vector) v = Array.from(v.toArray() as Float64Array);
        }
        rows[base + j]![field.name] = v;
      }
      base += data.length;
    }
  }
  return rows as PlainRow<N>[];
}
