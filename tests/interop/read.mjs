// Reads a collector data dir with two Parquet implementations that share no code with the collector's writer
// (DuckDB and polars) and prints what they see as JSON, for tests/storage/interop_test.ts to compare.
// Usage: node read.mjs DATA_DIR
import { readdirSync } from "node:fs";
import { DuckDBInstance } from "@duckdb/node-api";
import pl from "nodejs-polars";

const dataDir = process.argv[2];
if (!dataDir) {
  console.error("usage: node read.mjs DATA_DIR");
  process.exit(2);
}

const dirs = (path) => readdirSync(path, { withFileTypes: true }).filter((e) => e.isDirectory());
const sqlString = (s) => `'${s.replaceAll("'", "''")}'`;

function* parquetFiles(path) {
  for (const e of readdirSync(path, { withFileTypes: true })) {
    if (e.isDirectory()) yield* parquetFiles(`${path}/${e.name}`);
    else if (e.name.endsWith(".parquet")) yield `${path}/${e.name}`;
  }
}

/** A row with sorted keys and every int64 (which both readers may give as bigint or string) as a number. */
function plain(row, int64Columns) {
  const out = {};
  for (const key of Object.keys(row).sort()) {
    const v = row[key];
    out[key] = v !== null && int64Columns.has(key) ? Number(v) : typeof v === "bigint" ? Number(v) : v;
  }
  return out;
}

const db = await DuckDBInstance.create(":memory:");
const duck = await db.connect();
const query = async (sql) => (await duck.runAndReadAll(sql)).getRowObjectsJson();

const tables = [];
for (const market of dirs(dataDir).filter((e) => !e.name.startsWith("_"))) {
  for (const table of dirs(`${dataDir}/${market.name}`)) {
    tables.push({ market: market.name, table: table.name, dir: `${dataDir}/${market.name}/${table.name}` });
  }
}

const out = { duckdb: {}, polars: {} };
for (const { market, table, dir } of tables) {
  const key = `${market}/${table}`;
  const source = `read_parquet(${sqlString(`${dir}/**/*.parquet`)}, hive_partitioning = true)`;

  // DuckDB: the types a user's query sees, every row (timestamps as epoch µs), the hive partitions, and the
  // Parquet metadata of every column chunk.
  const types = Object.fromEntries(
    (await query(`DESCRIBE SELECT * FROM ${source}`)).map((r) => [r.column_name, r.column_type]),
  );
  const columns = Object.keys(types).filter((c) => c !== "date");
  const select = columns.map((c) => types[c] === "TIMESTAMP WITH TIME ZONE" ? `epoch_us(${c}) AS ${c}` : c);
  const int64 = new Set(columns.filter((c) => types[c] === "BIGINT" || types[c].startsWith("TIMESTAMP")));
  const rows = (await query(`SELECT ${select.join(", ")} FROM ${source}`)).map((r) => plain(r, int64));
  // A file's date partition is the UTC date of its rows' arrival (gaps have no arrival: their start).
  const timeColumn = columns.includes("local_time") ? "local_time" : "start_time";
  const [partitions] = await query(
    `SELECT count(*) FILTER (WHERE date <> CAST(timezone('UTC', ${timeColumn}) AS DATE))::INTEGER AS wrong_date,
            count(DISTINCT date)::INTEGER AS dates
     FROM ${source}`,
  );
  const chunks = await query(
    `SELECT path_in_schema AS col, type, compression, encodings, stats_null_count,
            stats_min_value IS NOT NULL OR stats_min IS NOT NULL AS has_min, num_values::INTEGER AS num_values
     FROM parquet_metadata(${sqlString(`${dir}/**/*.parquet`)})`,
  );
  out.duckdb[key] = { types, rows, partitions, chunks };

  // polars: each file on its own (as `pl.readParquet(path)` in a notebook), timestamps cast to their µs integer.
  const files = [];
  for (const path of parquetFiles(dir)) {
    const df = pl.readParquet(path);
    const dtypes = Object.fromEntries(df.columns.map((c, i) => [c, String(df.dtypes[i])]));
    const times = df.columns.filter((c) => dtypes[c].includes("Datetime"));
    const ints = new Set([...times, ...df.columns.filter((c) => dtypes[c] === "DataType(Int64)")]);
    const casted = times.length ? df.withColumns(...times.map((c) => pl.col(c).cast(pl.Int64))) : df;
    files.push({
      path: path.slice(dataDir.length + 1),
      dtypes,
      rows: casted.toRecords().map((r) => plain(r, ints)),
    });
  }
  out.polars[key] = files;
}
duck.closeSync?.();
process.stdout.write(JSON.stringify(out));
