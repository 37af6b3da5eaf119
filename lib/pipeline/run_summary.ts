/**
 * A human summary of what a run wrote (files, rows, bytes per market and table) and how to read it, printed
 * by the demo. Reads the manifest only (a file holds every symbol of its table, so symbols are not listed).
 */
import { Manifest } from "../storage/manifest.ts";

/** Summarises the manifest entries whose first row is at or after `sinceUs`. */
export async function describeRun(dataDir: string, sinceUs = 0): Promise<string> {
  const manifest = await Manifest.load(dataDir);
  const since = new Date(Math.floor(sinceUs / 1000)).toISOString();
  const totals = new Map<string, { files: number; rows: number; bytes: number }>();
  for (const e of manifest.entries()) {
    if (e.first_local_time < since) continue;
    const key = `${e.market}/${e.table}`;
    const t = totals.get(key) ?? { files: 0, rows: 0, bytes: 0 };
    t.files++;
    t.rows += e.rows;
    t.bytes += e.bytes;
    totals.set(key, t);
  }
  const lines = [
    `Wrote under ${dataDir}:`,
    "  market/table                files       rows      bytes",
  ];
  for (const [key, t] of [...totals].sort()) {
    lines.push(
      `  ${key.padEnd(26)}${String(t.files).padStart(7)}${String(t.rows).padStart(11)}${
        String(t.bytes).padStart(11)
      }`,
    );
  }
  if (totals.size === 0) lines.push("  (nothing)");
  lines.push(
    "",
    "Query it with DuckDB, e.g.:",
    `  duckdb -c "SELECT symbol, count(*) AS trades, min(price), max(price) FROM read_parquet('${dataDir}/spot/trades/**/*.parquet', hive_partitioning = true) GROUP BY symbol"`,
    `  duckdb -c "SELECT * FROM read_parquet('${dataDir}/spot/trades/**/*.parquet') WHERE symbol = 'BTCUSDT'"   # reads BTCUSDT's row groups only`,
    `  duckdb -c "SELECT * FROM read_parquet('${dataDir}/*/gaps/**/*.parquet', hive_partitioning = true)"`,
  );
  return lines.join("\n");
}
