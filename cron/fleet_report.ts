/**
 * Cron job `fleet_report`: the fleet's summary of the previous UTC day (lib/fleet), read from the shared remote,
 * written to `{log_dir}/fleet-report-<date>.txt` and handed to `deliver` (Telegram), by one shard of the fleet.
 *
 * Which shard: every shard that may send (`sends`) runs the job, and the one that takes the day's lease
 * (lib/fleet/lease.ts) in `kv` sends. When the shards share one KV store (`kv_path` a KV Connect URL), all
 * of them may send and the lease picks one; with a KV store per shard a lease would pick each, so only shard
 * index 0 sends (main.ts decides), and the lease in its own store only marks the day delivered.
 *
 * It runs an hour after `telegram.daily_report_at` (01:05 UTC by default), then hourly until delivered: the
 * `gaps` files of the day's last hour reach the remote about 20 minutes after midnight (compaction at :15, then
 * the upload). The start-up run catches up on a missed report, but not before that time.
 * @module
 */

import { join } from "node:path";
import { markReportDelivered, takeReportLease } from "../lib/fleet/lease.ts";
import type { FleetSummary } from "../lib/fleet/summary.ts";
import { formatFleetReport } from "../lib/fleet/text.ts";
import { type Logger, silentLogger } from "../lib/log.ts";
import { writeFileAtomic } from "../lib/storage/atomic_file.ts";
import { dailySchedule } from "./daily_report.ts";
import { CronJob, type CronRegistrar, denoCron } from "./job.ts";

/** Dependencies of {@linkcode runFleetReport}. */
export interface FleetReportDeps {
  /** This shard's name: the lease holder. */
  shard: string;
  /** The store the lease lives in (the shards' shared store, not a shard's prefixed view of it). */
  kv: Deno.Kv;
  /** The fleet's summary of a day at `nowMs` (lib/fleet/read.ts over the shared remote). */
  read: (date: string, nowMs: number) => Promise<FleetSummary>;
  /** Sends the text, e.g. to Telegram; resolves when delivered, rejects when not (retried later). */
  deliver?: (text: string, date: string) => Promise<void>;
  logDir: string;
  /** `telegram.daily_report_at`, `HH:MM` UTC: the shards' own reports; this one runs an hour later. */
  at: string;
  log?: Logger;
}

/** What a run did. */
export interface FleetReportResult {
  date: string;
  /** `sent`, or why not: too early, delivered before, or another shard holds the lease. */
  outcome: "sent" | "not due" | "delivered" | "held";
  /** The report file, when sent. */
  path: string | null;
}

const DAY_MS = 86_400_000;

/** `HH:MM` an hour after `at`, at most `23:59`. */
export function fleetReportTime(at: string): string {
  const [hh, mm] = at.split(":").map(Number) as [number, number];
  const minutes = Math.min(hh * 60 + mm + 60, 23 * 60 + 59);
  return `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
}

/** Sends the fleet report of the UTC day before `nowMs` if it is due and this shard takes the lease. */
export async function runFleetReport(deps: FleetReportDeps, nowMs: number): Promise<FleetReportResult> {
  const todayMs = nowMs - nowMs % DAY_MS;
  const date = new Date(todayMs - DAY_MS).toISOString().slice(0, 10);
  const [hh, mm] = fleetReportTime(deps.at).split(":").map(Number) as [number, number];
  if (nowMs < todayMs + (hh * 60 + mm) * 60_000) return { date, outcome: "not due", path: null };
  const lease = await takeReportLease(deps.kv, date, deps.shard, nowMs);
  if (!lease.taken) {
    deps.log?.("debug", "fleet report not sent here", { date, why: lease.why, holder: lease.lease.holder });
    return { date, outcome: lease.why, path: null };
  }
  const summary = await deps.read(date, nowMs);
  const text = formatFleetReport(summary, { maxShards: 12, maxSymbols: 10, details: false });
  const path = join(deps.logDir, `fleet-report-${date}.txt`);
  await writeFileAtomic(path, new TextEncoder().encode(text));
  await deps.deliver?.(text, date);
  await markReportDelivered(deps.kv, date, deps.shard, nowMs);
  deps.log?.("info", "fleet report delivered", { date, path });
  return { date, outcome: "sent", path };
}

/** Registers `fleet_report` an hour after `at`, then hourly to the end of the day. */
export function registerFleetReport(
  deps: FleetReportDeps,
  cron: CronRegistrar = denoCron,
  signal?: AbortSignal,
): CronJob<FleetReportResult> {
  const job = new CronJob({
    name: "fleet_report",
    schedule: dailySchedule(fleetReportTime(deps.at)),
    backoffSchedule: [60_000, 300_000, 900_000],
    run: (nowMs) => runFleetReport(deps, nowMs),
  }, deps.log ?? silentLogger);
  return job.register(cron, signal);
}
