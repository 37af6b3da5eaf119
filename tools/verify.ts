/**
 * `deno task verify [data_dir]`: checks every Parquet file against the manifest and prints the gap ledger
 * summary. Exit code 0 when everything matches, 1 on any mismatch, 2 when the check could not run.
 * @module
 */

import { formatVerifyReport } from "../lib/report/verify_checks.ts";
import { verifyDataDir } from "../lib/report/verify.ts";

/** Printed by `--help` and after a bad argument. */
export const USAGE = `Usage: deno task verify [data_dir]

Re-hashes every Parquet file under data_dir (default: data) against the manifest, checks that it reads and
sits in its partition, and prints the gap summary from the ledger.
Exit code: 0 everything matches, 1 any mismatch, 2 the check could not run.

  -h, --help   print this help and exit`;

/** Runs verify on `args`, writing its report through `out`; returns the exit code. */
export async function main(args: readonly string[], out: (text: string) => void = (t) => console.log(t)) {
  if (args.length === 1 && (args[0] === "--help" || args[0] === "-h")) {
    out(USAGE);
    return 0;
  }
  if (args.length > 1 || args[0]?.startsWith("-")) {
    out(`verify: unexpected arguments ${args.join(" ")}\n\n${USAGE}`);
    return 2;
  }
  try {
    const report = await verifyDataDir(args[0] ?? "data");
    out(formatVerifyReport(report).trimEnd());
    return report.problems.length === 0 ? 0 : 1;
  } catch (err) {
    out(`verify: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
