/**
 * The table store: one file per (market, table, hour) per flush whatever the number of symbols, memory bounded
 * by handing full buffers to the Parquet jobs, and no row lost when encoding or writing fails.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Market } from "../../lib/binance/types.ts";
import { FlushError, TableStore } from "../../lib/pipeline/table_store.ts";
import { Manifest } from "../../lib/storage/manifest.ts";
import { EncodeError, inlineJobs, type ParquetJobs } from "../../lib/storage/parquet_jobs.ts";
import { readTableRows } from "../../lib/storage/read_rows.ts";
import type { Row } from "../../lib/storage/tables.ts";
import { withTempDir } from "../temp_dir.ts";

const H = Date.UTC(2026, 4, 1, 9) * 1000;
const HOUR_US = 3_600_000_000;

/** The spill files under `dir`. */
function spillFiles(dir: string): string[] {
  try {
    return [...Deno.readDirSync(join(dir, "_spill"))].map((e) => e.name);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
}

function trade(symbol: string, us: number, id: number): Row<"trades"> {
  return {
    symbol,
    exchange_time: us - 5,
    trade_time: us - 9,
    local_time: us,
    agg_trade_id: id,
    first_trade_id: id,
    last_trade_id: id,
    price: 10 + id / 100,
    quantity: 1,
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
    bid_price: 1,
    bid_quantity: 2,
    ask_price: 3,
    ask_quantity: 4,
  };
}

const symbols = (n: number) => Array.from({ length: n }, (_, k) => `C${String(k).padStart(4, "0")}USDT`);

Deno.test("TableStore writes one file per market and table per flush, whatever the number of symbols", () =>
  withTempDir(async (dir) => {
    const manifest = await Manifest.load(dir);
    const store = new TableStore(dir, { manifest });
    let id = 0;
    for (const market of ["spot", "usdm"] as Market[]) {
      for (const s of symbols(500)) {
        for (let i = 0; i < 3; i++) {
          const us = H + id * 10;
          store.row(market, "trades", s, us, trade(s, us, id));
          store.row(market, "book_tickers", s, us, ticker(s, us, id++));
        }
      }
    }
    const result = await store.flush();
    assert.deepEqual(result.files.map((f) => f.path.replace(/part-.*/, "")).sort(), [
      "spot/book_tickers/date=2026-05-01/",
      "spot/trades/date=2026-05-01/",
      "usdm/book_tickers/date=2026-05-01/",
      "usdm/trades/date=2026-05-01/",
    ]);
    assert.equal(result.rows, 6000);
    assert.deepEqual(result.files.map((f) => f.rows), [1500, 1500, 1500, 1500]);
    assert.equal(result.symbolRows.length, 1000);
    assert.ok(
      result.symbolRows.every((s) => s.rows === 6),
      "3 trades and 3 tickers of each (market, symbol)",
    );
    // Each file's rows by symbol; each symbol's rows in the order written.
    const rows = await readTableRows(dir, manifest.entries(), "usdm", "trades");
    assert.deepEqual(rows.map((r) => r.symbol), symbols(500).flatMap((s) => [s, s, s]));
    assert.ok(rows.every((r, i) => i % 3 === 0 || r.agg_trade_id === rows[i - 1]!.agg_trade_id + 1));
    assert.equal(store.bufferedBytes, 0);
    // Nothing more to write.
    assert.deepEqual((await store.flush()).files, []);
  }));

Deno.test("TableStore keeps an hour per file: rows of the next hour, and a late gap row of an old one, go apart", () =>
  withTempDir(async (dir) => {
    const manifest = await Manifest.load(dir);
    const store = new TableStore(dir, { manifest });
    store.row("spot", "trades", "BTCUSDT", H + HOUR_US - 1, trade("BTCUSDT", H + HOUR_US - 1, 1));
    store.row("spot", "trades", "ETHUSDT", H + HOUR_US, trade("ETHUSDT", H + HOUR_US, 2));
    const gap: Row<"gaps"> = {
      symbol: "ETHUSDT",
      stream: "aggTrade",
      kind: "disconnect",
      start_time: H - 2 * HOUR_US + 5,
      end_time: H + HOUR_US,
      last_update_id: 1,
      resume_update_id: 2,
      reason: "socket closed",
    };
    store.row("spot", "gaps", "ETHUSDT", gap.start_time, gap);
    const result = await store.flush();
    assert.deepEqual(result.files.map((f) => f.path).sort(), [
      `spot/gaps/date=2026-05-01/part-07-${H - 2 * HOUR_US + 5}-000002.parquet`,
      `spot/trades/date=2026-05-01/part-09-${H + HOUR_US - 1}-000000.parquet`,
      `spot/trades/date=2026-05-01/part-10-${H + HOUR_US}-000001.parquet`,
    ]);
  }));

Deno.test("TableStore hands full buffers to the jobs: memory stays bounded and the file holds every row in order", () =>
  withTempDir(async (dir) => {
    const manifest = await Manifest.load(dir);
    const encoded: number[] = [];
    const jobs: ParquetJobs = {
      ...inlineJobs,
      encodeChunk: (chunk, spill) => {
        encoded.push(chunk.rows);
        return inlineJobs.encodeChunk(chunk, spill);
      },
    };
    const store = new TableStore(dir, { manifest, jobs, chunkBytes: 200_000 });
    let peak = 0;
    let raw = 0;
    for (let i = 0; i < 60_000; i++) {
      const s = i % 7 === 0 ? "BTCUSDT" : `X${i % 50}USDT`;
      const before = store.bufferedBytes;
      store.row("spot", "trades", s, H + i, trade(s, H + i, i));
      raw += Math.max(0, store.bufferedBytes - before);
      peak = Math.max(peak, store.bufferedBytes);
      if (i % 1000 === 0) await new Promise((r) => setTimeout(r, 0)); // let encodes finish, as the event loop does
    }
    assert.ok(encoded.length >= 15, `the buffer was handed over ${encoded.length} times`);
    // What the store holds is the open buffer plus encoded chunks, a fraction of the rows' size.
    assert.ok(peak < raw / 3, `peak buffered ${peak} bytes of ${raw}`);
    const result = await store.flush();
    assert.equal(result.files.length, 1);
    assert.equal(result.rows, 60_000);
    const btc = await readTableRows(dir, manifest.entries(), "spot", "trades", { symbol: "BTCUSDT" });
    assert.deepEqual(btc.map((r) => r.agg_trade_id), Array.from({ length: 8572 }, (_, k) => 7 * k));
  }));

Deno.test("TableStore loses no row when encoding or writing fails: the next write does it", () =>
  withTempDir(async (dir) => {
    let failEncode = 1;
    let failWrite = 1;
    const jobs: ParquetJobs = {
      ...inlineJobs,
      encodeChunk: (chunk, spill) =>
        failEncode-- > 0
          ? Promise.reject(new EncodeError("wasm trap", chunk))
          : inlineJobs.encodeChunk(chunk, spill),
      writeFile: (path, segments) =>
        failWrite-- > 0 ? Promise.reject(new Error("ENOSPC")) : inlineJobs.writeFile(path, segments),
    };
    const store = new TableStore(dir, { jobs });
    for (let i = 0; i < 10; i++) store.row("spot", "trades", "BTCUSDT", H + i, trade("BTCUSDT", H + i, i));
    const first = await store.write(store.take()).then(() => null, (e) => e);
    assert.ok(first instanceof FlushError);
    assert.match(String(first.cause), /ENOSPC/);
    assert.equal(spillFiles(dir).length, 1, "the rows are still held, spilled");
    const second = await store.write(store.take());
    assert.equal(second.rows, 10);
    assert.equal(store.bufferedBytes, 0);
    assert.deepEqual(spillFiles(dir), [], "the spill file goes once its rows are in a file");
    const rows = await readTableRows(dir, second.files, "spot", "trades");
    assert.deepEqual(rows.map((r) => r.agg_trade_id), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  }));

Deno.test("TableStore keeps the rows of a chunk it cannot spill, and writes them once it can", () =>
  withTempDir(async (dir) => {
    // A file where the spill directory belongs: every append fails, as on a full or read-only disk.
    await Deno.writeTextFile(join(dir, "_spill"), "");
    const store = new TableStore(dir, { chunkBytes: 2_000 });
    for (let i = 0; i < 200; i++) store.row("spot", "trades", "BTCUSDT", H + i, trade("BTCUSDT", H + i, i));
    const failed = await store.write(store.take()).then(() => null, (e) => e);
    assert.ok(failed instanceof FlushError, String(failed));
    assert.match(String(failed.cause), /_spill/);
    assert.ok(store.bufferedBytes > 0, "the rows are still held, raw");
    await Deno.remove(join(dir, "_spill"));
    const { files, rows } = await store.write(store.take());
    assert.equal(rows, 200);
    const read = await readTableRows(dir, files, "spot", "trades");
    assert.deepEqual(read.map((r) => r.agg_trade_id), Array.from({ length: 200 }, (_, i) => i));
    assert.deepEqual(spillFiles(dir), []);
  }));

Deno.test("TableStore never writes past rows a dead worker took with it", () =>
  withTempDir(async (dir) => {
    const jobs: ParquetJobs = {
      ...inlineJobs,
      encodeChunk: () => Promise.reject(new EncodeError("worker died", null)),
    };
    const store = new TableStore(dir, { jobs });
    store.row("spot", "trades", "BTCUSDT", H, trade("BTCUSDT", H, 1));
    for (let attempt = 0; attempt < 2; attempt++) {
      const err = await store.write(store.take()).then(() => null, (e) => e);
      assert.ok(err instanceof FlushError, "every flush fails, so no checkpoint passes the lost rows");
      assert.match(String(err.cause), /worker died/);
    }
  }));

Deno.test("TableStore never reuses the name of a file already there", () =>
  withTempDir(async (dir) => {
    const taken = join(dir, `spot/trades/date=2026-05-01/part-09-${H}-000000.parquet`);
    await Deno.mkdir(join(taken, ".."), { recursive: true });
    await Deno.writeTextFile(taken, "committed by an earlier run");
    const store = new TableStore(dir, { manifest: await Manifest.load(dir) });
    store.row("spot", "trades", "BTCUSDT", H, trade("BTCUSDT", H, 1));
    const { files } = await store.flush();
    assert.deepEqual(files.map((f) => f.path), [`spot/trades/date=2026-05-01/part-09-${H}-000001.parquet`]);
    assert.equal(await Deno.readTextFile(taken), "committed by an earlier run");
  }));
