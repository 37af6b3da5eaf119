/**
 * `deno task migrate` on a data dir of the 0.3 layout (one file per symbol under `symbol=` directories, the
 * symbol column dictionary-typed), run as the process a user runs: killed with SIGKILL in the middle, run again
 * to the end, then once more with nothing left to do. Every row ends up listed once, in the current layout, and
 * verify is clean.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import * as arrow from "apache-arrow";
import { openLedger } from "../../lib/ledger/open.ts";
import { defaultLedgerPath } from "../../lib/report/verify.ts";
import { writeFileAtomic } from "../../lib/storage/atomic_file.ts";
import { ColumnBuffer } from "../../lib/storage/column_buffer.ts";
import { toArrowTable } from "../../lib/storage/raw_arrow.ts";
import {
  compactedFileName,
  parquetFileName,
  parseLegacyParquetPath,
  parseParquetPath,
} from "../../lib/storage/layout.ts";
import { Manifest, type ManifestEntry } from "../../lib/storage/manifest.ts";
import { describeParquetFile } from "../../lib/storage/manifest_entry.ts";
import { planMigration } from "../../lib/storage/migrate.ts";
import { encodeParquet } from "../../lib/storage/parquet_file.ts";
import { readTableRows } from "../../lib/storage/read_rows.ts";
import type { Row, TableName } from "../../lib/storage/tables.ts";
import { pathEntry } from "../storage/_path_entry.ts";
import { withTempDir } from "../temp_dir.ts";

const ROOT = new URL("../..", import.meta.url);
const D = Date.UTC(2025, 10, 3) * 1000;
const HOUR_US = 3_600_000_000;
const SYMBOLS = ["BTCUSDT", "ETHUSDT", "测试USDT"];

function trade(symbol: string, us: number, id: number): Row<"trades"> {
  return {
    symbol,
    exchange_time: us - 2,
    trade_time: us - 3,
    local_time: us,
    agg_trade_id: id,
    first_trade_id: id,
    last_trade_id: id,
    price: 1 + id,
    quantity: 0.5,
    is_buyer_maker: id % 2 === 0,
    source: "ws",
  };
}

function ticker(symbol: string, us: number, id: number): Row<"book_tickers"> {
  return {
    symbol,
    update_id: id,
    exchange_time: null,
    transaction_time: null,
    local_time: us,
    bid_price: id,
    bid_quantity: 1,
    ask_price: id + 1,
    ask_quantity: 2,
  };
}

/** A file as 0.3 wrote it: one symbol, the symbol column dictionary-typed. */
async function writeLegacy<N extends TableName>(dataDir: string, rel: string, table: N, rows: Row<N>[]) {
  const b = new ColumnBuffer(table);
  for (const r of rows) b.append(r);
  const t = toArrowTable(b);
  const columns = Object.fromEntries(t.schema.fields.map((f) => [f.name, t.getChild(f.name)!]));
  const dictionary = new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32());
  columns.symbol = arrow.vectorFromArray(rows.map((r) => (r as { symbol: string }).symbol), dictionary);
  await writeFileAtomic(join(dataDir, rel), encodeParquet(new arrow.Table(columns)));
  return await describeParquetFile(dataDir, rel);
}

/** 12 hours of trades and book tickers of 3 symbols, 2 part files per symbol and hour, one hour compacted. */
async function writeLegacyDataDir(dataDir: string): Promise<ManifestEntry[]> {
  const entries: ManifestEntry[] = [];
  let id = 0;
  for (let h = 0; h < 12; h++) {
    for (const [k, symbol] of SYMBOLS.entries()) {
      for (let part = 0; part < 2; part++) {
        const firstUs = D + h * HOUR_US + part * 1_000_000_000 + k;
        const name = h === 3 ? compactedFileName(firstUs, "0a1b2c3d") : parquetFileName(firstUs, part);
        if (h === 3 && part === 1) continue;
        const date = "2025-11-03";
        const us = Array.from({ length: 40 }, (_, i) => firstUs + i * 1000);
        entries.push(
          await writeLegacy(
            dataDir,
            `spot/trades/date=${date}/symbol=${symbol}/${name}`,
            "trades",
            us.map((t) => trade(symbol, t, id++)),
          ),
          await writeLegacy(
            dataDir,
            `usdm/book_tickers/date=${date}/symbol=${symbol}/${name}`,
            "book_tickers",
            us.map((t) => ticker(symbol, t, id++)),
          ),
        );
      }
    }
  }
  const ledger = await openLedger(defaultLedgerPath(dataDir));
  try {
    await ledger.addFiles(entries);
    await ledger.mirrorManifest(dataDir);
  } finally {
    ledger.close();
  }
  return entries;
}

/** `deno task migrate`, or (`direct`) the process the task runs, which a SIGKILL must reach itself. */
function migrate(dataDir: string, direct = false): Deno.ChildProcess {
  const args = direct
    ? ["run", "--allow-read", "--allow-write", "--allow-env", "tools/migrate.ts", dataDir]
    : ["task", "migrate", dataDir];
  return new Deno.Command(Deno.execPath(), { args, cwd: ROOT, stdout: "piped", stderr: "piped" }).spawn();
}

async function rowsBySymbol(dataDir: string, files: ManifestEntry[]) {
  const out: Record<string, unknown[]> = {};
  for (const symbol of SYMBOLS) {
    out[`trades ${symbol}`] = await readTableRows(dataDir, files, "spot", "trades", { symbol });
    out[`tickers ${symbol}`] = await readTableRows(dataDir, files, "usdm", "book_tickers", { symbol });
  }
  return out;
}

Deno.test("planMigration() groups 0.3 files by market, table and hour, in time order, and nothing else", () => {
  const a = pathEntry(`spot/trades/date=2025-11-03/symbol=ETHUSDT/${parquetFileName(D + 5, 0)}`);
  const b = pathEntry(`spot/trades/date=2025-11-03/symbol=BTCUSDT/${parquetFileName(D + 9, 0)}`);
  const c = pathEntry(`spot/trades/date=2025-11-03/symbol=BTCUSDT/${parquetFileName(D + HOUR_US, 0)}`);
  const current = pathEntry(`spot/trades/date=2025-11-03/${parquetFileName(D + 7, 0)}`);
  const groups = planMigration([b, current, c, a]);
  assert.deepEqual(groups.map((g) => [g.dir, g.hourStartUs, g.sources.map((s) => s.path)]), [
    ["spot/trades/date=2025-11-03", D, [a.path, b.path]],
    ["spot/trades/date=2025-11-03", D + HOUR_US, [c.path]],
  ]);
});

Deno.test("deno task migrate rewrites a 0.3 data dir into the current layout, survives kill -9 and is idempotent", () =>
  withTempDir(async (dataDir) => {
    const legacy = await writeLegacyDataDir(dataDir);
    const before = await rowsBySymbol(dataDir, legacy);

    // Killed three times, each time once it has migrated an hour: wherever the kill lands in the next one's
    // steps, the next run picks up from there.
    for (let kill = 0; kill < 3; kill++) {
      const run = migrate(dataDir, true);
      let printed = "";
      for await (const chunk of run.stdout.pipeThrough(new TextDecoderStream())) {
        printed += chunk;
        if (printed.includes("migrated {")) break;
      }
      run.kill("SIGKILL");
      assert.equal((await run.status).signal, "SIGKILL");
      await run.stderr.cancel();
    }
    const partial = (await Manifest.load(dataDir)).entries();
    assert.ok(partial.some((x) => parseLegacyParquetPath(x.path) !== null), "the kills left work to do");

    const second = await migrate(dataDir).output();
    const text = new TextDecoder().decode(second.stdout);
    assert.equal(second.code, 0, text + new TextDecoder().decode(second.stderr));
    assert.match(text, /migrated \d+ files into \d+ \(\d+ rows\)/);
    assert.match(text, /\nOK$/m);

    const ledger = await openLedger(defaultLedgerPath(dataDir));
    let files: ManifestEntry[];
    try {
      files = await ledger.listFiles();
    } finally {
      ledger.close();
    }
    // One file per market, table and hour, every one of the current layout, every row there once.
    assert.equal(files.length, 24);
    assert.ok(
      files.every((f) => parseParquetPath(f.path) !== null && /\/hour-\d\d-/.test(f.path)),
      `${files.map((f) => f.path)}`,
    );
    assert.deepEqual((await Manifest.load(dataDir)).entries(), files, "checksums.json mirrors the ledger");
    assert.equal(files.reduce((n, f) => n + f.rows, 0), legacy.reduce((n, f) => n + f.rows, 0));
    assert.deepEqual(await rowsBySymbol(dataDir, files), before);
    for (const market of ["spot/trades", "usdm/book_tickers"]) {
      const dirs = [...Deno.readDirSync(join(dataDir, market, "date=2025-11-03"))].filter((x) =>
        x.isDirectory
      );
      assert.deepEqual(dirs, [], `no symbol= directory is left in ${market}`);
    }

    const third = await migrate(dataDir).output();
    assert.equal(third.code, 0);
    assert.match(new TextDecoder().decode(third.stdout), /migrated 0 files into 0 \(0 rows\)/);
  }));

Deno.test("deno task migrate --help, and a missing data dir exits 2", async () => {
  const help = await new Deno.Command(Deno.execPath(), {
    args: ["task", "migrate", "--help"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "null",
  }).output();
  assert.equal(help.code, 0);
  assert.match(new TextDecoder().decode(help.stdout), /^Usage: deno task migrate \[data_dir\]/);
  const missing = await new Deno.Command(Deno.execPath(), {
    args: ["task", "migrate", "/nonexistent/data"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "null",
  }).output();
  assert.equal(missing.code, 2);
  assert.match(new TextDecoder().decode(missing.stdout), /^migrate: /);
});
