import assert from "node:assert/strict";
import { join } from "node:path";
import { Rclone } from "../../lib/cloud/rclone.ts";
import { parseHeartbeat, parseShardManifest } from "../../lib/fleet/files.ts";
import { entriesOfDays, FleetPublisher, type FleetSource, recentDays } from "../../lib/fleet/publisher.ts";
import type { ManifestEntry } from "../../lib/storage/manifest.ts";
import { DAY_MS, entry } from "./_fixtures.ts";

const START = DAY_MS + 10 * 3_600_000;

interface Env extends AsyncDisposable {
  dataDir: string;
  remote: string;
  state: { messages: number; files: ManifestEntry[]; lastUploadMs: number | null; symbols: string[] };
  source: FleetSource;
  publisher(): Promise<FleetPublisher>;
  heartbeat(): Promise<ReturnType<typeof parseHeartbeat>>;
  manifest(): Promise<ReturnType<typeof parseShardManifest>>;
}

async function env(): Promise<Env> {
  const dir = await Deno.makeTempDir({ prefix: "fleet_pub_" });
  const dataDir = join(dir, "data");
  // rclone's local backend with `:local:`, as cloud_remote ":local:" + cloud_path would give.
  const remote = `:local:${join(dir, "remote")}`;
  const state = {
    messages: 0,
    files: [] as ManifestEntry[],
    lastUploadMs: null as number | null,
    symbols: ["BTCUSDT"],
  };
  const source: FleetSource = {
    symbols: () => ({ spot: state.symbols, usdm: [] }),
    books: () => ({ synced: 1, total: 2 }),
    messages: () => state.messages,
    lastFlushMs: () => START + 5000,
    files: () => state.files,
    lastUploadMs: () => state.lastUploadMs,
  };
  const read = async (name: string) => await Deno.readTextFile(join(dir, "remote", "_fleet", name));
  return {
    dataDir,
    remote,
    state,
    source,
    publisher: () =>
      FleetPublisher.create({
        rclone: new Rclone(),
        root: remote,
        dataDir,
        identity: {
          shard: "s1",
          index: 1,
          count: 2,
          replicas: 1,
          host: "vm-b",
          version: "9.9.9",
          startedAtMs: START,
        },
        source,
      }),
    heartbeat: async () => parseHeartbeat(await read("s1.json"), "s1.json"),
    manifest: async () => parseShardManifest(await read("s1.manifest.json"), "s1.manifest.json"),
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

Deno.test("FleetPublisher: the heartbeat names the shard, its symbols, books and message rate between beats", async () => {
  await using e = await env();
  const publisher = await e.publisher();
  e.state.messages = 6000;
  const first = await publisher.publish(START + 60_000);
  assert.equal(first?.manifest, true, "the first publish uploads the manifest");
  assert.deepEqual(await e.heartbeat(), {
    format: 1,
    shard: "s1",
    index: 1,
    count: 2,
    replicas: 1,
    host: "vm-b",
    version: "9.9.9",
    startedAtMs: START,
    atMs: START + 60_000,
    stoppedAtMs: null,
    lastFlushMs: START + 5000,
    lastUploadMs: null,
    symbols: { spot: ["BTCUSDT"], usdm: [] },
    books: { synced: 1, total: 2 },
    messagesPerSec: 100, // 6000 since the start, a minute ago
  });
  e.state.messages = 9000;
  e.state.symbols = ["BTCUSDT", "ETHUSDT"];
  e.state.lastUploadMs = START + 90_000;
  await publisher.publish(START + 120_000);
  const second = await e.heartbeat();
  assert.equal(second.messagesPerSec, 50, "3000 in the minute since the last beat");
  assert.deepEqual(second.symbols.spot, ["BTCUSDT", "ETHUSDT"]);
  assert.equal(second.lastUploadMs, START + 90_000);
});

Deno.test("FleetPublisher: the manifest lists the recent days' files and is uploaded only when it changed", async () => {
  await using e = await env();
  const publisher = await e.publisher();
  const today = entry("s1", "spot", "trades", 9, 10);
  const old = entry("s1", "spot", "trades", 9, 10, { dayMs: DAY_MS - 3 * 86_400_000 });
  e.state.files = [today, old];
  assert.equal((await publisher.publish(START))?.manifest, true);
  const m = await e.manifest();
  assert.deepEqual(m.days, ["2026-03-01", "2026-02-28", "2026-02-27"]);
  assert.deepEqual(m.files, [today], "three days back is past the window");
  assert.equal((await publisher.publish(START + 60_000))?.manifest, false, "nothing changed");
  assert.equal((await e.manifest()).atMs, START);
  const more = entry("s1", "usdm", "gaps", 9, 1);
  e.state.files = [today, more];
  assert.equal((await publisher.publish(START + 120_000))?.manifest, true);
  assert.deepEqual((await e.manifest()).files, [today, more]);
});

Deno.test("FleetPublisher: stop publishes a stopped heartbeat after the publish in progress, then nothing more", async () => {
  await using e = await env();
  const publisher = await e.publisher();
  const [a, b] = await Promise.all([publisher.publish(START + 60_000), publisher.stop(START + 61_000)]);
  assert.equal(a?.heartbeat.stoppedAtMs, null);
  assert.equal(b?.heartbeat.stoppedAtMs, START + 61_000);
  assert.equal(await publisher.publish(START + 120_000), null);
  assert.equal(await publisher.stop(START + 120_000), null);
  const hb = await e.heartbeat();
  assert.equal(hb.stoppedAtMs, START + 61_000);
  assert.equal(hb.atMs, START + 61_000);
});

Deno.test("FleetPublisher: a new run starts from the last upload time the previous run published", async () => {
  await using e = await env();
  e.state.lastUploadMs = START + 30_000;
  await (await e.publisher()).stop(START + 60_000);
  e.state.lastUploadMs = null; // the new run has uploaded nothing yet
  const next = await e.publisher();
  assert.equal((await next.publish(START + 120_000))?.heartbeat.lastUploadMs, START + 30_000);
});

Deno.test("FleetPublisher: an rclone that cannot run fails the publish; manifestDays must be positive", async () => {
  await using e = await env();
  const options = {
    rclone: new Rclone({ binary: "/nonexistent/rclone" }),
    root: e.remote,
    dataDir: e.dataDir,
    identity: { shard: "s1", index: 1, count: 2, replicas: 1, host: "h", version: "v", startedAtMs: START },
    source: e.source,
  };
  await assert.rejects((await FleetPublisher.create(options)).publish(START), /Cannot start rclone/);
  await assert.rejects(
    FleetPublisher.create({ ...options, manifestDays: 0 }),
    /'manifestDays' must be a positive/,
  );
});

Deno.test("recentDays() and entriesOfDays(): the day of now and those before it; files by their partition", () => {
  assert.deepEqual(recentDays(DAY_MS + 5, 2), ["2026-03-01", "2026-02-28"]);
  const a = entry("s0", "spot", "trades", 0, 1);
  const b = entry("s0", "spot", "trades", 0, 1, { dayMs: DAY_MS - 86_400_000 });
  assert.deepEqual(entriesOfDays([a, b, { ...a, path: "notes/x.parquet" }], ["2026-03-01"]), [a]);
});
