import assert from "node:assert/strict";
import { join } from "node:path";
import { manifestIndex } from "../../lib/cloud/file_index.ts";
import { failedKey, queuedKey } from "../../lib/cloud/keys.ts";
import { RemoteMismatchError } from "../../lib/cloud/rclone.ts";
import { CloudSync, type CloudSyncOptions, type SyncAlert } from "../../lib/cloud/sync.ts";
import type { SyncedRecord } from "../../lib/cloud/sync_state.ts";
import {
  type CloudEnv,
  cloudEnv,
  copyCount,
  firstCopyFails,
  GARBAGE_THEN_SUCCEED,
  H7,
  HALF_THEN_FAIL,
  HOUR_US,
  waitFor,
} from "./_env.ts";

/** 09:00, two hours after H7: hour 07 is finished, a file of hour 08:59 is not. */
const NOW_MS = (H7 + 2 * HOUR_US) / 1000;

function makeSync(env: CloudEnv, kv: Deno.Kv, extra: Partial<CloudSyncOptions> = {}): CloudSync {
  return new CloudSync({
    kv,
    rclone: env.rclone(),
    files: manifestIndex(env.manifest),
    dataDir: env.dataDir,
    root: env.root,
    backoffSchedule: [50, 100, 200],
    clockMs: () => NOW_MS,
    ...extra,
  });
}

/** Listens until `body` is done, then closes the KV handle and waits for the listener to stop. */
/**
 * Runs `body` while `sync` listens to the queue, then closes the KV once no job
 * is running: a job goes on after the state `body` waited for (a superseded copy is removed after the mark), and
 * closing the KV under it would fail it and raise one more alert.
 */
async function listening(sync: CloudSync, kv: Deno.Kv, body: () => Promise<void>): Promise<void> {
  let running = 0;
  const handle = sync.handle.bind(sync);
  sync.handle = async (message) => {
    running++;
    try {
      return await handle(message);
    } finally {
      running--;
    }
  };
  const listener = sync.listen();
  try {
    await body();
  } finally {
    await waitFor("no job running", () => Promise.resolve(running === 0)).catch(() => {});
    kv.close();
    await listener;
  }
}

async function remoteMatches(env: CloudEnv, path: string): Promise<boolean> {
  const remote = await env.remoteBytes(path);
  return remote !== null && (await Deno.readFile(join(env.dataDir, path))).every((b, i) => remote[i] === b) &&
    remote.length === (await Deno.stat(join(env.dataDir, path))).size;
}

Deno.test("CloudSync queues finished files once, uploads, verifies and marks them synced", async () => {
  await using env = await cloudEnv();
  const done = await env.addFile({ firstUs: H7 + 1, tag: "0a1b2c3d" });
  const open = await env.addFile({ firstUs: H7 + HOUR_US + 59 * 60_000_000 });
  const kv = await Deno.openKv(":memory:");
  const alerts: SyncAlert[] = [];
  const sync = makeSync(env, kv, { onAlert: (a) => alerts.push(a) });

  const first = await sync.enqueuePending(NOW_MS);
  assert.deepEqual(first, { finished: 1, enqueued: [done.path], confirmed: 0 });
  assert.deepEqual((await kv.get(queuedKey(done.path))).value, { atUs: NOW_MS * 1000 });
  assert.deepEqual((await sync.enqueuePending(NOW_MS)).enqueued, [], "a queued file is not queued twice");

  await listening(sync, kv, async () => {
    await waitFor("synced", async () => (await sync.state.synced(done.path)) !== null);
    assert.equal(await remoteMatches(env, done.path), true);
    assert.deepEqual(await sync.state.synced(done.path), {
      path: done.path,
      sha256: done.sha256,
      bytes: done.bytes,
      rows: done.rows,
      first_local_time: done.first_local_time,
      last_local_time: done.last_local_time,
      remote: env.root,
      atUs: NOW_MS * 1000,
    });
    assert.equal((await kv.get(queuedKey(done.path))).versionstamp, null, "queued marker cleared");
    assert.deepEqual((await sync.enqueuePending(NOW_MS)).enqueued, [], "a synced file is not queued again");
    assert.equal(await env.remoteBytes(open.path), null, "the open hour's file stays local");
  });
  assert.deepEqual(alerts, []);
});

Deno.test("CloudSync reads a synced file's state once and knows it uploaded; a rewritten file is looked at again", async () => {
  await using env = await cloudEnv();
  const spec = { firstUs: H7 + 1, tag: "0a1b2c3d" };
  const done = await env.addFile(spec);
  const kv = await Deno.openKv(":memory:");
  const sync = makeSync(env, kv);
  const reads: string[][] = [];
  const read = sync.state.read.bind(sync.state);
  sync.state.read = (paths) => (reads.push([...paths]), read(paths));

  assert.deepEqual((await sync.enqueuePending(NOW_MS)).enqueued, [done.path]);
  assert.equal(sync.isUploaded(env.manifest.get(done.path)!), false, "queued, not uploaded");
  await listening(sync, kv, async () => {
    await waitFor("synced", async () => (await sync.state.synced(done.path)) !== null);
    // Known synced (marked by this process): not read again, not queued, not confirmed again.
    assert.deepEqual(await sync.enqueuePending(NOW_MS), { finished: 1, enqueued: [], confirmed: 0 });
    assert.deepEqual(reads, [[done.path]]);
    assert.equal(sync.isUploaded(env.manifest.get(done.path)!), true);
    // The same path with other bytes is a new entry: its state is read, and it is queued again.
    const rewritten = await env.addFile(spec);
    assert.equal(rewritten.path, done.path);
    assert.equal(sync.isUploaded(env.manifest.get(done.path)!), false, "not in its current form");
    assert.deepEqual((await sync.enqueuePending(NOW_MS)).enqueued, [done.path]);
    assert.deepEqual(reads.at(-1), [done.path]);
    await waitFor(
      "the new bytes synced",
      async () => (await sync.state.synced(done.path))?.sha256 === rewritten.sha256,
    );
  });
});

Deno.test("CloudSync retries an upload that failed halfway and ends synced", async () => {
  await using env = await cloudEnv();
  const entry = await env.addFile({ firstUs: H7 + 1, tag: "0a1b2c3d", size: 64 * 1024 });
  const binary = await env.script("rclone-drop", firstCopyFails(env.dir, HALF_THEN_FAIL));
  const kv = await Deno.openKv(":memory:");
  const alerts: SyncAlert[] = [];
  const sync = makeSync(env, kv, { rclone: env.rclone({ binary }), onAlert: (a) => alerts.push(a) });
  await sync.enqueuePending(NOW_MS);
  await listening(sync, kv, async () => {
    await waitFor("synced", async () => (await sync.state.synced(entry.path)) !== null);
  });
  assert.equal(await copyCount(env.dir), 2, "one failed copy, one retry");
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.kind, "sync");
  assert.equal(alerts[0]!.path, entry.path);
  assert.match(alerts[0]!.error, /RcloneError: rclone copyto exited with 1: simulated: connection reset/);
  assert.equal(await remoteMatches(env, entry.path), true, "the half-written copy was replaced");
});

Deno.test("CloudSync does not mark a copy that fails verification; the retry replaces it", async () => {
  await using env = await cloudEnv();
  const entry = await env.addFile({ firstUs: H7 + 1, tag: "0a1b2c3d" });
  const binary = await env.script("rclone-garble", firstCopyFails(env.dir, GARBAGE_THEN_SUCCEED));
  const kv = await Deno.openKv(":memory:");
  const alerts: SyncAlert[] = [];
  const confirmed: SyncedRecord[] = [];
  const sync = makeSync(env, kv, {
    rclone: env.rclone({ binary }),
    onAlert: (a) => alerts.push(a),
    onSynced: (r) => confirmed.push(r),
  });
  // Driven directly, without the queue: the first attempt throws, as KV would see it.
  await assert.rejects(sync.handle({ kind: "cloud-upload", path: entry.path }), RemoteMismatchError);
  assert.equal(await sync.state.synced(entry.path), null);
  assert.deepEqual(confirmed, [], "a copy that failed verification is not reported uploaded");
  assert.equal(alerts.length, 1);
  assert.match(alerts[0]!.error, new RegExp(`sha256 [0-9a-f]{64}, expected ${entry.sha256}`));
  assert.equal(await sync.handle({ kind: "cloud-upload", path: entry.path }), true);
  assert.equal((await sync.state.synced(entry.path))?.sha256, entry.sha256);
  assert.deepEqual(confirmed, [await sync.state.synced(entry.path)], "the verified upload is");
  assert.equal(await remoteMatches(env, entry.path), true);
  assert.equal(await copyCount(env.dir), 2);
  assert.equal(await sync.handle({ kind: "other" }), false, "messages of other kinds are not ours");
  kv.close();
});

Deno.test("CloudSync completes queued jobs after a restart (KV file closed and reopened)", async () => {
  await using env = await cloudEnv();
  const kvPath = join(env.dir, "ledger.sqlite");
  const binary = await env.script("rclone-drop", firstCopyFails(env.dir, HALF_THEN_FAIL));

  // Before the restart: the ETH job fails once and waits out its backoff; the BTC job is queued, never started.
  const retrying = await env.addFile({ firstUs: H7 + 2, tag: "0a1b2c3e", table: "klines" });
  let kv = await Deno.openKv(kvPath);
  let alerts = 0;
  const before = makeSync(env, kv, {
    rclone: env.rclone({ binary }),
    backoffSchedule: [400],
    onAlert: () => alerts++,
  });
  assert.deepEqual((await before.enqueuePending(NOW_MS)).enqueued, [retrying.path]);
  await listening(before, kv, () => waitFor("the first failure", () => Promise.resolve(alerts === 1)));
  const waiting = await env.addFile({ firstUs: H7 + 1, tag: "0a1b2c3d" });
  kv = await Deno.openKv(kvPath);
  const between = makeSync(env, kv);
  assert.equal(await between.state.synced(retrying.path), null, "the retry had not run before the restart");
  assert.deepEqual((await between.enqueuePending(NOW_MS)).enqueued, [waiting.path]);
  kv.close();

  // After: a new process listens on the same file and finishes both without any new enqueue.
  kv = await Deno.openKv(kvPath);
  const after = makeSync(env, kv, { rclone: env.rclone({ binary }) });
  await listening(after, kv, async () => {
    await waitFor("both synced", async () => {
      const s = await after.state.read([waiting.path, retrying.path]);
      return [...s.values()].every((v) => v.synced !== null && v.queued === null);
    });
  });
  assert.equal(await remoteMatches(env, waiting.path), true);
  assert.equal(await remoteMatches(env, retrying.path), true);
  assert.equal(await copyCount(env.dir), 3, "one failed copy before the restart, two after");
});

Deno.test("CloudSync queues a job again once KV gave up on it", async () => {
  await using env = await cloudEnv();
  const entry = await env.addFile({ firstUs: H7 + 1, tag: "0a1b2c3d" });
  const flag = join(env.dir, "remote-down");
  await Deno.writeTextFile(flag, "");
  const binary = await env.script(
    "rclone-down",
    `if [ -e "${flag}" ]; then echo "remote down" >&2; exit 1; fi\nexec rclone "$@"`,
  );
  const kv = await Deno.openKv(":memory:");
  let alerts = 0;
  const sync = makeSync(env, kv, {
    rclone: env.rclone({ binary }),
    backoffSchedule: [20],
    onAlert: () => alerts++,
  });
  await listening(sync, kv, async () => {
    await sync.enqueuePending(NOW_MS);
    await waitFor(
      "the job to run out of retries",
      async () => (await kv.get(failedKey(entry.path))).value !== null,
    );
    assert.equal(alerts, 2, "first attempt and one retry");
    assert.deepEqual((await kv.get(failedKey(entry.path))).value, { kind: "cloud-upload", path: entry.path });
    await Deno.remove(flag);
    assert.deepEqual((await sync.enqueuePending(NOW_MS)).enqueued, [entry.path]);
    assert.equal((await kv.get(failedKey(entry.path))).versionstamp, null, "the failed marker is cleared");
    await waitFor("synced", async () => (await sync.state.synced(entry.path)) !== null);
  });
  assert.equal(await remoteMatches(env, entry.path), true);
});

Deno.test("CloudSync drops a job whose file left the index before it ran", async () => {
  await using env = await cloudEnv();
  const entry = await env.addFile({ firstUs: H7 + 1, tag: "0a1b2c3d" });
  const kv = await Deno.openKv(":memory:");
  const sync = makeSync(env, kv);
  await sync.enqueuePending(NOW_MS);
  env.manifest.remove(entry.path);
  assert.equal(await sync.handle({ kind: "cloud-upload", path: entry.path }), true);
  assert.equal((await kv.get(queuedKey(entry.path))).versionstamp, null);
  assert.equal(await sync.state.synced(entry.path), null);
  assert.equal(await env.remoteBytes(entry.path), null);
  kv.close();
});

Deno.test("CloudSync deletes the remote copies a synced compacted file replaces", async () => {
  await using env = await cloudEnv();
  const kv = await Deno.openKv(":memory:");
  const sync = makeSync(env, kv);
  const upload = (path: string) => sync.handle({ kind: "cloud-upload", path });
  // hour-X covers 07:00:00–07:30; a part of 07:40 lies outside any later replacement's range below.
  const x = await env.addFile({ firstUs: H7 + 1, lastUs: H7 + 1_800_000_000, tag: "0a1b2c3d", rows: 20 });
  const late = await env.addFile({ firstUs: H7 + 2_400_000_000, seq: 7, rows: 2 });
  await upload(x.path);
  await upload(late.path);
  // A crash replay brought rows for 07:10–07:35; compaction merged them with hour-X into hour-Y.
  env.manifest.remove(x.path);
  env.manifest.remove(late.path);
  const y = await env.addFile({ firstUs: H7 + 1, lastUs: H7 + 2_100_000_000, tag: "11112222", rows: 25 });
  await upload(y.path);
  assert.equal(await env.remoteBytes(x.path), null, "hour-X is gone from the remote");
  assert.equal(await sync.state.synced(x.path), null);
  assert.notEqual(await env.remoteBytes(late.path), null, "the 07:40 part is not inside hour-Y's range");
  assert.notEqual(await sync.state.synced(late.path), null);
  assert.equal(await remoteMatches(env, y.path), true);
  kv.close();
});

Deno.test("CloudSync rejects a configuration without a remote or with an invalid backoff", async () => {
  await using env = await cloudEnv();
  const kv = await Deno.openKv(":memory:");
  assert.throws(() => makeSync(env, kv, { root: "" }), /no remote configured/);
  assert.throws(() => makeSync(env, kv, { backoffSchedule: [1, 2, 3, 4, 5, 6] }), RangeError);
  assert.throws(() => makeSync(env, kv, { backoffSchedule: [3_600_001] }), RangeError);
  kv.close();
});
