/**
 * All cron jobs: registers those whose dependencies are given, and runs the start-up catch-ups. Deno.cron
 * keeps no state across restarts and does not replay missed runs, so every job finds its own work and the
 * start-up runs cover the time the process was down.
 *
 * Needs `--unstable-cron` (deno.json enables it).
 * @module
 */

import type { Logger } from "../lib/log.ts";
import type { CompactionReport } from "../lib/storage/compact.ts";
import { type CompactDeps, registerCompact } from "./compact.ts";
import { type EnvironmentDeps, registerEnvironment } from "./environment.ts";
import { type DailyReportDeps, type DailyReportResult, registerDailyReport } from "./daily_report.ts";
import { type FleetDeps, registerFleet } from "./fleet.ts";
import { type FleetReportDeps, type FleetReportResult, registerFleetReport } from "./fleet_report.ts";
import { type FlushDeps, registerFlush } from "./flush.ts";
import { type FundingDeps, type FundingResult, registerFunding } from "./funding.ts";
import { type CronJob, type CronRegistrar, denoCron } from "./job.ts";
import { registerSync, type SyncDeps, type SyncRunResult } from "./sync.ts";
import { registerTimeSync, type TimeSyncDeps, type TimeSyncResult } from "./time_sync.ts";
import type { EnvironmentInfo } from "../lib/env_info.ts";
import type { PublishResult } from "../lib/fleet/publisher.ts";

/** Dependencies per job; a job whose entry is absent is not registered (e.g. `funding` without futures). */
export interface CronDeps {
  flush?: FlushDeps;
  compact?: CompactDeps;
  /** One entry per futures market recorded. */
  funding?: FundingDeps[];
  timeSync?: TimeSyncDeps;
  environment?: EnvironmentDeps;
  dailyReport?: DailyReportDeps;
  sync?: SyncDeps;
  /** With a cloud remote: this collector's heartbeat and manifest for the fleet view. */
  fleet?: FleetDeps;
  /** With shards and a cloud remote: the fleet's daily report (one shard sends it). */
  fleetReport?: FleetReportDeps;
}

/** The registered jobs, for start-up runs, status and tests. */
export interface CronJobs {
  flush?: CronJob<boolean>;
  compact?: CronJob<CompactionReport>;
  funding?: CronJob<FundingResult>;
  timeSync?: CronJob<TimeSyncResult>;
  environment?: CronJob<{ path: string; info: EnvironmentInfo }>;
  dailyReport?: CronJob<DailyReportResult>;
  sync?: CronJob<SyncRunResult>;
  fleet?: CronJob<PublishResult | null>;
  fleetReport?: CronJob<FleetReportResult>;
}

/**
 * Registers every job that has dependencies. Call once at start-up (Deno.cron names must be unique).
 *
 * @example
 * ```ts
 * import { consoleLogger } from "../lib/log.ts";
 * import { denoCron } from "./job.ts";
 *
 * const log = consoleLogger();
 * let lastFlushMs = Date.now();
 * const flush = (reason: string) => {
 *   log("info", "flush", { reason });
 *   lastFlushMs = Date.now();
 *   return Promise.resolve();
 * };
 * const stop = new AbortController();
 * const deps = { flush: { flush, lastFlushMs: () => lastFlushMs, intervalMs: 60_000 } };
 * const jobs = registerCronJobs(deps, denoCron, stop.signal);
 * await runStartupJobs(jobs, log); // [] (no job failed; flush has no start-up run)
 * stop.abort();
 * ```
 */
export function registerCronJobs(
  deps: CronDeps,
  cron: CronRegistrar = denoCron,
  signal?: AbortSignal,
): CronJobs {
  return {
    flush: deps.flush && registerFlush(deps.flush, cron, signal),
    compact: deps.compact && registerCompact(deps.compact, cron, signal),
    funding: deps.funding && deps.funding.length > 0
      ? registerFunding(deps.funding, cron, signal)
      : undefined,
    timeSync: deps.timeSync && registerTimeSync(deps.timeSync, cron, signal),
    environment: deps.environment && registerEnvironment(deps.environment, cron, signal),
    dailyReport: deps.dailyReport && registerDailyReport(deps.dailyReport, cron, signal),
    sync: deps.sync && registerSync(deps.sync, cron, signal),
    fleet: deps.fleet && registerFleet(deps.fleet, cron, signal),
    fleetReport: deps.fleetReport && registerFleetReport(deps.fleetReport, cron, signal),
  };
}

/**
 * The start-up runs: environment record, compaction (finishes a merge a crash interrupted), funding catch-up,
 * a first clock measurement, the daily reports' catch-ups, the sync and the first fleet heartbeat,
 * concurrently; the fleet report's catch-up after the heartbeat (on a fresh remote there is nothing to read
 * before it). Failures are logged, not thrown: the scheduled runs retry. Returns the names of the jobs that
 * failed.
 */
export async function runStartupJobs(
  jobs: CronJobs,
  log: Logger,
  nowMs: number = Date.now(),
): Promise<string[]> {
  const startup = [
    jobs.environment,
    jobs.compact,
    jobs.funding,
    jobs.timeSync,
    jobs.dailyReport,
    jobs.sync,
    jobs.fleet,
    jobs.fleetReport,
  ].filter((j) => j !== undefined);
  const heartbeat = jobs.fleet?.trigger(nowMs).catch(() => {});
  const results = await Promise.allSettled(
    startup.map((job) =>
      job === jobs.fleetReport
        ? Promise.resolve(heartbeat).then(() => job.trigger(nowMs))
        : job.trigger(nowMs)
    ),
  );
  const failed: string[] = [];
  results.forEach((r, i) => {
    if (r.status === "fulfilled") return;
    failed.push(startup[i]!.name);
    log("error", "start-up cron run failed", { job: startup[i]!.name, error: String(r.reason) });
  });
  return failed;
}
