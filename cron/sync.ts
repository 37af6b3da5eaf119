/**
 * Cron job `sync` (every 5 minutes): queues an upload job for every finished file not yet on the remote
 * (lib/cloud/sync.ts; the KV queue listener does the uploads), then deletes local files that are confirmed
 * uploaded and older than `cleanup_days` (lib/cloud/cleanup.ts). Both find their work in the manifest and KV,
 * so a skipped or failed run is caught up by the next one.
 * @module
 */

import { cleanupLocal, type CleanupOptions, type CleanupReport } from "../lib/cloud/cleanup.ts";
import type { CloudSync, EnqueueReport } from "../lib/cloud/sync.ts";
import { type Logger, silentLogger } from "../lib/log.ts";
import { CronJob, type CronRegistrar, denoCron } from "./job.ts";

/** Dependencies of {@linkcode runSync}. */
export interface SyncDeps {
  /** The cloud sync whose `listen()` the process runs. */
  sync: CloudSync;
  cleanup: CleanupOptions;
  /**
   * Called after a run that found files confirmed uploaded: the collector saves its manifest then, so settled
   * days whose files are all uploaded leave memory now rather than at the next periodic save (lib/app.ts).
   */
  onConfirmed?: () => Promise<void>;
  log?: Logger;
}

/** What one run did. */
export interface SyncRunResult {
  enqueue: EnqueueReport;
  cleanup: CleanupReport;
}

/** A run in which some files due for cleanup were kept; the rest of the run was done. */
export class SyncRunError extends AggregateError {
  constructor(readonly result: SyncRunResult) {
    const { errors } = result.cleanup;
    super(errors, `Cleanup kept ${errors.length} file(s): ${errors[0]?.message}`);
    this.name = "SyncRunError";
  }
}

/**
 * Queues pending uploads, then cleans up, then calls `onConfirmed` if the run found files uploaded by an
 * earlier process; throws {@linkcode SyncRunError} after the run if a file due for deletion was kept.
 */
export async function runSync(deps: SyncDeps, nowMs: number): Promise<SyncRunResult> {
  const result = {
    enqueue: await deps.sync.enqueuePending(nowMs),
    cleanup: await cleanupLocal({ ...deps.cleanup, state: deps.sync.state }, nowMs),
  };
  // After the cleanup, so that a failed save does not hold it up (the periodic save catches up).
  if (result.enqueue.confirmed > 0) await deps.onConfirmed?.();
  if (result.cleanup.errors.length > 0) throw new SyncRunError(result);
  return result;
}

/** Registers `sync` (every 5 minutes) with `cron` and returns the job. */
export function registerSync(
  deps: SyncDeps,
  cron: CronRegistrar = denoCron,
  signal?: AbortSignal,
): CronJob<SyncRunResult> {
  const log: Logger = deps.log ?? silentLogger;
  const job = new CronJob({
    name: "sync",
    schedule: "*/5 * * * *",
    backoffSchedule: [30_000, 120_000],
    run: (nowMs) => runSync(deps, nowMs),
  }, log);
  return job.register(cron, signal);
}
