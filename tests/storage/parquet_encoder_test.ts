import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { ColumnBuffer, type RawChunk } from "../../lib/storage/column_buffer.ts";
import { ParquetEncoder } from "../../lib/storage/parquet_encoder.ts";
import { EncodeError } from "../../lib/storage/parquet_jobs.ts";
import { decodeParquet } from "../../lib/storage/parquet_file.ts";
import { toRows } from "../../lib/storage/read_rows.ts";
import type { SpilledSegment } from "../../lib/storage/spill.ts";
import { isTempFile } from "../../lib/storage/atomic_file.ts";
import { withTempDir } from "../temp_dir.ts";

const SYMBOLS = ["ETHUSDT", "BTCUSDT", "测试USDT", "AAVEUSDT"];

function tradesChunk(n: number, idBase: number): RawChunk {
  const b = new ColumnBuffer("trades");
  for (let i = 0; i < n; i++) {
    b.append({
      symbol: SYMBOLS[i % SYMBOLS.length]!,
      exchange_time: 1_700_000_000_000_000 + i,
      trade_time: 1_700_000_000_000_000 + i,
      local_time: 1_700_000_000_000_123 + i,
      agg_trade_id: idBase + i,
      first_trade_id: i,
      last_trade_id: i,
      price: 61_000 + i / 100,
      quantity: 0.001 * (i + 1),
      is_buyer_maker: i % 3 === 0,
      source: "ws",
    });
  }
  return b.detach();
}

/** The Parquet bytes of a spilled chunk. */
async function spilledBytes(s: SpilledSegment): Promise<Uint8Array> {
  return (await Deno.readFile(s.path)).subarray(s.offset, s.offset + s.length);
}

Deno.test("ParquetEncoder encodes in a worker: arrays go there and back transferred, rows spilled sorted by symbol", () =>
  withTempDir(async (dir) => {
    const encoder = new ParquetEncoder();
    try {
      const chunks = [10, 2000, 1].map((n, k) => tradesChunk(n, 5_000_000_000_000 + k * 10_000));
      const ids = chunks.map((c) => c.columns[4]!);
      const encoded = await Promise.all(
        chunks.map((c) => encoder.encodeChunk(c, join(dir, "_spill/spot-trades-0"))),
      );
      // While in the worker, the buffers were not the main thread's (transferred, not copied).
      for (const c of chunks) {
        assert.equal(c.columns[4]!.kind === "i64" && c.columns[4]!.values.byteLength, 0);
      }
      // One spill file, the chunks back to back in the order they were sent.
      assert.equal(new Set(encoded.map((e) => e.spilled.path)).size, 1);
      assert.ok(isTempFile(encoded[0]!.spilled.path), encoded[0]!.spilled.path);
      assert.deepEqual(encoded.map((e) => e.spilled.offset), [
        0,
        encoded[0]!.spilled.length,
        encoded[0]!.spilled.length + encoded[1]!.spilled.length,
      ]);
      for (const [k, e] of encoded.entries()) {
        const n = chunks[k]!.rows;
        const rows = toRows<"trades">(decodeParquet(await spilledBytes(e.spilled)));
        assert.equal(rows.length, n);
        // By symbol (code point order), each symbol's rows in the order appended.
        const expected = Array.from(
          { length: n },
          (_, i) => ({ s: SYMBOLS[i % SYMBOLS.length]!, id: 5e12 + k * 1e4 + i }),
        )
          .sort((a, b) => (a.s < b.s ? -1 : a.s > b.s ? 1 : a.id - b.id));
        assert.deepEqual(rows.map((r) => [r.symbol, r.agg_trade_id]), expected.map((x) => [x.s, x.id]));
        assert.deepEqual(e.symbols, [...new Set(expected.map((x) => x.s))]);
        assert.equal(e.rows.reduce((a, b) => a + b, 0), n);
        // The arrays came back whole, for reuse.
        const back = e.chunk.columns[4]!;
        assert.ok(back.kind === "i64" && ids[k]!.kind === "i64");
        assert.equal(back.values[n - 1], 5e12 + k * 1e4 + n - 1);
      }
    } finally {
      encoder.close();
    }
  }));

Deno.test("ParquetEncoder.writeFile() stitches spilled chunks into one file, written atomically, with its sha256", () =>
  withTempDir(async (dir) => {
    const encoder = new ParquetEncoder();
    try {
      const spill = join(dir, "_spill/spot-trades-0");
      const parts = await Promise.all(
        [tradesChunk(30, 0), tradesChunk(20, 100)].map((c) => encoder.encodeChunk(c, spill)),
      );
      const expected: number[] = [];
      for (const p of parts) {
        expected.push(
          ...toRows<"trades">(decodeParquet(await spilledBytes(p.spilled))).map((r) => r.agg_trade_id),
        );
      }
      const path = join(dir, "spot/trades/date=2023-11-14/part-22-1700000000000123-000000.parquet");
      const written = await encoder.writeFile(path, parts.map((p) => p.spilled));
      const bytes = await Deno.readFile(path);
      assert.equal(written.bytes, bytes.length);
      assert.equal(written.sha256, createHash("sha256").update(bytes).digest("hex"));
      const rows = toRows<"trades">(decodeParquet(bytes));
      assert.deepEqual(rows.map((r) => r.agg_trade_id), expected);
      assert.deepEqual([...Deno.readDirSync(join(dir, "spot/trades/date=2023-11-14"))].map((e) => e.name), [
        "part-22-1700000000000123-000000.parquet",
      ]);
      assert.deepEqual(
        [...Deno.readDirSync(join(dir, "_spill"))],
        [],
        "the spill file is removed once written",
      );
    } finally {
      encoder.close();
    }
  }));

Deno.test("ParquetEncoder: chunks spilled by a worker that is gone are still written; a new worker spills apart", () =>
  withTempDir(async (dir) => {
    const spill = join(dir, "_spill/spot-trades-0");
    const first = new ParquetEncoder();
    const before = await first.encodeChunk(tradesChunk(40, 0), spill).finally(() => first.close());
    const second = new ParquetEncoder();
    try {
      const after = await second.encodeChunk(tradesChunk(7, 1000), spill);
      // The new worker never writes into the old one's file (a late write of the dead worker could land there).
      assert.notEqual(after.spilled.path, before.spilled.path);
      assert.equal(after.spilled.offset, 0);
      const path = join(dir, "spot/trades/date=2023-11-14/part-22-1700000000000123-000000.parquet");
      const written = await second.writeFile(path, [before.spilled, after.spilled]);
      assert.ok(written.bytes > 0);
      const ids = toRows<"trades">(decodeParquet(await Deno.readFile(path))).map((r) => r.agg_trade_id);
      assert.deepEqual(ids.toSorted((a, b) => a - b), [
        ...Array.from({ length: 40 }, (_, i) => i),
        ...Array.from({ length: 7 }, (_, i) => 1000 + i),
      ]);
      assert.deepEqual([...Deno.readDirSync(join(dir, "_spill"))], []);
    } finally {
      second.close();
    }
  }));

Deno.test("ParquetEncoder replaces its worker after a merge, once it holds no request; the flush goes on", () =>
  withTempDir(async (dir) => {
    const spill = join(dir, "_spill/spot-trades-0");
    const encoder = new ParquetEncoder();
    try {
      const part = join(dir, "spot/trades/date=2023-11-14/part-22-1700000000000123-000000.parquet");
      const before = await encoder.encodeChunk(tradesChunk(40, 0), spill);
      const written = await encoder.writeFile(part, [before.spilled]);
      const again = await encoder.encodeChunk(tradesChunk(5, 500), spill);
      const target = join(dir, "spot/trades/date=2023-11-14/hour-22.parquet");
      const merged = await encoder.merge({
        table: "trades",
        sources: [{ path: part, bytes: written.bytes, sha256: written.sha256, rows: 40 }],
        target,
      });
      assert.equal(merged.rows, 40);
      // A new worker spills into files of its own: the one before the merge is gone with its memory.
      const after = await encoder.encodeChunk(tradesChunk(7, 1000), spill);
      assert.equal(again.spilled.path, before.spilled.path);
      assert.notEqual(after.spilled.path, again.spilled.path);
      const next = join(dir, "spot/trades/date=2023-11-14/part-23-1700003600000000-000001.parquet");
      await encoder.writeFile(next, [again.spilled, after.spilled]);
      const ids = toRows<"trades">(decodeParquet(await Deno.readFile(next))).map((r) => r.agg_trade_id);
      assert.deepEqual(ids.toSorted((a, b) => a - b), [
        ...Array.from({ length: 5 }, (_, i) => 500 + i),
        ...Array.from({ length: 7 }, (_, i) => 1000 + i),
      ]);
    } finally {
      encoder.close();
    }
  }));

Deno.test("ParquetEncoder: a chunk that fails to encode comes back with the error, rows included", () =>
  withTempDir(async (dir) => {
    const encoder = new ParquetEncoder();
    try {
      const chunk = tradesChunk(5, 0);
      const bad: RawChunk = { ...chunk, columns: [chunk.columns[1]!, ...chunk.columns.slice(1)] };
      const spill = join(dir, "_spill/spot-trades-0");
      const err = await encoder.encodeChunk(bad, spill).then(() => null, (e) => e);
      assert.ok(err instanceof EncodeError, String(err));
      assert.match(err.message, /first column is not the symbol/);
      assert.equal(err.chunk?.rows, 5);
      const ids = err.chunk!.columns[4]!;
      assert.ok(ids.kind === "i64");
      assert.deepEqual([...ids.values.subarray(0, 5)], [0, 1, 2, 3, 4]);
      // The worker goes on serving.
      assert.equal((await encoder.encodeChunk(tradesChunk(3, 0), spill)).rows.reduce((a, b) => a + b), 3);
    } finally {
      encoder.close();
    }
  }));

Deno.test("ParquetEncoder.close() rejects what is still waiting; an encode's rows are reported lost", () =>
  withTempDir(async (dir) => {
    const encoder = new ParquetEncoder();
    const pending = encoder.encodeChunk(tradesChunk(1000, 0), join(dir, "_spill/spot-trades-0"));
    encoder.close();
    const err = await pending.then(() => null, (e) => e);
    assert.ok(err instanceof EncodeError);
    assert.equal(err.chunk, null);
    assert.match(err.message, /closed; the chunk it held is lost/);
  }));

Deno.test("ParquetEncoder refuses requests once closed (a merge after the stop), handing an encode's rows back", () =>
  withTempDir(async (dir) => {
    const encoder = new ParquetEncoder();
    encoder.close();
    const chunk = tradesChunk(10, 0);
    const err = await encoder.encodeChunk(chunk, join(dir, "_spill/spot-trades-0")).then(
      () => null,
      (e) => e,
    );
    assert.ok(err instanceof EncodeError);
    assert.equal(err.chunk, chunk, "the rows stay with the caller");
    assert.equal(err.chunk.rows, 10);
    const merge = await encoder.merge({ table: "trades", sources: [], target: join(dir, "x.parquet") }).then(
      () => null,
      (e) => e,
    );
    assert.match(String(merge), /closed/);
    assert.deepEqual([...Deno.readDirSync(dir)], [], "no worker started to write anything");
  }));
