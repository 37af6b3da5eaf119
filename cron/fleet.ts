/**
 * Cron job `fleet_heartbeat` (every minute, and at start): publishes this shard's heartbeat and, when it
 * changed, the manifest of its recent files to `_fleet/` of the shared remote (lib/fleet/publisher.ts), for
 * `deno task report --fleet` and the fleet's daily report. The last heartbeat, marked stopped, is published by
 * the stop (main.ts calls the publisher's `stop`).
 * @module
 */

import type { FleetPublisher, PublishResult } from "../lib/fleet/publisher.ts";
import { type Logger, silentLogger } from "../lib/log.ts";
import { CronJob, type CronRegistrar, denoCron } from "./job.ts";

/** Dependencies of the `fleet_heartbeat` job. */
export interface FleetDeps {
  publisher: FleetPublisher;
  log?: Logger;
}

/** Registers `fleet_heartbeat` (every minute) with `cron` and returns the job. */
export function registerFleet(
  deps: FleetDeps,
  cron: CronRegistrar = denoCron,
  signal?: AbortSignal,
): CronJob<PublishResult | null> {
  const job = new CronJob({
    name: "fleet_heartbeat",
    schedule: "* * * * *",
    // The next minute's run is the real retry; one early retry covers a brief remote hiccup.
    backoffSchedule: [15_000],
    run: (nowMs) => deps.publisher.publish(nowMs),
  }, deps.log ?? silentLogger);
  return job.register(cron, signal);
}
