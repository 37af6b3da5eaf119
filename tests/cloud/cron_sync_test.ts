import assert from "node:assert/strict";
import { join } from "node:path";
import { registerSync, runSync, type SyncDeps, SyncRunError } from "../../cron/sync.ts";
import { manifestIndex } from "../../lib/cloud/file_index.ts";
import { CloudSync } from "../../lib/cloud/sync.ts";
import { fakeCron, onlyRegistration } from "../cron/_fake_cron.ts";
import { type CloudEnv, cloudEnv, H7 } from "./_env.ts";

const DAY_MS = 86_400_000;
const H7_MS = H7 / 1000;

function deps(env: CloudEnv, kv: Deno.Kv): SyncDeps {
  const files = manifestIndex(env.manifest);
  const common = { kv, rclone: env.rclone(), files, dataDir: env.dataDir, root: env.root };
  return {
    sync: new CloudSync({ ...common, backoffSchedule: [50] }),
    cleanup: { ...common, cleanupDays: 7 },
  };
}

Deno.test("runSync() queues pending uploads, then cleans up what is synced and old", async () => {
  await using env = await cloudEnv();
  const kv = await Deno.openKv(":memory:");
  const d = deps(env, kv);
  const entry = await env.addFile({ firstUs: H7 + 1, tag: "0a1b2c3d" });

  const first = await runSync(d, H7_MS + 8 * DAY_MS);
  assert.deepEqual(first.enqueue.enqueued, [entry.path]);
  assert.deepEqual(first.cleanup.deleted, [], "queued but not yet uploaded: kept");

  await d.sync.handle({ kind: "cloud-upload", path: entry.path });
  const second = await runSync(d, H7_MS + 8 * DAY_MS);
  assert.deepEqual(second.enqueue.enqueued, []);
  assert.deepEqual(second.cleanup.deleted, [entry.path]);
  assert.equal(env.manifest.size, 0);
  kv.close();
});

Deno.test("runSync() calls onConfirmed after a run that found files uploaded by an earlier process, only then", async () => {
  await using env = await cloudEnv();
  const kv = await Deno.openKv(":memory:");
  const entry = await env.addFile({ firstUs: H7 + 1, tag: "0a1b2c3d" });
  const earlier = deps(env, kv);
  await earlier.sync.handle({ kind: "cloud-upload", path: entry.path });
  let saves = 0;
  const onConfirmed = () => (saves++, Promise.resolve());
  // The process that uploaded it knows it already: nothing newly confirmed.
  assert.equal((await runSync({ ...earlier, onConfirmed }, H7_MS + DAY_MS)).enqueue.confirmed, 0);
  assert.equal(saves, 0);
  // A restarted process learns it from KV in its first run, and that run saves; the next does not.
  const restarted = { ...deps(env, kv), onConfirmed };
  const first = await runSync(restarted, H7_MS + DAY_MS);
  assert.deepEqual([first.enqueue.confirmed, first.enqueue.enqueued, saves], [1, [], 1]);
  assert.equal(restarted.sync.isUploaded(env.manifest.get(entry.path)!), true);
  assert.equal((await runSync(restarted, H7_MS + DAY_MS)).enqueue.confirmed, 0);
  assert.equal(saves, 1);
  kv.close();
});

Deno.test("runSync() throws SyncRunError after the run when cleanup kept a file", async () => {
  await using env = await cloudEnv();
  const kv = await Deno.openKv(":memory:");
  const d = deps(env, kv);
  const lost = await env.addFile({ firstUs: H7 + 1, tag: "0a1b2c3d" });
  const other = await env.addFile({ firstUs: H7 + 1, tag: "0a1b2c3d", table: "klines" });
  for (const e of [lost, other]) await d.sync.handle({ kind: "cloud-upload", path: e.path });
  await Deno.remove(join(env.remoteDir, lost.path));

  const err = await runSync(d, H7_MS + 8 * DAY_MS).then(() => null, (e) => e);
  assert.ok(err instanceof SyncRunError);
  assert.deepEqual(err.result.cleanup.deleted, [other.path]);
  assert.equal(err.errors.length, 1);
  assert.ok(err.message.startsWith(`Cleanup kept 1 file(s): Cannot clean up ${lost.path}: `), err.message);
  // The next run uploads it again (the sync knew it synced; the cleanup's forgetting reached it).
  const next = await runSync(d, H7_MS + 8 * DAY_MS);
  assert.deepEqual(next.enqueue.enqueued, [lost.path]);
  kv.close();
});

Deno.test("registerSync() registers `sync` every 5 minutes with a backoff, and a tick runs it", async () => {
  await using env = await cloudEnv();
  const kv = await Deno.openKv(":memory:");
  const { cron, registered } = fakeCron();
  const abort = new AbortController();
  const job = registerSync(deps(env, kv), cron, abort.signal);
  const reg = onlyRegistration(registered, "sync");
  assert.equal(reg.schedule, "*/5 * * * *");
  assert.equal(job.name, "sync");
  // The tick runs at the wall clock: a file of the hour that started three hours ago is finished.
  const entry = await env.addFile({
    firstUs: (Math.floor(Date.now() / 3_600_000) - 3) * 3_600_000_000,
    tag: "0a1b2c3d",
  });
  await reg.handler();
  assert.notEqual(
    (await kv.get(["cloud", "queued", entry.path])).versionstamp,
    null,
    "the tick queued the file",
  );
  abort.abort();
  kv.close();
});
