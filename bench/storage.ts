/**
 * `deno task bench:storage`: the table store alone at whole-market load (bench/storage_feed.ts: 2,000 symbols,
 * every table), each version in a process of its own: this tree's, and with `--baseline REV` the store of
 * that git revision, side by side in one run. Two phases per version:
 * - paced: `--rate` rows/s for `--seconds`, a flush every `--flush` s as the collector does (take, then write):
 *   event-loop lag (a 1 ms timer's delay, p50/p99/max, overall and during flushes), main-thread ms per flush
 *   (the synchronous `take()` plus the timer's delays of 3 ms or more while the flush ran: the time the loop
 *   was held up, the row feed's own work included), files per flush, RSS;
 * - burst: `--rows` rows as fast as the store takes them, a flush every `--flush-rows`: rows/s, process CPU
 *   seconds per million rows (main thread and worker), peak RSS.
 *
 * Flags: see {@link USAGE}.
 * @module
 */
import process from "node:process";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { MarketFeed, type RowSink } from "./storage_feed.ts";

const USAGE = `Usage: deno task bench:storage [flags]

The table store alone at whole-market load (2,000 symbols, every table): a paced phase (event-loop lag, main-
thread ms per flush, files per flush, RSS) and a burst phase (rows/s, CPU per million rows, peak RSS).

  --baseline REV     also run the store of git revision REV (e.g. the commit before 0.4), in its own process
  --rate R           paced rows per second (default 10000: the whole market)
  --seconds S        paced phase length (default 180)
  --flush F          seconds between flushes in the paced phase (default 60, the collector's default)
  --rows N           burst phase rows (default 3000000; 0 skips the phase)
  --flush-rows N     rows between flushes in the burst phase (default 600000: a minute at 10k rows/s)
  -h, --help         print this help and exit`;

interface Flags {
  baseline?: string;
  rate: number;
  seconds: number;
  flush: number;
  rows: number;
  flushRows: number;
}

/** What one version measured. */
interface Result {
  version: string;
  paced: {
    rows: number;
    flushes: {
      takeMs: number;
      blockedMs: number;
      maxStallMs: number;
      wallMs: number;
      files: number;
      rows: number;
    }[];
    lag: { p50: number; p99: number; max: number };
    lagInFlush: { p50: number; p99: number; max: number };
    rssMiB: { peak: number; end: number; samples: number[] };
  };
  burst:
    | { rows: number; rowsPerSec: number; cpuSecPerMillion: number; peakRssMiB: number; files: number }
    | null;
}

/** A 1 ms timer's delays: how long the event loop could not run it. */
class LagMonitor {
  readonly all: number[] = [];
  readonly inFlush: number[] = [];
  flushing = false;
  #last = performance.now();
  #timer = setInterval(() => {
    const now = performance.now();
    const lag = Math.max(0, now - this.#last - 1);
    this.#last = now;
    this.all.push(lag);
    if (this.flushing) this.inFlush.push(lag);
  }, 1);

  stop(): void {
    clearInterval(this.#timer);
  }
}

function percentiles(values: number[]): { p50: number; p99: number; max: number } {
  const s = Float64Array.from(values).sort();
  const at = (q: number) => s.length === 0 ? 0 : s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { p50: round(at(0.5)), p99: round(at(0.99)), max: round(s.length ? s[s.length - 1]! : 0) };
}

const round = (x: number) => Math.round(x * 10) / 10;
const STALL_MS = 3;
const mib = (bytes: number) => Math.round(bytes / 2 ** 20);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Store extends RowSink {
  take(): unknown;
  write(batch: unknown): Promise<{ files: unknown[]; rows: number }>;
}

/** This tree's store, or (`libDir` given) a baseline's, on a worker encoder as the collector builds it. */
async function openStore(libDir: string | null, dataDir: string): Promise<{ store: Store; close(): void }> {
  const root = libDir ?? new URL("..", import.meta.url).pathname;
  const { TableStore } = await import(`file://${join(root, "lib/pipeline/table_store.ts")}`);
  const { ParquetEncoder } = await import(`file://${join(root, "lib/storage/parquet_encoder.ts")}`);
  const encoder = new ParquetEncoder();
  // 0.3's constructor: (dataDir, manifest, encoder); 0.4's: (dataDir, { jobs }).
  const store = libDir
    ? new TableStore(dataDir, undefined, encoder)
    : new TableStore(dataDir, { jobs: encoder });
  return { store, close: () => encoder.close() };
}

async function flushOnce(store: Store, lag: LagMonitor | null) {
  const t0 = performance.now();
  const batch = store.take();
  const takeMs = performance.now() - t0;
  const from = lag?.inFlush.length ?? 0;
  if (lag) lag.flushing = true;
  const result = await store.write(batch);
  if (lag) lag.flushing = false;
  const stalls = lag?.inFlush.slice(from) ?? [];
  return {
    takeMs: round(takeMs),
    // A 1 ms timer fires every ~2 ms when idle: only delays of 3 ms and more are the loop being held up.
    blockedMs: round(takeMs + stalls.filter((x) => x >= STALL_MS).reduce((a, b) => a + b, 0)),
    maxStallMs: round(Math.max(takeMs, ...stalls)),
    wallMs: round(performance.now() - t0),
    files: result.files.length,
    rows: result.rows,
  };
}

async function paced(store: Store, flags: Flags): Promise<Result["paced"]> {
  const feed = new MarketFeed();
  const lag = new LagMonitor();
  const rss: number[] = [];
  const sampler = setInterval(() => rss.push(process.memoryUsage.rss()), 500);
  const flushes: Result["paced"]["flushes"] = [];
  const t0 = performance.now();
  const wallUs = Date.now() * 1000;
  let pushed = 0;
  const feeder = setInterval(() => {
    const due = Math.floor((performance.now() - t0) / 1000 * flags.rate);
    if (due > pushed) {
      const at = wallUs + (performance.now() - t0) * 1000;
      feed.push(store, due - pushed, at - 10_000, at);
      pushed = due;
    }
  }, 10);
  for (let next = flags.flush; next <= flags.seconds; next += flags.flush) {
    await sleep(Math.max(0, t0 + next * 1000 - performance.now()));
    flushes.push(await flushOnce(store, lag));
  }
  clearInterval(feeder);
  flushes.push(await flushOnce(store, lag));
  lag.stop();
  clearInterval(sampler);
  return {
    rows: pushed,
    flushes,
    lag: percentiles(lag.all),
    lagInFlush: percentiles(lag.inFlush),
    rssMiB: {
      peak: mib(Math.max(...rss)),
      end: mib(rss.at(-1) ?? 0),
      samples: rss.filter((_, i) => i % 20 === 0).map(mib),
    },
  };
}

async function burst(store: Store, flags: Flags): Promise<Result["burst"]> {
  if (flags.rows <= 0) return null;
  const feed = new MarketFeed();
  let peak = 0;
  let files = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const startUs = Date.now() * 1000 + 3_600_000_000; // an hour of its own, apart from the paced phase
  for (let done = 0; done < flags.rows;) {
    const n = Math.min(2000, flags.rows - done);
    // 10k rows per second of local time: hour boundaries come as often as in the paced phase.
    feed.push(store, n, startUs + done * 100, startUs + (done + n) * 100);
    done += n;
    if (done % flags.flushRows === 0 || done === flags.rows) files += (await flushOnce(store, null)).files;
    else await sleep(0); // the collector yields between frames; encodes finish meanwhile
    if (done % 100_000 === 0) peak = Math.max(peak, process.memoryUsage.rss());
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    rows: flags.rows,
    rowsPerSec: Math.round(flags.rows / seconds),
    cpuSecPerMillion: round((cpu.user + cpu.system) / 1e6 / (flags.rows / 1e6)),
    peakRssMiB: mib(Math.max(peak, process.memoryUsage.rss())),
    files,
  };
}

async function child(version: string, libDir: string | null, flags: Flags): Promise<void> {
  const dataDir = await Deno.makeTempDir({ prefix: "bench-storage-" });
  try {
    const a = await openStore(libDir, dataDir);
    const pacedResult = await paced(a.store, flags);
    a.close();
    const b = await openStore(libDir, dataDir);
    const burstResult = await burst(b.store, flags);
    b.close();
    const result: Result = { version, paced: pacedResult, burst: burstResult };
    console.log(JSON.stringify(result));
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
}

async function runVersion(version: string, libDir: string | null, args: string[]): Promise<Result> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      new URL(import.meta.url).pathname,
      "--child",
      version,
      ...(libDir ? ["--lib", libDir] : []),
      ...args,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`the ${version} run failed`);
  return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!) as Result;
}

/** The `lib/` of git revision `rev`, extracted into a temp dir. */
async function baselineLib(rev: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "bench-baseline-" });
  const git = new Deno.Command("git", { args: ["archive", rev, "lib"], stdout: "piped" }).spawn();
  const tar = new Deno.Command("tar", { args: ["-x", "-C", dir], stdin: "piped" }).spawn();
  await git.stdout.pipeTo(tar.stdin);
  if (!(await git.status).success || !(await tar.status).success) {
    throw new Error(`cannot extract lib/ of ${rev}`);
  }
  return dir;
}

function report(results: Result[], flags: Flags): string {
  const lines = [
    `storage bench: paced ${flags.rate} rows/s for ${flags.seconds} s, flush every ${flags.flush} s; burst ${flags.rows} rows, flush every ${flags.flushRows}`,
  ];
  for (const r of results) {
    const f = r.paced.flushes.filter((x) => x.rows > 0);
    const avg = (k: "takeMs" | "blockedMs" | "wallMs" | "files") =>
      round(f.reduce((a, x) => a + x[k], 0) / Math.max(1, f.length));
    lines.push(
      `${r.version}:`,
      `  paced: ${r.paced.rows} rows; per flush: files ${avg("files")}, take() ${
        avg("takeMs")
      } ms, main thread blocked ${avg("blockedMs")} ms (max stall ${
        Math.max(...f.map((x) => x.maxStallMs))
      } ms), wall ${avg("wallMs")} ms`,
      `  event-loop lag ms: all p50 ${r.paced.lag.p50} p99 ${r.paced.lag.p99} max ${r.paced.lag.max}; during flushes p50 ${r.paced.lagInFlush.p50} p99 ${r.paced.lagInFlush.p99} max ${r.paced.lagInFlush.max}`,
      `  RSS MiB: peak ${r.paced.rssMiB.peak}, end ${r.paced.rssMiB.end}; every 10 s: ${
        r.paced.rssMiB.samples.join(" ")
      }`,
    );
    if (r.burst) {
      lines.push(
        `  burst: ${r.burst.rowsPerSec} rows/s, ${r.burst.cpuSecPerMillion} CPU s per million rows, peak RSS ${r.burst.peakRssMiB} MiB, ${r.burst.files} files`,
      );
    }
  }
  return lines.join("\n");
}

async function main(): Promise<void> {
  let v;
  try {
    v = parseArgs({
      args: Deno.args,
      options: {
        baseline: { type: "string" },
        rate: { type: "string", default: "10000" },
        seconds: { type: "string", default: "180" },
        flush: { type: "string", default: "60" },
        rows: { type: "string", default: "3000000" },
        "flush-rows": { type: "string", default: "600000" },
        child: { type: "string" },
        lib: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (err) {
    console.error(`bench:storage: ${(err as Error).message}\n\n${USAGE}`);
    Deno.exit(2);
  }
  if (v.help) {
    console.log(USAGE);
    return;
  }
  const flags: Flags = {
    baseline: v.baseline,
    rate: Number(v.rate),
    seconds: Number(v.seconds),
    flush: Number(v.flush),
    rows: Number(v.rows),
    flushRows: Number(v["flush-rows"]),
  };
  if (v.child) return await child(v.child, v.lib ?? null, flags);
  const pass = [
    "--rate",
    v.rate,
    "--seconds",
    v.seconds,
    "--flush",
    v.flush,
    "--rows",
    v.rows,
    "--flush-rows",
    v["flush-rows"],
  ];
  const results: Result[] = [];
  if (flags.baseline) {
    const lib = await baselineLib(flags.baseline);
    try {
      results.push(await runVersion(`baseline ${flags.baseline}`, lib, pass));
    } finally {
      await Deno.remove(lib, { recursive: true });
    }
  }
  results.push(await runVersion("this tree", null, pass));
  console.log(report(results, flags));
  console.log(JSON.stringify(results));
}

await main();
