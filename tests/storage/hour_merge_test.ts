import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import * as arrow from "apache-arrow";
import * as pq from "parquet-wasm";
import { compareSymbols, encodeChunk } from "../../lib/storage/chunk_encoder.ts";
import { ColumnBuffer } from "../../lib/storage/column_buffer.ts";
import { toArrowTable } from "../../lib/storage/raw_arrow.ts";
import { mergeParquetFiles } from "../../lib/storage/hour_merge.ts";
import { type MergeSource, MergeSourceError } from "../../lib/storage/merge_source.ts";
import { concatBytes, ParquetAssembler } from "../../lib/storage/parquet_assembler.ts";
import { decodeParquet, encodeParquet, readParquet } from "../../lib/storage/parquet_file.ts";
import { footerOf, memorySource, rowGroupsOf } from "../../lib/storage/parquet_footer.ts";
import { type PlainRow, toRows } from "../../lib/storage/read_rows.ts";
import type { Row } from "../../lib/storage/tables.ts";
import { withTempDir } from "../temp_dir.ts";

const T0 = 1_767_607_200_000_000;

function trade(symbol: string, i: number): Row<"trades"> {
  return {
    symbol,
    exchange_time: i % 4 === 0 ? null : T0 + i,
    trade_time: T0 + i,
    local_time: T0 + 10 * i,
    agg_trade_id: i,
    first_trade_id: i,
    last_trade_id: i + 1,
    price: 100 + i / 8,
    quantity: i / 1000,
    is_buyer_maker: i % 3 === 0,
    source: i % 5 === 0 ? "rest" : "ws",
  };
}

/** Writes `rows` as a file of the current layout (sorted, row groups cut at symbols) and returns its source. */
async function writeSource(dir: string, name: string, rows: Row<"trades">[]): Promise<MergeSource> {
  const b = new ColumnBuffer("trades");
  for (const r of rows) b.append(r);
  const bytes = (await encodeChunk(b.detach(), { minBytes: 2000, maxBytes: 1 << 20 })).segment;
  return save(dir, name, bytes, rows.length);
}

/** Writes each of `stretches` sorted by symbol, one after the other in one file (as a flush stitches chunks). */
async function writeStretches(dir: string, name: string, stretches: Row<"trades">[][]): Promise<MergeSource> {
  const asm = new ParquetAssembler();
  const pieces = [asm.head()];
  for (const rows of stretches) {
    const b = new ColumnBuffer("trades");
    for (const r of rows) b.append(r);
    const { segment } = await encodeChunk(b.detach(), { minBytes: 2000, maxBytes: 1 << 20 });
    pieces.push(...await asm.add(memorySource(segment)));
  }
  pieces.push(asm.finish());
  return save(dir, name, concatBytes(pieces), stretches.reduce((n, r) => n + r.length, 0));
}

async function save(dir: string, name: string, bytes: Uint8Array, rows: number): Promise<MergeSource> {
  const path = join(dir, name);
  await Deno.writeFile(path, bytes);
  return { path, bytes: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex"), rows };
}

/** What a merge must give: by symbol, each symbol's rows in the order of the sources. */
function merged(rows: Row<"trades">[]): number[] {
  return rows.map((r, i) => ({ r, i })).sort((x, y) => compareSymbols(x.r.symbol, y.r.symbol) || x.i - y.i)
    .map((x) => x.r.agg_trade_id);
}

const SYMBOLS = Array.from({ length: 40 }, (_, k) => `S${String(k).padStart(2, "0")}USDT`);

Deno.test("mergeParquetFiles() merges by symbol in windows, each symbol's rows in the sources' order", () =>
  withTempDir(async (dir) => {
    let id = 0;
    const batches = [0, 1, 2].map(() =>
      Array.from({ length: 900 }, () => {
        const n = id++;
        // A busy symbol (a third of the rows) and a long tail.
        return trade(n % 3 === 0 ? "BTCUSDT" : SYMBOLS[(n * 7) % SYMBOLS.length]!, n);
      })
    );
    const sources = await Promise.all(batches.map((rows, k) => writeSource(dir, `p${k}.parquet`, rows)));
    const target = join(dir, "out/hour.parquet");
    // A window of ~5 KiB: the merge works through dozens of windows, never the whole hour at once.
    const result = await mergeParquetFiles({
      table: "trades",
      sources,
      target,
      windowBytes: 5000,
      sizes: { minBytes: 8000, maxBytes: 20_000 },
    });
    const bytes = await Deno.readFile(target);
    assert.equal(result.sha256, createHash("sha256").update(bytes).digest("hex"));
    assert.equal(result.bytes, bytes.length);
    assert.equal(result.rows, 2700);
    assert.equal(result.minTime, T0);
    assert.equal(result.maxTime, T0 + 10 * 2699);
    const rows = toRows<"trades">(decodeParquet(bytes));
    assert.deepEqual(rows.map((r) => r.agg_trade_id), merged(batches.flat()));
    assert.deepEqual(
      rows.slice(0, 3),
      toRows<"trades">(decodeParquet(await Deno.readFile(sources[0]!.path))).slice(0, 3),
    );
    // Row groups follow the symbols, in order: BTCUSDT (too big for one group) in groups of its own, each quiet
    // symbol in exactly one group.
    const text = new TextDecoder();
    const groups = rowGroupsOf(await footerOf(bytes)).map((
      g,
    ) => [text.decode(g.keyStats.min!), text.decode(g.keyStats.max!)]);
    assert.equal(result.rowGroups, groups.length);
    for (let k = 1; k < groups.length; k++) {
      assert.ok(compareSymbols(groups[k - 1]![1]!, groups[k]![0]!) <= 0, `${groups}`);
    }
    const holding = (s: string) =>
      groups.filter(([lo, hi]) => compareSymbols(lo!, s) <= 0 && compareSymbols(s, hi!) <= 0);
    assert.ok(holding("BTCUSDT").length > 1);
    assert.ok(holding("BTCUSDT").every(([lo, hi]) => lo === "BTCUSDT" && hi === "BTCUSDT"), `${groups}`);
    for (const s of SYMBOLS) assert.equal(holding(s).length, 1, `${s} in ${groups}`);
    const quiet = groups.filter(([lo]) => lo !== "BTCUSDT").length;
    assert.ok(quiet < SYMBOLS.length / 2, `quiet symbols share groups: ${groups}`);
    assert.deepEqual([...Deno.readDirSync(join(dir, "out"))].map((e) => e.name), ["hour.parquet"]);
  }));

Deno.test("mergeParquetFiles() awaits its turn before each window, writing nothing more while it waits", () =>
  withTempDir(async (dir) => {
    const rows = Array.from({ length: 1200 }, (_, i) => trade(SYMBOLS[i % SYMBOLS.length]!, i));
    const sources = [await writeSource(dir, "a.parquet", rows)];
    const target = join(dir, "hour.parquet");
    let turns = 0;
    let release!: () => void;
    const held = new Promise<void>((r) => release = r);
    // The third turn is held, as the worker holds a merge while a flush writes.
    const turn = () => ++turns === 3 ? held : Promise.resolve();
    let done = false;
    const merging = mergeParquetFiles({ table: "trades", sources, target, windowBytes: 3000 }, { turn })
      .then((r) => (done = true, r));
    const temp = async () =>
      (await Array.fromAsync(Deno.readDir(dir))).find((e) => e.name.startsWith("hour"));
    while (turns < 3) await new Promise((r) => setTimeout(r, 5));
    const size = async () => (await Deno.stat(join(dir, (await temp())!.name))).size;
    const before = await size();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(turns, 3);
    assert.equal(done, false);
    assert.equal(await size(), before, "no window merged while the turn is held");
    release();
    const result = await merging;
    assert.equal(result.rows, 1200);
    assert.ok(turns > 3, `a turn per window: ${turns}`);
    assert.deepEqual(toRows<"trades">(await readParquet(target)).map((r) => r.agg_trade_id), merged(rows));
  }));

/** Writes each half of `rows` as a source and merges them into `{dir}/hour.parquet` in windows of `windowBytes`. */
async function mergeHalves(dir: string, rows: Row<"trades">[], windowBytes: number) {
  const half = rows.length / 2;
  const sources = [
    await writeSource(dir, "a.parquet", rows.slice(0, half)),
    await writeSource(dir, "b.parquet", rows.slice(half)),
  ];
  const target = join(dir, "hour.parquet");
  const result = await mergeParquetFiles({
    table: "trades",
    sources,
    target,
    windowBytes,
    sizes: { minBytes: 1000, maxBytes: 40_000 },
  });
  return { target, result };
}

Deno.test("mergeParquetFiles() streams a symbol bigger than the window in groups of the maximum size", () =>
  withTempDir(async (dir) => {
    const rows = Array.from({ length: 3000 }, (_, i) => trade(i % 10 === 0 ? "ETHUSDT" : "BTCUSDT", i));
    const { target, result } = await mergeHalves(dir, rows, 1000);
    const back = await readParquet(target);
    assert.deepEqual(toRows<"trades">(back).map((r) => r.agg_trade_id), merged(rows));
    const groups = rowGroupsOf(await footerOf(await Deno.readFile(target)));
    assert.ok(groups.length > 3, `BTCUSDT is split: ${groups.length} groups`);
    assert.ok(groups.every((g) => g.rows * 70 <= 40_000 * 1.1), "no group above the maximum");
    assert.equal(result.rows, 3000);
  }));

Deno.test("mergeParquetFiles() keeps the quiet symbols sorted before a busy one bigger than the window", () =>
  withTempDir(async (dir) => {
    // As in a whole USD-M market's hour: 1000BONKUSDC, quiet (10 rows, less than a window), sorts before
    // 1000BONKUSDT, busy; each is a row group of its own.
    const rows = Array.from(
      { length: 3000 },
      (_, i) => trade(i % 300 === 0 ? "1000BONKUSDC" : "1000BONKUSDT", i),
    );
    const { target, result } = await mergeHalves(dir, rows, 4000);
    assert.equal(result.rows, 3000);
    assert.deepEqual(toRows<"trades">(await readParquet(target)).map((r) => r.agg_trade_id), merged(rows));
  }));

Deno.test("mergeParquetFiles() reads a 0.3 file (dictionary-typed symbol, one symbol) beside a current one", () =>
  withTempDir(async (dir) => {
    const oldRows = Array.from({ length: 50 }, (_, i) => trade("ETHUSDT", i));
    const b = new ColumnBuffer("trades");
    for (const r of oldRows) b.append(r);
    const current = toArrowTable(b);
    const columns = Object.fromEntries(current.schema.fields.map((f) => [f.name, current.getChild(f.name)!]));
    columns.symbol = arrow.vectorFromArray(
      oldRows.map((r) => r.symbol),
      new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()),
    );
    const legacy = await save(dir, "old.parquet", encodeParquet(new arrow.Table(columns)), 50);
    const newRows = Array.from({ length: 30 }, (_, i) => trade(i % 2 ? "ETHUSDT" : "ADAUSDT", 100 + i));
    const sources = [legacy, await writeSource(dir, "new.parquet", newRows)];
    const target = join(dir, "hour.parquet");
    await mergeParquetFiles({ table: "trades", sources, target });
    const rows: PlainRow<"trades">[] = toRows(await readParquet(target));
    assert.deepEqual(rows.map((r) => r.agg_trade_id), merged([...oldRows, ...newRows]));
    assert.equal(String((await readParquet(target)).schema.fields[0]!.type), "LargeUtf8");
  }));

Deno.test("mergeParquetFiles() refuses a source that differs from its entry and leaves nothing behind", () =>
  withTempDir(async (dir) => {
    const a = await writeSource(dir, "a.parquet", [trade("BTCUSDT", 1)]);
    const b = await writeSource(dir, "b.parquet", [trade("BTCUSDT", 2)]);
    const target = join(dir, "out.parquet");
    for (const bad of [{ ...b, sha256: "0".repeat(64) }, { ...b, rows: 2 }]) {
      const err = await mergeParquetFiles({ table: "trades", sources: [a, bad], target }).then(
        () => null,
        (e) => e,
      );
      assert.ok(err instanceof MergeSourceError, String(err));
      assert.ok(err.message.startsWith(b.path), err.message);
    }
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["a.parquet", "b.parquet"]);
  }));

Deno.test("mergeParquetFiles() merges files without statistics, finding their symbols in their rows", () =>
  withTempDir(async (dir) => {
    const b = new ColumnBuffer("trades");
    const bare = Array.from({ length: 40 }, (_, i) => trade(SYMBOLS[i % 4]!, i)).sort((x, y) =>
      compareSymbols(x.symbol, y.symbol)
    );
    for (const r of bare) b.append(r);
    const props = new pq.WriterPropertiesBuilder().setStatisticsEnabled(pq.EnabledStatistics.None).build();
    const noStats = pq.writeParquet(
      pq.Table.fromIPCStream(arrow.tableToIPC(toArrowTable(b), "stream")),
      props,
    );
    assert.equal(rowGroupsOf(await footerOf(noStats))[0]!.keyStats.min, undefined);
    const current = Array.from({ length: 40 }, (_, i) => trade(i % 2 ? "BTCUSDT" : SYMBOLS[2]!, 100 + i));
    const sources = [
      await save(dir, "bare.parquet", noStats, 40),
      await writeSource(dir, "new.parquet", current),
    ];
    const target = join(dir, "hour.parquet");
    const result = await mergeParquetFiles({ table: "trades", sources, target, windowBytes: 500 });
    assert.equal(result.rows, 80);
    assert.deepEqual(
      toRows<"trades">(await readParquet(target)).map((r) => r.agg_trade_id),
      merged([...bare, ...current]),
    );
  }));

/** The names in `dir` and below (temp files included). */
function namesIn(dir: string): string[] {
  return [...Deno.readDirSync(dir)].flatMap((e) =>
    e.isDirectory ? namesIn(join(dir, e.name)).map((n) => `${e.name}/${n}`) : [e.name]
  ).sort();
}

Deno.test("mergeParquetFiles() merges more sorted stretches than one pass takes in passes, then removes them", () =>
  withTempDir(async (dir) => {
    // 5 files of 3 stretches each (as a flush writes its encoded chunks): 15 runs, 3 at most per pass, so
    // batches that end inside a file are merged into temp files, those again, then into the target.
    let id = 0;
    const files = [0, 1, 2, 3, 4].map(() =>
      [0, 1, 2].map(() =>
        Array.from({ length: 120 }, () => {
          const n = id++;
          return trade(n % 4 === 0 ? "BTCUSDT" : SYMBOLS[(n * 11) % SYMBOLS.length]!, n);
        })
      )
    );
    const sources = [];
    for (const [k, stretches] of files.entries()) {
      sources.push(await writeStretches(dir, `p${k}.parquet`, stretches));
    }
    const groups = rowGroupsOf(await footerOf(await Deno.readFile(sources[0]!.path)));
    const starts = groups.filter((g, i) =>
      i > 0 && compareSymbols(
          new TextDecoder().decode(g.keyStats.min!),
          new TextDecoder().decode(groups[i - 1]!.keyStats.max!),
        ) < 0
    );
    assert.equal(starts.length, 2, "each file holds 3 sorted stretches");
    const target = join(dir, "out/hour.parquet");
    const all = files.flat(2);
    for (const [maxRuns, passes] of [[3, 3], [1000, 1]]) {
      const result = await mergeParquetFiles({
        table: "trades",
        sources,
        target,
        windowBytes: 3000,
        maxRuns,
      });
      const bytes = await Deno.readFile(target);
      assert.equal(result.sha256, createHash("sha256").update(bytes).digest("hex"));
      assert.equal(result.rows, all.length);
      assert.equal(result.passes, passes, `15 runs, ${maxRuns} a pass`);
      assert.equal(result.minTime, T0);
      assert.equal(result.maxTime, T0 + 10 * (all.length - 1));
      const rows = toRows<"trades">(decodeParquet(bytes));
      assert.deepEqual(rows.map((r) => r.agg_trade_id), merged(all), `maxRuns ${maxRuns}`);
      assert.deepEqual(
        rows,
        toRows<"trades">(decodeParquet(bytes)).sort((a, b) => compareSymbols(a.symbol, b.symbol)),
      );
      assert.deepEqual(namesIn(dir), [
        "out/hour.parquet",
        "p0.parquet",
        "p1.parquet",
        "p2.parquet",
        "p3.parquet",
        "p4.parquet",
      ]);
    }
  }));

Deno.test("mergeParquetFiles() that fails in a later pass removes its temp files and writes nothing", () =>
  withTempDir(async (dir) => {
    const sources = [];
    for (const k of [0, 1, 2, 3]) {
      const rows = Array.from(
        { length: 200 },
        (_, i) => trade(SYMBOLS[(i * 7 + k) % SYMBOLS.length]!, k * 1000 + i),
      );
      sources.push(await writeStretches(dir, `p${k}.parquet`, [rows.slice(0, 100), rows.slice(100)]));
    }
    // The last file's last column chunk is damaged after its checksum was taken: it reads only once the first
    // batches are written to temp files.
    const last = sources[3]!;
    const bytes = await Deno.readFile(last.path);
    const footer = rowGroupsOf(await footerOf(bytes));
    const g = footer.at(-1)!;
    bytes.fill(0xff, g.end - 40, g.end);
    Object.assign(last, await save(dir, "p3.parquet", bytes, last.rows));
    const target = join(dir, "hour.parquet");
    const err = await mergeParquetFiles({ table: "trades", sources, target, windowBytes: 2000, maxRuns: 2 })
      .then(
        () => null,
        (e) => e,
      );
    assert.ok(err instanceof Error, String(err));
    assert.deepEqual(namesIn(dir), ["p0.parquet", "p1.parquet", "p2.parquet", "p3.parquet"]);
  }));
