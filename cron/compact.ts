/**
 * Cron job `compact` (hourly at minute 15): merges the part files of finished UTC hours into one file per
 * (market, table, hour) (lib/storage/compact.ts). The work is found in the manifest (every finished hour with
 * more than one file) and in a pending intent left by a crash, never from the time of the last run, so a
 * skipped or failed run is caught up by the next one. The merges never run on the collector's thread: the app
 * gives its jobs (`deps.jobs`: a child process per merge, lib/storage/merge_process.ts, or its Parquet worker,
 * where a merge takes turns with the flushes' encoding); without them, a worker is started for the run and
 * stopped after it. A
 * stop during a run ends it where it is: the next start removes its temp files and merges the hour again.
 * @module
 */

import { type Logger, silentLogger } from "../lib/log.ts";
import { compactFinishedHours, type CompactionReport, type CompactOptions } from "../lib/storage/compact.ts";
import { ParquetEncoder } from "../lib/storage/parquet_encoder.ts";
import { CronJob, type CronRegistrar, denoCron } from "./job.ts";

/** Dependencies of {@linkcode runCompact}: the shared manifest, grace period, optional ledger and logger. */
export type CompactDeps = CompactOptions;

/** A run in which some groups could not be merged; the rest were. */
export class CompactRunError extends AggregateError {
  constructor(readonly report: CompactionReport) {
    super(
      report.errors,
      `Compaction failed for ${report.errors.length} group(s): ${report.errors[0]?.message}`,
    );
    this.name = "CompactRunError";
  }
}

/**
 * Compacts every finished hour (in a worker started for the run, unless `deps.jobs` says where); throws
 * {@linkcode CompactRunError} after the run if any group failed.
 */
export async function runCompact(deps: CompactDeps, nowMs: number): Promise<CompactionReport> {
  const worker = deps.jobs ? null : new ParquetEncoder();
  let report: CompactionReport;
  try {
    report = await compactFinishedHours({ ...deps, jobs: deps.jobs ?? worker! }, nowMs);
  } finally {
    worker?.close();
  }
  if (report.errors.length > 0) throw new CompactRunError(report);
  return report;
}

/** Registers `compact` (hourly at minute 15, after the default 10 min grace) with `cron` and returns the job. */
export function registerCompact(
  deps: CompactDeps,
  cron: CronRegistrar = denoCron,
  signal?: AbortSignal,
): CronJob<CompactionReport> {
  const log: Logger = deps.log ?? silentLogger;
  const job = new CronJob({
    name: "compact",
    schedule: "15 * * * *",
    backoffSchedule: [60_000, 300_000, 900_000],
    run: async (nowMs) => {
      try {
        return await runCompact(deps, nowMs);
      } catch (err) {
        // The collector's stop closed the worker under the merge: not a failure to report.
        if (signal?.aborted && err instanceof CompactRunError) {
          log("info", "compaction interrupted by the stop", { compacted: err.report.compacted.length });
          return err.report;
        }
        throw err;
      }
    },
  }, log);
  return job.register(cron, signal);
}
