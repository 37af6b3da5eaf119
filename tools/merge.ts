/**
 * `deno task merge A B [C…] --out OUT`: merges redundant recordings (local data directories or rclone remotes)
 * into one data directory: every row once, a gap row only where every recording missed data. Exit code 0 done,
 * 1 a file or remote could not be read or written, 2 bad options or inputs.
 * @module
 */

import { parseArgs } from "node:util";
import { mergeRecordings, type MergeReport } from "../lib/merge/merge.ts";
import { MergeInputError } from "../lib/merge/recordings.ts";
import { toolOptions, UsageError, usageErrors } from "./cli_args.ts";

/** Printed by `--help` and after a bad argument. */
export const USAGE = `Usage: deno task merge INPUT [INPUT...] --out OUT [--rclone-config FILE]

Merges recordings of the same streams (shards with replicas: 2, or collectors in two places) into one data
directory of the same layout: each row once, de-duplicated by the exchange's ids (update ids, agg trade ids,
kline open times, ...), the earliest arrival kept; a gap row only where every recording missed data.

  INPUT                 a data directory (a collector's data_dir, or one that several shards synced into)
                        or an rclone remote (remote:path, :local:/path); its Parquet files are listed, no
                        manifest needed. Each shard in the file names (part-….s0.parquet) is one recording.
  --out OUT             the merged data directory (must not exist, or be empty); it appears complete or not
                        at all, with _manifest/checksums.json, so deno task verify OUT checks it
  --rclone-config FILE  rclone config file for remote inputs (default: rclone's own)
  -h, --help            print this help and exit

Exit code: 0 merged, 1 a file or remote could not be read or written, 2 bad options or inputs (missing, not a
data directory, OUT not empty).`;

function parseOptions(args: string[]): { inputs: string[]; out: string; rcloneConfig?: string } | "help" {
  const parsed = usageErrors(() =>
    parseArgs({
      args,
      strict: true,
      allowPositionals: true,
      options: {
        out: { type: "string" },
        "rclone-config": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    })
  );
  if (parsed.values.help) return "help";
  const out = parsed.values.out;
  if (out === undefined || out.trim() === "") throw new UsageError("--out is required");
  if (parsed.positionals.length === 0) throw new UsageError("no input: name the recordings to merge");
  return { inputs: parsed.positionals, out, rcloneConfig: parsed.values["rclone-config"] };
}

/** The report as text: recordings and their gaps, rows per table, the merged gaps. */
export function formatReport(out: string, r: MergeReport): string {
  const lines = [`merged into ${out} in ${r.seconds.toFixed(1)} s: ${r.files} files`];
  for (const rec of r.recordings) {
    lines.push(
      `  recording ${rec.label}: ${rec.files} files, ${rec.gaps.rows} gap rows (${rec.gaps.missing} leave data missing)`,
    );
  }
  let read = 0;
  let kept = 0;
  for (const [part, c] of Object.entries(r.tables)) {
    read += c.read;
    kept += c.kept;
    lines.push(
      `  ${part}: ${c.read} rows compared, ${c.kept} written, ${c.duplicates} duplicates` +
        (c.superseded > 0 ? `, ${c.superseded} superseded` : ""),
    );
  }
  lines.push(`  rows: ${read} compared, ${kept} written`);
  lines.push(
    `  gaps after the merge: ${r.gaps}` + (r.idHoleGaps > 0 ? ` (${r.idHoleGaps} found from ids alone)` : ""),
  );
  return lines.join("\n");
}

/** Runs the merge on `args`; returns the exit code. The report goes to stdout, errors to stderr. */
export async function main(args: string[]): Promise<number> {
  const options = toolOptions("merge", USAGE, () => parseOptions(args));
  if (typeof options === "number") return options;
  try {
    const report = await mergeRecordings({
      inputs: options.inputs,
      out: options.out,
      rclone: { configPath: options.rcloneConfig },
      log: (line) => console.error(`merge: ${line}`),
    });
    console.log(formatReport(options.out, report));
    return 0;
  } catch (err) {
    console.error(`merge: ${err instanceof Error ? err.message : String(err)}`);
    return err instanceof MergeInputError ? 2 : 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
