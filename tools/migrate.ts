/**
 * `deno task migrate [data_dir] [--kv PATH]`: rewrites the files of the 0.3 layout (one file per symbol, under
 * `symbol=` directories) into the current one (one file per market, table and hour, every symbol in it),
 * updating the ledger and `_manifest/checksums.json`, then runs `verify`. Safe to interrupt (even `kill -9`)
 * and to run again: a run finishes what the previous one started, and a run with nothing to migrate changes
 * nothing. Run it while the collector is stopped.
 * @module
 */

import { parseArgs } from "node:util";
import type { Ledger } from "../lib/ledger/ledger.ts";
import { isRemoteKv, openLedger } from "../lib/ledger/open.ts";
import { defaultLedgerPath, verifyDataDir } from "../lib/report/verify.ts";
import { formatVerifyReport } from "../lib/report/verify_checks.ts";
import { pathExists, removeTempFiles } from "../lib/storage/atomic_file.ts";
import { Manifest } from "../lib/storage/manifest.ts";
import { migrateLayout } from "../lib/storage/migrate.ts";
import { oneAtMost, toolOptions, usageErrors } from "./cli_args.ts";

/** Printed by `--help` and after a bad argument. */
export const USAGE = `Usage: deno task migrate [data_dir] [--kv PATH]

Rewrites the Parquet files of the 0.3 layout (data_dir/{market}/{table}/date=…/symbol=SYMBOL/…, one
symbol per file) into the current layout (data_dir/{market}/{table}/date=…/hour-HH-….parquet, one file per
market, table and UTC hour with every symbol, sorted by symbol), updates the ledger and checksums.json, and
verifies the result. Stop the collector first. Safe to interrupt and to run again.
Exit code: 0 migrated and verified, 1 a file could not be migrated or verify found a problem, 2 the
migration could not run.

  data_dir     the collector's data_dir (default: data)
  --kv PATH    the ledger (default: <data_dir>/_state/ledger.sqlite; without one, checksums.json is the list)
  -h, --help   print this help and exit`;

/** Runs the migration on `args`, writing through `out`; returns the exit code. */
export async function main(
  args: string[],
  out: (text: string) => void = (t) => console.log(t),
): Promise<number> {
  const options = toolOptions("migrate", USAGE, () => {
    const parsed = usageErrors(() =>
      parseArgs({
        args,
        allowPositionals: true,
        options: { kv: { type: "string" }, help: { type: "boolean", short: "h" } },
      })
    );
    if (parsed.values.help) return "help";
    return { dataDir: oneAtMost(parsed.positionals, "data_dir") ?? "data", kv: parsed.values.kv };
  }, { usage: out, error: out });
  if (typeof options === "number") return options;
  const { dataDir } = options;
  const kvPath = options.kv ?? defaultLedgerPath(dataDir);
  let ledger: Ledger | null = null;
  try {
    if (!(await Deno.stat(dataDir)).isDirectory) throw new Error(`${dataDir} is not a directory`);
    if (isRemoteKv(kvPath) || await pathExists(kvPath)) ledger = await openLedger(kvPath);
    else if (options.kv !== undefined) throw new Error(`no ledger at ${kvPath}`);
    // Temp files of a run that was killed (ours or the collector's) are never listed anywhere.
    await removeTempFiles(dataDir);
    // The ledger is the authority on committed files; checksums.json mirrors it.
    if (ledger) await ledger.mirrorManifest(dataDir);
    const manifest = await Manifest.load(dataDir);
    const report = await migrateLayout({
      manifest,
      ledger: ledger ?? undefined,
      saveManifest: ledger === null,
      log: (_level, message, fields) => out(`${message} ${JSON.stringify(fields ?? {})}`),
    });
    if (ledger) await ledger.mirrorManifest(dataDir);
    out(
      `migrated ${report.files} files into ${report.merged} (${report.rows} rows)${
        report.resumed ? ", after finishing an interrupted merge" : ""
      }`,
    );
    for (const e of report.errors) out(`FAILED ${e.message}`);
    ledger?.close();
    ledger = null;
    const verified = await verifyDataDir(dataDir, { ledgerPath: kvPath });
    out(formatVerifyReport(verified).trimEnd());
    return report.errors.length === 0 && verified.problems.length === 0 ? 0 : 1;
  } catch (err) {
    out(`migrate: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  } finally {
    ledger?.close();
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
