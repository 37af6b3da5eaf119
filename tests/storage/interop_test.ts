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
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { collectorJournal, FileFundingHistory, runFunding } from "../../cron/funding.ts";
import type { Market } from "../../lib/binance/types.ts";
import { startSimulator } from "../../lib/sim/server.ts";
import { TableStore } from "../../lib/pipeline/table_store.ts";
import { compareSymbols } from "../../lib/storage/chunk_encoder.ts";
import { compactFinishedHours } from "../../lib/storage/compact.ts";
import { Manifest } from "../../lib/storage/manifest.ts";
import { footerOf, rowGroupsOf } from "../../lib/storage/parquet_footer.ts";
import { type ColumnType, TABLE_NAMES, type TableName, TABLES } from "../../lib/storage/tables.ts";
import { readRows, sleep, startCollector, waitFor } from "../integration/_harness.ts";

const INTEROP = fileURLToPath(new URL("../interop/", import.meta.url));
const SYMBOLS = ["BTCUSDT", "ETHUSDT"];

const DUCKDB_TYPE: Record<ColumnType, string> = {
  symbol: "VARCHAR",
  string: "VARCHAR",
  timestamp: "TIMESTAMP WITH TIME ZONE",
  int64: "BIGINT",
  float64: "DOUBLE",
  bool: "BOOLEAN",
  list_float64: "DOUBLE[]",
};
// Dictionary-typed strings read as polars' Categorical (pandas: `category`), as pyarrow writes them too; the
// symbol is a plain string (dictionary-encoded in the file all the same), so that polars prunes by it.
const POLARS_TYPE: Record<ColumnType, string> = {
  symbol: "DataType(String)",
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

async function node(script: string, ...args: string[]): Promise<unknown> {
  const out = await new Deno.Command("node", {
    args: [`${INTEROP}${script}`, ...args],
    cwd: INTEROP,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, `${script}: ${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

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
          market: "usdm",
          rest: app.rest.find((r) => r.market === "usdm")!,
          journal: collectorJournal(app.collector, "usdm"),
          history: new FileFundingHistory(app.manifest, "usdm"),
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

      const seen = await node("read.mjs", dataDir) as Seen;

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
            if (column.type === "string" || column.type === "symbol") {
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
            // One file per (market, table) and flush, every symbol in it: no symbol level in the path.
            assert.match(
              f.path,
              new RegExp(`^${key}/date=\\d{4}-\\d{2}-\\d{2}/part-\\d{2}-\\d{16}-\\d{6}\\.parquet$`),
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

interface Pruned {
  groups: { id: number; rows: number; bytes: number; min: string; max: string }[];
  queries: Record<string, Record<"duckdb" | "polars", { rows: number } | { error: string }>>;
}

const H10 = Date.UTC(2026, 0, 5, 10) * 1000;
const TAIL = Array.from({ length: 58 }, (_, k) => `S${String(k).padStart(2, "0")}USDT`);
const QUIET = TAIL[TAIL.length - 1]!;

/**
 * An hour of trades of 60 symbols (BTCUSDT 40% of the rows, ETHUSDT 15%, a tail of 58 quiet ones), written in 4
 * flushes and compacted, as the collector does. Returns the hour file and each symbol's row count.
 */
async function compactedHour(dataDir: string): Promise<{ path: string; counts: Map<string, number> }> {
  const manifest = await Manifest.load(dataDir);
  const store = new TableStore(dataDir, { manifest });
  const counts = new Map<string, number>();
  for (let i = 0; i < 240_000; i++) {
    const r = (i * 7919) % 100;
    const symbol = r < 40 ? "BTCUSDT" : r < 55 ? "ETHUSDT" : TAIL[i % TAIL.length]!;
    counts.set(symbol, (counts.get(symbol) ?? 0) + 1);
    const us = H10 + i * 10_000;
    store.row("spot", "trades", symbol, us, {
      symbol,
      exchange_time: us - 3_000,
      trade_time: us - 3_500,
      local_time: us,
      agg_trade_id: i,
      first_trade_id: 2 * i,
      last_trade_id: 2 * i + 1,
      price: 40_000 + (i % 977) / 100,
      quantity: (i % 113) / 1000,
      is_buyer_maker: i % 2 === 0,
      source: "ws",
    });
    if (i % 60_000 === 59_999) await store.flush();
  }
  const report = await compactFinishedHours({ manifest }, H10 / 1000 + 2 * 3_600_000);
  assert.deepEqual(report.errors, []);
  const [entry, ...more] = manifest.entries();
  assert.equal(more.length, 0, "one file for the hour");
  return { path: join(dataDir, entry!.path), counts };
}

/** A copy of `path` whose row groups not holding `keep` are zeroed (footer and page index intact). */
async function zeroedCopy(path: string, keep: string, to: string): Promise<void> {
  const bytes = await Deno.readFile(path);
  const text = new TextDecoder();
  for (const g of rowGroupsOf(await footerOf(bytes))) {
    const [lo, hi] = [text.decode(g.keyStats.min!), text.decode(g.keyStats.max!)];
    if (compareSymbols(lo, keep) > 0 || compareSymbols(keep, hi) > 0) bytes.fill(0, g.start, g.end);
  }
  await Deno.writeFile(to, bytes);
}

Deno.test({
  name: `DuckDB and polars filtered on one symbol read only its row groups (the others zeroed)${
    missing ? ` (skipped: ${missing})` : ""
  }`,
  ignore: missing !== null,
  fn: async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "interop-prune-" });
    try {
      const { path, counts } = await compactedHour(dataDir);
      const clean = await node("prune.mjs", path, "BTCUSDT", QUIET) as Pruned;
      for (const symbol of ["BTCUSDT", QUIET]) {
        for (const reader of ["duckdb", "polars"] as const) {
          assert.deepEqual(
            clean.queries[symbol]![reader],
            { rows: counts.get(symbol) },
            `${reader} ${symbol}`,
          );
        }
      }
      // What DuckDB sees in the footer: BTCUSDT's row groups hold BTCUSDT only; the tail shares a few groups.
      const holding = (s: string) =>
        clean.groups.filter((g) => compareSymbols(g.min, s) <= 0 && compareSymbols(s, g.max) <= 0);
      assert.ok(holding("BTCUSDT").every((g) => g.min === "BTCUSDT" && g.max === "BTCUSDT"));
      assert.equal(holding("BTCUSDT").reduce((n, g) => n + g.rows, 0), counts.get("BTCUSDT"));
      assert.equal(holding(QUIET).length, 1);
      const total = clean.groups.reduce((n, g) => n + g.bytes, 0);
      const share = (s: string) => holding(s).reduce((n, g) => n + g.bytes, 0) / total;
      assert.ok(share("BTCUSDT") < 0.6, `BTCUSDT's groups are ${share("BTCUSDT")} of the file`);
      assert.ok(share(QUIET) < 0.4, `${QUIET}'s group is ${share(QUIET)} of the file`);

      // Zero every row group but one symbol's: its query still reads right, so nothing else was read; the
      // other symbol's query now fails, so a reader that read zeroed bytes would have been caught.
      for (const [keep, other] of [["BTCUSDT", QUIET], [QUIET, "BTCUSDT"]] as const) {
        const copy = join(dataDir, `zeroed-${keep}.parquet`);
        await zeroedCopy(path, keep, copy);
        const seen = await node("prune.mjs", copy, keep, other) as Pruned;
        for (const reader of ["duckdb", "polars"] as const) {
          assert.deepEqual(seen.queries[keep]![reader], { rows: counts.get(keep) }, `${reader} ${keep}`);
          assert.ok("error" in seen.queries[other]![reader], `${reader} ${other} met the zeroed bytes`);
        }
      }
    } finally {
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
