/**
 * The manifest's bound through the real entry point: `main.ts` started on a data directory with months of
 * compacted files holds only the last days' entries in memory (it says so in its log), and the
 * `checksums.json` it leaves at stop still lists every file, the old ones exactly as they were.
 */
import assert from "node:assert/strict";
import { startSimulator } from "../../lib/sim/server.ts";
import { manifestPath } from "../../lib/storage/layout.ts";
import { isoMicros, Manifest, type ManifestEntry } from "../../lib/storage/manifest.ts";
import { startMain } from "../_main_process.ts";
import { writeUsdmProcessConfig } from "./_harness.ts";

/** A compacted hour file's entry (the file itself is not needed: nothing reads a settled day). */
function hourEntry(dayMs: number, table: "trades" | "gaps", hour: number): ManifestEntry {
  const date = new Date(dayMs).toISOString().slice(0, 10);
  const us = (dayMs + hour * 3_600_000) * 1000;
  return {
    path: `usdm/${table}/date=${date}/hour-${String(hour).padStart(2, "0")}-${us}-0a1b2c3d.parquet`,
    sha256: String(hour).padStart(64, "0"),
    rows: 100 + hour,
    bytes: 5000 + hour,
    first_local_time: isoMicros(us),
    last_local_time: isoMicros(us + 3_599_000_000),
    market: "usdm",
    table,
  };
}

Deno.test("manifest (main.ts process): settled days stay in checksums.json only; the file lists every file", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "manifest-seal-" });
  const today = Math.floor(Date.now() / 86_400_000) * 86_400_000;
  // 40 days of two tables' hours, ending 3 days ago: the last 8 of them are within the 10 days kept.
  const old: ManifestEntry[] = [];
  for (let d = 43; d >= 3; d--) {
    for (const table of ["trades", "gaps"] as const) {
      for (let h = 0; h < 24; h++) old.push(hourEntry(today - d * 86_400_000, table, h));
    }
  }
  const before = Manifest.of(dataDir, old);
  await before.save();

  const sim = await startSimulator({ symbols: ["BTCUSDT"], seed: 5, tickMs: 20 });
  const configPath = await writeUsdmProcessConfig(dataDir, sim);
  const main = startMain([configPath]);
  try {
    const line = await main.waitForLog(/manifest mirrored held=(\d+) sealed=(\d+)/, 60_000);
    // Days 3..10 ago are held (8 days, 2 tables, 24 hours); the 33 days before are sealed.
    assert.deepEqual([Number(line[1]), Number(line[2])], [8 * 48, 33 * 48]);
    await main.waitForLog(/flushed reason="interval"/, 30_000, main.count(/flushed reason="interval"/) + 2);
    assert.equal((await main.stop("SIGTERM")).code, 0, main.tail());
    const after = await Manifest.load(dataDir);
    const listed = new Map(after.entries().map((e) => [e.path, e]));
    for (const e of old) assert.deepEqual(listed.get(e.path), e, e.path);
    const recorded = after.entries().filter((e) => !old.some((o) => o.path === e.path));
    assert.ok(
      recorded.length > 0 && recorded.every((e) => e.market === "usdm"),
      "this run's files are listed too",
    );
    const text = await Deno.readTextFile(manifestPath(dataDir));
    assert.equal(
      text,
      JSON.stringify({ version: 1, files: after.entries() }, null, 1) + "\n",
      "sorted, as one stringify",
    );
  } finally {
    if (main.running) await main.stop("SIGKILL");
    await sim.close();
    await Deno.remove(dataDir, { recursive: true });
    await Deno.remove(configPath).catch(() => {});
  }
});
