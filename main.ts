/**
 * Composition root. `deno task start [config.yaml]` records Binance; `deno task demo [--duration SECONDS]`
 * records the built-in simulator instead, then prints what it wrote and how to query it.
 *
 * Wires the collector (lib/app.ts) with the cron jobs, the status server, cloud sync and Telegram. Secrets and
 * the environment are read here and nowhere below.
 */
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { registerCronJobs, runStartupJobs } from "./cron/mod.ts";
import {
  collectorJournal,
  FileFundingHistory,
  isPerpetual,
  symbolsWithoutMarkPrice,
} from "./cron/funding.ts";
import { startApp } from "./lib/app.ts";
import { Rclone, remoteRoot } from "./lib/cloud/rclone.ts";
import { manifestIndex } from "./lib/cloud/file_index.ts";
import { CloudSync } from "./lib/cloud/sync.ts";
import { collectorFleetSource, fleetIdentity } from "./lib/fleet/collector_source.ts";
import { FleetPublisher } from "./lib/fleet/publisher.ts";
import { isRemoteKv } from "./lib/ledger/open.ts";
import { sharedKv } from "./lib/ledger/scoped_kv.ts";
import { type Config, loadConfigOrExit } from "./lib/config.ts";
import { type Market, profile } from "./lib/binance/markets.ts";
import { diskLevel, diskSpace } from "./lib/disk.ts";
import { consoleLogger } from "./lib/log.ts";
import { DailyLogFile } from "./lib/log_file.ts";
import { collectDailyInput } from "./lib/report/collect.ts";
import type { Alert } from "./lib/telegram/alerts.ts";
import { startTelegram, type TelegramBot } from "./lib/telegram/bot.ts";
import { startTickerService } from "./lib/telegram/ticker_service.ts";
import { describeRun } from "./lib/pipeline/run_summary.ts";
import { startSimulator } from "./lib/sim/server.ts";
import { DayCoverageReader } from "./lib/charts/coverage_reader.ts";
import { CollectorStatusSource } from "./lib/status/collector_source.ts";
import { startStatusServer, type StatusServer } from "./lib/status/server.ts";
import { VERSION } from "./lib/version.ts";

interface Args {
  configPath: string;
  demo: boolean;
  durationSec: number | null;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { configPath: "config.yaml", demo: false, durationSec: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--version") {
      console.log(`binance-collector ${VERSION}`);
      Deno.exit(0);
    } else if (a === "--help" || a === "-h") {
      console.log(USAGE);
      Deno.exit(0);
    } else if (a === "--demo") args.demo = true;
    else if (a === "--duration") {
      const v = Number(argv[++i]);
      if (!(v > 0)) usage(`--duration needs a positive number of seconds, got ${argv[i]}`);
      args.durationSec = v;
    } else if (a.startsWith("-")) usage(`unknown option ${a}`);
    else args.configPath = a;
  }
  return args;
}

const USAGE = `Usage: deno task start [config.yaml] [options]
       deno task demo [--duration SECONDS]

Records Binance market data as config.yaml says (default ./config.yaml; every key: docs/config.md).
Ctrl-C or SIGTERM stops it cleanly: buffered rows are written first.

Options:
  --demo               record the built-in simulator instead of Binance, into <data_dir>/demo
  --duration SECONDS   stop after this many seconds
  --version            print the version and exit
  -h, --help           print this help and exit

Environment:
  TELEGRAM_BOT_TOKEN     Telegram bot token for alerts and reports to telegram_chat_id
  DENO_KV_ACCESS_TOKEN   access token of a remote kv_path (https://...)`;

function usage(problem: string): never {
  console.error(`${problem}\n\n${USAGE}`);
  Deno.exit(2);
}

/** The demo records the simulator with the user's symbols and streams, into its own data directory. */
function demoConfig(
  config: Config,
  urls: Record<Market, { restUrl: string; wsUrl: string }>,
): Config {
  return {
    ...config,
    dataDir: `${config.dataDir}/demo`,
    kvPath: `${config.dataDir}/demo/_state/ledger.sqlite`,
    flushIntervalSec: Math.min(config.flushIntervalSec, 10),
    status: { ...config.status, port: 0 },
    markets: {
      spot: { ...config.markets.spot, ...urls.spot },
      usdm: { ...config.markets.usdm, ...urls.usdm },
      coinm: { ...config.markets.coinm, ...urls.coinm },
    },
  };
}

async function main(): Promise<void> {
  const args = parseArgs(Deno.args);
  let config = await loadConfigOrExit(args.configPath, Deno.env);
  const logFile = new DailyLogFile({ dir: config.logDir, retentionDays: config.logRetentionDays });
  const log = consoleLogger({ also: logFile });
  for (const notice of config.notices) log("warn", notice);
  // Signals are heard from here on: a stop during start-up (recovery, REST initialisation) is carried out as
  // soon as the collector runs, cleanly, instead of killing the process half-way.
  let requestedStop: string | null = null;
  let stop = (why: string): Promise<void> | void => {
    requestedStop ??= why;
    log("info", "stop requested during start-up: stopping once started", { why });
  };
  Deno.addSignalListener("SIGINT", () => void stop("SIGINT"));
  Deno.addSignalListener("SIGTERM", () => void stop("SIGTERM"));
  log("info", "starting", { version: VERSION, config: args.configPath, dataDir: config.dataDir });
  let sim: Awaited<ReturnType<typeof startSimulator>> | null = null;
  if (args.demo) {
    const all = Object.values(config.markets).some((m) => m.enabled && m.all !== null);
    const symbols = [...new Set(Object.values(config.markets).flatMap((m) => m.enabled ? m.symbols : []))];
    sim = await startSimulator({ symbols: all ? "all" : symbols });
    config = demoConfig(config, sim);
    log("info", "demo: recording the built-in simulator", {
      spot: sim.spot.restUrl,
      dataDir: config.dataDir,
    });
  }
  await Deno.mkdir(config.dataDir, { recursive: true });
  const { freeBytes } = await diskSpace(config.dataDir);
  if (diskLevel(freeBytes, config.diskLowMb, config.diskMinMb) === "belowMinimum") {
    log("error", "refusing to start writing: free disk space is below disk_min_mb", {
      freeMb: Math.floor(freeBytes / 1048576),
      diskMinMb: config.diskMinMb,
    });
    await logFile.close();
    Deno.exit(1);
  }
  const startedAtMs = Date.now();
  // Alerts raised before Telegram is up (recovery) are dropped: the start alert follows right after.
  let telegram: TelegramBot | null = null;
  const alert = (a: Alert) => telegram?.sendAlert(a);
  const app = await startApp(config, log, { env: Deno.env, onAlert: alert });
  const { collector, ledger, manifest } = app;
  const stopping = new AbortController();
  // Read when used: with `symbols: all` the recorded symbols change.
  const markets = Object.values(config.markets).filter((m) => m.enabled).map((m) => ({
    market: m.market,
    get symbols() {
      return collector.symbolsOf(m.market);
    },
  }));
  // One reader of the ledger's coverage for the status page and the chat commands: a day is read once.
  const coverage = new DayCoverageReader(ledger);
  telegram = startTelegram({
    token: config.telegramToken?.reveal(),
    chatIds: config.telegramChatIds,
    apiRoot: config.telegram.apiRoot,
    log,
    settings: {
      markets,
      dataDir: config.dataDir,
      clockOffsetAlertMs: config.clockOffsetAlertMs,
      diskLowMb: config.diskLowMb,
      diskMinMb: config.diskMinMb,
    },
    sources: {
      status: () => collector.symbolStatus(),
      ledger,
      coverageDay: (date) => coverage.read(date),
      dailyInput: (date) => collectDailyInput(ledger, date),
      diskSpace: () => diskSpace(config.dataDir),
    },
  });
  alert({ kind: "start", version: VERSION, dataDir: config.dataDir, markets });
  const bot = telegram;
  const ticker = bot && startTickerService({
    collector,
    gaps: (filter) => ledger.listGaps(filter),
    diskSpace: () => diskSpace(config.dataDir),
    post: (text, tag) => bot.post(text, tag),
    intervalMs: config.telegram.tickerIntervalSec * 1000,
    flushReport: config.telegram.flushReport,
    log,
  });

  let status: StatusServer | null = null;
  let statusSource: CollectorStatusSource | null = null;
  if (config.status.enabled) {
    try {
      statusSource = new CollectorStatusSource(collector, ledger, {
        version: VERSION,
        dataDir: config.dataDir,
        startedAtMs,
        reader: coverage,
      });
      status = startStatusServer({
        hostname: config.status.hostname,
        port: config.status.port,
        metricsPerSymbol: config.status.metricsPerSymbol,
        source: statusSource,
        charts: statusSource,
        log,
      });
    } catch (err) {
      // Collection matters more than the page: e.g. the port is taken by another collector on this host.
      log("error", "status server not started; collecting without it", { error: String(err) });
    }
  }
  if (status) log("info", "status page", { url: status.url });

  let cloud: { sync: CloudSync; listening: Promise<void> } | null = null;
  let fleet: FleetPublisher | null = null;
  const here = dirname(fileURLToPath(import.meta.url));
  const cronDeps: Parameters<typeof registerCronJobs>[0] = {
    flush: {
      flush: (reason) => collector.flush(reason),
      lastFlushMs: () => collector.lastFlushMs,
      intervalMs: config.flushIntervalSec * 1000,
      log,
    },
    compact: {
      manifest,
      ledger,
      graceMs: Math.max(600_000, 2 * config.flushIntervalSec * 1000),
      log,
      jobs: app.jobs,
    },
    timeSync: {
      ntp: args.demo ? null : { server: config.ntpServer },
      markets: app.rest,
      logDir: config.logDir,
      sink: ledger,
      thresholdMs: config.clockOffsetAlertMs,
      onAlert: alert,
      log,
    },
    environment: {
      dataDir: config.dataDir,
      config,
      configPath: args.configPath,
      lockPath: `${here}/deno.lock`,
      repoDir: here,
      log,
    },
    dailyReport: {
      ledger,
      logDir: config.logDir,
      at: config.telegram.dailyReportAt,
      clockThresholdMs: config.clockOffsetAlertMs,
      // The day is marked delivered only once every chat took the report; otherwise a later run retries.
      deliver: bot ? (text, date, picture) => bot.deliverReport(date, text, picture) : undefined,
      log,
    },
  };
  cronDeps.funding = app.rest.filter((rest) => profile(rest.market).funding).map((rest) => {
    const streams = config.markets[rest.market].streams;
    return {
      market: rest.market,
      rest,
      journal: collectorJournal(collector, rest.market),
      history: new FileFundingHistory(manifest, rest.market),
      // Read at each run: with `symbols: all` (and at deliveries) the recorded symbols change.
      get symbols() {
        return collector.symbolsOf(rest.market).filter(isPerpetual);
      },
      get markPriceSymbols() {
        return symbolsWithoutMarkPrice({ symbols: collector.symbolsOf(rest.market), streams });
      },
      log,
    };
  });
  if (config.cloudRemote !== "") {
    const root = remoteRoot(config.cloudRemote, config.cloudPath);
    const common = {
      kv: ledger.kv,
      rclone: new Rclone(),
      files: manifestIndex(manifest, ledger),
      dataDir: config.dataDir,
      root,
      log,
    };
    let lastUploadMs: number | null = null;
    const sync = new CloudSync({
      ...common,
      onAlert: (a) => alert({ kind: "sync_failed", path: a.path, error: a.error }),
      onSynced: (r) => void (lastUploadMs = r.atUs / 1000),
    });
    app.sealUploaded((entry) => sync.isUploaded(entry));
    cloud = { sync, listening: sync.listen() };
    cronDeps.sync = {
      sync,
      cleanup: { ...common, cleanupDays: config.cleanupDays },
      // Settled days whose files the run found uploaded are sealed now, not at the next periodic save.
      onConfirmed: () => manifest.save(),
      log,
    };
    fleet = await FleetPublisher.create({
      // The fleet files are small: a stuck upload must not hold up the stop for long.
      rclone: new Rclone({ timeoutMs: 60_000 }),
      root,
      dataDir: config.dataDir,
      identity: fleetIdentity(config.shard, VERSION, startedAtMs),
      source: collectorFleetSource(collector, markets.map((m) => m.market), manifest, () => lastUploadMs),
      log,
    });
    cronDeps.fleet = { publisher: fleet, log };
    // One shard sends the fleet's daily report: any of them through the lease when they share a KV store,
    // else shard 0 (cron/fleet_report.ts).
    if (config.shard !== null && (isRemoteKv(config.kvPath) || config.shard.index === 0)) {
      cronDeps.fleetReport = {
        shard: config.shard.name,
        kv: sharedKv(ledger.kv),
        // Loaded when the report is made: it reads Parquet, which the main thread otherwise leaves to a worker.
        read: async (date, nowMs) =>
          (await import("./lib/fleet/read.ts")).readFleet({
            rclone: common.rclone,
            remote: root,
            date,
            nowMs,
            silentAfterMs: 900_000,
          }),
        deliver: bot ? (text, date) => bot.deliverReport(`fleet-${date}`, text) : undefined,
        logDir: config.logDir,
        at: config.telegram.dailyReportAt,
        log,
      };
    }
  }
  const jobs = registerCronJobs(cronDeps, undefined, stopping.signal);
  void runStartupJobs(jobs, log);

  let stopped: Promise<void> | null = null;
  stop = (why: string) => {
    stopped ??= (async () => {
      log("info", "stopping", { why });
      stopping.abort();
      ticker?.stop();
      await status?.close();
      statusSource?.close();
      await app.stop(); // closes the ledger, which ends the cloud queue listener
      await fleet?.stop(Date.now()).catch((err) =>
        log("warn", "last fleet heartbeat not published", { error: String(err) })
      );
      alert({ kind: "stop", version: VERSION, reason: why, uptimeMs: Date.now() - startedAtMs });
      await telegram?.stop();
      await cloud?.listening.catch(() => {});
      await sim?.close();
      if (args.demo) console.log(await describeRun(config.dataDir, startedAtMs * 1000));
      await logFile.close();
      Deno.exit(0);
    })();
    return stopped;
  };
  if (requestedStop !== null) void stop(requestedStop);
  if (args.durationSec !== null) setTimeout(() => void stop("duration reached"), args.durationSec * 1000);
}

if (import.meta.main) {
  // The compiled binary is also the compaction's merge child (lib/storage/merge_process.ts).
  if (Deno.args[0] === "--merge-child") await (await import("./lib/storage/merge_child.ts")).runMergeChild();
  else await main();
}
