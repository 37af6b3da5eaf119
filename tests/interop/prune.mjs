// Queries one Parquet file filtered on symbols with DuckDB and polars (readers that share no code with the
// collector) and prints, as JSON, the file's row groups as DuckDB sees them (symbol statistics, rows, bytes) and
// each query's row count, or the error it met: for tests/storage/interop_test.ts, which zeroes the bytes of the
// row groups a query must not read.
// Usage: node prune.mjs FILE SYMBOL...
import { DuckDBInstance } from "@duckdb/node-api";
import pl from "nodejs-polars";

const [file, ...symbols] = process.argv.slice(2);
if (!file || symbols.length === 0) {
  console.error("usage: node prune.mjs FILE SYMBOL...");
  process.exit(2);
}
const sqlString = (s) => `'${s.replaceAll("'", "''")}'`;

const db = await DuckDBInstance.create(":memory:");
const duck = await db.connect();
const query = async (sql) => (await duck.runAndReadAll(sql)).getRowObjectsJson();

const groups = await query(
  `SELECT row_group_id::INTEGER AS id, any_value(row_group_num_rows)::INTEGER AS rows,
          sum(total_compressed_size)::BIGINT AS bytes,
          any_value(stats_min_value) FILTER (WHERE path_in_schema = 'symbol') AS min,
          any_value(stats_max_value) FILTER (WHERE path_in_schema = 'symbol') AS max
   FROM parquet_metadata(${sqlString(file)}) GROUP BY row_group_id ORDER BY row_group_id`,
);

const attempt = async (f) => {
  try {
    return { rows: await f() };
  } catch (err) {
    return { error: String(err.message ?? err).slice(0, 200) };
  }
};

const queries = {};
for (const symbol of symbols) {
  queries[symbol] = {
    duckdb: await attempt(async () =>
      Number(
        (await query(
          `SELECT count(*)::INTEGER AS n, sum(agg_trade_id)::BIGINT AS ids FROM read_parquet(${sqlString(file)})
           WHERE symbol = ${sqlString(symbol)}`,
        ))[0].n,
      )
    ),
    polars: await attempt(() => pl.scanParquet(file).filter(pl.col("symbol").eq(pl.lit(symbol))).collectSync().height),
  };
}
duck.closeSync?.();
process.stdout.write(JSON.stringify({ groups, queries }));
