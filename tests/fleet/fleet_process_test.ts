/**
 * The fleet view as a user sees it: three shards as `main.ts` processes against the simulator, each with
 * `cloud_remote` set to one local-directory rclone remote and Telegram pointed at the fake Bot API. Shard s1
 * stops cleanly (and its files, gaps included, are uploaded by the cloud sync), s2 dies and its heartbeat is
 * made 20 minutes old, s0 keeps running. `deno task report --fleet REMOTE` then lists each shard with its
 * state and symbols, the symbols nothing records now, s1's gaps and the day's files. The fleet's daily
 * report goes out from shard 0 alone (the shards have a KV store each, so the designated shard sends).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Market } from "../../lib/binance/markets.ts";
import { manifestIndex } from "../../lib/cloud/file_index.ts";
import { Rclone, remoteRoot } from "../../lib/cloud/rclone.ts";
import { CloudSync } from "../../lib/cloud/sync.ts";
import { heartbeatFile, manifestFile, parseHeartbeat, parseShardManifest } from "../../lib/fleet/files.ts";
import { openLedger } from "../../lib/ledger/open.ts";
import { assignedShards } from "../../lib/shard.ts";
import { startSimulator } from "../../lib/sim/server.ts";
import { Manifest } from "../../lib/storage/manifest.ts";
import { type Sim, waitFor } from "../integration/_harness.ts";
import { FakeBotApi } from "../telegram/fake_bot_api.ts";
import { type MainProcess, startMain } from "../_main_process.ts";

const REPO = new URL("../../", import.meta.url).pathname;
const SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT", "ADAUSDT", "DOGEUSDT", "LTCUSDT"];
const MARKETS: Market[] = ["spot", "usdm"];
const COUNT = 3;
const TOKEN = "123456:TEST-token";
const CHAT = "1001";
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

function configYaml(sim: Sim, base: string, fake: FakeBotApi): string {
  return `symbols: [${SYMBOLS.join(", ")}]
shard:
  count: ${COUNT}
data_dir: ${JSON.stringify(`${base}/{shard}`)}
log_dir: ${JSON.stringify(`${base}/{shard}/logs`)}
flush_interval: 3
orderbook_depth: 100
cloud_remote: ":local:"
cloud_path: ${JSON.stringify(join(base, "remote"))}
telegram_chat_id: "${CHAT}"
telegram:
  api_root: ${fake.apiRoot}
  daily_report_at: "00:00"
  ticker_interval: 0
status:
  enabled: false
markets:
  spot:
    rest_url: ${sim.spot.restUrl}
    ws_url: ${sim.spot.wsUrl}
    streams: [depth@100ms, aggTrade]
  usdm:
    rest_url: ${sim.usdm.restUrl}
    ws_url: ${sim.usdm.wsUrl}
    streams: [depth@100ms, aggTrade]
`;
}

function startShard(configPath: string, index: number): MainProcess {
  return startMain([configPath], {
    env: { COLLECTOR_SHARD_INDEX: String(index), TELEGRAM_BOT_TOKEN: TOKEN },
  });
}

/** What a shard records: the symbols rendezvous hashing gives it, per market. */
function symbolsOf(index: number): Record<Market, string[]> {
  const out = { spot: [], usdm: [], coinm: [] } as Record<Market, string[]>;
  for (const m of MARKETS) out[m] = SYMBOLS.filter((s) => assignedShards(m, s, COUNT, 1)[0] === index);
  return out;
}

/** Uploads every file of a stopped shard through its own ledger's cloud sync, as if its hours were over. */
async function syncStoppedShard(dataDir: string, shard: string, root: string): Promise<void> {
  const ledger = await openLedger(`${dataDir}/_state/ledger.sqlite`, { get: () => undefined }, { shard });
  const manifest = await Manifest.load(dataDir);
  const sync = new CloudSync({
    kv: ledger.kv,
    rclone: new Rclone(),
    files: manifestIndex(manifest, ledger),
    dataDir,
    root,
    backoffSchedule: [100, 200, 400],
  });
  const listening = sync.listen();
  try {
    // The sync uploads a file once its hour is over; hours ahead, every file is.
    const { enqueued } = await sync.enqueuePending(Date.now() + 5 * HOUR_MS);
    // Two rclone calls per file: generous for a loaded machine.
    const deadline = Date.now() + 120_000;
    while (!(await Promise.all(enqueued.map((p) => sync.state.synced(p)))).every((r) => r !== null)) {
      if (Date.now() > deadline) assert.fail(`${shard}: not every file uploaded within 120 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    ledger.close();
    await listening;
  }
}

async function remoteText(remoteDir: string, rel: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(join(remoteDir, rel));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}

/** Runs `deno task report` as a user does; returns its exit code and output. */
async function report(args: string[]): Promise<{ code: number; text: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "report", ...args],
    cwd: REPO,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    text: new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr),
  };
}

Deno.test("deno task report --fleet: three main.ts shards on one remote, one live, one stopped, one silent", async () => {
  const sim = await startSimulator({ symbols: SYMBOLS, seed: 43, tickMs: 10, rate: 100 });
  const fake = FakeBotApi.start(TOKEN);
  const base = await Deno.makeTempDir({ prefix: "fleet-" });
  const remoteDir = join(base, "remote");
  const configPath = join(base, "config.yaml");
  await Deno.writeTextFile(configPath, configYaml(sim, base, fake));
  const startedMs = Date.now();
  const runs = Array.from({ length: COUNT }, (_, i) => startShard(configPath, i));
  const logs = () => runs.map((r, i) => `--- s${i}\n${r.log.slice(-2000)}`).join("\n");
  const manifestFiles = async (shard: string) => {
    const text = await remoteText(remoteDir, manifestFile(shard));
    return text === null ? [] : parseShardManifest(text, shard).files;
  };
  try {
    const gapSymbol = symbolsOf(1).spot[0]!;
    assert.ok(gapSymbol, "s1 records a spot symbol");
    // Every shard flushed twice, all within 60 s.
    const end = Date.now() + 60_000;
    for (const r of runs) {
      await r.waitForLog(/flushed reason="interval"/, end - Date.now(), 2)
        .catch((err) => assert.fail(`${err}\n${logs()}`));
    }
    // A sequence gap on s1's symbol: diffs the exchange never sends.
    sim.faults.dropDiffs = { market: "spot", symbol: gapSymbol, count: 3 };
    await runs[1]!.waitForLog(new RegExp(`gap market="spot" symbol="${gapSymbol}"`), 30_000)
      .catch((err) => assert.fail(`${err}\n${logs()}`));
    // The minute's heartbeat publishes the manifests with the files written so far.
    const polled: Record<string, number> = {};
    await waitFor("the next minute's heartbeats of s0 and s2 list files", () => {
      // A file read while rclone rewrites it in place (the local backend) is read again at the next poll.
      for (const s of ["s0", "s2"]) void manifestFiles(s).then((f) => polled[s] = f.length, () => {});
      return (polled.s0 ?? 0) > 0 && (polled.s2 ?? 0) > 0;
    }, 100_000).catch((err) => assert.fail(`${err}\n${logs()}`));

    assert.equal((await runs[1]!.stop("SIGTERM")).code, 0, logs());
    const stopped = parseHeartbeat((await remoteText(remoteDir, heartbeatFile("s1")))!, "s1");
    assert.notEqual(stopped.stoppedAtMs, null, "the stop published a last heartbeat");

    await runs[2]!.stop("SIGKILL");
    // Dead 20 minutes ago, as far as its heartbeat tells.
    const dead = parseHeartbeat((await remoteText(remoteDir, heartbeatFile("s2")))!, "s2");
    assert.equal(dead.stoppedAtMs, null);
    dead.atMs -= 20 * 60_000;
    await Deno.writeTextFile(join(remoteDir, heartbeatFile("s2")), JSON.stringify(dead));
    await syncStoppedShard(join(base, "s1"), "s1", remoteRoot(":local:", remoteDir));

    // The day of s1's gap file on the remote (the day the test ran, unless it crossed midnight).
    const gapDays: string[] = [];
    for await (const e of Deno.readDir(join(remoteDir, "spot", "gaps"))) gapDays.push(e.name.slice(5));
    assert.equal(gapDays.length, 1, `s1's gaps were uploaded: ${gapDays}`);
    const date = gapDays[0]!;

    // s0 still runs: keep clear of its heartbeat's rewrite at the top of the minute (in place, on a local
    // remote), which the report would list as an unreadable file.
    await waitFor(
      "the middle of a minute",
      () => new Date().getUTCSeconds() >= 5 && new Date().getUTCSeconds() < 40,
      60_000,
    );
    const { code, text } = await report(["--fleet", remoteDir, date]);
    assert.doesNotMatch(text, /Unreadable files/);
    assert.equal(code, 0, text);
    const lines = text.split("\n");
    assert.match(
      text,
      new RegExp(`^Fleet ${date} \\(UTC\\) at \\d\\d:\\d\\d\\nShards 3: 1 live, 1 silent, 1 stopped\\n`),
    );
    assert.ok(lines.includes("⚠️ Silent over 15m: s2"), text);
    const row = (shard: string) => lines.find((l) => l.slice(1).startsWith(`${shard} `))?.trim().split(/\s+/);
    const symbolCount = (i: number) => MARKETS.reduce((n, m) => n + symbolsOf(i)[m].length, 0);
    assert.deepEqual(row("s0")?.slice(0, 2), ["s0", "live"], text);
    assert.deepEqual(row("s1")?.slice(0, 2), ["!s1", "stopped"], text);
    assert.deepEqual(row("s2")?.slice(0, 2), ["!s2", "silent"], text);
    for (const i of [0, 1, 2]) {
      assert.equal(row(`s${i}`)?.at(-2), String(symbolCount(i)), `s${i} symbols\n${text}`);
    }
    assert.equal(row("s2")?.[2], "20m", "the silent shard's heartbeat age");
    for (const market of MARKETS) {
      const notRecorded = symbolsOf(1)[market].length + symbolsOf(2)[market].length;
      const line = lines.find((l) => l.startsWith(` ${market} `));
      assert.equal(
        line,
        ` ${market.padEnd(6)}${String(SYMBOLS.length).padStart(6)}${
          notRecorded > 0 ? `, ${notRecorded} not recorded now` : ""
        }`,
        text,
      );
    }
    assert.match(text, /\nGaps [1-9]\d*, .* missing\n sequence +[1-9]/);
    assert.match(text, new RegExp(`\\n spot ${gapSymbol} +[1-9]\\d* +\\S+( \\S+)?\\n {3}depth@100ms s1\\n`));
    // The day's files of both markets, trades among them.
    for (const market of MARKETS) {
      const at = lines.indexOf(market);
      assert.ok(at > lines.indexOf("Table           files   rows first-last"), text);
      assert.match(lines.slice(at + 1).find((l) => l.startsWith(" trades "))!, /^ trades +[1-9]\d* +[1-9]/);
    }
    const hb0 = lines[lines.findIndex((l) => l.startsWith(" s0 ")) + 1]!;
    assert.match(hb0, new RegExp(`^ {3}\\S+ \\d+\\.\\d+\\.\\d+ \\S+/s books \\d+/${symbolCount(0)}$`), text);

    // The daily fleet report of yesterday: from shard 0 only; due from 01:00 UTC (daily_report_at 00:00 + 1 h).
    const nowMs = Date.now();
    const due = (ms: number) => ms % DAY_MS >= HOUR_MS;
    const sameDay = Math.floor(startedMs / DAY_MS) === Math.floor(nowMs / DAY_MS);
    const fleetReports = () => fake.textsTo(CHAT).filter((t) => t.startsWith("<pre>Fleet "));
    const yesterday = new Date(startedMs - DAY_MS).toISOString().slice(0, 10);
    if (sameDay && due(startedMs)) {
      await fake.waitFor(() => fleetReports().length > 0, "the fleet report", 30_000);
      assert.match(fleetReports()[0]!, new RegExp(`^<pre>Fleet ${yesterday} \\(UTC\\)`));
      await Deno.stat(join(base, "s0", "logs", `fleet-report-${yesterday}.txt`));
    }
    if (sameDay && !due(nowMs)) assert.equal(fleetReports().length, 0, "not before 01:00 UTC");
    assert.ok(fleetReports().length <= 1, fleetReports().join("\n"));
    for (const s of ["s1", "s2"]) {
      const names = [...Deno.readDirSync(join(base, s, "logs"))].map((e) => e.name);
      assert.ok(!names.some((n) => n.startsWith("fleet-report-")), `${s} sent no fleet report: ${names}`);
    }

    assert.equal((await runs[0]!.stop("SIGTERM")).code, 0, logs());
  } finally {
    await Promise.all(runs.map((r) => r.kill()));
    await fake.close();
    await sim.close();
    await Deno.remove(base, { recursive: true });
  }
});
