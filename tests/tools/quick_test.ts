/**
 * `deno task quick` as a user runs it, in its own process against the built-in simulator: the per-symbol CSV
 * files hold exactly what the Parquet files hold, and the summary's rows and times are those of the data.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Market } from "../../lib/binance/markets.ts";
import type { TableName } from "../../lib/storage/tables.ts";
import { readRows } from "../integration/_harness.ts";
import { withTempDir } from "../temp_dir.ts";
import { assertCsvRecord, expectedHeader, parseCsv, task } from "./_text_rows.ts";

const SIX = ["BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT"];
const ROOT = new URL("../..", import.meta.url);

/** The summary's table lines: market → "table symbol" → [rows, first, last]. */
function summaryLines(stdout: string): Map<string, [number, string, string]> {
  const out = new Map<string, [number, string, string]>();
  let market = "";
  for (const line of stdout.split("\n")) {
    const heading = /^(spot|usdm):$/.exec(line);
    if (heading) market = heading[1]!;
    const row = /^ {2}([a-z_]+) +(\S+) +(\d+) +(\S+) +(\S+)/.exec(line);
    if (row && market !== "" && row[1] !== "table") {
      out.set(`${market} ${row[1]} ${row[2]}`, [Number(row[3]), row[4]!, row[5]!]);
    }
    if (line === "") market = "";
  }
  return out;
}

/** Checks a per-symbol CSV file against the Parquet rows of that symbol; returns its row count. */
async function checkCsv(dir: string, market: Market, table: TableName, symbol: string, levels: number) {
  const expected = (await readRows(join(dir, "data"), market, table)).filter((r) => r.symbol === symbol);
  const [header, ...records] = parseCsv(
    await Deno.readTextFile(join(dir, "csv", market, `${symbol}_${table}.csv`)),
  );
  assert.deepEqual(header, expectedHeader(table, table === "book_snapshots" ? levels : undefined));
  assert.equal(records.length, expected.length, `${market} ${table} ${symbol}`);
  records.forEach((cells, i) => assertCsvRecord(header!, cells, expected[i]!));
  return records.length;
}

Deno.test("deno task quick --sim: per-symbol CSV files equal to the Parquet rows, and a summary of the data", async () => {
  await withTempDir(async (tmp) => {
    const dir = join(tmp, "quick");
    const r = await task(["quick", "--sim", "--minutes", "0.2", "--out", dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^Recording 6 symbols \(BTCUSDT ETHUSDT BNBUSDT SOLUSDT XRPUSDT DOGEUSDT\) on spot, usdm from the built-in simulator/,
    );
    assert.match(
      r.stdout,
      /\nQuick test: 6 symbols from the built-in simulator, [\d.]+ s recorded \(time is up\)\./,
    );

    for (const market of ["spot", "usdm"] as const) {
      for (const symbol of SIX) {
        // The default orderbook_top_levels: 20 levels per side.
        assert.ok(await checkCsv(dir, market, "book_snapshots", symbol, 20) > 0, `${market} ${symbol} books`);
        assert.ok(await checkCsv(dir, market, "trades", symbol, 20) > 0, `${market} ${symbol} trades`);
      }
    }

    const lines = summaryLines(r.stdout);
    const tables: Record<"spot" | "usdm", TableName[]> = {
      spot: ["depth_updates", "book_snapshots", "trades", "klines", "book_tickers"],
      usdm: [
        "depth_updates",
        "book_snapshots",
        "trades",
        "klines",
        "book_tickers",
        "liquidations",
        "mark_prices",
      ],
    };
    for (const market of ["spot", "usdm"] as const) {
      for (const table of tables[market]) {
        const rows = await readRows(join(dir, "data"), market, table);
        for (const symbol of SIX) {
          const line = lines.get(`${market} ${table} ${symbol}`);
          assert.ok(line, `summary line for ${market} ${table} ${symbol}:\n${r.stdout}`);
          const times = rows.filter((x) => x.symbol === symbol).map((x) => x.local_time);
          assert.equal(line[0], times.length, `${market} ${table} ${symbol}`);
          if (times.length > 0) {
            assert.equal(line[1], new Date(Math.floor(Math.min(...times) / 1000)).toISOString());
            assert.equal(line[2], new Date(Math.floor(Math.max(...times) / 1000)).toISOString());
          }
        }
      }
    }
    const gapRows = [
      ...await readRows(join(dir, "data"), "spot", "gaps"),
      ...await readRows(join(dir, "data"), "usdm", "gaps"),
    ];
    assert.match(
      r.stdout,
      gapRows.length === 0 ? /\nGaps: none / : new RegExp(`\\nGaps: ${gapRows.length} `),
    );
    assert.match(r.stdout, /\nCSV files \(24\):\n {2}csv\/spot\/BNBUSDT_book_snapshots\.csv +\d+ rows\n/);

    const summaryFile = await Deno.readTextFile(join(dir, "summary.txt"));
    assert.ok(r.stdout.endsWith(`\n${summaryFile}`), "summary.txt is the printed summary");
    assert.ok((await Deno.stat(join(dir, "logs"))).isDirectory);
  });
});

/** Resolves once some `.parquet` file under `dir` has `part` in its path, or once `gaveUp()` holds. */
async function parquetFileAppears(dir: string, part: string, timeoutMs: number, gaveUp: () => boolean) {
  const deadline = Date.now() + timeoutMs;
  const found = async (d: string): Promise<boolean> => {
    try {
      for await (const e of Deno.readDir(d)) {
        const path = join(d, e.name);
        if (e.isDirectory && await found(path)) return true;
        if (e.isFile && e.name.endsWith(".parquet") && path.includes(part)) return true;
      }
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    return false;
  };
  while (!gaveUp() && !(await found(dir))) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for a ${part} Parquet file under ${dir}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

Deno.test("quick with a CONFIG records its symbols and markets; Ctrl-C stops early and still writes CSV and summary", async () => {
  await withTempDir(async (tmp) => {
    const config = join(tmp, "config.yaml");
    // The Python collector's spelling: lower case. Spot only, two streams.
    await Deno.writeTextFile(
      config,
      "symbols: [btcusdt]\nuse_futures: false\nflush_interval: 1\norderbook_top_levels: 5\n" +
        "markets:\n  spot:\n    streams: [depth@100ms, aggTrade]\n",
    );
    const dir = join(tmp, "quick");
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        "tools/quick.ts",
        "--sim",
        "--minutes",
        "10",
        "--out",
        dir,
        config,
      ],
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stdout = new Response(child.stdout).text();
    const stderr = new Response(child.stderr).text();
    let exited = false;
    const status = child.status.finally(() => exited = true);
    try {
      // Both CSV tables flushed at least once: then Ctrl-C.
      await Promise.race([
        (async () => {
          await parquetFileAppears(
            join(dir, "data", "spot", "book_snapshots"),
            "book_snapshots",
            60_000,
            () => exited,
          );
          await parquetFileAppears(join(dir, "data", "spot", "trades"), "trades", 60_000, () => exited);
        })(),
        status.then(async (s) => {
          throw new Error(`quick exited early with ${s.code}: ${await stderr}`);
        }),
      ]);
    } finally {
      if (!exited) child.kill("SIGINT");
    }
    assert.equal((await status).code, 0, await stderr);
    const out = await stdout;
    assert.match(out, /^Recording 1 symbols \(BTCUSDT\) on spot from the built-in simulator for 10 min/);
    assert.match(out, /\nQuick test: 1 symbols from the built-in simulator, [\d.]+ s recorded \(SIGINT\)\./);
    assert.ok(await checkCsv(dir, "spot", "book_snapshots", "BTCUSDT", 5) > 0);
    assert.ok(await checkCsv(dir, "spot", "trades", "BTCUSDT", 5) > 0);
    assert.deepEqual([...Deno.readDirSync(join(dir, "csv"))].map((e) => e.name), ["spot"]);
    const lines = summaryLines(out);
    // `instruments` (exchangeInfo's description) is there once the start's exchangeInfo read answered.
    assert.deepEqual([...lines.keys()].filter((k) => !k.includes(" instruments ")).sort(), [
      "spot book_snapshots BTCUSDT",
      "spot depth_updates BTCUSDT",
      "spot trades BTCUSDT",
    ]);
  });
});

Deno.test("quick: --help, bad options, an existing --out and a missing CONFIG exit without recording", async () => {
  await withTempDir(async (tmp) => {
    for (const flag of ["--help", "-h"]) {
      const help = await task(["quick", flag]);
      assert.equal(help.code, 0);
      assert.match(help.stdout, /^Usage: deno task quick \[--minutes M\] \[--sim\] \[--out DIR\] \[CONFIG\]/);
      assert.ok(help.stdout.includes("BTCUSDT ETHUSDT BNBUSDT SOLUSDT XRPUSDT DOGEUSDT"));
      assert.equal(help.stderr, "");
    }
    const existing = join(tmp, "taken");
    await Deno.mkdir(existing);
    await Deno.writeTextFile(join(existing, "mine.txt"), "mine");
    const cases: [string[], RegExp][] = [
      [["--minutes", "0"], /^quick: --minutes must be a number above 0 and at most 1440, got "0"/],
      [["--minutes", "five"], /^quick: --minutes must be a number above 0/],
      [["--bogus"], /^quick: Unknown option '--bogus'/],
      [["a.yaml", "b.yaml"], /^quick: one CONFIG at most, got a.yaml b.yaml/],
      [["--sim", "--out", existing], /^quick: .*taken exists; choose another --out \(nothing was changed\)/],
      [
        ["--sim", "--out", join(tmp, "new"), join(tmp, "missing.yaml")],
        /^config error: .*missing\.yaml: file not found/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await task(["quick", ...args]);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(" "));
    }
    assert.deepEqual([...Deno.readDirSync(existing)].map((e) => e.name), ["mine.txt"]);
    assert.deepEqual([...Deno.readDirSync(tmp)].map((e) => e.name).sort(), ["taken"]);
  });
});
