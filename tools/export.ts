/**
 * `deno task export --table T [--symbol S] [--from TIME] [--to TIME] [--format csv|jsonl|parquet] ...`: writes
 * recorded rows as CSV, JSON lines or Parquet, streaming (file by file, batch by batch). Exit code 0 done, 1 a
 * file could not be read or written, 2 bad options or nothing recorded under that name.
 * @module
 */

import { parseArgs } from "node:util";
import { type Market, MARKETS } from "../lib/binance/types.ts";
import { EXPORT_FORMATS, type ExportFormat, exportRows, NotRecordedError } from "../lib/export/export.ts";
import { listRecordedFiles, NoDataError } from "../lib/export/files.ts";
import { type ByteSink, openFileSink, OutputExistsError, stdoutSink } from "../lib/export/sink.ts";
import { parseTimeArg, TIME_FORMS } from "../lib/export/time_arg.ts";
import { isTableName, TABLE_NAMES } from "../lib/storage/tables.ts";
import { toolOptions, UsageError, usageErrors } from "./cli_args.ts";

/** Printed by `--help` and after a bad argument. */
export const USAGE = `Usage: deno task export --table T [--symbol S] [--from TIME] [--to TIME]
                        [--format csv|jsonl|parquet] [--market spot|usdm|coinm] [--data-dir D] [--kv PATH] [--out FILE|-]

Writes the recorded rows of one table, streaming: file by file and batch by batch, so a day of depth updates
exports in bounded memory.

  --table T       ${TABLE_NAMES.slice(0, 5).join(", ")},
                  ${TABLE_NAMES.slice(5).join(", ")}
  --symbol S      only this symbol (btcusdt = BTCUSDT); default: every symbol
  --from TIME     first instant, inclusive
  --to TIME       end, exclusive. Both bound local_time (arrival at the collector; start_time for gaps).
                  TIME: ${TIME_FORMS}
  --format F      csv (default), jsonl or parquet
  --market M      spot (default), usdm or coinm
  --data-dir D    the collector's data_dir (default: data)
  --kv PATH       the ledger listing the files (default: <data-dir>/_state/ledger.sqlite; when that does
                  not exist, <data-dir>/_manifest/checksums.json)
  --out FILE      write FILE (must not exist; it appears complete or not at all); - or none: stdout
  -h, --help      print this help and exit

CSV and JSON lines: the table's columns in order; each timestamp column (µs since the epoch, as stored) is
followed by <column>_iso, the same instant as ISO 8601 UTC with microseconds; book levels are JSON arrays; an
empty CSV cell is null. Parquet: the collector's own schema. A summary goes to stderr.
Exit code: 0 done (no rows in the range is an empty output, and so is a market without gaps), 1 a file could
not be read or written, 2 bad options, nothing recorded in that table, or a symbol absent from every file of
the time range.`;

interface Options {
  table: (typeof TABLE_NAMES)[number];
  symbol?: string;
  fromUs?: number;
  toUs?: number;
  format: ExportFormat;
  market: Market;
  dataDir: string;
  kvPath?: string;
  out: string;
}

function parseOptions(args: string[]): Options | "help" {
  const parsed = usageErrors(() =>
    parseArgs({
      args,
      strict: true,
      options: {
        table: { type: "string" },
        symbol: { type: "string" },
        from: { type: "string" },
        to: { type: "string" },
        format: { type: "string", default: "csv" },
        market: { type: "string", default: "spot" },
        "data-dir": { type: "string", default: "data" },
        kv: { type: "string" },
        out: { type: "string", default: "-" },
        help: { type: "boolean", short: "h" },
      },
    })
  );
  const v = parsed.values;
  if (v.help) return "help";
  if (v.table === undefined) throw new UsageError("--table is required");
  if (!isTableName(v.table)) {
    throw new UsageError(`unknown table "${v.table}": expected one of ${TABLE_NAMES.join(", ")}`);
  }
  if (!(EXPORT_FORMATS as readonly string[]).includes(v.format)) {
    throw new UsageError(`unknown format "${v.format}": expected ${EXPORT_FORMATS.join(", ")}`);
  }
  if (!(MARKETS as readonly string[]).includes(v.market)) {
    throw new UsageError(`unknown market "${v.market}": expected ${MARKETS.join(", ")}`);
  }
  if (v.symbol !== undefined && v.symbol.trim() === "") throw new UsageError("--symbol is empty");
  const time = (flag: string, text: string | undefined) => {
    if (text === undefined) return undefined;
    try {
      return parseTimeArg(text);
    } catch (err) {
      throw new UsageError(`--${flag}: ${(err as Error).message}`);
    }
  };
  const fromUs = time("from", v.from);
  const toUs = time("to", v.to);
  if (fromUs !== undefined && toUs !== undefined && fromUs >= toUs) {
    throw new UsageError(`--from ${v.from} is not before --to ${v.to}`);
  }
  return {
    table: v.table,
    symbol: v.symbol?.trim().toUpperCase(),
    fromUs,
    toUs,
    format: v.format as ExportFormat,
    market: v.market as Market,
    dataDir: v["data-dir"],
    kvPath: v.kv,
    out: v.out,
  };
}

/** Runs the export on `args`; returns the exit code. Messages go to stderr, data to `--out` or stdout. */
export async function main(args: string[]): Promise<number> {
  const options = toolOptions("export", USAGE, () => parseOptions(args));
  if (typeof options === "number") return options;
  const { market, table, symbol, fromUs, toUs, format, out } = options;
  const toStdout = out === "-";
  try {
    const files = await listRecordedFiles(options.dataDir, options.kvPath);
    const result = await exportRows(
      {
        dataDir: options.dataDir,
        files: files.entries,
        query: { market, table, symbol, fromUs, toUs },
        format,
      },
      (): Promise<ByteSink> => toStdout ? Promise.resolve(stdoutSink()) : openFileSink(out),
    );
    console.error(
      `export: ${result.rows} rows of ${market}/${table}${
        symbol ? ` ${symbol}` : ""
      } from ${result.files} files ` +
        `(listed by the ${files.source}) to ${toStdout ? "stdout" : out}`,
    );
    return 0;
  } catch (err) {
    // A reader that went away (`| head`) wanted no more: not a failure.
    if (err instanceof Deno.errors.BrokenPipe) return 0;
    const message = err instanceof Error ? err.message : String(err);
    console.error(`export: ${message}`);
    const badInput = err instanceof NotRecordedError || err instanceof NoDataError ||
      err instanceof OutputExistsError;
    return badInput ? 2 : 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
