import assert from "node:assert/strict";
import { join } from "node:path";
import { TableStore } from "../../lib/pipeline/table_store.ts";
import {
  compactFinishedHours,
  CompactionError,
  DEFAULT_COMPACT_GRACE_MS,
  type FileLedger,
  planCompaction,
} from "../../lib/storage/compact.ts";
import { compareSymbols } from "../../lib/storage/chunk_encoder.ts";
import { fileStartUs } from "../../lib/storage/layout.ts";
import { Manifest, sha256Hex } from "../../lib/storage/manifest.ts";
import { readParquet } from "../../lib/storage/parquet_file.ts";
import { pathEntry } from "./_path_entry.ts";

const HOUR_US = 3_600_000_000;
const H10 = Date.UTC(2026, 0, 5, 10) * 1000;
const GRACE_US = DEFAULT_COMPACT_GRACE_MS * 1000;
/** A moment when hour 10 is finished (11:00 + grace) but hour 11 is not. */
const NOW_MS = (H10 + HOUR_US + GRACE_US) / 1000 + 1;

const DIR = "spot/trades/date=2026-01-05";
const part = (us: number, seq: number) =>
  `${DIR}/part-${String(new Date(us / 1000).getUTCHours()).padStart(2, "0")}-${us}-${
    String(seq).padStart(6, "0")
  }.parquet`;

Deno.test("planCompaction() groups finished hours with several files, in time order", () => {
  const a = part(H10 + 5_000_000, 7);
  const b = part(H10 + 1_000_000, 9);
  const c = part(H10 + 1_000_000, 2); // same start as b: the seq decides
  const lone = part(H10 + HOUR_US - 1, 0); // the hour's last microsecond
  const klines = a.replace("/trades/", "/klines/"); // klines have one file: nothing to merge
  const h11a = part(H10 + HOUR_US + 1, 0);
  const h11b = part(H10 + HOUR_US + 2, 1);
  const foreign = `${DIR}/imported.parquet`;
  // Files of the 0.3 layout are the migration's business.
  const legacy = [a, b].map((p) => p.replace("/date=2026-01-05/", "/date=2026-01-05/symbol=BTCUSDT/"));
  const entries = [a, b, c, lone, klines, h11a, h11b, foreign, ...legacy].map(pathEntry);

  const groups = planCompaction(entries, NOW_MS * 1000, GRACE_US);
  assert.equal(groups.length, 1);
  assert.equal(groups[0]!.dir, DIR);
  assert.equal(groups[0]!.hourStartUs, H10);
  assert.deepEqual(groups[0]!.sources.map((s) => s.path), [c, b, a, lone]);

  // One microsecond before hour 10 + grace has passed, nothing is due; hour 11 becomes due an hour later.
  assert.deepEqual(planCompaction(entries, H10 + HOUR_US + GRACE_US - 1, GRACE_US), []);
  const later = planCompaction(entries, H10 + 2 * HOUR_US + GRACE_US, GRACE_US);
  assert.deepEqual(later.map((g) => [g.hourStartUs, g.sources.length]), [[H10, 4], [H10 + HOUR_US, 2]]);
});

// ---- on-disk tests -------------------------------------------------------------------------------------------

function trade(symbol: string, localUs: number, id: number, source: "ws" | "rest") {
  return {
    symbol,
    exchange_time: id % 3 === 0 ? null : localUs - 900,
    trade_time: localUs - 1000,
    local_time: localUs,
    agg_trade_id: id,
    first_trade_id: id * 10,
    last_trade_id: id * 10 + (id % 4),
    price: 40_000 + id * 0.01,
    quantity: 0.001 * id,
    is_buyer_maker: id % 2 === 0,
    source,
  };
}

function bookSnapshot(localUs: number, i: number) {
  const levels = Array.from({ length: i % 4 }, (_, k) => 100 + k + i / 10);
  return {
    symbol: "BTCUSDT",
    exchange_time: localUs - 5,
    local_time: localUs,
    last_update_id: 1_000 + i,
    bid_prices: levels,
    bid_quantities: levels.map((p) => p / 100),
    ask_prices: levels.map((p) => p + 1),
    ask_quantities: levels,
  };
}

/**
 * Writes, through the real table store, several flushes' worth of parts: BTCUSDT trades (3 parts in hour 10, 1
 * in hour 11), ETHUSDT trades (2 parts in hour 10), BTCUSDT book snapshots (2 parts in hour 10) and 2 parts
 * of hour 12 (not finished at NOW_MS).
 */
async function writeParts(dataDir: string): Promise<Manifest> {
  const manifest = await Manifest.load(dataDir);
  const store = new TableStore(dataDir, { manifest });
  let id = 1;
  const flushes: [number, number][] = [[H10 + 1_000, 4], [H10 + 1_200_000_000, 5], [H10 + 3_000_000_000, 3]];
  for (const [startUs, n] of flushes) {
    for (let i = 0; i < n; i++) {
      const us = startUs + i * 1_000_003;
      store.row("spot", "trades", "BTCUSDT", us, trade("BTCUSDT", us, id, id % 5 === 0 ? "rest" : "ws"));
      store.row("spot", "trades", "ETHUSDT", us + 7, trade("ETHUSDT", us + 7, id, "ws"));
      store.row("spot", "book_snapshots", "BTCUSDT", us + 9, bookSnapshot(us + 9, id));
      id++;
    }
    await store.flush();
  }
  for (const us of [H10 + HOUR_US + 10, H10 + 2 * HOUR_US + 10, H10 + 2 * HOUR_US + 20]) {
    store.row("spot", "trades", "BTCUSDT", us, trade("BTCUSDT", us, id++, "ws"));
    await store.flush();
  }
  return manifest;
}

type Json = Record<string, unknown>;

async function rowsOf(dataDir: string, path: string): Promise<Json[]> {
  const table = await readParquet(join(dataDir, path));
  return table.toArray().map((r) =>
    JSON.parse(JSON.stringify(r.toJSON(), (_k, v) => (typeof v === "bigint" ? `${v}n` : v))) as Json
  );
}

/** The listed files of `dir` whose name puts them in the hour starting at `hourUs`, in name order. */
function filesIn(manifest: Manifest, dir: string, hourUs: number): string[] {
  return manifest.entries().map((e) => e.path).filter((p) => {
    if (!p.startsWith(`${dir}/`)) return false;
    const start = fileStartUs(p.slice(dir.length + 1));
    return start !== null && start >= hourUs && start < hourUs + HOUR_US;
  }).sort();
}

/** The rows of an hour of a partition: its files' rows, concatenated in file-name order. */
async function hourRows(dataDir: string, manifest: Manifest, dir: string, hourUs: number): Promise<Json[]> {
  const rows: Json[] = [];
  for (const path of filesIn(manifest, dir, hourUs)) rows.push(...await rowsOf(dataDir, path));
  return rows;
}

async function parquetFilesOnDisk(dataDir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (rel: string) => {
    for await (const e of Deno.readDir(join(dataDir, rel))) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory && !e.name.startsWith("_")) await walk(child);
      else if (e.isFile && e.name.endsWith(".parquet")) found.push(child);
    }
  };
  await walk("");
  return found.sort();
}

const PENDING = "_manifest/compaction-pending.json";

/** Manifest, disk and checksums agree, and no merge is pending. */
async function assertConsistent(dataDir: string, manifest: Manifest): Promise<void> {
  assert.deepEqual(manifest.entries().map((e) => e.path), await parquetFilesOnDisk(dataDir));
  for (const e of manifest.entries()) {
    const bytes = await Deno.readFile(join(dataDir, e.path));
    assert.equal(e.bytes, bytes.length, e.path);
    assert.equal(e.sha256, await sha256Hex(bytes), e.path);
  }
  const saved = await Manifest.load(dataDir);
  assert.deepEqual(saved.entries(), manifest.entries(), "the saved manifest is the in-memory one");
  await assert.rejects(Deno.stat(join(dataDir, PENDING)), Deno.errors.NotFound);
}

const TRADES = "spot/trades/date=2026-01-05";
const BOOK = "spot/book_snapshots/date=2026-01-05";
const GROUPS = [TRADES, BOOK];

/** Rows as a merge orders them: by symbol, each symbol's rows in the order given. */
function bySymbol(rows: Json[]): Json[] {
  return rows.map((r, i) => ({ r, i }))
    .sort((x, y) => compareSymbols(String(x.r.symbol), String(y.r.symbol)) || x.i - y.i)
    .map((x) => x.r);
}

async function withDataDir(f: (dataDir: string) => Promise<void>): Promise<void> {
  const dataDir = await Deno.makeTempDir({ prefix: "compact_test_" });
  try {
    await f(dataDir);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
}

/** Hour 10's rows of every group, before compaction, in the order a merge gives them. */
async function snapshot(dataDir: string, manifest: Manifest): Promise<Map<string, Json[]>> {
  const out = new Map<string, Json[]>();
  for (const dir of GROUPS) out.set(dir, bySymbol(await hourRows(dataDir, manifest, dir, H10)));
  return out;
}

async function assertCompacted(dataDir: string, manifest: Manifest, expected: Map<string, Json[]>) {
  for (const dir of GROUPS) {
    const files = filesIn(manifest, dir, H10);
    assert.equal(files.length, 1, `${dir} has one file for hour 10: ${files}`);
    assert.match(files[0]!, /\/hour-10-\d{16}-[0-9a-f]{8}\.parquet$/);
    assert.deepEqual(await rowsOf(dataDir, files[0]!), expected.get(dir), dir);
  }
  await assertConsistent(dataDir, manifest);
}

Deno.test("compactFinishedHours() merges each finished hour into one file with the same rows in order", async () => {
  await withDataDir(async (dataDir) => {
    const manifest = await writeParts(dataDir);
    // One file per (market, table) and flush, whatever the symbols.
    assert.deepEqual(GROUPS.map((dir) => filesIn(manifest, dir, H10).length), [3, 3]);
    const before = await snapshot(dataDir, manifest);
    // Merged: BTCUSDT's trades of hour 10 (agg ids 1..12 in the order written), then ETHUSDT's.
    assert.deepEqual(
      before.get(TRADES)!.map((r) => [r.symbol, r.agg_trade_id]),
      ["BTCUSDT", "ETHUSDT"].flatMap((s) => Array.from({ length: 12 }, (_, i) => [s, `${i + 1}n`])),
    );
    const later = [
      ...filesIn(manifest, TRADES, H10 + HOUR_US),
      ...filesIn(manifest, TRADES, H10 + 2 * HOUR_US),
    ];
    assert.equal(later.length, 3);
    const ledgerCalls: string[] = [];
    const ledger: FileLedger = {
      addFiles: (entries) => Promise.resolve(void ledgerCalls.push(`add ${entries.map((e) => e.path)}`)),
      removeFiles: (paths) => Promise.resolve(void ledgerCalls.push(`remove ${paths.join(",")}`)),
    };
    const parts = filesIn(manifest, BOOK, H10);
    // With a ledger (the authority), the manifest's mirror is saved once for the run, not at every merge.
    let saves = 0;
    const save = manifest.save.bind(manifest);
    manifest.save = () => (saves++, save());

    const report = await compactFinishedHours({ manifest, ledger }, NOW_MS);
    assert.equal(saves, 1);
    assert.deepEqual(
      (await Manifest.load(dataDir)).entries(),
      manifest.entries(),
      "the saved mirror is current",
    );
    assert.deepEqual(report.errors, []);
    assert.equal(report.resumed, false);
    assert.deepEqual(report.compacted.map((c) => c.sources.length), [3, 3]);
    await assertCompacted(dataDir, manifest, before);
    const target = manifest.get(filesIn(manifest, TRADES, H10)[0]!)!;
    assert.equal(target.rows, 24);
    assert.equal(target.first_local_time, "2026-01-05T10:00:00.001000Z");
    for (const path of later) {
      assert.ok(manifest.get(path), `${path} (hour 11 alone, hour 12 unfinished) stays`);
    }
    assert.equal(ledgerCalls.length, 4);
    assert.equal(ledgerCalls[0], `add ${filesIn(manifest, BOOK, H10)[0]}`);
    assert.equal(ledgerCalls[1], `remove ${parts.join(",")}`);

    // Nothing is left to do.
    const again = await compactFinishedHours({ manifest }, NOW_MS);
    assert.deepEqual([again.compacted.length, again.errors.length, again.resumed], [0, 0, false]);
  });
});

/** A manifest whose `save` throws once (a crash at that point), or a ledger that throws on one call. */
function crashingManifestSave(manifest: Manifest): void {
  const save = manifest.save.bind(manifest);
  let crashed = false;
  manifest.save = () => {
    if (crashed) return save();
    crashed = true;
    return Promise.reject(new Error("crash before the manifest save"));
  };
}

function crashingLedger(): FileLedger {
  return {
    addFiles: () => Promise.reject(new Error("crash after the manifest save")),
    removeFiles: () => Promise.resolve(),
  };
}

/** What a restart does: load the manifest from disk (the memory of the crashed run is gone). */
function restart(dataDir: string): Promise<Manifest> {
  return Manifest.load(dataDir);
}

Deno.test("compaction converges after a crash before the manifest save (target written, parts listed)", async () => {
  await withDataDir(async (dataDir) => {
    const crashed = await writeParts(dataDir);
    const before = await snapshot(dataDir, crashed);
    crashingManifestSave(crashed);
    const first = await compactFinishedHours({ manifest: crashed }, NOW_MS);
    assert.deepEqual([first.errors.length, first.compacted.length], [1, 0], "the run stops at the crash");
    const pending = JSON.parse(await Deno.readTextFile(join(dataDir, PENDING)));

    const manifest = await restart(dataDir);
    // The merged file is on disk but not listed; its parts still are...
    assert.equal(manifest.get(pending.target.path), undefined, "the save never listed the target");
    assert.ok(pending.sources.every((s: string) => manifest.get(s)), "its parts are listed");
    // ...until the next run finishes the merge from the intent.
    const report = await compactFinishedHours({ manifest }, NOW_MS);
    assert.equal(report.resumed, true);
    assert.deepEqual(report.errors, []);
    await assertCompacted(dataDir, manifest, before);
  });
});

Deno.test("compaction converges after a crash between the manifest save and deleting the parts", async () => {
  await withDataDir(async (dataDir) => {
    const crashed = await writeParts(dataDir);
    const before = await snapshot(dataDir, crashed);
    const first = await compactFinishedHours(
      { manifest: crashed, ledger: crashingLedger(), saveManifest: true },
      NOW_MS,
    );
    assert.deepEqual([first.errors.length, first.compacted.length], [1, 0], "the run stops at the crash");
    const pending = JSON.parse(await Deno.readTextFile(join(dataDir, PENDING)));
    // One part of the interrupted group was deleted before the crash, the others survive.
    await Deno.remove(join(dataDir, pending.sources[0]));

    const manifest = await restart(dataDir);
    assert.ok(manifest.get(pending.target.path), "the saved manifest lists the merged file");
    assert.ok(pending.sources.every((s: string) => !manifest.get(s)), "and no longer its parts");
    const report = await compactFinishedHours({ manifest }, NOW_MS);
    assert.equal(report.resumed, true);
    assert.deepEqual(report.errors, []);
    await assertCompacted(dataDir, manifest, before);
  });
});

Deno.test("compaction converges after a crash before the merged file landed", async () => {
  await withDataDir(async (dataDir) => {
    const crashed = await writeParts(dataDir);
    const before = await snapshot(dataDir, crashed);
    crashingManifestSave(crashed);
    await compactFinishedHours({ manifest: crashed }, NOW_MS);
    const pending = JSON.parse(await Deno.readTextFile(join(dataDir, PENDING)));
    // The intent was written but the merged file never renamed into place.
    await Deno.remove(join(dataDir, pending.target.path));

    const manifest = await restart(dataDir);
    const report = await compactFinishedHours({ manifest }, NOW_MS);
    assert.equal(report.resumed, false, "the intent was dropped, not finished");
    assert.equal(report.compacted.length, 2, "and every group merged afresh");
    await assertCompacted(dataDir, manifest, before);
  });
});

Deno.test("compaction converges after a crash between the merge and recording the merged file's checksum", async () => {
  await withDataDir(async (dataDir) => {
    const crashed = await writeParts(dataDir);
    const before = await snapshot(dataDir, crashed);
    crashingManifestSave(crashed);
    await compactFinishedHours({ manifest: crashed }, NOW_MS);
    // The state of a crash one step earlier: the merged file is in place, the intent does not know it yet.
    const pending = JSON.parse(await Deno.readTextFile(join(dataDir, PENDING)));
    await Deno.writeTextFile(
      join(dataDir, PENDING),
      JSON.stringify({ ...pending, target: { ...pending.target, sha256: "" } }),
    );

    const manifest = await restart(dataDir);
    const report = await compactFinishedHours({ manifest }, NOW_MS);
    assert.equal(report.resumed, false, "the unfinished merge was dropped");
    assert.equal(report.compacted.length, 2, "and merged afresh (to the same name: the same sources)");
    await assertCompacted(dataDir, manifest, before);
  });
});

Deno.test("compaction merges a late part into an already compacted hour", async () => {
  await withDataDir(async (dataDir) => {
    const manifest = await writeParts(dataDir);
    await compactFinishedHours({ manifest }, NOW_MS);
    const compacted = filesIn(manifest, TRADES, H10)[0]!;
    const merged = await rowsOf(dataDir, compacted);
    // A replay after a crash writes a late part into hour 10.
    const store = new TableStore(dataDir, { manifest });
    const lateUs = H10 + 3_500_000_000;
    store.row("spot", "trades", "BTCUSDT", lateUs, trade("BTCUSDT", lateUs, 999, "rest"));
    await store.flush();
    assert.equal(filesIn(manifest, TRADES, H10).length, 2);
    const late = await rowsOf(dataDir, filesIn(manifest, TRADES, H10).find((p) => p.includes("/part-"))!);

    const report = await compactFinishedHours({ manifest }, NOW_MS);
    assert.deepEqual(report.compacted.map((c) => c.sources), [[compacted, report.compacted[0]!.sources[1]]]);
    const files = filesIn(manifest, TRADES, H10);
    assert.equal(files.length, 1);
    assert.notEqual(files[0], compacted, "the new merge has a new name");
    // The late BTCUSDT trade joins BTCUSDT's rows, after them.
    assert.deepEqual(await rowsOf(dataDir, files[0]!), bySymbol([...merged, ...late]));
    assert.equal((await rowsOf(dataDir, files[0]!))[12]!.agg_trade_id, "999n");
    await assertConsistent(dataDir, manifest);
  });
});

Deno.test("compaction refuses a part that does not match its manifest entry", async () => {
  await withDataDir(async (dataDir) => {
    const manifest = await writeParts(dataDir);
    const parts = filesIn(manifest, TRADES, H10);
    const bad = manifest.get(parts[1]!)!;
    manifest.add({ ...bad, sha256: "f".repeat(64) });

    const report = await compactFinishedHours({ manifest }, NOW_MS);
    assert.equal(report.compacted.length, 1);
    assert.equal(report.errors.length, 1);
    assert.ok(report.errors[0] instanceof CompactionError);
    assert.match(report.errors[0]!.message, new RegExp(`${parts[1]} does not match its manifest checksum`));
    assert.deepEqual(filesIn(manifest, TRADES, H10), parts, "the trades parts are left as they were");
    for (const p of parts) await Deno.stat(join(dataDir, p));
    await assert.rejects(Deno.stat(join(dataDir, PENDING)), Deno.errors.NotFound, "no intent is left");
  });
});
