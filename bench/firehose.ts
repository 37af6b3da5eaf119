/**
 * `deno task bench`: the simulator's firehose (its own process) into, first, a bare Deno WebSocket client that
 * only counts frames and, second, the full collector pipeline (journal + books + Parquet), on the same streams.
 * Reports messages/s, CPU seconds per million messages, peak RSS, and arrival-to-journal latencies.
 *
 * Flags: see {@link USAGE} (`--help`).
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { startApp } from "../lib/app.ts";
import { planStreams } from "../lib/binance/stream_plan.ts";
import { nowUs } from "../lib/clock.ts";
import { parseConfig } from "../lib/config.ts";
import { silentLogger } from "../lib/log.ts";
import type { SegmentFile } from "../lib/storage/journal.ts";
import { startSimProcess } from "./sim_process.ts";
import { percentile } from "./stats.ts";

const STREAMS = ["depth@100ms", "aggTrade", "bookTicker", "kline_1s"];

const USAGE = `Usage: deno task bench [flags]

Runs the simulator's firehose into a bare WebSocket client, then into the full collector, and reports
messages/s, CPU seconds per million messages, peak RSS and arrival-to-journal latencies.

  --symbols N         spot symbols, each with ${STREAMS.join(", ")} (default 50)
  --seconds S         length of each phase (default 30)
  --minutes M         instead of --seconds: a long run, RSS and heap sampled every minute
  --bare-seconds S    length of the bare client's phase (default: the collector's)
  --rate R            book changes per second per symbol (default 1000)
  --tick-ms T         simulator engine step in ms; 0 = back to back (default 5)
  -h, --help          print this help and exit`;

function parseFlags(args: string[]) {
  try {
    return parseArgs({
      args,
      options: {
        symbols: { type: "string", default: "50" },
        seconds: { type: "string", default: "30" },
        minutes: { type: "string" },
        "bare-seconds": { type: "string" },
        rate: { type: "string", default: "1000" },
        "tick-ms": { type: "string", default: "5" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (err) {
    console.error(`bench: ${(err as Error).message}\n\n${USAGE}`);
    Deno.exit(2);
  }
}

const flags = parseFlags(Deno.args);
if (flags.help) {
  console.log(USAGE);
  Deno.exit(0);
}
const nSymbols = Number(flags.symbols);
const seconds = flags.minutes ? Number(flags.minutes) * 60 : Number(flags.seconds);
const bareSeconds = flags["bare-seconds"] ? Number(flags["bare-seconds"]) : seconds;
const symbols = Array.from({ length: nSymbols }, (_, i) => `S${String(i).padStart(3, "0")}USDT`);

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/**
 * Samples memory every 250 ms; returns the peak RSS and, per minute, the last RSS and the main isolate's heap in
 * use (RSS also holds the Parquet worker's wasm memory, which only grows to its largest flush).
 */
function sampleRss() {
  let peak = 0;
  const perMinute: number[] = [];
  const heapPerMinute: number[] = [];
  const t0 = Date.now();
  const timer = setInterval(() => {
    const { rss, heapUsed } = Deno.memoryUsage();
    peak = Math.max(peak, rss);
    const minute = Math.floor((Date.now() - t0) / 60_000);
    perMinute[minute] = rss;
    heapPerMinute[minute] = heapUsed;
  }, 250);
  return {
    stop: () => clearInterval(timer),
    get peak() {
      return peak;
    },
    perMinute,
    heapPerMinute,
  };
}

const mib = (b: number) => `${(b / 1048576).toFixed(0)} MiB`;

/** Phase 1: a bare client that only counts frames, on the same connections as the collector's plan. */
async function bare(wsUrl: string): Promise<{ rate: number; cpu: number; rss: number }> {
  const plan = planStreams({ market: "spot", wsUrl, symbols, streams: STREAMS });
  let frames = 0;
  const sockets = plan.connections.map((c) => {
    const ws = new WebSocket(`${c.url}?streams=${c.streams.map((s) => s.name).join("/")}`);
    ws.onmessage = () => frames++;
    return ws;
  });
  await new Promise((r) => setTimeout(r, 2000)); // warm up
  const rss = sampleRss();
  const f0 = frames;
  const c0 = cpuSeconds();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, bareSeconds * 1000));
  const dt = (performance.now() - t0) / 1000;
  const result = { rate: (frames - f0) / dt, cpu: cpuSeconds() - c0, rss: rss.peak };
  rss.stop();
  for (const ws of sockets) ws.close();
  await new Promise((r) => setTimeout(r, 500));
  return result;
}

/** Phase 2: the collector, with the journal's file wrapped to time when each record becomes durable. */
async function collector(restUrl: string, wsUrl: string) {
  const dataDir = await Deno.makeTempDir({ prefix: "bench-" });
  const config = parseConfig(
    `symbols: [${symbols.join(", ")}]
data_dir: ${dataDir}
flush_interval: 10
use_futures: false
markets:
  spot:
    rest_url: ${restUrl}
    ws_url: ${wsUrl}
    streams: [${STREAMS.join(", ")}]
`,
    "bench.yaml",
  );
  // Latency samples: arrival → appended (in memory), arrival → fsync done (durable).
  const appendLat: number[] = [];
  const durableLat: number[] = [];
  let pending: number[] = [];
  let syncing: number[] = [];
  let measuring = false;
  const openSegment = (path: string): SegmentFile => {
    const f = Deno.openSync(path, { write: true, createNew: true });
    return {
      writeSync: (p) => f.writeSync(p),
      sync: async () => {
        const covered = pending;
        pending = [];
        syncing = covered;
        await f.sync();
        const done = nowUs();
        for (const a of syncing) durableLat.push(done - a);
      },
      close: () => f.close(),
    };
  };
  const gapKinds = new Map<string, number>();
  const app = await startApp(config, silentLogger, {
    journal: { openSegment },
    onGap: (_m, g) => {
      const key = `${g.kind}: ${g.reason.replace(/\d+/g, "N").slice(0, 60)}`;
      gapKinds.set(key, (gapKinds.get(key) ?? 0) + 1);
    },
  });
  // Sample every 64th frame's latency by wrapping the journal's append.
  const journal = app.collector.journal;
  const append = journal.append.bind(journal);
  let n = 0;
  journal.append = (...a: Parameters<typeof append>) => {
    const r = append(...a);
    if (measuring && (++n & 63) === 0) {
      appendLat.push(nowUs() - a[0]);
      pending.push(a[0]);
    }
    return r;
  };
  await new Promise((r) => setTimeout(r, 3000)); // warm up: books sync
  const stats = () => app.collector.status().reduce((sum, m) => sum + m.stats.frames, 0);
  const rss = sampleRss();
  const f0 = stats();
  const c0 = cpuSeconds();
  const t0 = performance.now();
  measuring = true;
  await new Promise((r) => setTimeout(r, seconds * 1000));
  measuring = false;
  const dt = (performance.now() - t0) / 1000;
  const frames = stats() - f0;
  const cpu = cpuSeconds() - c0;
  rss.stop();
  const status = app.collector.status();
  await app.stop();
  const gaps = status.reduce((s, m) => s + m.stats.gaps, 0);
  await Deno.remove(dataDir, { recursive: true });
  const a = Float64Array.from(appendLat).sort();
  const d = Float64Array.from(durableLat).sort();
  return {
    rate: frames / dt,
    cpuPerMillion: cpu / (frames / 1e6),
    peak: rss.peak,
    perMinute: rss.perMinute,
    heapPerMinute: rss.heapPerMinute,
    appendP50: percentile(a, 0.5),
    appendP99: percentile(a, 0.99),
    durableP50: percentile(d, 0.5),
    durableP99: percentile(d, 0.99),
    gaps,
    gapKinds,
    frames,
  };
}

const sim = await startSimProcess([
  "--symbols",
  symbols.join(","),
  "--rate",
  String(flags.rate),
  "--tick-ms",
  String(flags["tick-ms"]),
]);
try {
  const conns =
    planStreams({ market: "spot", wsUrl: sim.spot.ws, symbols, streams: STREAMS }).connections.length;
  console.log(
    `firehose: ${nSymbols} spot symbols × ${
      STREAMS.join(", ")
    } on ${conns} connection(s); ${seconds} s per phase`,
  );
  const b = await bare(sim.spot.ws);
  console.log(`bare client:  ${b.rate.toFixed(0)} msg/s  (peak RSS ${mib(b.rss)})`);
  const c = await collector(sim.spot.rest, sim.spot.ws);
  console.log(
    [
      `collector:    ${c.rate.toFixed(0)} msg/s = ${(100 * c.rate / b.rate).toFixed(0)}% of the bare client`,
      `  CPU:        ${c.cpuPerMillion.toFixed(1)} s per million messages`,
      `  peak RSS:   ${mib(c.peak)}`,
      `  arrival → journal append: p50 ${c.appendP50.toFixed(0)} µs, p99 ${c.appendP99.toFixed(0)} µs`,
      `  arrival → fsynced:        p50 ${(c.durableP50 / 1000).toFixed(0)} ms, p99 ${
        (c.durableP99 / 1000).toFixed(0)
      } ms`,
      `  gaps: ${c.gaps}; frames measured: ${c.frames}`,
      ...[...c.gapKinds].map(([k, n]) => `    ${n} × ${k}`),
      flags.minutes ? `  RSS by minute: ${c.perMinute.map(mib).join(", ")}` : "",
      flags.minutes ? `  heap used by minute: ${c.heapPerMinute.map(mib).join(", ")}` : "",
    ].filter((l) => l !== "").join("\n"),
  );
} finally {
  sim.child.kill("SIGTERM");
  await sim.child.status;
}
