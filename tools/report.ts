/**
 * `deno task report [date] [--data-dir D] [--kv PATH]`: prints a UTC day's coverage per stream (with the hours
 * below 100%) and its gaps from the ledger. The date defaults to today (UTC); the ledger to
 * `{data_dir}/_state/ledger.sqlite`.
 * @module
 */

import { parseArgs } from "node:util";
import { isRemoteKv, openLedger } from "../lib/ledger/open.ts";
import { collectDailyInput } from "../lib/report/collect.ts";
import { buildDailyReport, formatDailyReport } from "../lib/report/daily.ts";
import { defaultLedgerPath } from "../lib/report/verify.ts";

const USAGE = "usage: deno task report [YYYY-MM-DD] [--data-dir D] [--kv PATH]";

/** Runs the report on `args`, writing through `out`; returns the exit code. `now` picks the default date. */
export async function main(
  args: string[],
  out: (text: string) => void = (t) => console.log(t),
  now: () => Date = () => new Date(),
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        "data-dir": { type: "string", default: "data" },
        kv: { type: "string" },
        help: { type: "boolean" },
      },
    });
  } catch (err) {
    out(`report: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return 2;
  }
  if (parsed.values.help || parsed.positionals.length > 1) {
    out(USAGE);
    return 2;
  }
  const date = parsed.positionals[0] ?? now().toISOString().slice(0, 10);
  const kvPath = parsed.values.kv ?? defaultLedgerPath(parsed.values["data-dir"]);
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
