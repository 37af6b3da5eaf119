/**
 * The fleet's daily report: sent by exactly one of two shards that share a KV store, through the real Telegram
 * bot to the fake Bot API; not before its time; not again once delivered; retried after a failed delivery.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fleetReportTime, registerFleetReport, runFleetReport } from "../../cron/fleet_report.ts";
import { registerFleet } from "../../cron/fleet.ts";
import { registerCronJobs, runStartupJobs } from "../../cron/mod.ts";
import { Rclone } from "../../lib/cloud/rclone.ts";
import { heartbeatFile, manifestFile } from "../../lib/fleet/files.ts";
import { FleetPublisher } from "../../lib/fleet/publisher.ts";
import { readFleet } from "../../lib/fleet/read.ts";
import { silentLogger } from "../../lib/log.ts";
import { scopedKv, sharedKv } from "../../lib/ledger/scoped_kv.ts";
import { startTelegram, type TelegramBot } from "../../lib/telegram/bot.ts";
import { DATE, entry, gapRow, heartbeat, shardManifest, writeGapFile } from "../fleet/_fixtures.ts";
import { emptySources, SETTINGS } from "../telegram/_fixtures.ts";
import { FakeBotApi } from "../telegram/fake_bot_api.ts";
import { fakeCron, onlyRegistration } from "./_fake_cron.ts";

const TOKEN = "123456:TEST-token";
const CHAT = "1001";
/** The day after DATE, 01:05 UTC: the report of DATE is due (daily_report_at 00:05 + 1 h). */
const DUE_MS = Date.UTC(2026, 2, 2, 1, 5);

function bot(fake: FakeBotApi): TelegramBot {
  const b = startTelegram({
    token: TOKEN,
    chatIds: [CHAT],
    apiRoot: fake.apiRoot,
    log: silentLogger,
    sources: emptySources(),
    settings: SETTINGS,
    pollTimeoutSec: 5,
    diskCheckMs: 0,
    backoffMs: 50,
  });
  assert.ok(b);
  return b;
}

/** A remote with two shards' heartbeats and files of DATE, and one gap. */
async function remoteWithFleet(dir: string): Promise<string> {
  const remote = join(dir, "remote");
  await Deno.mkdir(join(remote, "_fleet"), { recursive: true });
  for (const i of [0, 1]) {
    const hb = heartbeat(i, { count: 2, atMs: DUE_MS - 30_000, symbols: { spot: [`SYM${i}USDT`] } });
    await Deno.writeTextFile(join(remote, heartbeatFile(`s${i}`)), JSON.stringify(hb));
    const m = shardManifest(`s${i}`, [entry(`s${i}`, "spot", "trades", 5, 1000 * (i + 1))]);
    await Deno.writeTextFile(join(remote, manifestFile(`s${i}`)), JSON.stringify(m));
  }
  await writeGapFile(remote, "spot", "s1", [gapRow("SYM1USDT", "aggTrade", "disconnect", 300, 4)]);
  return remote;
}

Deno.test("runFleetReport(): of two shards sharing a KV store, exactly one sends the report to Telegram", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fleet_report_" });
  const fake = FakeBotApi.start(TOKEN);
  const store = await Deno.openKv(":memory:");
  const bots = [bot(fake), bot(fake)];
  try {
    const remote = await remoteWithFleet(dir);
    const rclone = new Rclone();
    const shard = (i: number) => ({
      shard: `s${i}`,
      // Each shard's ledger view is scoped to its prefix; the lease is taken in the whole store.
      kv: sharedKv(scopedKv(store, `s${i}`)),
      read: (date: string, nowMs: number) =>
        readFleet({ rclone, remote, date, nowMs, silentAfterMs: 900_000 }),
      deliver: (text: string, date: string) => bots[i]!.deliverReport(`fleet-${date}`, text),
      logDir: join(dir, `logs-s${i}`),
      at: "00:05",
    });
    const results = await Promise.all([0, 1].map((i) => runFleetReport(shard(i), DUE_MS)));
    assert.deepEqual(results.map((r) => r.outcome).sort(), ["held", "sent"]);
    const sender = results.findIndex((r) => r.outcome === "sent");
    assert.equal(results[sender]!.path, join(dir, `logs-s${sender}`, `fleet-report-${DATE}.txt`));
    const reports = fake.textsTo(CHAT).filter((t) => t.startsWith("<pre>Fleet "));
    assert.equal(reports.length, 1, fake.textsTo(CHAT).join("\n---\n"));
    const report = reports[0]!;
    assert.match(report, /^<pre>Fleet 2026-03-01 \(UTC\) at 01:05\nShards 2: 2 live\n/);
    assert.match(report, /\n spot SYM1USDT {11}1 {4}4m 0s\n/);
    assert.match(report, /\n trades {13}2 {2}3\.00k 05:00-05:59<\/pre>$/);
    assert.equal(
      report.replace(/^<pre>|<\/pre>$/g, "") + "\n",
      await Deno.readTextFile(results[sender]!.path!),
    );

    // Later runs of either shard (the hourly retries, a restart) send nothing more.
    for (const i of [0, 1]) {
      assert.equal((await runFleetReport(shard(i), DUE_MS + 3_600_000)).outcome, "delivered");
    }
    assert.equal(fake.textsTo(CHAT).filter((t) => t.startsWith("<pre>Fleet ")).length, 1);
  } finally {
    await Promise.all(bots.map((b) => b.stop()));
    store.close();
    await fake.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runFleetReport(): not before an hour after daily_report_at; a failed delivery is retried by its holder", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fleet_report_" });
  const kv = await Deno.openKv(":memory:");
  try {
    const remote = await remoteWithFleet(dir);
    const sent: string[] = [];
    let fail = true;
    const deps = {
      shard: "s0",
      kv,
      read: (date: string, nowMs: number) =>
        readFleet({ rclone: new Rclone(), remote, date, nowMs, silentAfterMs: 900_000 }),
      deliver: (text: string) => {
        if (fail) return Promise.reject(new Error("Telegram unreachable"));
        sent.push(text);
        return Promise.resolve();
      },
      logDir: join(dir, "logs"),
      at: "00:05",
    };
    assert.equal((await runFleetReport(deps, DUE_MS - 1)).outcome, "not due");
    await assert.rejects(runFleetReport(deps, DUE_MS), /Telegram unreachable/);
    // Another shard cannot take over while the lease runs; the holder's retry sends it.
    assert.equal((await runFleetReport({ ...deps, shard: "s1" }, DUE_MS + 60_000)).outcome, "held");
    fail = false;
    assert.equal((await runFleetReport(deps, DUE_MS + 60_000)).outcome, "sent");
    assert.equal(sent.length, 1);
    assert.match(sent[0]!, /^Fleet 2026-03-01 \(UTC\) at 01:06\n/);
  } finally {
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fleetReportTime(): an hour after daily_report_at, at most 23:59", () => {
  assert.equal(fleetReportTime("00:05"), "01:05");
  assert.equal(fleetReportTime("22:59"), "23:59");
  assert.equal(fleetReportTime("23:30"), "23:59");
});

Deno.test("registerFleetReport() and registerFleet(): schedules, backoffs, and a heartbeat tick publishes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fleet_cron_" });
  const kv = await Deno.openKv(":memory:");
  try {
    const report = fakeCron();
    const reportJob = registerFleetReport({
      shard: "s0",
      kv,
      read: () => Promise.reject(new Error("not read")),
      logDir: dir,
      at: "00:05",
    }, report.cron);
    assert.equal(onlyRegistration(report.registered, "fleet_report").schedule, "5 1-23 * * *");
    assert.equal(reportJob.name, "fleet_report");

    const beat = fakeCron();
    const remote = join(dir, "remote");
    const publisher = await FleetPublisher.create({
      rclone: new Rclone(),
      root: remote,
      dataDir: join(dir, "data"),
      identity: {
        shard: "s0",
        index: 0,
        count: 1,
        replicas: 1,
        host: "h",
        version: "v",
        startedAtMs: Date.now(),
      },
      source: {
        symbols: () => ({ spot: ["BTCUSDT"] }),
        books: () => ({ synced: 0, total: 0 }),
        messages: () => 0,
        lastFlushMs: () => null,
        files: () => [],
        lastUploadMs: () => null,
      },
    });
    registerFleet({ publisher }, beat.cron);
    const reg = onlyRegistration(beat.registered, "fleet_heartbeat");
    assert.equal(reg.schedule, "* * * * *");
    await reg.handler();
    assert.equal(JSON.parse(await Deno.readTextFile(join(remote, heartbeatFile("s0")))).shard, "s0");
  } finally {
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runStartupJobs(): the fleet report's catch-up reads the remote after this shard's first heartbeat", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fleet_startup_" });
  const kv = await Deno.openKv(":memory:");
  const abort = new AbortController();
  try {
    // A fresh remote: nothing there until the heartbeat, and rclone cannot copy from a missing directory.
    const remote = join(dir, "remote");
    const rclone = new Rclone();
    const publisher = await FleetPublisher.create({
      rclone,
      root: remote,
      dataDir: join(dir, "data"),
      identity: {
        shard: "s0",
        index: 0,
        count: 2,
        replicas: 1,
        host: "h",
        version: "v",
        startedAtMs: DUE_MS,
      },
      source: {
        symbols: () => ({ spot: ["BTCUSDT"] }),
        books: () => ({ synced: 1, total: 1 }),
        messages: () => 0,
        lastFlushMs: () => null,
        files: () => [],
        lastUploadMs: () => null,
      },
    });
    const { cron } = fakeCron();
    const jobs = registerCronJobs(
      {
        fleet: { publisher },
        fleetReport: {
          shard: "s0",
          kv,
          read: (date, nowMs) => readFleet({ rclone, remote, date, nowMs, silentAfterMs: 900_000 }),
          logDir: join(dir, "logs"),
          at: "00:05",
        },
      },
      cron,
      abort.signal,
    );
    const logged: string[] = [];
    assert.deepEqual(await runStartupJobs(jobs, (_l, m, f) => logged.push(`${m} ${f?.error}`), DUE_MS), []);
    const text = await Deno.readTextFile(join(dir, "logs", `fleet-report-${DATE}.txt`));
    assert.match(text, /^Fleet 2026-03-01 \(UTC\) at 01:05\nShards 1: 1 live\n/);
  } finally {
    abort.abort();
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
});
