/**
 * `deno task report --fleet REMOTE [YYYY-MM-DD] [--silent-after DURATION] [--top N]`: the fleet view, read
 * from the rclone remote every shard syncs into (lib/fleet): per shard its state, host, version, symbols,
 * heartbeat age and last upload; per market the symbols nothing records now; the day's gaps, worst symbols
 * first; the day's files per market and table. tools/report.ts parses the arguments and calls
 * {@linkcode fleetReport}.
 * @module
 */

import { Rclone } from "../lib/cloud/rclone.ts";
import { readFleet } from "../lib/fleet/read.ts";
import { formatFleetReport } from "../lib/fleet/text.ts";

/** The fleet options of `deno task report`. */
export interface FleetReportArgs {
  /** rclone root: `s3:bucket/binance`, `:local:/path` or a local directory. */
  remote: string;
  date: string;
  /** `--silent-after`, e.g. `15m`, `90s`, `1h`. */
  silentAfter: string;
  /** `--top`: symbols listed under the worst gaps. */
  top: string;
}

/** The usage lines of the fleet options (tools/report.ts prints them in its help). */
export const FLEET_USAGE =
  `  --fleet REMOTE  the fleet view instead: every shard's heartbeat, manifest and gaps, read
                  from the rclone remote the shards sync into (s3:bucket/binance, :local:/path
                  or a directory); rclone must be on PATH (RCLONE_CONFIG names its config)
  --silent-after D  a shard whose heartbeat is older is flagged silent (default 15m; s, m, h)
  --top N         symbols listed under the worst gaps (default 20)`;

/** A cannot-run problem with the arguments (exit code 2). */
export class FleetArgsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FleetArgsError";
  }
}

/**
 * Milliseconds of `90s`, `15m`, `1h` (a bare number is minutes).
 *
 * @example
 * ```ts
 * parseDuration("15m"); // 900000
 * ```
 */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(text.trim());
  if (m === null || !(Number(m[1]) > 0)) {
    throw new FleetArgsError(`--silent-after: expected a duration such as 90s, 15m or 1h, got '${text}'`);
  }
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? "m") as "s" | "m" | "h"];
}

/** Reads the fleet and returns the report's text; throws `FleetArgsError` or `FleetReadError`. */
export async function fleetReport(
  args: FleetReportArgs,
  nowMs: number,
  rclone = new Rclone(),
): Promise<string> {
  if (args.remote.trim() === "") throw new FleetArgsError("--fleet: the remote is empty");
  const silentAfterMs = parseDuration(args.silentAfter);
  const top = Number(args.top);
  if (!Number.isInteger(top) || top < 0) {
    throw new FleetArgsError(`--top: expected a count, got '${args.top}'`);
  }
  const summary = await readFleet({ rclone, remote: args.remote, date: args.date, nowMs, silentAfterMs });
  return formatFleetReport(summary, { maxSymbols: top, details: true });
}
