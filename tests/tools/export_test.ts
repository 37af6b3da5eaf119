/**
 * `deno task export` against data the real collector recorded from the simulator, run as the user runs it
 * (`deno task export ...` in its own process): its CSV, JSON lines and Parquet hold exactly the recorded rows,
 * time bounds are inclusive/exclusive, bad input exits 2 having written nothing. And the streaming reader under
 * it (lib/storage/row_stream.ts): batches, symbol and time filters, on files it is given directly.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import * as arrow from "apache-arrow";
import * as pq from "parquet-wasm";
import type { Market } from "../../lib/binance/types.ts";
import { parseTimeArg } from "../../lib/export/time_arg.ts";
import { openLedger } from "../../lib/ledger/open.ts";
import { isoMicros, type ManifestEntry } from "../../lib/storage/manifest.ts";
import { readParquet } from "../../lib/storage/parquet_file.ts";
import { type PlainRow, toRows } from "../../lib/storage/read_rows.ts";
import { newRowStreamStats, RowStreamError, streamRows } from "../../lib/storage/row_stream.ts";
import type { TableName } from "../../lib/storage/tables.ts";
import { readRows, startCollector } from "../integration/_harness.ts";
import { startSimulator } from "../../lib/sim/server.ts";
import { withTempDir } from "../temp_dir.ts";
import { assertCsvRecord, assertJsonRecord, expectedHeader, parseCsv, task } from "./_text_rows.ts";
import { arrowSchema } from "../../lib/storage/arrow_schema.ts";

/** Records both markets of the simulator until several flushes wrote files, then stops cleanly. */
async function record(dataDir: string): Promise<void> {
  const sim = await startSimulator({ symbols: ["BTCUSDT", "ETHUSDT"], seed: 3 });
  try {
    const app = await startCollector(sim, dataDir, { symbols: ["BTCUSDT", "ETHUSDT"] });
    try {
      const deadline = Date.now() + 60_000;
      // At least three flushes of spot trades and USD-M depth: the exports span several files.
      const flushes = async (market: Market, table: TableName) =>
        new Set(
          (await app.ledger.listFiles()).filter((e) => e.market === market && e.table === table)
            .map((e) => e.first_local_time),
        ).size;
      while ((await flushes("spot", "trades")) < 3 || (await flushes("usdm", "depth_updates")) < 3) {
        if (Date.now() > deadline) throw new Error("Timed out waiting for three flushes");
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await app.stop();
    }
  } finally {
    await sim.close();
  }
}

function ofSymbol<N extends TableName>(rows: PlainRow<N>[], symbol: string): PlainRow<N>[] {
  return rows.filter((r) => r.symbol === symbol);
}

/** Rows grouped by symbol, each group in its order. */
function bySymbol(rows: readonly Record<string, unknown>[]): Map<string, Record<string, unknown>[]> {
  const out = new Map<string, Record<string, unknown>[]>();
  for (const r of rows) {
    const list = out.get(r.symbol as string) ?? [];
    list.push(r);
    out.set(r.symbol as string, list);
  }
  return out;
}

function jsonLines(text: string): Record<string, unknown>[] {
  return text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
}

Deno.test("deno task export: recorded data as CSV, JSON lines and Parquet; time bounds; bad input", async (t) => {
  await withTempDir(async (dir) => {
    const data = join(dir, "data");
    await record(data);
    const ledger = await openLedger(join(data, "_state", "ledger.sqlite"));
    const entries = await ledger.listFiles();
    ledger.close();
    const exportTask = (...args: string[]) => task(["export", "--data-dir", data, ...args]);

    await t.step("CSV of one symbol on stdout holds exactly its recorded rows, in order", async () => {
      const expected = ofSymbol(await readRows(data, "spot", "trades"), "BTCUSDT");
      assert.ok(expected.length > 0);
      assert.ok(entries.filter((e) => e.market === "spot" && e.table === "trades").length > 1);
      const r = await exportTask("--table", "trades", "--symbol", "btcusdt", "--format", "csv");
      assert.equal(r.code, 0, r.stderr);
      const [header, ...records] = parseCsv(r.stdout);
      assert.deepEqual(header, expectedHeader("trades"));
      assert.equal(records.length, expected.length);
      records.forEach((cells, i) => assertCsvRecord(header!, cells, expected[i]!));
      assert.match(
        r.stderr,
        new RegExp(`export: ${expected.length} rows of spot/trades BTCUSDT from \\d+ files`),
      );
      assert.match(r.stderr, /listed by the ledger/);
    });

    await t.step("JSON lines to --out: book snapshots with their level lists", async () => {
      const expected = ofSymbol(await readRows(data, "usdm", "book_snapshots"), "ETHUSDT");
      assert.ok(expected.length > 0);
      const out = join(dir, "eth_books.jsonl");
      const r = await exportTask(
        "--table",
        "book_snapshots",
        "--market",
        "usdm",
        "--symbol",
        "ETHUSDT",
        "--format",
        "jsonl",
        "--out",
        out,
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "");
      const objects = jsonLines(await Deno.readTextFile(out));
      assert.equal(objects.length, expected.length);
      objects.forEach((o, i) => assertJsonRecord("book_snapshots", o, expected[i]!));
    });

    await t.step(
      "Parquet of every symbol reads back as the recorded rows, with the contract's columns",
      async () => {
        const expected = await readRows(data, "spot", "depth_updates");
        const out = join(dir, "depth.parquet");
        const r = await exportTask("--table", "depth_updates", "--format", "parquet", "--out", out);
        assert.equal(r.code, 0, r.stderr);
        const table = await readParquet(out);
        assert.deepEqual(
          table.schema.fields.map((f) => f.name),
          arrowSchema("depth_updates").fields.map((f) => f.name),
        );
        const got = toRows<"depth_updates">(table);
        assert.equal(got.length, expected.length);
        assert.deepEqual(bySymbol(got), bySymbol(expected));
      },
    );

    await t.step("--from is inclusive and --to exclusive, on local_time to the microsecond", async () => {
      const rows = ofSymbol(await readRows(data, "usdm", "depth_updates"), "BTCUSDT");
      const times = [...new Set(rows.map((r) => r.local_time))].sort((a, b) => a - b);
      const from = times[Math.floor(times.length / 3)]!;
      const to = times[Math.floor((2 * times.length) / 3)]!;
      const expected = rows.filter((r) => r.local_time >= from && r.local_time < to);
      assert.ok(expected.some((r) => r.local_time === from), "a row at --from");
      assert.ok(rows.some((r) => r.local_time === to), "a row at --to, to be left out");
      const r = await exportTask(
        "--table",
        "depth_updates",
        "--market",
        "usdm",
        "--symbol",
        "BTCUSDT",
        "--format",
        "jsonl",
        "--from",
        isoMicros(from),
        "--to",
        isoMicros(to).replace("Z", "+00:00"),
      );
      assert.equal(r.code, 0, r.stderr);
      const objects = jsonLines(r.stdout);
      assert.equal(objects.length, expected.length);
      objects.forEach((o, i) => assertJsonRecord("depth_updates", o, expected[i]!));
    });

    await t.step("a range without rows of a recorded symbol gives the header alone", async () => {
      const r = await exportTask(
        "--table",
        "trades",
        "--symbol",
        "ETHUSDT",
        "--from",
        "2001-01-01",
        "--to",
        "2001-01-02",
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, expectedHeader("trades").join(",") + "\n");
    });

    await t.step("gaps: the recorded gap rows, or the header alone when there were none", async () => {
      const expected = ofSymbol(await readRows(data, "usdm", "gaps"), "BTCUSDT");
      const r = await exportTask("--table", "gaps", "--market", "usdm", "--symbol", "BTCUSDT");
      assert.equal(r.code, 0, r.stderr);
      const [header, ...records] = parseCsv(r.stdout);
      assert.deepEqual(header, expectedHeader("gaps"));
      assert.equal(records.length, expected.length);
      records.forEach((cells, i) => assertCsvRecord(header!, cells, expected[i]!));
    });

    await t.step(
      "--kv names the ledger; a --kv that does not exist is an error, not a fallback",
      async () => {
        const kv = join(data, "_state", "ledger.sqlite");
        const r = await exportTask("--table", "trades", "--symbol", "BTCUSDT", "--kv", kv);
        assert.equal(r.code, 0, r.stderr);
        assert.ok(r.stderr.includes(`listed by the ledger ${kv})`), r.stderr);
        const missing = await exportTask("--table", "trades", "--kv", join(dir, "no.sqlite"));
        assert.equal(missing.code, 2);
        assert.match(missing.stderr, /^export: no ledger at .*no\.sqlite/);
      },
    );

    await t.step(
      "unknown table or symbol, a table not recorded, bad options: exit 2, nothing written",
      async () => {
        const out = join(dir, "never.csv");
        const cases: [string[], RegExp][] = [
          [["--table", "nope"], /^export: unknown table "nope": expected one of depth_updates, /],
          [
            ["--table", "trades", "--symbol", "FOOUSDT", "--out", out],
            /^export: unknown symbol FOOUSDT: .*BTCUSDT, ETHUSDT/,
          ],
          [
            ["--table", "liquidations", "--market", "spot"],
            /^export: nothing recorded in spot\/liquidations/,
          ],
          [["--symbol", "BTCUSDT"], /^export: --table is required/],
          [["--table", "trades", "--format", "xml"], /^export: unknown format "xml"/],
          [
            ["--table", "trades", "--market", "eurex"],
            /^export: unknown market "eurex": expected spot, usdm, coinm/,
          ],
          [["--table", "trades", "--from", "2026-02-30"], /^export: --from: Cannot parse time "2026-02-30"/],
          [["--table", "trades", "--from", "2026-01-02", "--to", "2026-01-01"], /is not before --to/],
          [["--table", "trades", "--bogus"], /^export: Unknown option '--bogus'/],
          [["--table", "trades", "extra"], /^export: Unexpected argument 'extra'/],
        ];
        for (const [args, message] of cases) {
          const r = await exportTask(...args);
          assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
          assert.match(r.stderr, message, args.join(" "));
          assert.equal(r.stdout, "", args.join(" "));
        }
        assert.deepEqual([...Deno.readDirSync(dir)].filter((e) => e.name.startsWith("never")), []);

        const missing = await task(["export", "--data-dir", join(dir, "nothing"), "--table", "trades"]);
        assert.equal(missing.code, 2);
        assert.match(missing.stderr, /^export: no data directory /);

        const existing = join(dir, "keep.csv");
        await Deno.writeTextFile(existing, "mine\n");
        const clash = await exportTask("--table", "trades", "--out", existing);
        assert.equal(clash.code, 2);
        assert.match(clash.stderr, /the file exists/);
        assert.equal(await Deno.readTextFile(existing), "mine\n");

        for (const flag of ["--help", "-h"]) {
          const help = await task(["export", flag]);
          assert.equal(help.code, 0);
          assert.match(help.stdout, /^Usage: deno task export --table T /);
          assert.equal(help.stderr, "");
        }
      },
    );

    await t.step("without a ledger, the manifest mirror lists the files", async () => {
      const expected = ofSymbol(await readRows(data, "spot", "trades"), "ETHUSDT");
      await Deno.rename(join(data, "_state"), join(data, "_state.off"));
      const r = await exportTask("--table", "trades", "--symbol", "ETHUSDT");
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /listed by the manifest/);
      const [header, ...records] = parseCsv(r.stdout);
      assert.equal(records.length, expected.length);
      records.forEach((cells, i) => assertCsvRecord(header!, cells, expected[i]!));
    });
  });
});

const T0 = 1_790_000_000_000_000;
const SYMBOLS = ["AAAUSDT", "BBBUSDT", "CCCUSDT"];

/** A Parquet file of `perSymbol` rows per symbol, sorted by symbol, with the symbol column of `symbolType`. */
async function writeMultiSymbolFile(path: string, perSymbol: number, symbolType: arrow.DataType, t0 = T0) {
  const n = perSymbol * SYMBOLS.length;
  const symbols = Array.from({ length: n }, (_, i) => SYMBOLS[Math.floor(i / perSymbol)]!);
  const ids = BigInt64Array.from({ length: n }, (_, i) => BigInt(i));
  // Within a symbol, times rise by 1 µs a row, all symbols over the same span (as one flush's rows).
  const times = BigInt64Array.from({ length: n }, (_, i) => BigInt(t0 + (i % perSymbol)));
  const table = new arrow.Table({
    symbol: arrow.vectorFromArray(symbols, symbolType),
    local_time: arrow.makeVector(
      arrow.makeData({ type: new arrow.TimestampMicrosecond("UTC"), data: times }),
    ),
    agg_trade_id: arrow.makeVector(arrow.makeData({ type: new arrow.Int64(), data: ids })),
  });
  await Deno.writeFile(path, pq.writeParquet(pq.Table.fromIPCStream(arrow.tableToIPC(table, "stream"))));
}

function entry(path: string, firstUs: number, lastUs: number): ManifestEntry {
  const e = {
    path,
    sha256: "",
    rows: 0,
    bytes: 0,
    first_local_time: isoMicros(firstUs),
    last_local_time: isoMicros(lastUs),
    market: "spot",
    table: "trades",
  };
  return e as unknown as ManifestEntry;
}

Deno.test("streamRows: a large file comes in batches; rows picked by the symbol column and time; files skipped by time", async () => {
  await withTempDir(async (dir) => {
    const perSymbol = 12_000;
    const types: [string, arrow.DataType][] = [
      ["dictionary", new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32())],
      ["large_utf8", new arrow.LargeUtf8()],
      ["utf8", new arrow.Utf8()],
    ];
    for (const [name, type] of types) {
      await writeMultiSymbolFile(join(dir, `${name}.parquet`), perSymbol, type);
      // A file an hour later, outside every range below.
      await writeMultiSymbolFile(join(dir, `${name}-later.parquet`), 10, type, T0 + 3_600_000_000);
      const files = [
        entry(`${name}.parquet`, T0, T0 + perSymbol - 1),
        entry(`${name}-later.parquet`, T0 + 3_600_000_000, T0 + 3_600_000_009),
        entry(`${name}-usdm.parquet`, T0, T0 + 1), // another market: never opened (it does not exist)
      ];
      files[2]!.market = "usdm";

      const stats = newRowStreamStats();
      const sizes: number[] = [];
      const ids: number[] = [];
      const query = { market: "spot", table: "trades", symbol: "BBBUSDT", toUs: T0 + 3_600_000_000 } as const;
      for await (const rows of streamRows(dir, files, query, {}, stats)) {
        sizes.push(rows.length);
        for (const r of rows) {
          assert.equal(r.symbol, "BBBUSDT");
          ids.push(r.agg_trade_id);
        }
      }
      assert.deepEqual(ids, Array.from({ length: perSymbol }, (_, i) => perSymbol + i), name);
      assert.ok(stats.batches >= Math.ceil((3 * perSymbol) / 8192), `${name}: ${stats.batches} batches`);
      assert.ok(sizes.length > 1 && sizes.every((s) => s <= 8192), `${name}: ${sizes}`);
      assert.equal(stats.files, 1, `${name}: the later file is skipped by its time range`);
      assert.equal(stats.rowsRead, 3 * perSymbol);
      assert.equal(stats.rowsYielded, perSymbol);
      assert.deepEqual([...stats.symbols].sort(), SYMBOLS);

      const window: number[] = [];
      const timed = {
        market: "spot",
        table: "trades",
        symbol: "CCCUSDT",
        fromUs: T0 + 500,
        toUs: T0 + 510,
      } as const;
      for await (const rows of streamRows(dir, files, timed, { batchRows: 1000 })) {
        for (const r of rows) window.push(r.local_time - T0);
      }
      assert.deepEqual(window, [500, 501, 502, 503, 504, 505, 506, 507, 508, 509], name);

      let all = 0;
      for await (
        const rows of streamRows(dir, files, { market: "spot", table: "trades" }, { batchRows: 1000 })
      ) {
        assert.ok(rows.length <= 1000);
        all += rows.length;
      }
      assert.equal(all, 3 * perSymbol + 30, name);
    }

    await Deno.writeFile(join(dir, "broken.parquet"), new TextEncoder().encode("not parquet at all"));
    const broken = streamRows(dir, [entry("broken.parquet", T0, T0)], { market: "spot", table: "trades" });
    await assert.rejects(
      () => broken.next(),
      (err) => err instanceof RowStreamError && /not readable as Parquet/.test(err.message),
    );
    const gone = streamRows(dir, [entry("gone.parquet", T0, T0)], { market: "spot", table: "trades" });
    await assert.rejects(
      () => gone.next(),
      (err) => err instanceof RowStreamError && /the file is gone/.test(err.message),
    );
  });
});

Deno.test("export times: a date, a date-time to the microsecond, an offset; impossible dates refused", () => {
  assert.equal(parseTimeArg("2026-11-24"), Date.UTC(2026, 10, 24) * 1000);
  assert.equal(parseTimeArg("2026-11-24T10:00:00.000001Z"), Date.UTC(2026, 10, 24, 10) * 1000 + 1);
  assert.equal(parseTimeArg("2026-11-24T10:00"), Date.UTC(2026, 10, 24, 10) * 1000);
  assert.equal(parseTimeArg("2026-11-24T12:00:00.5+02:00"), Date.UTC(2026, 10, 24, 10) * 1000 + 500_000);
  for (const bad of ["2026-02-30", "2026-11-24T24:00", "yesterday", "1790000000000000", ""]) {
    assert.throws(() => parseTimeArg(bad), RangeError, bad);
  }
});
