/**
 * `deno task report [date] [--data-dir D] [--kv PATH]`: prints a UTC day's coverage per stream (with the hours
 * below 100%) and its gaps from the ledger. The date defaults to today (UTC); the ledger to
 * `{data_dir}/_state/ledger.sqlite`. `--fleet REMOTE` prints the fleet view of the shards syncing into an
 * rclone remote instead (tools/report_fleet.ts).
 * @module
 */

import { parseArgs } from "node:util";
import { isRemoteKv, openLedger } from "../lib/ledger/open.ts";
import { collectDailyInput } from "../lib/report/collect.ts";
import { buildDailyReport } from "../lib/report/daily.ts";
import { formatDailyReport } from "../lib/report/daily_text.ts";
import { defaultLedgerPath } from "../lib/report/verify.ts";
import { FLEET_USAGE, FleetArgsError, fleetReport } from "./report_fleet.ts";
import { oneAtMost, toolOptions, UsageError, usageErrors } from "./cli_args.ts";

/** Printed by `--help` and after a bad argument. */
export const USAGE = `Usage: deno task report [YYYY-MM-DD] [--data-dir D] [--kv PATH]
       deno task report --fleet REMOTE [YYYY-MM-DD] [--silent-after D] [--top N]

Prints a UTC day's coverage per stream (with the hours below 100%) and its gaps, from the ledger.

  YYYY-MM-DD      the day (default: today, UTC)
  --data-dir D    the collector's data_dir (default: data)
  --kv PATH       the ledger (default: <data-dir>/_state/ledger.sqlite; an https:// KV URL needs
                  DENO_KV_ACCESS_TOKEN in the environment)
${FLEET_USAGE}
  -h, --help      print this help and exit`;

/** Runs the report on `args`, writing through `out`; returns the exit code. `now` picks the default date. */
export async function main(
  args: string[],
  out: (text: string) => void = (t) => console.log(t),
  now: () => Date = () => new Date(),
): Promise<number> {
  const options = toolOptions("report", USAGE, () => {
    const parsed = usageErrors(() =>
      parseArgs({
        args,
        allowPositionals: true,
        options: {
          "data-dir": { type: "string" },
          kv: { type: "string" },
          fleet: { type: "string" },
          "silent-after": { type: "string" },
          top: { type: "string" },
          help: { type: "boolean", short: "h" },
        },
      })
    );
    if (parsed.values.help) return "help";
    const date = oneAtMost(parsed.positionals, "date") ?? now().toISOString().slice(0, 10);
    const { fleet, "silent-after": silentAfter, kv, "data-dir": dataDir, top } = parsed.values;
    const misplaced = fleet !== undefined
      ? (kv !== undefined ? "--kv" : dataDir !== undefined ? "--data-dir" : null)
      : (silentAfter !== undefined ? "--silent-after" : top !== undefined ? "--top" : null);
    if (misplaced !== null) {
      throw new UsageError(`${misplaced} ${fleet !== undefined ? "does not go with" : "needs"} --fleet`);
    }
    return { date, ...parsed.values };
  }, { usage: out, error: out });
  if (typeof options === "number") return options;
  const { date, fleet, "silent-after": silentAfter, top, kv, "data-dir": dataDir } = options;
  if (fleet !== undefined) {
    try {
      const args = { remote: fleet, date, silentAfter: silentAfter ?? "15m", top: top ?? "20" };
      out((await fleetReport(args, now().getTime())).trimEnd());
      return 0;
    } catch (err) {
      out(`report: ${err instanceof Error ? err.message : String(err)}`);
      return err instanceof FleetArgsError || err instanceof RangeError ? 2 : 1;
    }
  }
  const kvPath = kv ?? defaultLedgerPath(dataDir ?? "data");
  try {
    if (!isRemoteKv(kvPath) && kvPath !== ":memory:") await Deno.stat(kvPath);
  } catch {
    out(`report: no ledger at ${kvPath}`);
    return 1;
  }
  try {
    const ledger = await openLedger(kvPath);
    try {
      const summary = buildDailyReport(await collectDailyInput(ledger, date), { longestGaps: Infinity });
      out(formatDailyReport(summary, { maxGaps: Infinity, hours: true }).trimEnd());
    } finally {
      ledger.close();
    }
    return 0;
  } catch (err) {
    out(`report: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
