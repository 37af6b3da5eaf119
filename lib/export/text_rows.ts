/**
 * Rows as text: the columns of CSV and JSON-lines exports, and the formatting of one row.
 *
 * Every timestamp column keeps its stored value (µs since the epoch) and is followed by `<column>_iso`, the same
 * instant as ISO 8601 UTC with microseconds, for people and spreadsheets. Lists (book levels) are JSON arrays,
 * or, with `levels`, one column per level (`bid_prices[1]` is the best bid), as a spreadsheet wants them.
 * @module
 */

import { isoMicros } from "../storage/manifest.ts";
import type { ColumnSpec, TableName } from "../storage/tables.ts";
import { TABLES } from "../storage/tables.ts";

/** A plain value of a text column. */
export type TextValue = string | number | boolean | null | readonly number[];

/** One output column: its header and how it reads a row. */
export interface TextColumn {
  readonly header: string;
  value(row: Readonly<Record<string, unknown>>): TextValue;
}

/** Options of {@linkcode textColumns}. */
export interface TextColumnOptions {
  /**
   * Spread list columns over this many columns each, level by level (`bid_prices[1]`, `bid_quantities[1]`,
   * `ask_prices[1]`, …, then level 2); missing levels are null. Without it, a list is one JSON-array column.
   */
  levels?: number;
}

/**
 * The text columns of `table`, in contract order.
 *
 * @example
 * ```ts
 * textColumns("funding_rates").map((c) => c.header);
 * // ["symbol", "funding_time", "funding_time_iso", "funding_rate", "mark_price", "local_time", "local_time_iso"]
 * ```
 */
export function textColumns(table: TableName, options: TextColumnOptions = {}): TextColumn[] {
  const specs = TABLES[table].columns as readonly ColumnSpec[];
  const lists = specs.filter((c) => c.type === "list_float64").map((c) => c.name);
  const out: TextColumn[] = [];
  for (const c of specs) {
    const name = c.name;
    if (c.type === "timestamp") {
      out.push({ header: name, value: (r) => r[name] as number | null });
      const iso = isoFormatter();
      out.push({ header: `${name}_iso`, value: (r) => r[name] == null ? null : iso(r[name] as number) });
    } else if (c.type === "list_float64" && options.levels !== undefined) {
      // All list columns are spread at the place of the first one, level by level.
      if (name !== lists[0]) continue;
      for (let level = 1; level <= options.levels; level++) {
        for (const list of lists) {
          out.push({
            header: `${list}[${level}]`,
            value: (r) => (r[list] as readonly number[] | null)?.[level - 1] ?? null,
          });
        }
      }
    } else {
      out.push({ header: name, value: (r) => r[name] as TextValue });
    }
  }
  return out;
}

/** One CSV cell (RFC 4180): null is empty, a list is its JSON array, quoted when it holds `,` `"` or a newline. */
export function csvCell(value: TextValue): string {
  if (value === null) return "";
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * {@linkcode isoMicros} for one column: rows come in time order, so consecutive times mostly share their
 * second, whose text is made once.
 */
function isoFormatter(): (us: number) => string {
  let second = NaN;
  let prefix = "";
  return (us) => {
    const s = Math.floor(us / 1_000_000);
    if (s !== second) {
      second = s;
      prefix = isoMicros(s * 1_000_000).slice(0, 20);
    }
    return prefix + String(us - s * 1_000_000).padStart(6, "0") + "Z";
  };
}

/** The CSV header line of `columns` (no line break). */
export function csvHeader(columns: readonly TextColumn[]): string {
  return columns.map((c) => csvCell(c.header)).join(",");
}

/** One row as a CSV line (no line break). */
export function csvLine(columns: readonly TextColumn[], row: Readonly<Record<string, unknown>>): string {
  let line = "";
  for (let i = 0; i < columns.length; i++) {
    if (i > 0) line += ",";
    line += csvCell(columns[i]!.value(row));
  }
  return line;
}

/** One row as a JSON object on one line, keys in column order (no line break). */
export function jsonLine(columns: readonly TextColumn[], row: Readonly<Record<string, unknown>>): string {
  const object: Record<string, TextValue> = {};
  for (const c of columns) object[c.header] = c.value(row);
  return JSON.stringify(object);
}
