/**
 * `deno task export`'s work: streams the rows of one (market, table[, symbol], time range) into CSV, JSON lines
 * or Parquet, batch by batch, so any amount of data exports in bounded memory. Nothing is written until it is
 * known that the query names something recorded.
 * @module
 */

import type { ManifestEntry } from "../storage/manifest.ts";
import type { PlainRow } from "../storage/read_rows.ts";
import { newRowStreamStats, type RowQuery, streamRows } from "../storage/row_stream.ts";
import type { TableName } from "../storage/tables.ts";
import { writeParquetRows } from "./parquet_out.ts";
import type { ByteSink } from "./sink.ts";
import { LineWriter } from "./sink.ts";
import { csvHeader, csvLine, jsonLine, textColumns } from "./text_rows.ts";

/** Output formats of an export. */
export const EXPORT_FORMATS = ["csv", "jsonl", "parquet"] as const;

/** One of {@linkcode EXPORT_FORMATS}. */
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** What to export and how. */
export interface ExportRequest<N extends TableName = TableName> {
  /** The data directory the files' paths are relative to. */
  dataDir: string;
  /** Every recorded file (ledger or manifest entries); the query picks its own. */
  files: readonly ManifestEntry[];
  query: RowQuery<N>;
  format: ExportFormat;
  /** Rows decoded at a time. @default 8192 */
  batchRows?: number;
}

/** What an export wrote. */
export interface ExportResult {
  rows: number;
  /** Files read. */
  files: number;
}

/** The query names something that is not recorded: nothing was written. */
export class NotRecordedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NotRecordedError";
  }
}

/**
 * Exports the rows of `request.query` to the sink `openSink` gives, which is opened only once the query is
 * known to name recorded data: a (market, table) without any file, or a symbol absent from every file the time
 * range touches, is a {@linkcode NotRecordedError} and opens nothing. A range with no rows of a recorded symbol
 * gives an empty output (CSV: the header), and so does `gaps` on a market with files but no gaps. The sink is
 * committed at the end, or aborted on any error.
 */
export async function exportRows<N extends TableName>(
  request: ExportRequest<N>,
  openSink: () => Promise<ByteSink>,
): Promise<ExportResult> {
  const { query } = request;
  const name = `${query.market}/${query.table}`;
  // No gap files on a market that recorded something means no gaps: an empty answer, not an error.
  const gaps = query.table === "gaps";
  const recorded = (table: TableName | null) =>
    request.files.some((e) => e.market === query.market && (table === null || e.table === table));
  if (!recorded(gaps ? null : query.table)) {
    const elsewhere = request.files.filter((e) => e.table === query.table).map((e) => e.market);
    const hint = elsewhere.length > 0
      ? ` (recorded on ${[...new Set(elsewhere)].join(", ")}: use --market)`
      : "";
    throw new NotRecordedError(`nothing recorded in ${name}${hint}`);
  }
  const stats = newRowStreamStats();
  const rows = streamRows(request.dataDir, request.files, query, { batchRows: request.batchRows }, stats);
  const first = await rows.next();
  const symbol = query.symbol;
  if (first.done && !gaps && symbol !== undefined && stats.files > 0 && !stats.symbols.has(symbol)) {
    const known = [...stats.symbols].sort().join(", ");
    throw new NotRecordedError(
      `unknown symbol ${symbol}: the ${name} files of this time range hold ${known}`,
    );
  }
  const batches = prepend(first, rows);
  const sink = await openSink();
  try {
    let written: number;
    if (request.format === "parquet") written = await writeParquetRows(query.table, batches, sink);
    else written = await writeText(query.table, request.format, batches, sink);
    await sink.commit();
    return { rows: written, files: stats.files };
  } catch (err) {
    await sink.abort();
    throw err;
  }
}

async function* prepend<T>(first: IteratorResult<T>, rest: AsyncGenerator<T>): AsyncGenerator<T> {
  if (first.done) return;
  yield first.value;
  yield* rest;
}

async function writeText<N extends TableName>(
  table: N,
  format: "csv" | "jsonl",
  batches: AsyncIterable<readonly PlainRow<N>[]>,
  sink: ByteSink,
): Promise<number> {
  const columns = textColumns(table);
  const out = new LineWriter(sink);
  if (format === "csv") out.add(csvHeader(columns));
  const line = format === "csv" ? csvLine : jsonLine;
  let rows = 0;
  for await (const batch of batches) {
    for (const row of batch) out.add(line(columns, row));
    rows += batch.length;
    await out.flushIfFull();
  }
  await out.flush();
  return rows;
}
