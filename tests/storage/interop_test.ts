/**
 * What the users' tools see: the collector records from the simulator (with a disconnect, so gaps and REST
 * backfills are written too, and a funding poll), then DuckDB and polars, two Parquet readers that share no
 * code with the writer, read the data dir through tests/interop/read.mjs under Node. Every row they read must
 * equal what the collector's own reader reads, with the contract's types, zstd, dictionary-encoded strings,
 * statistics, and hive partitions that match the rows.
 *
 * The readers are npm packages with native binaries, installed by `.ci/run` (`npm install --prefix tests/interop`).
 * Where they are not installed the test is skipped with that reason, except in CI, where it fails.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { collectorJournal, FileFundingHistory, runFunding } from "../../cron/funding.ts";
import type { Market } from "../../lib/binance/types.ts";
import { startSimulator } from "../../lib/sim/server.ts";
import { type ColumnType, TABLE_NAMES, type TableName, TABLES } from "../../lib/storage/tables.ts";
import { readRows, sleep, startCollector, waitFor } from "../integration/_harness.ts";

const INTEROP = fileURLToPath(new URL("../interop/", import.meta.url));
const SYMBOLS = ["BTCUSDT", "ETHUSDT"];

const DUCKDB_TYPE: Record<ColumnType, string> = {
  string: "VARCHAR",
  timestamp: "TIMESTAMP WITH TIME ZONE",
  int64: "BIGINT",
  float64: "DOUBLE",
  bool: "BOOLEAN",
  list_float64: "DOUBLE[]",
};
// Dictionary-typed strings read as polars' Categorical (pandas: `category`), as pyarrow writes them too.
const POLARS_TYPE: Record<ColumnType, string> = {
  string: "DataType(Categorical)",
  timestamp: "DataType(Datetime(us,UTC))",
  int64: "DataType(Int64)",
  float64: "DataType(Float64)",
  bool: "DataType(Bool)",
  list_float64: "DataType(List(DataType(Float64)))",
};

type PlainRow = Record<string, unknown>;

interface DuckTable {
  types: Record<string, string>;
  rows: PlainRow[];
  partitions: { wrong_date: number; dates: number };
  chunks: {
    col: string;
    compression: string;
    encodings: string;
    stats_null_count: string | null;
    has_min: boolean;
    num_values: number;
  }[];
}

interface Seen {
  duckdb: Record<string, DuckTable>;
  polars: Record<string, { path: string; dtypes: Record<string, string>; rows: PlainRow[] }[]>;
}

async function readersInstalled(): Promise<string | null> {
  try {
    await Deno.stat(`${INTEROP}node_modules/@duckdb/node-api`);
    await Deno.stat(`${INTEROP}node_modules/nodejs-polars`);
  } catch {
    return "DuckDB and polars are not installed: npm install --prefix tests/interop";
  }
  try {
    const out = await new Deno.Command("node", { args: ["--version"], stdout: "null", stderr: "null" })
      .output();
    return out.success ? null : "node does not run";
  } catch {
    return "node is not installed";
  }
}

const missing = await readersInstalled();
if (missing && Deno.env.get("CI")) throw new Error(`interop_test: ${missing} (.ci/run installs them)`);
if (missing) console.warn(`interop_test: skipped: ${missing}`);

/** Sorted keys, so rows compare whatever order a reader gives the columns in. */
function canonical(row: PlainRow): string {
  return JSON.stringify(Object.fromEntries(Object.keys(row).sort().map((k) => [k, row[k]])));
}

function assertSameRows(what: string, actual: PlainRow[], expected: PlainRow[]) {
  assert.equal(actual.length, expected.length, `${what}: row count`);
  const a = actual.map(canonical).sort();
  const e = expected.map(canonical).sort();
  for (let i = 0; i < e.length; i++) assert.equal(a[i], e[i], `${what}: row ${i} of ${e.length}`);
}

Deno.test({
  name: `DuckDB and polars read every row as written, with the contract's types${
    missing ? ` (skipped: ${missing})` : ""
  }`,
  ignore: missing !== null,
  fn: async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "interop-" });
    const sim = await startSimulator({ symbols: SYMBOLS, seed: 5, tickMs: 10 });
    try {
      let backfilled = false;
      const app = await startCollector(sim, dataDir, {
        onGap: (market, gap) => {
          if (market === "spot" && gap.stream === "aggTrade" && gap.kind === "backfilled") backfilled = true;
        },
      });
      try {
        await waitFor(
          "books synced",
          () => app.collector.status().every((m) => m.books.every((b) => b.state === "synced")),
        );
        await runFunding({
          rest: app.rest.find((r) => r.market === "usdm")!,
          journal: collectorJournal(app.collector, "usdm"),
          history: new FileFundingHistory(app.manifest),
          symbols: SYMBOLS,
          markPriceSymbols: SYMBOLS,
        }, Date.now());
        await sleep(1500);
        sim.faults.disconnect = { market: "spot" };
        sim.faults.refuseConnectionsUntil = Date.now() + 1500;
        await waitFor("the trades missed while disconnected backfilled", () => backfilled);
        await sleep(500);
      } finally {
        await app.stop();
      }

      const out = await new Deno.Command("node", {
        args: [`${INTEROP}read.mjs`, dataDir],
        cwd: INTEROP,
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(out.success, `read.mjs: ${new TextDecoder().decode(out.stderr)}`);
      const seen = JSON.parse(new TextDecoder().decode(out.stdout)) as Seen;

      const checked: string[] = [];
      for (const market of ["spot", "usdm"] as Market[]) {
        for (const table of TABLE_NAMES as TableName[]) {
          const ours = (await readRows(dataDir, market, table)) as PlainRow[];
          const key = `${market}/${table}`;
          const duck = seen.duckdb[key];
          if (ours.length === 0) {
            // (A whole table in an assertion message would be inspected and diffed: compare a boolean.)
            assert.equal(duck === undefined, true, `${key}: no files, nothing for DuckDB either`);
            continue;
          }
          checked.push(`${key}:${ours.length}`);
          assert.ok(duck, `${key}: DuckDB found the table`);
          const spec = TABLES[table];
          assert.deepEqual(duck.types, {
            ...Object.fromEntries(spec.columns.map((c) => [c.name, DUCKDB_TYPE[c.type]])),
            date: "DATE",
          }, `${key}: DuckDB types`);
          assertSameRows(`${key} via DuckDB`, duck.rows, ours);
          assert.deepEqual(duck.partitions, { wrong_date: 0, dates: 1 }, `${key}: date partitions`);
          for (const c of duck.chunks) {
            assert.equal(c.compression, "ZSTD", `${key}.${c.col}: zstd`);
            const column = spec.columns.find((s) => c.col === s.name || c.col.startsWith(`${s.name},`))!;
            if (column.type === "string") {
              assert.match(c.encodings, /RLE_DICTIONARY/, `${key}.${c.col}: dictionary-encoded`);
            }
            if (column.type !== "list_float64" && Number(c.stats_null_count) < c.num_values) {
              assert.ok(c.has_min, `${key}.${c.col}: statistics`);
            }
          }

          const files = seen.polars[key]!;
          const expectedDtypes = Object.fromEntries(spec.columns.map((c) => [c.name, POLARS_TYPE[c.type]]));
          for (const f of files) {
            assert.deepEqual(f.dtypes, expectedDtypes, `${f.path}: polars types`);
            const symbol = /\/symbol=([^/]+)\//.exec(f.path)![1];
            assert.ok(
              f.rows.every((r) => r.symbol === symbol),
              `${f.path}: rows of its symbol partition only`,
            );
          }
          assertSameRows(`${key} via polars`, files.flatMap((f) => f.rows), ours);
        }
      }
      // Every table the run produces was compared (the list shows what a failure would have missed).
      for (
        const table of [
          "spot/trades",
          "spot/depth_updates",
          "spot/book_snapshots",
          "spot/book_tickers",
          "spot/klines",
          "spot/gaps",
          "usdm/trades",
          "usdm/mark_prices",
          "usdm/funding_rates",
        ]
      ) {
        assert.ok(
          checked.some((c) => c.startsWith(`${table}:`)),
          `${table} was written and compared: ${checked}`,
        );
      }
      const restTrades = seen.duckdb["spot/trades"]!.rows.filter((r) => r.source === "rest").length;
      assert.ok(restTrades > 0, "backfilled trades (source 'rest') are among the rows compared");
    } finally {
      await sim.close();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
