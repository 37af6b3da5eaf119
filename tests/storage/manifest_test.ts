import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { ColumnBuffer } from "../../lib/storage/column_buffer.ts";
import { toArrowTable } from "../../lib/storage/raw_arrow.ts";
import { manifestPath, relativeParquetPath } from "../../lib/storage/layout.ts";
import {
  isoMicros,
  Manifest,
  type ManifestEntry,
  ManifestError,
  sha256Hex,
} from "../../lib/storage/manifest.ts";
import { describeParquetFile } from "../../lib/storage/manifest_entry.ts";
import { Prng } from "../../lib/sim/prng.ts";
import { encodeParquet, writeFileAtomic } from "../../lib/storage/parquet_file.ts";
import type { TableName } from "../../lib/storage/tables.ts";
import { BASE_US, sampleRows } from "./_rows.ts";
import { withTempDir } from "../temp_dir.ts";

/** Writes a Parquet file of `n` sample rows into the layout and returns its relative path and bytes. */
async function writePart(dataDir: string, table: TableName, n: number, seq = 0) {
  const buf = new ColumnBuffer(table);
  for (const row of sampleRows(table, n)) buf.append(row);
  const bytes = encodeParquet(toArrowTable(buf));
  const rel = relativeParquetPath({ market: "spot", table, firstLocalUs: buf.minTime!, seq });
  await writeFileAtomic(`${dataDir}/${rel}`, bytes);
  return { rel, bytes, buf };
}

const entry = (path: string, over: Partial<ManifestEntry> = {}): ManifestEntry => ({
  path,
  sha256: "00".repeat(32),
  rows: 1,
  bytes: 10,
  first_local_time: isoMicros(BASE_US),
  last_local_time: isoMicros(BASE_US),
  market: "spot",
  table: "trades",
  ...over,
});

Deno.test("sha256Hex() equals node:crypto's sha256", async () => {
  for (const n of [0, 1, 55, 56, 64, 65_536]) {
    const bytes = crypto.getRandomValues(new Uint8Array(Math.min(n, 65_536)));
    assert.equal(await sha256Hex(bytes), createHash("sha256").update(bytes).digest("hex"));
  }
});

Deno.test("isoMicros() keeps all six fraction digits", () => {
  assert.equal(isoMicros(1_700_000_000_123_456), "2023-11-14T22:13:20.123456Z");
  assert.equal(isoMicros(1_700_000_000_000_001), "2023-11-14T22:13:20.000001Z");
  assert.equal(isoMicros(0), "1970-01-01T00:00:00.000000Z");
});

Deno.test("Manifest saves atomically and loads back what was added", () =>
  withTempDir(async (dir) => {
    const empty = await Manifest.load(dir);
    assert.equal(empty.size, 0);
    empty.add(entry("spot/trades/b.parquet", { rows: 5 }));
    empty.add(entry("spot/trades/a.parquet"));
    empty.add(entry("spot/trades/b.parquet", { rows: 6 }));
    assert.equal(empty.remove("spot/trades/zzz.parquet"), false);
    await empty.save();
    const names = [...Deno.readDirSync(`${dir}/_manifest`)].map((e) => e.name);
    assert.deepEqual(names, ["checksums.json"]);
    const loaded = await Manifest.load(dir);
    assert.deepEqual(loaded.entries().map((e) => [e.path, e.rows]), [
      ["spot/trades/a.parquet", 1],
      ["spot/trades/b.parquet", 6],
    ]);
    assert.equal(loaded.remove("spot/trades/a.parquet"), true);
    await loaded.save();
    assert.equal((await Manifest.load(dir)).size, 1);
  }));

/** The file the manifest wrote when it was one JSON.stringify. */
const wholeText = (entries: ManifestEntry[]) =>
  JSON.stringify({ version: 1, files: entries }, null, 1) + "\n";

Deno.test("Manifest keeps its entries sorted through adds, replacements and removes (and when made of a list), and saves the same text as one JSON.stringify", () =>
  withTempDir(async (dir) => {
    const manifest = await Manifest.load(dir);
    await manifest.save();
    assert.equal(await Deno.readTextFile(manifestPath(dir)), wholeText([]));
    const model = new Map<string, ManifestEntry>();
    const rng = new Prng(7);
    const random = (n: number) => rng.int(n);
    // Enough entries for the text to be written in several pieces (a piece is 256 Ki characters).
    for (let i = 0; i < 10_000; i++) {
      const path = `${["spot", "usdm"][random(2)]}/trades/date=2026-12-0${random(9) + 1}/part-${
        random(3000)
      }.parquet`;
      const op = random(10);
      if (op === 0) assert.equal(manifest.remove(path), model.delete(path));
      else {
        const e = entry(path, { rows: i, sha256: String(i).padStart(64, "0") });
        manifest.add(e);
        model.set(path, e);
      }
    }
    const sorted = [...model.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
    assert.ok(sorted.length > 4000);
    assert.deepEqual(manifest.entries(), sorted);
    assert.equal(manifest.size, sorted.length);
    await manifest.save();
    const text = await Deno.readTextFile(manifestPath(dir));
    assert.ok(text.length > 3 * (256 << 10));
    assert.equal(text, wholeText(sorted));
    assert.deepEqual((await Manifest.load(dir)).entries(), sorted);
    const three = Manifest.of(dir, sorted.slice(0, 3).reverse());
    assert.deepEqual(three.entries(), sorted.slice(0, 3));
    assert.equal(three.get(sorted[3]!.path), undefined);
  }));

Deno.test("Manifest saves one after another: a save asked for while one writes has everything added before it", () =>
  withTempDir(async (dir) => {
    const manifest = await Manifest.load(dir);
    for (let i = 0; i < 3000; i++) manifest.add(entry(`spot/trades/p-${String(i).padStart(5, "0")}.parquet`));
    const first = manifest.save();
    manifest.add(entry("spot/trades/q-late.parquet"));
    const second = manifest.save();
    const third = manifest.save();
    assert.equal(second, third, "a save waiting to start is shared");
    await Promise.all([first, second]);
    const saved = await Manifest.load(dir);
    assert.equal(saved.size, 3001);
    assert.ok(saved.get("spot/trades/q-late.parquet"));
  }));

Deno.test("Manifest: a save that fails rejects, and the next one writes", () =>
  withTempDir(async (dir) => {
    const manifest = await Manifest.load(dir);
    await Deno.writeTextFile(`${dir}/_manifest`, "a file where the directory goes");
    manifest.add(entry("spot/trades/a.parquet"));
    await assert.rejects(manifest.save());
    await Deno.remove(`${dir}/_manifest`);
    await manifest.save();
    assert.equal((await Manifest.load(dir)).size, 1);
  }));

Deno.test("Manifest.load() reads a 0.3 manifest, whose entries also name a symbol, and keeps the entry fields", () =>
  withTempDir(async (dir) => {
    const old = {
      ...entry("spot/trades/date=2023-11-14/symbol=BTCUSDT/part-22-0-000009.parquet"),
      symbol: "BTCUSDT",
    };
    await Deno.mkdir(`${dir}/_manifest`);
    await Deno.writeTextFile(manifestPath(dir), JSON.stringify({ version: 1, files: [old] }));
    const loaded = await Manifest.load(dir);
    const { symbol: _symbol, ...fields } = old;
    assert.deepEqual(loaded.entries(), [fields]);
  }));

Deno.test("Manifest.load() refuses a damaged manifest with ManifestError", () =>
  withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/_manifest`);
    for (
      const text of ["{not json", '{"version":2,"files":[]}', '{"version":1,"files":[{"path":1}]}', "null"]
    ) {
      await Deno.writeTextFile(manifestPath(dir), text);
      await assert.rejects(Manifest.load(dir), ManifestError, text);
    }
  }));

Deno.test("describeParquetFile() hashes the bytes and reads rows and the time range", () =>
  withTempDir(async (dir) => {
    const { rel, bytes, buf } = await writePart(dir, "trades", 7);
    const described = await describeParquetFile(dir, rel);
    assert.equal(described.sha256, createHash("sha256").update(bytes).digest("hex"));
    assert.equal(described.rows, 7);
    assert.equal(described.bytes, bytes.length);
    assert.equal(described.first_local_time, isoMicros(buf.minTime!));
    assert.equal(described.last_local_time, isoMicros(buf.maxTime!));
    assert.deepEqual([described.market, described.table], ["spot", "trades"]);
    const gaps = await writePart(dir, "gaps", 4);
    const g = await describeParquetFile(dir, gaps.rel);
    assert.equal(g.first_local_time, isoMicros(gaps.buf.minTime!));
  }));
