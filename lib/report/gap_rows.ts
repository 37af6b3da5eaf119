/**
 * Reading `gaps` rows back from a decoded Parquet file (for `verify` when there is no ledger).
 * @module
 */

import type * as arrow from "apache-arrow";
import type { Row } from "../storage/tables.ts";

/** Thrown when a table lacks a column of the `gaps` schema. */
export class GapTableError extends Error {
  constructor(column: string) {
    super(`Cannot read gaps: column '${column}' is missing`);
    this.name = "GapTableError";
  }
}

function child(table: arrow.Table, name: string): arrow.Vector {
  const v = table.getChild(name);
  if (v === null) throw new GapTableError(name);
  return v;
}

// Arrow's getter turns µs timestamps into fractional milliseconds; the raw int64 values keep them exact.
function micros(vector: arrow.Vector): (number | null)[] {
  const out: (number | null)[] = [];
  for (const chunk of vector.data) {
    const values = chunk.values as BigInt64Array;
    for (let i = 0; i < chunk.length; i++) out.push(chunk.getValid(i) ? Number(values[i]!) : null);
  }
  return out;
}

function ids(vector: arrow.Vector): (number | null)[] {
  return Array.from(vector, (v: bigint | null) => (v === null ? null : Number(v)));
}

/** The rows of a table with the `gaps` schema (lib/storage/tables.ts). */
export function gapRowsFromTable(table: arrow.Table): Row<"gaps">[] {
  const text = (name: string) => Array.from(child(table, name), (v) => String(v ?? ""));
  const [symbol, stream, kind, reason] = ["symbol", "stream", "kind", "reason"].map(text) as string[][];
  const start = micros(child(table, "start_time"));
  const end = micros(child(table, "end_time"));
  const last = ids(child(table, "last_update_id"));
  const resume = ids(child(table, "resume_update_id"));
  return Array.from({ length: table.numRows }, (_, i) => ({
    symbol: symbol![i]!,
    stream: stream![i]!,
    kind: kind![i]!,
    start_time: start[i] ?? 0,
    end_time: end[i] ?? 0,
    last_update_id: last[i] ?? null,
    resume_update_id: resume[i] ?? null,
    reason: reason![i]!,
  }));
}
