/**
 * Cron job `time_sync` (every 10 minutes): measures the local clock against NTP and against each Binance
 * market's server time, stores the samples (ledger) and appends them to `{log_dir}/clock.jsonl`, and raises a
 * clock alert when an offset exceeds the threshold. Every run is a fresh measurement, so nothing is missed by
 * skipped runs.
 * @module
 */

import { join } from "node:path";
import type { Market } from "../lib/binance/types.ts";
import { type Logger, silentLogger } from "../lib/log.ts";
import { isoMicros } from "../lib/storage/manifest.ts";
import { DEFAULT_NTP_SERVER, type NtpQueryOptions, queryNtp } from "../lib/time/ntp.ts";
import { measureServerTime, type ServerTimeSource } from "../lib/time/server_offset.ts";
import { CronJob, type CronRegistrar, denoCron } from "./job.ts";

/** Where a clock sample comes from: an NTP server or a Binance market's `/time` endpoint. */
export type ClockSource = "ntp" | `binance-${Market}`;

/** One successful clock measurement (the shape the ledger's `addClockSample` stores, plus the server). */
export interface ClockSample {
  /** Local time (whole µs since the epoch) when the answer arrived. */
  atUs: number;
  source: ClockSource;
  /** The NTP server; null for Binance. */
  server: string | null;
  /** Reference clock minus local clock, ms. */
  offsetMs: number;
  /** Round trip, ms. */
  rttMs: number;
}

/** A measurement that failed (timeout, network, bad reply). */
export interface ClockFailure {
  atUs: number;
  source: ClockSource;
  server: string | null;
  error: string;
}

/** Raised when |offset| exceeds the threshold. */
export interface ClockAlert {
  kind: "clock";
  source: ClockSource;
  server: string | null;
  offsetMs: number;
  rttMs: number;
  thresholdMs: number;
  atUs: number;
}

/** Where samples are stored (the ledger's `addClockSample`). */
export interface ClockSampleSink {
  addClockSample(sample: ClockSample): Promise<void>;
}

/** A Binance market's server-time endpoint (a `RestClient` fits). */
export interface MarketTimeSource extends ServerTimeSource {
  readonly market: Market;
}

/** Dependencies of {@linkcode runTimeSync}. */
export interface TimeSyncDeps {
  /** NTP query settings (server, timeout); null skips NTP. */
  ntp: NtpQueryOptions | null;
  /** One per enabled market. */
  markets: readonly MarketTimeSource[];
  /** `{log_dir}`; samples and failures are appended to `clock.jsonl` there. */
  logDir: string;
  sink?: ClockSampleSink;
  onAlert?: (alert: ClockAlert) => void;
  /** @default {100} */
  thresholdMs?: number;
  /** The local clock being measured (ms); defaults to the clock behind `lib/clock.ts`. */
  clockMs?: () => number;
  log?: Logger;
}

/** What one run measured. */
export interface TimeSyncResult {
  samples: ClockSample[];
  failures: ClockFailure[];
  alerts: ClockAlert[];
}

/** Default alert threshold, ms. */
export const DEFAULT_CLOCK_THRESHOLD_MS = 100;

const defaultClockMs = () => performance.timeOrigin + performance.now();

function jsonLine(entry: ClockSample | ClockFailure): string {
  const base = { time: isoMicros(entry.atUs), source: entry.source, server: entry.server };
  return JSON.stringify(
    "error" in entry
      ? { ...base, offset_ms: null, rtt_ms: null, error: entry.error }
      : { ...base, offset_ms: entry.offsetMs, rtt_ms: entry.rttMs, error: null },
  ) + "\n";
}

/**
 * Measures every clock once (sequentially, so measurements do not disturb each other's round trips), records
 * the results and raises alerts. A failed measurement is recorded as a failure, not thrown; a failure to store
 * or log is thrown (the cron retries).
 */
export async function runTimeSync(deps: TimeSyncDeps, nowMs: number): Promise<TimeSyncResult> {
  const clockMs = deps.clockMs ?? defaultClockMs;
  const threshold = deps.thresholdMs ?? DEFAULT_CLOCK_THRESHOLD_MS;
  const log = deps.log ?? silentLogger;
  const result: TimeSyncResult = { samples: [], failures: [], alerts: [] };
  const fail = (source: ClockSource, server: string | null, err: unknown) =>
    result.failures.push({ atUs: Math.round(nowMs * 1000), source, server, error: String(err) });

  if (deps.ntp !== null) {
    try {
      const m = await queryNtp({ ...deps.ntp, clockMs });
      result.samples.push({
        atUs: Math.round(m.timeMs * 1000),
        source: "ntp",
        server: m.server,
        offsetMs: m.offsetMs,
        rttMs: m.delayMs,
      });
    } catch (err) {
      fail("ntp", deps.ntp.server ?? DEFAULT_NTP_SERVER, err);
    }
  }
  for (const market of deps.markets) {
    try {
      const { offsetMs, rttMs, timeMs } = await measureServerTime(market, clockMs);
      const atUs = Math.round(timeMs * 1000);
      result.samples.push({ atUs, source: `binance-${market.market}`, server: null, offsetMs, rttMs });
    } catch (err) {
      fail(`binance-${market.market}`, null, err);
    }
  }

  for (const s of result.samples) {
    if (Math.abs(s.offsetMs) > threshold) {
      result.alerts.push({ kind: "clock", ...s, thresholdMs: threshold });
    }
  }
  for (const alert of result.alerts) deps.onAlert?.(alert);
  for (const f of result.failures) log("warn", "clock measurement failed", { ...f });

  const lines = [...result.samples, ...result.failures].map(jsonLine).join("");
  if (lines !== "") {
    await Deno.mkdir(deps.logDir, { recursive: true });
    await Deno.writeTextFile(join(deps.logDir, "clock.jsonl"), lines, { append: true });
  }
  for (const s of result.samples) await deps.sink?.addClockSample(s);
  return result;
}

/** Registers `time_sync` (every 10 minutes) with `cron` and returns the job. */
export function registerTimeSync(
  deps: TimeSyncDeps,
  cron: CronRegistrar = denoCron,
  signal?: AbortSignal,
): CronJob<TimeSyncResult> {
  const job = new CronJob({
    name: "time_sync",
    schedule: "*/10 * * * *",
    backoffSchedule: [10_000, 60_000],
    run: (nowMs) => runTimeSync(deps, nowMs),
  }, deps.log ?? silentLogger);
  return job.register(cron, signal);
}
