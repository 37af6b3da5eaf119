/**
 * Cron job `environment` (at start and daily at 00:00 UTC): writes the environment record
 * (lib/env_info.ts: machine, software, the effective config with secrets masked) beside the data as
 * `{data_dir}/_meta/environment-<UTC date>.json`. A run rewrites that day's file, so after a restart it
 * describes the software and config now running.
 * @module
 */

import { join } from "node:path";
import type { Config } from "../lib/config.ts";
import { collectEnvironment, type EnvironmentInfo, type EnvironmentPaths } from "../lib/env_info.ts";
import { type Logger, silentLogger } from "../lib/log.ts";
import { writeFileAtomic } from "../lib/storage/atomic_file.ts";
import { CronJob, type CronRegistrar, denoCron } from "./job.ts";

/**
 * Dependencies of {@linkcode runEnvironment}: where the config, lock file and repo are, `data_dir`, and the
 * effective config to record (secrets are masked on the way).
 */
export interface EnvironmentDeps extends EnvironmentPaths {
  dataDir: string;
  config?: Config;
  log?: Logger;
}

/** Path of the environment record of the UTC date of `nowMs`. */
export function environmentPath(dataDir: string, nowMs: number): string {
  return join(dataDir, "_meta", `environment-${new Date(nowMs).toISOString().slice(0, 10)}.json`);
}

/** Collects the environment and writes it atomically; returns the path and the record. */
export async function runEnvironment(
  deps: EnvironmentDeps,
  nowMs: number,
): Promise<{ path: string; info: EnvironmentInfo }> {
  const info = await collectEnvironment(deps, nowMs, deps.config);
  const path = environmentPath(deps.dataDir, nowMs);
  await writeFileAtomic(path, new TextEncoder().encode(JSON.stringify(info, null, 2) + "\n"));
  (deps.log ?? silentLogger)("info", "environment recorded", { path, git_commit: info.git_commit });
  return { path, info };
}

/** Registers `environment` (daily, 00:00 UTC) with `cron` and returns the job. */
export function registerEnvironment(
  deps: EnvironmentDeps,
  cron: CronRegistrar = denoCron,
  signal?: AbortSignal,
): CronJob<{ path: string; info: EnvironmentInfo }> {
  const job = new CronJob({
    name: "environment",
    schedule: "0 0 * * *",
    backoffSchedule: [60_000, 600_000],
    run: (nowMs) => runEnvironment(deps, nowMs),
  }, deps.log ?? silentLogger);
  return job.register(cron, signal);
}
