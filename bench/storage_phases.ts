/**
 * The phases of the storage benchmark (bench/storage.ts), run in a child process per store version: paced
 * (rows at a steady rate, a flush every so often, event-loop lag and RSS), burst (rows as fast as the store
 * takes them) and the hourly compaction of the burst's files.
 * @module
 */
import process from "node:process";
import { join } from "node:path";
import { MarketFeed, type RowSink } from "./storage_feed.ts";
import { percentile } from "./stats.ts";

/** What the phases run with. */
export interface PhaseFlags {
  rate: number;
  seconds: number;
  flush: number;
  rows: number;
  flushRows: number;
}

/** p50/p99/max of ms values. */
export interface Spread {
  p50: number;
  p99: number;
  max: number;
}

/** One flush as the main thread saw it. */
export interface FlushFigures {
  takeMs: number;
  blockedMs: number;
  maxStallMs: number;
  wallMs: number;
  files: number;
  rows: number;
}

/** What one version measured. */
export interface Result {
  version: string;
  paced: {
    rows: number;
    flushes: FlushFigures[];
    lag: Spread;
    lagInFlush: Spread;
    rssMiB: { peak: number; end: number; samples: number[] };
  };
  burst:
    | { rows: number; rowsPerSec: number; cpuSecPerMillion: number; peakRssMiB: number; files: number }
    | null;
  compaction: {
    filesBefore: number;
    filesAfter: number;
    seconds: number;
    cpuSec: number;
    peakRssMiB: number;
    lag: Spread;
  } | null;
}

/** The modules of one version: `root` holds its `lib/` (null: the feed-only run, no store). */
export interface Version {
  name: string;
  root: string | null;
  /** 0.3's store and compaction API (before `lib/storage/parquet_jobs.ts`): no Parquet worker to give them. */
  api03: boolean;
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

/** A 1 ms timer fires every ~2 ms when idle: only delays of 3 ms and more are the loop being held up. */
const STALL_MS = 3;

export const round = (x: number) => Math.round(x * 10) / 10;
const mib = (bytes: number) => Math.round(bytes / 2 ** 20);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function spread(values: number[]): Spread {
  const s = Float64Array.from(values).sort();
  const at = (q: number) => s.length === 0 ? 0 : percentile(s, q);
  return { p50: round(at(0.5)), p99: round(at(0.99)), max: round(s.length ? s[s.length - 1]! : 0) };
}

interface Store extends RowSink {
  take(): unknown;
  write(batch: unknown): Promise<{ files: unknown[]; rows: number }>;
}

const feedOnly: Store = {
  row: () => {},
  take: () => null,
  write: () => Promise.resolve({ files: [], rows: 0 }),
};

const load = (v: Version, module: string) => import(`file://${join(v.root!, "lib", module)}`);

/** The version's store on a worker encoder, as the collector builds it (or the feed-only sink). */
async function openStore(v: Version, dataDir: string): Promise<{ store: Store; close(): void }> {
  if (v.root === null) return { store: feedOnly, close: () => {} };
  const { TableStore } = await load(v, "pipeline/table_store.ts");
  const { ParquetEncoder } = await load(v, "storage/parquet_encoder.ts");
  const encoder = new ParquetEncoder();
  // 0.3's constructor: (dataDir, manifest, encoder); 0.4's: (dataDir, { jobs }).
  const store = v.api03
    ? new TableStore(dataDir, undefined, encoder)
    : new TableStore(dataDir, { jobs: encoder });
  return { store, close: () => encoder.close() };
}

async function flushOnce(store: Store, lag: LagMonitor | null, written?: unknown[]): Promise<FlushFigures> {
  const t0 = performance.now();
  const batch = store.take();
  const takeMs = performance.now() - t0;
  const from = lag?.inFlush.length ?? 0;
  if (lag) lag.flushing = true;
  const result = await store.write(batch);
  if (lag) lag.flushing = false;
  written?.push(...result.files);
  const stalls = lag?.inFlush.slice(from) ?? [];
  return {
    takeMs: round(takeMs),
    blockedMs: round(takeMs + stalls.filter((x) => x >= STALL_MS).reduce((a, b) => a + b, 0)),
    maxStallMs: round(Math.max(takeMs, ...stalls)),
    wallMs: round(performance.now() - t0),
    files: result.files.length,
    rows: result.rows,
  };
}

async function paced(store: Store, flags: PhaseFlags): Promise<Result["paced"]> {
  const feed = new MarketFeed();
  const lag = new LagMonitor();
  const rss: number[] = [];
  const sampler = setInterval(() => rss.push(process.memoryUsage.rss()), 500);
  const flushes: FlushFigures[] = [];
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
    lag: spread(lag.all),
    lagInFlush: spread(lag.inFlush),
    rssMiB: {
      peak: mib(Math.max(...rss)),
      end: mib(rss.at(-1) ?? 0),
      samples: rss.filter((_, i) => i % 20 === 0).map(mib),
    },
  };
}

async function burst(store: Store, flags: PhaseFlags, written: unknown[]): Promise<Result["burst"]> {
  const feed = new MarketFeed();
  let peak = 0;
  let files = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const startUs = Date.now() * 1000 + 3_600_000_000; // an hour of its own, apart from the paced phase
  for (let done = 0; done < flags.rows;) {
    const n = Math.min(2000, flags.rows - done);
    // 10k rows per second of local time, as at the paced phase's rate.
    feed.push(store, n, startUs + done * 100, startUs + (done + n) * 100);
    done += n;
    if (done % flags.flushRows === 0 || done === flags.rows) {
      files += (await flushOnce(store, null, written)).files;
    } else await sleep(0); // the collector yields between frames; encodes finish meanwhile
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

/**
 * The hourly compaction of the burst's files, as the cron job runs it (0.4: in a Parquet worker; the collector
 * gives its own, here the burst's is closed first and one is started, so one worker runs either way).
 */
async function compaction(v: Version, dataDir: string, files: unknown[]): Promise<Result["compaction"]> {
  const { Manifest } = await load(v, "storage/manifest.ts");
  const { compactFinishedHours } = await load(v, "storage/compact.ts");
  const manifest = await Manifest.load(dataDir);
  for (const f of files) manifest.add(f);
  const filesBefore = manifest.size;
  const jobs = v.api03 ? undefined : new (await load(v, "storage/parquet_encoder.ts")).ParquetEncoder();
  const lag = new LagMonitor();
  let peak = 0;
  const sampler = setInterval(() => peak = Math.max(peak, process.memoryUsage.rss()), 250);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const report = await compactFinishedHours({ manifest, jobs }, Date.now() + 4 * 3_600_000);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sampler);
  lag.stop();
  jobs?.close();
  if (report.errors.length > 0) throw new Error(`compaction failed: ${report.errors[0].message}`);
  return {
    filesBefore,
    filesAfter: manifest.size,
    seconds: round(seconds),
    cpuSec: round((cpu.user + cpu.system) / 1e6),
    peakRssMiB: mib(Math.max(peak, process.memoryUsage.rss())),
    lag: spread(lag.all),
  };
}

/** Runs every phase for one version in this process. */
export async function runPhases(v: Version, flags: PhaseFlags): Promise<Result> {
  const dataDir = await Deno.makeTempDir({ prefix: "bench-storage-" });
  try {
    const a = await openStore(v, dataDir);
    const pacedResult = await paced(a.store, flags);
    a.close();
    if (v.root === null || flags.rows <= 0) {
      return { version: v.name, paced: pacedResult, burst: null, compaction: null };
    }
    const b = await openStore(v, dataDir);
    const written: unknown[] = [];
    const burstResult = await burst(b.store, flags, written);
    b.close();
    return {
      version: v.name,
      paced: pacedResult,
      burst: burstResult,
      compaction: await compaction(v, dataDir, written),
    };
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
}
