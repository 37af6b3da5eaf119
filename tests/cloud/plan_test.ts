import assert from "node:assert/strict";
import {
  finishedFiles,
  finishedFilesPaced,
  isSynced,
  needsUpload,
  supersededBy,
} from "../../lib/cloud/plan.ts";
import type { PathState, SyncedRecord } from "../../lib/cloud/sync_state.ts";
import { compactedFileName, parquetFileName } from "../../lib/storage/layout.ts";
import { isoMicros, type ManifestEntry } from "../../lib/storage/manifest.ts";

const H7 = Date.UTC(2026, 2, 1, 7) * 1000;
const HOUR = 3_600_000_000;
const MIN = 60_000_000;
const DIR = "spot/trades/date=2026-03-01";
const ROOT = "gdrive:binance-data";
const TIMING = { graceUs: 15 * MIN, stuckUs: 3 * HOUR };

function entry(name: string, firstUs: number, lastUs: number, rows = 10, dir = DIR): ManifestEntry {
  return {
    path: `${dir}/${name}`,
    sha256: `${rows}`.padStart(64, "a"),
    rows,
    bytes: 100 * rows,
    first_local_time: isoMicros(firstUs),
    last_local_time: isoMicros(lastUs),
    market: "spot",
    table: "trades",
  };
}

function record(e: ManifestEntry, root = ROOT): SyncedRecord {
  const { path, sha256, bytes, rows, first_local_time, last_local_time } = e;
  return { path, sha256, bytes, rows, first_local_time, last_local_time, remote: root, atUs: 0 };
}

function state(partial: Partial<PathState> = {}): PathState {
  return { synced: null, queued: null, failed: false, stamps: [null, null, null], ...partial };
}

const hour7 = entry(compactedFileName(H7 + 5, "0a1b2c3d"), H7 + 5, H7 + 50 * MIN);
const lonePart8 = entry(parquetFileName(H7 + HOUR + 1, 0), H7 + HOUR + 1, H7 + HOUR + 2);
const twoParts9 = [
  entry(parquetFileName(H7 + 2 * HOUR + 1, 0), H7 + 2 * HOUR + 1, H7 + 2 * HOUR + 9),
  entry(parquetFileName(H7 + 2 * HOUR + 10, 1), H7 + 2 * HOUR + 10, H7 + 2 * HOUR + 20),
];
const all = [hour7, lonePart8, ...twoParts9];

Deno.test("finishedFiles() waits for the grace period after an hour's end", () => {
  const paths = (nowUs: number) => finishedFiles(all, nowUs, TIMING).map((e) => e.path);
  assert.deepEqual(paths(H7 + HOUR + 14 * MIN), [], "hour 07 ended 14 min ago");
  assert.deepEqual(paths(H7 + HOUR + 15 * MIN), [hour7.path]);
  assert.deepEqual(
    paths(H7 + 2 * HOUR + 15 * MIN),
    [hour7.path, lonePart8.path],
    "a lone part file is final",
  );
});

Deno.test("finishedFiles() holds hours with several files for compaction until they look stuck", () => {
  const paths = (nowUs: number) => finishedFiles(all, nowUs, TIMING).map((e) => e.path);
  const end9 = H7 + 3 * HOUR;
  assert.deepEqual(paths(end9 + 2 * HOUR), [hour7.path, lonePart8.path]);
  assert.deepEqual(paths(end9 + 3 * HOUR), all.map((e) => e.path));
  // The same names in another partition are another group.
  const other = entry(parquetFileName(H7 + 2 * HOUR + 1, 0), H7 + 2 * HOUR + 1, H7 + 2 * HOUR + 9, 10, "x/y");
  assert.deepEqual(
    finishedFiles([twoParts9[0]!, other], end9 + 20 * MIN, TIMING).map((e) => e.path),
    [twoParts9[0]!.path, other.path],
  );
  assert.deepEqual(finishedFiles([entry("notes.parquet", H7, H7)], end9 + 10 * HOUR, TIMING), []);
});

Deno.test("finishedFilesPaced() finds what finishedFiles() finds, a slice per turn", async () => {
  for (const nowUs of [H7 + HOUR + 15 * MIN, H7 + 3 * HOUR + 20 * MIN, H7 + 6 * HOUR]) {
    for (const slice of [1, 2, 1000]) {
      assert.deepEqual(
        await finishedFilesPaced(all, nowUs, TIMING, slice),
        finishedFiles(all, nowUs, TIMING),
      );
    }
  }
});

Deno.test("isSynced() needs the same sha256, size and remote", () => {
  assert.equal(isSynced(hour7, record(hour7), ROOT), true);
  assert.equal(isSynced(hour7, null, ROOT), false);
  assert.equal(isSynced(hour7, record(hour7, "other:x"), ROOT), false, "uploaded to a previous remote");
  assert.equal(isSynced(hour7, { ...record(hour7), sha256: "b".repeat(64) }, ROOT), false, "file rewritten");
  assert.equal(isSynced(hour7, { ...record(hour7), bytes: 1 }, ROOT), false);
});

Deno.test("needsUpload() skips synced and freshly queued files, requeues failed and stale jobs", () => {
  const now = H7 + 5 * HOUR;
  const after = 6 * HOUR;
  assert.equal(needsUpload(hour7, state(), ROOT, now, after), true);
  assert.equal(needsUpload(hour7, state({ synced: record(hour7) }), ROOT, now, after), false);
  assert.equal(
    needsUpload(hour7, state({ synced: { ...record(hour7), sha256: "c" } }), ROOT, now, after),
    true,
  );
  assert.equal(needsUpload(hour7, state({ queued: { atUs: now - HOUR } }), ROOT, now, after), false);
  assert.equal(needsUpload(hour7, state({ queued: { atUs: now - after } }), ROOT, now, after), true);
  assert.equal(needsUpload(hour7, state({ queued: { atUs: now }, failed: true }), ROOT, now, after), true);
});

Deno.test("supersededBy() names only covered remote copies of the same partition and hour", () => {
  const y = entry(compactedFileName(H7 + 5, "11111111"), H7 + 5, H7 + 55 * MIN, 30);
  const inIndex = (p: string) => p === y.path;
  const covered = entry(compactedFileName(H7 + 5, "0a1b2c3d"), H7 + 5, H7 + 50 * MIN, 20);
  const coveredPart = entry(parquetFileName(H7 + 10, 3), H7 + 10, H7 + 20, 5);
  const candidates = [
    record(covered),
    record(coveredPart),
    record(y), // itself
    record(entry(parquetFileName(H7 + 56 * MIN, 4), H7 + 56 * MIN, H7 + 57 * MIN, 1)), // outside the range
    record(entry(parquetFileName(H7 + 10, 5), H7 + 10, H7 + 20, 31)), // more rows than the replacement
    record(entry(parquetFileName(H7 + HOUR + 10, 0), H7 + HOUR + 10, H7 + HOUR + 20, 1)), // next hour
    record(entry(parquetFileName(H7 + 10, 6), H7 + 10, H7 + 20, 1, "spot/klines/date=2026-03-01")),
    record(entry(parquetFileName(H7 + 10, 7), H7 + 10, H7 + 20, 1), "other:remote"),
  ];
  assert.deepEqual(supersededBy(y, candidates, ROOT, inIndex), [covered.path, coveredPart.path]);
  assert.deepEqual(
    supersededBy(y, candidates, ROOT, (p) => p === y.path || p === covered.path),
    [coveredPart.path],
    "a file still in the local index is not replaced",
  );
  const lonePart = entry(parquetFileName(H7 + 5, 9), H7 + 5, H7 + 55 * MIN, 30);
  assert.deepEqual(supersededBy(lonePart, candidates, ROOT, () => false), [], "only compacted files replace");
});
