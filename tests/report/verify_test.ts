import assert from "node:assert/strict";
import { join } from "node:path";
import { openLedger } from "../../lib/ledger/open.ts";
import { defaultLedgerPath, findParquetFiles, verifyDataDir } from "../../lib/report/verify.ts";
import { Manifest } from "../../lib/storage/manifest.ts";
import { D, gapRow, M } from "../ledger/_sample_ledger.ts";
import { writeDataDir } from "./_data_dir.ts";

async function withDataDir(fn: (dir: string, paths: string[]) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir, await writeDataDir(dir));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const noEnv = { get: () => undefined };

Deno.test("verifyDataDir() passes a data dir written by the table store and sums its gap tables", async () => {
  await withDataDir(async (dir, paths) => {
    assert.equal(paths.length, 5);
    assert.deepEqual(await findParquetFiles(dir), [...paths].sort());
    const report = await verifyDataDir(dir);
    assert.deepEqual(report.problems, []);
    assert.equal(report.listed, 5);
    assert.equal(report.found, 5);
    assert.equal(report.checked, 5);
    assert.equal(report.gapSource, "parquet");
    assert.equal(report.gaps.count, 2);
    assert.deepEqual(report.gaps.byKind.map((k) => [k.kind, k.seconds]), [["disconnect", 120], [
      "stale",
      60,
    ]]);
  });
});

Deno.test("verifyDataDir() reads gaps from the ledger when there is one", async () => {
  await withDataDir(async (dir) => {
    const ledger = await openLedger(defaultLedgerPath(dir), noEnv);
    await ledger.addFiles((await Manifest.load(dir)).entries());
    await ledger.addGap("usdm", gapRow("ETHUSDT", "depth@100ms", "sequence", D, D + 5 * M));
    ledger.close();
    const report = await verifyDataDir(dir);
    assert.equal(report.gapSource, "ledger");
    assert.deepEqual(report.gaps.byStream.map((s) => [s.market, s.symbol, s.stream, s.seconds]), [
      ["usdm", "ETHUSDT", "depth@100ms", 300],
    ]);
    // The ledger's folder is not a partition.
    assert.deepEqual(report.problems, []);
  });
});

Deno.test("verifyDataDir() flags a consistent file in the wrong date partition, and only that file", async () => {
  await withDataDir(async (dir, paths) => {
    const from = paths.find((p) => p.includes("/trades/") && p.includes("/part-01-"))!;
    const to = from.replace("date=2024-01-02", "date=2024-01-03");
    await Deno.mkdir(join(dir, to, ".."), { recursive: true });
    await Deno.rename(join(dir, from), join(dir, to));
    const manifest = await Manifest.load(dir);
    manifest.add({ ...manifest.get(from)!, path: to });
    manifest.remove(from);
    await manifest.save();
    const report = await verifyDataDir(dir);
    assert.deepEqual(report.problems.map((p) => [p.kind, p.path]), [["partition", to]]);
    assert.match(report.problems[0]!.detail, /outside date=2024-01-03/);
  });
});

Deno.test("verifyDataDir() keeps checking the other files after one fails to decode", async () => {
  await withDataDir(async (dir, paths) => {
    const victim = paths[0]!;
    const bytes = await Deno.readFile(join(dir, victim));
    // Truncating the footer makes the file undecodable.
    await Deno.writeFile(join(dir, victim), bytes.subarray(0, bytes.length - 12));
    const report = await verifyDataDir(dir);
    assert.deepEqual(report.problems.map((p) => [p.kind, p.path]), [
      ["sha256", victim],
      ["bytes", victim],
      ["unreadable", victim],
    ]);
    assert.equal(report.checked, 5);
  });
});

Deno.test("verifyDataDir() throws for a missing directory", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.remove(dir);
  await assert.rejects(verifyDataDir(dir), Deno.errors.NotFound);
});

Deno.test("verifyDataDir() takes gap rows only from gap files that verified clean", async () => {
  await withDataDir(async (dir, paths) => {
    const gapFile = paths.find((p) => p.startsWith("spot/gaps/") && p.includes("/part-01-"))!;
    const manifest = await Manifest.load(dir);
    manifest.add({ ...manifest.get(gapFile)!, sha256: "00".repeat(32) });
    await manifest.save();
    const report = await verifyDataDir(dir);
    assert.deepEqual(report.problems.map((p) => [p.kind, p.path]), [["sha256", gapFile]]);
    assert.deepEqual(report.gaps.byKind.map((k) => k.kind), ["disconnect"]);
  });
});

Deno.test("verifyDataDir() lists files from the ledger: a checksums.json mirror minutes behind is no problem", async () => {
  await withDataDir(async (dir, paths) => {
    const manifest = await Manifest.load(dir);
    const ledger = await openLedger(defaultLedgerPath(dir), noEnv);
    await ledger.addFiles(manifest.entries().filter((e) => e.path !== paths[1]));
    ledger.close();
    // The mirror lacks the newest file; the ledger (written at every commit) lacks another one.
    manifest.remove(paths[0]!);
    await manifest.save();
    const report = await verifyDataDir(dir);
    assert.deepEqual(report.problems.map((p) => [p.kind, p.path]), [["unlisted", paths[1]]]);
    assert.equal(report.listed, 4);
    assert.equal(report.checked, 4);
  });
});
