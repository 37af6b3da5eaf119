/**
 * The manifest's bound through the real entry point: `main.ts` started on a data directory with months of
 * compacted files holds only the last days' entries in memory (it says so in its log), and the
 * `checksums.json` it leaves at stop still lists every file, the old ones exactly as they were. With a remote
 * and no cleanup, a settled day is sealed only once the cloud sync has confirmed each of its files uploaded, and
 * as soon as its start-up run has found them so.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { remoteRoot } from "../../lib/cloud/rclone.ts";
import { SyncState } from "../../lib/cloud/sync_state.ts";
import { openLedger } from "../../lib/ledger/open.ts";
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

/** 40 days of two tables' compacted hours, ending 3 days ago. */
function monthsOfHours(today: number): ManifestEntry[] {
  const out: ManifestEntry[] = [];
  for (let d = 43; d >= 3; d--) {
    for (const table of ["trades", "gaps"] as const) {
      for (let h = 0; h < 24; h++) out.push(hourEntry(today - d * 86_400_000, table, h));
    }
  }
  return out;
}

Deno.test("manifest (main.ts process): settled days stay in checksums.json only; the file lists every file", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "manifest-seal-" });
  const today = Math.floor(Date.now() / 86_400_000) * 86_400_000;
  // The last 8 days are within the 10 days kept.
  const old = monthsOfHours(today);
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

Deno.test("manifest (main.ts process, remote, cleanup_days 0): a settled day is sealed once its files are confirmed uploaded", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "manifest-seal-remote-" });
  const remoteDir = await Deno.makeTempDir({ prefix: "manifest-seal-remote-dest-" });
  const root = remoteRoot(":local:", remoteDir);
  const today = Math.floor(Date.now() / 86_400_000) * 86_400_000;
  const dayDir = (daysAgo: number) =>
    `usdm/trades/date=${new Date(today - daysAgo * 86_400_000).toISOString().slice(0, 10)}`;
  // Settled directories uploaded by an earlier run (their files gone locally: nothing may read them), one whose
  // files are here and not uploaded yet, and one whose upload cannot succeed (its files are missing).
  const pending = dayDir(21);
  const failing = dayDir(20);
  const inDir = (e: ManifestEntry, dir: string) => e.path.startsWith(`${dir}/`);
  const old = await Promise.all(
    monthsOfHours(today).map(async (e) => {
      if (!inDir(e, pending)) return e;
      const bytes = new TextEncoder().encode(`not parquet, but bytes to upload: ${e.path}`);
      await Deno.mkdir(dirname(join(dataDir, e.path)), { recursive: true });
      await Deno.writeFile(join(dataDir, e.path), bytes);
      return { ...e, bytes: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") };
    }),
  );
  await Manifest.of(dataDir, old).save();
  const ledger = await openLedger(join(dataDir, "_state/ledger.sqlite"), { get: () => undefined });
  const state = new SyncState(ledger.kv);
  for (const e of old.filter((e) => !inDir(e, pending) && !inDir(e, failing))) {
    await state.markSynced({ ...e, remote: root, atUs: Date.now() * 1000 });
  }
  ledger.close();

  const sim = await startSimulator({ symbols: ["BTCUSDT"], seed: 6, tickMs: 20 });
  const configPath = await writeUsdmProcessConfig(
    dataDir,
    sim,
    `cloud_remote: ":local:"\ncloud_path: ${JSON.stringify(remoteDir)}\ncleanup_days: 0\n`,
  );
  const main = startMain([configPath]);
  try {
    // Nothing is sealed before the sync has looked: every old entry is held at start.
    const mirrored = await main.waitForLog(/manifest mirrored held=(\d+) sealed=(\d+)/, 60_000);
    assert.deepEqual([Number(mirrored[1]), Number(mirrored[2])], [old.length, 0]);
    // The sync's start-up run finds the uploaded directories confirmed in KV and saves the manifest: they are
    // sealed then, minutes before the next periodic save (the test stops well before it).
    const first = await main.waitForLog(
      /manifest sealed settled days entries=(\d+) held=\d+ sealed=(\d+)/,
      60_000,
    );
    assert.ok(Number(first[2]) >= 64 * 24, main.tail());
    // It uploads the pending directory's 24 files.
    await main.waitForLog(/cloud upload confirmed path="usdm\/trades\/date=/, 120_000, 24);
    // By the save at the stop, every settled directory is sealed but the one whose upload fails.
    assert.equal((await main.stop("SIGTERM")).code, 0, main.tail());
    const sealed = [
      ...main.log.matchAll(/manifest sealed settled days entries=(\d+) held=\d+ sealed=(\d+)/g),
    ];
    assert.equal(sealed.reduce((n, m) => n + Number(m[1]), 0), 65 * 24, main.tail());
    assert.equal(Number(sealed.at(-1)![2]), 65 * 24, main.tail());
    for (const e of old.filter((e) => inDir(e, pending))) {
      assert.ok((await Deno.stat(join(remoteDir, e.path))).isFile, e.path);
    }
    const listed = new Map((await Manifest.load(dataDir)).entries().map((e) => [e.path, e]));
    for (const e of old) assert.deepEqual(listed.get(e.path), e, e.path);
  } finally {
    if (main.running) await main.stop("SIGKILL");
    await sim.close();
    await Deno.remove(dataDir, { recursive: true });
    await Deno.remove(remoteDir, { recursive: true });
    await Deno.remove(configPath).catch(() => {});
  }
});
