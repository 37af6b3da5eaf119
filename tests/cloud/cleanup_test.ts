import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { CleanupError, cleanupLocal, type CleanupOptions, expiredFiles } from "../../lib/cloud/cleanup.ts";
import { manifestIndex } from "../../lib/cloud/file_index.ts";
import { CloudSync } from "../../lib/cloud/sync.ts";
import { Manifest, type ManifestEntry, sha256Hex } from "../../lib/storage/manifest.ts";
import { type CloudEnv, cloudEnv, H7 } from "./_env.ts";
import { pathExists } from "../../lib/storage/atomic_file.ts";

const DAY_US = 86_400_000_000;
/** Ten days after 2026-03-01 07:00. */
const NOW_MS = (H7 + 10 * DAY_US) / 1000;

/** Files in every state cleanup distinguishes; the synced ones uploaded for real. */
async function scene(env: CloudEnv, kv: Deno.Kv) {
  const removedFromLedger: string[] = [];
  const files = manifestIndex(env.manifest, {
    removeFiles: (p) => Promise.resolve(void removedFromLedger.push(...p)),
  });
  const sync = new CloudSync({ kv, rclone: env.rclone(), files, dataDir: env.dataDir, root: env.root });
  const upload = (e: ManifestEntry) => sync.handle({ kind: "cloud-upload", path: e.path });

  const oldSynced = await env.addFile({ firstUs: H7 + 1, tag: "0a1b2c3d" });
  const oldUnsynced = await env.addFile({ firstUs: H7 + 1, tag: "0a1b2c3d", table: "klines" });
  const recentSynced = await env.addFile({ firstUs: H7 + 5 * DAY_US, tag: "0a1b2c3d" });
  const rewritten = await env.addFile({ firstUs: H7 + 1, tag: "0a1b2c3d", table: "book_tickers" });
  const remoteLost = await env.addFile({ firstUs: H7 + 1, tag: "0a1b2c3d", table: "mark_prices" });
  for (const e of [oldSynced, recentSynced, rewritten, remoteLost]) await upload(e);

  // Rewritten in place after its upload: the synced record is of other bytes.
  const bytes = crypto.getRandomValues(new Uint8Array(rewritten.bytes));
  await Deno.writeFile(join(env.dataDir, rewritten.path), bytes);
  env.manifest.add({ ...rewritten, sha256: await sha256Hex(bytes) });
  await Deno.remove(join(env.remoteDir, remoteLost.path));

  // The journal: a segment on disk, plus (defensively) an old, "synced" manifest entry under it.
  const segment = join(env.dataDir, "_journal", "000001.wal");
  await Deno.mkdir(dirname(segment), { recursive: true });
  await Deno.writeTextFile(segment, "frames");
  const journalEntry = { ...oldSynced, path: "_journal/000001.parquet" };
  await Deno.writeTextFile(join(env.dataDir, journalEntry.path), "x");
  env.manifest.add(journalEntry);
  await sync.state.markSynced({ ...journalEntry, remote: env.root, atUs: 0 });
  await env.manifest.save();

  const options: CleanupOptions = {
    files,
    kv,
    rclone: env.rclone(),
    dataDir: env.dataDir,
    root: env.root,
    cleanupDays: 7,
    // As the sync job runs it: a record cleanup forgets makes the sync look at the file again.
    state: sync.state,
  };
  return {
    options,
    sync,
    removedFromLedger,
    oldSynced,
    oldUnsynced,
    recentSynced,
    rewritten,
    remoteLost,
    segment,
  };
}

Deno.test("cleanupLocal() deletes only synced files older than cleanup_days, never the journal", async () => {
  await using env = await cloudEnv();
  const kv = await Deno.openKv(":memory:");
  const s = await scene(env, kv);
  const report = await cleanupLocal(s.options, NOW_MS);

  assert.deepEqual(report.deleted, [s.oldSynced.path]);
  assert.equal(await pathExists(join(env.dataDir, s.oldSynced.path)), false);
  assert.equal(
    await pathExists(join(env.dataDir, dirname(s.oldSynced.path))),
    false,
    "emptied date dir removed",
  );
  assert.equal(
    await pathExists(join(env.dataDir, dirname(s.recentSynced.path))),
    true,
    "a date dir still used stays",
  );
  for (const kept of [s.oldUnsynced, s.recentSynced, s.rewritten, s.remoteLost]) {
    assert.equal(await pathExists(join(env.dataDir, kept.path)), true, kept.path);
  }
  assert.equal(await pathExists(s.segment), true);
  assert.equal(await pathExists(join(env.dataDir, "_journal/000001.parquet")), true);
  assert.notEqual(await env.remoteBytes(s.oldSynced.path), null, "the remote copy stays");

  // The index (saved manifest and ledger) forgets exactly the deleted file.
  const saved = await Manifest.load(env.dataDir);
  assert.equal(saved.get(s.oldSynced.path), undefined);
  assert.equal(saved.size, 5);
  assert.deepEqual(s.removedFromLedger, [s.oldSynced.path]);

  // The file whose remote copy vanished is kept, reported, and will be uploaded again.
  assert.equal(report.errors.length, 1);
  assert.ok(report.errors[0] instanceof CleanupError);
  assert.equal(report.errors[0].path, s.remoteLost.path);
  assert.equal(await s.sync.state.synced(s.remoteLost.path), null);
  const requeued = await s.sync.enqueuePending(NOW_MS);
  assert.deepEqual(
    requeued.enqueued.sort(),
    [s.oldUnsynced.path, s.remoteLost.path, s.rewritten.path].sort(),
  );

  const again = await cleanupLocal(s.options, NOW_MS);
  assert.deepEqual(again, { deleted: [], errors: [] }, "nothing left to delete until re-uploaded");
  kv.close();
});

Deno.test("cleanupLocal() deletes nothing without a remote or with cleanup_days 0", async () => {
  await using env = await cloudEnv();
  const kv = await Deno.openKv(":memory:");
  const s = await scene(env, kv);
  assert.deepEqual(await cleanupLocal({ ...s.options, root: "" }, NOW_MS), { deleted: [], errors: [] });
  assert.deepEqual(await cleanupLocal({ ...s.options, cleanupDays: 0 }, NOW_MS), { deleted: [], errors: [] });
  assert.equal(await pathExists(join(env.dataDir, s.oldSynced.path)), true);
  assert.equal((await Manifest.load(env.dataDir)).size, 6);
  kv.close();
});

Deno.test("expiredFiles() uses the last row's time and the layout", () => {
  const e = (path: string, last: string): ManifestEntry => ({
    path,
    sha256: "a".repeat(64),
    rows: 1,
    bytes: 1,
    first_local_time: last,
    last_local_time: last,
    market: "spot",
    table: "trades",
  });
  const dir = "spot/trades/date=2026-03-01";
  const entries = [
    e(`${dir}/a.parquet`, "2026-03-01T07:59:59.999999Z"),
    e(`${dir}/b.parquet`, "2026-03-01T08:00:00.000001Z"),
    e("_journal/c.parquet", "2026-03-01T07:00:00.000000Z"),
    e(`${dir}/d.parquet`, "not a time"),
    e(`${dir}/symbol=BTCUSDT/e.parquet`, "2026-03-01T07:00:00.000000Z"), // 0.3 layout: not migrated yet
  ];
  const policy = { root: "r:", cleanupDays: 7 };
  const now = Date.UTC(2026, 2, 8, 8);
  assert.deepEqual(expiredFiles(entries, policy, now).map((x) => x.path), [
    `${dir}/a.parquet`,
    `${dir}/symbol=BTCUSDT/e.parquet`,
  ]);
  assert.deepEqual(expiredFiles(entries, { ...policy, root: "" }, now), []);
  assert.deepEqual(expiredFiles(entries, { ...policy, cleanupDays: 0 }, now), []);
});
