/**
 * `deno task bench`: the collector (main.ts, a real process) beside a bare Deno client that only `JSON.parse`s
 * the same frames (bench/parse_client.ts), both fed by the simulator in its own process, measured from outside
 * in one run: CPU seconds per million messages (the whole process, Parquet worker included), peak RSS,
 * event-loop lag, files per flush, SIGTERM-to-exit time.
 *
 * - Firehose (default): N spot symbols with depth@100ms, aggTrade, bookTicker, kline_1s, the simulator stepping
 *   back to back.
 * - `--market`: the whole simulated market (`symbols: all`, ~1,500 spot + ~500 USD-M, realistic activity), the
 *   default streams and flush interval, for M minutes: average cores, RSS over time (its spread after the
 *   first 5 minutes, once every book is synced, after the first hour), files per flush and per hour, lag,
 *   time until every book is synced, REST 429/418, stop time.
 *
 * Flags: see {@link USAGE} (`--help`).
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { requestWeight } from "../lib/binance/endpoints.ts";
import { type Market, PROFILES } from "../lib/binance/markets.ts";
import { DEFAULT_SAFETY_MARGIN } from "../lib/binance/rest_scheduler.ts";
import { WeightWindow } from "../lib/binance/rest_pacing.ts";
import { planStreams } from "../lib/binance/stream_plan.ts";
import { freePort } from "../tests/_main_process.ts";
import { CollectorRun, type ProcessSecond } from "./collector_run.ts";
import { Scraper } from "./scraper.ts";
import { startSimProcess } from "./sim_process.ts";
import { percentile } from "./stats.ts";
import { snapshotBoundS } from "./sync_bound.ts";

const USAGE = `Usage: deno task bench [flags]

Runs the simulator in its own process, then a bare client that only JSON.parses the frames, then the collector
(main.ts) on the same streams, and compares them from outside (CPU per million messages, peak RSS, lag, files).

  --symbols N         firehose: spot symbols (default 10)
  --seconds S         firehose: length of each phase (default 60)
  --rate R            firehose: book changes per second per symbol (default 1000)
  --tick-ms T         firehose: simulator step in ms; 0 = back to back (default 0)
  --flush S           firehose: the collector's flush_interval (default 10)
  --market            the whole simulated market instead of the firehose
  --minutes M         --market: how long (default 30)
  --universe S,U      --market: spot and USD-M symbols (default 1500,500)
  --scrape S          --market: the status server on, /metrics fetched every S seconds (gzip, as Prometheus)
  --scrape-totals     --scrape: with status.metrics_per_symbol: false (only the market_* totals)
  --profile DIR       write the collector's V8 CPU profile (.cpuprofile) into DIR
  --logs DIR          keep the collector's logs (its log_dir and its output) in DIR
  -h, --help          print this help and exit`;

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const FIREHOSE_STREAMS = ["depth@100ms", "aggTrade", "bookTicker", "kline_1s"];

function flags() {
  try {
    return parseArgs({
      args: Deno.args,
      options: {
        symbols: { type: "string", default: "10" },
        seconds: { type: "string", default: "60" },
        rate: { type: "string", default: "1000" },
        "tick-ms": { type: "string", default: "0" },
        flush: { type: "string", default: "10" },
        market: { type: "boolean", default: false },
        minutes: { type: "string", default: "30" },
        universe: { type: "string", default: "1500,500" },
        scrape: { type: "string" },
        "scrape-totals": { type: "boolean", default: false },
        profile: { type: "string" },
        logs: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (err) {
    console.error(`bench: ${(err as Error).message}\n\n${USAGE}`);
    Deno.exit(2);
  }
}

/** Copies the collector's logs out of the work dir (`--logs DIR`) before it is removed. */
async function keepLogs(): Promise<void> {
  if (!f.logs) return;
  await Deno.mkdir(f.logs, { recursive: true });
  const copies: [string, string][] = [[`${work}/collector.log`, `${f.logs}/collector.out`]];
  try {
    for await (const e of Deno.readDir(`${work}/logs`)) {
      if (e.isFile) copies.push([`${work}/logs/${e.name}`, `${f.logs}/${e.name}`]);
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  for (const [from, to] of copies) await Deno.copyFile(from, to).catch(() => {});
  console.log(`collector logs in ${f.logs}`);
}

const f = flags();
if (f.help) {
  console.log(USAGE);
  Deno.exit(0);
}
const work = await Deno.makeTempDir({ prefix: "bench-" });
if (f.market) await market();
else await firehose();

async function firehose(): Promise<void> {
  const n = Number(f.symbols);
  const seconds = Number(f.seconds);
  const symbols = Array.from({ length: n }, (_, i) => `S${String(i).padStart(3, "0")}USDT`);
  const sim = await startSimProcess([
    "--symbols",
    symbols.join(","),
    "--rate",
    f.rate,
    "--tick-ms",
    f["tick-ms"],
  ]);
  try {
    // 1. The yardstick: parse only.
    const plan = planStreams({ market: "spot", wsUrl: sim.spot.ws, symbols, streams: FIREHOSE_STREAMS });
    const urls = plan.connections.map((c) => `${c.url}?streams=${c.streams.map((s) => s.name).join("/")}`);
    const client = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-net", "--allow-read", `${ROOT}bench/parse_client.ts`, String(seconds), ...urls],
      stdout: "piped",
      stderr: "inherit",
    });
    const bare = JSON.parse(new TextDecoder().decode((await client.output()).stdout)) as {
      frames: number;
      cpuSeconds: number;
      peakRssMb: number;
    };
    // 2. The collector on the same streams.
    const dataDir = `${work}/data`;
    const configPath = `${work}/config.yaml`;
    await Deno.writeTextFile(
      configPath,
      `symbols: [${symbols.join(", ")}]
data_dir: ${dataDir}
log_dir: ${work}/logs
flush_interval: ${f.flush}
use_futures: false
ntp_server: "127.0.0.1:9"
status:
  enabled: false
markets:
  spot:
    rest_url: ${sim.spot.rest}
    ws_url: ${sim.spot.ws}
    streams: [${FIREHOSE_STREAMS.join(", ")}]
`,
    );
    const run = new CollectorRun(configPath, `${work}/collector.log`, f.profile);
    await run.waitFor(/collector started/, 60_000);
    const c0 = await run.cpu();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const stop = await run.stop();
    const stopped = run.lines("collector stopped").at(-1) ?? {};
    const frames = Number(stopped.frames);
    const flushes = run.lines("flushed").filter((l) => l.reason === "interval");
    const files = flushes.map((l) => Number(l.files));
    const bareCpuM = bare.cpuSeconds / (bare.frames / 1e6);
    const ourCpuM = (stop.cpu - c0) / (frames / 1e6);
    console.log(
      `firehose: ${n} spot symbols × ${FIREHOSE_STREAMS.join(", ")}, ${seconds} s each, flush ${f.flush} s\n`,
    );
    console.log(
      "| process | msgs/s | CPU s per 1M msgs | ratio | peak RSS | lag p99 / max | files per flush | SIGTERM → exit |",
    );
    console.log("|---|---|---|---|---|---|---|---|");
    console.log(
      `| parse-only client | ${(bare.frames / seconds / 1000).toFixed(1)}k | ${
        bareCpuM.toFixed(2)
      } | 1.00 | ${bare.peakRssMb.toFixed(0)} MiB | - | - | - |`,
    );
    console.log(
      `| collector | ${(frames / seconds / 1000).toFixed(1)}k | ${ourCpuM.toFixed(2)} | ${
        (ourCpuM / bareCpuM).toFixed(2)
      } | ${run.peakRssMb.toFixed(0)} MiB | ${stopped.lagP99Ms} / ${stopped.lagMaxMs} ms | ${
        files.length ? Math.max(...files) : "-"
      } | ${(stop.stopMs / 1000).toFixed(1)} s (exit ${stop.code}) |`,
    );
    console.log(
      `\nRSS by 10 s: ${
        run.samples.filter((_, i) => i % 10 === 0).map((s) => s.rssMb.toFixed(0)).join(", ")
      } MiB`,
    );
    for (const h of run.lines("health").slice(1)) {
      console.log(
        `health: rss ${h.rssMb} MiB, main heap ${h.heapMb} MiB, external ${h.externalMb} MiB, buffered ${h.bufferedMb} MiB, lag p99 ${h.lagP99Ms} ms`,
      );
    }
    console.log(`\nevent-loop lag during flushes: ${flushLag(stopped, flushes)}`);
    if (f.profile) console.log(`CPU profile in ${f.profile}`);
  } finally {
    sim.child.kill("SIGINT");
    await sim.child.status;
    await keepLogs();
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
}

async function market(): Promise<void> {
  const minutes = Number(f.minutes);
  const sim = await startSimProcess(["--symbols", "all", "--universe", f.universe]);
  const scrapeS = f.scrape === undefined ? null : Number(f.scrape);
  const statusPort = scrapeS === null ? null : freePort();
  try {
    const dataDir = `${work}/data`;
    const configPath = `${work}/config.yaml`;
    await Deno.writeTextFile(
      configPath,
      `symbols: all
data_dir: ${dataDir}
log_dir: ${work}/logs
ntp_server: "127.0.0.1:9"
status:
  enabled: ${statusPort !== null}
  port: ${statusPort ?? 0}
  metrics_per_symbol: ${!f["scrape-totals"]}
markets:
  spot:
    rest_url: ${sim.spot.rest}
    ws_url: ${sim.spot.ws}
  usdm:
    rest_url: ${sim.usdm.rest}
    ws_url: ${sim.usdm.ws}
`,
    );
    const run = new CollectorRun(configPath, `${work}/collector.log`, f.profile);
    await run.waitFor(/collector started/, 120_000);
    // The run's clock starts once the collector is up; the samples' clock (`atS`) at its spawn.
    const startS = run.elapsedS();
    const sinceStartS = () => run.elapsedS() - startS;
    const c0 = await run.cpu();
    let syncedAtS: number | null = null;
    const scraper = statusPort === null
      ? null
      : new Scraper(`http://127.0.0.1:${statusPort}/metrics`, scrapeS!);
    while (sinceStartS() / 60 < minutes) {
      await new Promise((r) => setTimeout(r, 5000));
      const h = run.lines("health").at(-1);
      if (syncedAtS === null && h && Number(h.symbols) > 0) {
        // Depth books: one per symbol with a depth stream (the default streams have one everywhere).
        if (Number(h.booksSynced) >= Number(h.symbols)) syncedAtS = sinceStartS();
      }
    }
    const wallS = sinceStartS();
    await scraper?.stop();
    const stop = await run.stop();
    // The first health line is logged right after start-up and covers its first second, not a minute.
    const [startup, ...health] = run.lines("health");
    const stopped = run.lines("collector stopped").at(-1) ?? {};
    // The recovery flush at start-up writes nothing: the figures are those of the flushes while recording.
    const flushes = run.lines("flushed").filter((l) => l.reason !== "recovery");
    const files = flushes.map((l) => Number(l.files));
    const perHour = files.reduce((a, b) => a + b, 0) / (wallS / 3600);
    const rssFrom = (fromS: number) => run.samples.filter((s) => s.atS >= fromS).map((s) => s.rssMb);
    const late = rssFrom(300);
    const last = health.at(-1) ?? {};
    console.log(`whole market: ${f.universe} symbols (spot,usdm), default streams, ${minutes} min\n`);
    console.log("| figure | value |\n|---|---|");
    const row = (k: string, v: string) => console.log(`| ${k} | ${v} |`);
    row("symbols recorded", String(last.symbols ?? "?"));
    row("messages", `${stopped.frames} (${(Number(stopped.frames) / wallS).toFixed(0)} msgs/s)`);
    row("CPU", `${((stop.cpu - c0) / wallS).toFixed(2)} cores on average`);
    row(
      "RSS",
      `peak ${run.peakRssMb.toFixed(0)} MiB; after 5 min ${spread(late.length ? late : rssFrom(0))}`,
    );
    // The books take their memory as they sync, paced by the REST weight budget (~13 min for the whole
    // market), and the hourly compaction adds a merge's working set: flatness once both have happened.
    if (syncedAtS !== null) row("RSS once every book synced", spread(rssFrom(startS + syncedAtS)));
    if (wallS > 3900) row("RSS after the first hour", spread(rssFrom(startS + 3600)));
    row("merge processes (the compaction's)", mergeProcesses(run));
    row(
      "files per flush",
      files.length ? `${Math.min(...files)}–${Math.max(...files)} over ${files.length} flushes` : "-",
    );
    row("files per hour", perHour.toFixed(0));
    const captureMs = flushes.map((l) => Number(l.captureMs) || 0);
    const stateKb = flushes.map((l) => Number(l.stateKb) || 0);
    row(
      "flush: state copy (held, in slices) / checkpoint state",
      `median ${captureMs.length ? percentile(Float64Array.from(captureMs).sort(), 0.5) : 0} ms, max ${
        Math.max(0, ...captureMs)
      } ms (first flush ${captureMs[0] ?? "-"} ms) / max ${(Math.max(0, ...stateKb) / 1024).toFixed(1)} MiB`,
    );
    row(
      "event-loop lag",
      `p99 ${stopped.lagP99Ms} ms, max ${stopped.lagMaxMs} ms (whole run); worst minute p99 ${
        Math.max(0, ...health.map((h) => Number(h.lagP99Ms) || 0))
      } ms; start-up's first second max ${startup?.lagMaxMs ?? "?"} ms`,
    );
    row("event-loop lag during flushes", flushLag(stopped, flushes));
    row("CPU around the worst flush", cpuAroundWorstFlush(run, flushes));
    row("every book synced after", syncedAtS === null ? "not within the run" : `${syncedAtS.toFixed(0)} s`);
    row("books synced (from the first snapshot request)", firstSyncs(run));
    row("REST 429 / 418", `${last.restThrottled ?? "?"} / ${last.restBanned ?? "?"}`);
    row("SIGTERM → exit", `${(stop.stopMs / 1000).toFixed(1)} s (exit ${stop.code})`);
    if (scraper) {
      row(
        `/metrics every ${scrapeS} s (gzip${f["scrape-totals"] ? ", totals only" : ""})`,
        scraper.summary(),
      );
    }
    const minutely = run.samples.filter((_, i) => i % 60 === 0);
    console.log(`\nRSS per minute: ${minutely.map((s) => s.rssMb.toFixed(0)).join(", ")} MiB`);
    console.log(
      `merge processes' RSS per minute: ${minutely.map((s) => s.childrenRssMb.toFixed(0)).join(", ")} MiB`,
    );
    for (const h of health) {
      console.log(
        `health: ${h.msgsPerSec} msgs/s, rss ${h.rssMb} MiB (main heap ${h.heapMb}, external ${h.externalMb}), buffered ${h.bufferedMb} MiB, lag p99 ${h.lagP99Ms} max ${h.lagMaxMs} ms, books ${h.booksSynced}/${h.symbols}`,
      );
    }
  } finally {
    sim.child.kill("SIGINT");
    await sim.child.status;
    await keepLogs();
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
}

/**
 * The lag while flushes ran beside the feed (the collector's stop line; each flush from its start to its commit
 * and the sample after; not the recovery's or the shutdown's), and the worst single flush of the `flushed` lines.
 */
function flushLag(stopped: Record<string, string>, flushes: Record<string, string>[]): string {
  const worst = Math.max(0, ...flushes.map((l) => Number(l.lagMaxMs) || 0));
  return `p99 ${stopped.flushLagP99Ms ?? "?"} ms, max ${stopped.flushLagMaxMs ?? "?"} ms; worst of the ` +
    `${flushes.length} flushes ${worst} ms`;
}

/**
 * The compaction's merge children (the collector's `merged in a child process` lines): how many, their time, the
 * biggest peak RSS one reported, and the most the collector and its children held together in a 1 s sample.
 */
function mergeProcesses(run: CollectorRun): string {
  const merges = run.lines("merged in a child process");
  if (merges.length === 0) return "none";
  const seconds = merges.reduce((n, l) => n + Number(l.seconds), 0);
  const peak = Math.max(...merges.map((l) => Number(l.peakRssMib)));
  const together = Math.max(...run.samples.map((s) => s.rssMb + s.childrenRssMb));
  return `${merges.length} merges, ${seconds.toFixed(0)} s in all; peak RSS of one ${peak} MiB; ` +
    `collector and merge processes together at most ${together.toFixed(0)} MiB`;
}

/** The range of 1 s RSS samples and its spread around the middle, ±%. */
function spread(rssMb: number[]): string {
  const [min, max] = [Math.min(...rssMb), Math.max(...rssMb)];
  const mid = (max + min) / 2;
  return `${min.toFixed(0)}–${max.toFixed(0)} MiB (±${(100 * (max - mid) / mid).toFixed(1)}%)`;
}

/** The main thread's wait for a CPU (ms per s) and the machine's cores busy and stolen (%) from `a` to `b`. */
function cpuBetween(
  a: ProcessSecond,
  b: ProcessSecond,
): { waitMsPerS: number; busyPct: number; stealPct: number } {
  const ticks = b.machine.total - a.machine.total;
  return {
    waitMsPerS: (b.mainWaitMs - a.mainWaitMs) / ((b.wallMs - a.wallMs) / 1000),
    busyPct: 100 * (b.machine.busy - a.machine.busy) / ticks,
    stealPct: 100 * (b.machine.steal - a.machine.steal) / ticks,
  };
}

/**
 * Whether the worst flush's stall came with a starved main thread: over the seconds sampled around that flush
 * (from its start to its commit), the main thread's wait on the run queue for a CPU and how busy the machine's
 * cores were (the simulator and the parse-only client share them), beside the medians over every flush and over
 * the run's seconds.
 */
function cpuAroundWorstFlush(run: CollectorRun, flushes: Record<string, string>[]): string {
  const samples = run.samples;
  const around = (l: Record<string, string>) => {
    const endMs = Date.parse(l._at!);
    const startMs = endMs - Number(l.ms);
    const a = samples.findLast((s) => s.wallMs <= startMs);
    const b = samples.find((s) => s.wallMs >= endMs);
    return a && b ? cpuBetween(a, b) : null;
  };
  const measured = flushes.map((l) => ({ l, cpu: around(l) })).filter((f) => f.cpu !== null);
  if (measured.length === 0 || samples.length < 2) return "-";
  const worst = measured.reduce((w, f) => Number(f.l.lagMaxMs) > Number(w.l.lagMaxMs) ? f : w);
  const perSecond = samples.slice(1).map((b, i) => cpuBetween(samples[i]!, b));
  const median = (xs: number[]) => percentile(Float64Array.from(xs).sort(), 0.5).toFixed(0);
  const all = measured.map((f) => f.cpu!);
  const w = worst.cpu!;
  return `lag ${worst.l.lagMaxMs} ms at ${worst.l._at!.slice(11, 19)}: the main thread waited for a CPU ${
    w.waitMsPerS.toFixed(0)
  } ms/s (flushes' median ${median(all.map((c) => c.waitMsPerS))}, the run's seconds' ${
    median(perSecond.map((c) => c.waitMsPerS))
  }); the machine's cores ${w.busyPct.toFixed(0)}% busy, ${w.stealPct.toFixed(1)}% stolen (flushes' median ${
    median(all.map((c) => c.busyPct))
  }%, the run's ${median(perSecond.map((c) => c.busyPct))}%)`;
}

/**
 * Each market's "books synced" line beside the least time its REST weight budget allows (the client's default
 * margin; 1,000 levels, the default orderbook_depth).
 */
function firstSyncs(run: CollectorRun): string {
  const lines = run.lines("books synced");
  if (lines.length === 0) return "not within the run";
  return lines.map((l) => {
    const market = String(l.market) as Market;
    const profile = PROFILES[market];
    const weight = requestWeight(profile.endpoints.depth!, { limit: 1000 });
    const bound = snapshotBoundS(
      Number(l.books),
      weight,
      new WeightWindow(profile.weightLimit, { margin: DEFAULT_SAFETY_MARGIN }).budget,
      Number(l.firstRequestMs),
    );
    return `${market} ${l.books} books, ${l.snapshots} snapshots, ${l.seconds} s (the budget allows ${
      bound.toFixed(0)
    } s)`;
  }).join("; ");
}
