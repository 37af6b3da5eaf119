/**
 * Reads recorded tables back as plain rows: the one place that turns the dataset's Parquet files into values
 * (tools such as the chaos check, exports and tests use it, so a layout change touches only this file and
 * layout.ts). Timestamps come back as exact µs numbers (arrow-js would give float milliseconds), int64 as
 * numbers, lists as arrays.
 * @module
 */
import * as arrow from "apache-arrow";
import type { Market } from "../binance/types.ts";
import type { ManifestEntry } from "./manifest.ts";
import { readParquet } from "./parquet_file.ts";
import type { Row, TableName } from "./tables.ts";

/** A plain row: int64 and timestamps as numbers (µs for timestamps), lists as arrays. */
export type PlainRow<N extends TableName> = Row<N> & Record<string, unknown>;

/**
 * Every row of (market, table) in `files` (entries of the manifest or the ledger), file by file in name order
 * (names sort by time within a partition).
 */
export async function readTableRows<N extends TableName>(
  dataDir: string,
  files: readonly ManifestEntry[],
  market: Market,
  table: N,
): Promise<PlainRow<N>[]> {
  const out: PlainRow<N>[] = [];
  const chosen = files.filter((e) => e.market === market && e.table === table);
  chosen.sort((a, b) => (fileName(a.path) < fileName(b.path) ? -1 : 1));
  for (const e of chosen) out.push(...toRows<N>(await readParquet(`${dataDir}/${e.path}`)));
  return out;
}

function fileName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
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
            v = Number((data.values as BigInt64Array)[data.offset + j]!);
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
