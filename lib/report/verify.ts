/**
 * `deno task verify`: every Parquet file against the file manifest (sha256, size, readable as Parquet, rows, time
 * range, partition), files missing or unlisted, and the gap summary. The manifest and the gaps come from the
 * ledger if there is one; otherwise from `{data_dir}/_manifest/checksums.json` (its mirror, a few minutes behind
 * while the collector runs) and from the `gaps` tables that verified clean. The checks themselves are in
 * verify_checks.ts; this module reads the files.
 *
 * Run it while the collector is stopped: a flush in progress can show a file renamed into place whose commit
 * has not happened yet.
 * @module
 */

import { join } from "node:path";
import type { Ledger } from "../ledger/ledger.ts";
import { openLedger } from "../ledger/open.ts";
import type { GapRecord } from "../ledger/records.ts";
import type * as arrow from "apache-arrow";
import { Manifest } from "../storage/manifest.ts";
import { describeParquetFile, hashFile } from "../storage/manifest_entry.ts";
import type { Row } from "../storage/tables.ts";
import { gapRowsFromTable } from "./gap_rows.ts";
import { summarizeGaps } from "./gaps.ts";
import {
  checkFile,
  compareListings,
  type FileFacts,
  type Problem,
  type VerifyReport,
} from "./verify_checks.ts";
import { pathExists } from "../storage/atomic_file.ts";

/** The ledger's default place under `data_dir` (the `kv_path` default). */
export function defaultLedgerPath(dataDir: string): string {
  return join(dataDir, "_state", "ledger.sqlite");
}

/** Options of {@linkcode verifyDataDir}. */
export interface VerifyOptions {
  /** The ledger to summarize gaps from. @default {@linkcode defaultLedgerPath} */
  ledgerPath?: string;
}

/** Relative paths (`/`-separated) of the `.parquet` files under `dataDir`, outside `_`-prefixed top folders. */
export async function findParquetFiles(dataDir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for await (const entry of Deno.readDir(join(dataDir, rel))) {
      const childRel = rel === "" ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory && !(rel === "" && entry.name.startsWith("_"))) await walk(childRel);
      else if (entry.isFile && entry.name.endsWith(".parquet")) found.push(childRel);
    }
  };
  await walk("");
  return found.sort();
}

/** What a file holds; a file that does not decode is reported, not thrown. */
async function factsOf(
  dataDir: string,
  relPath: string,
  onRowGroup?: (rows: arrow.Table) => void,
): Promise<FileFacts> {
  try {
    const d = await describeParquetFile(dataDir, relPath, onRowGroup);
    return {
      readable: true,
      sha256: d.sha256,
      bytes: d.bytes,
      rows: d.rows,
      firstTime: d.first_local_time,
      lastTime: d.last_local_time,
    };
  } catch (err) {
    const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return { readable: false, ...await hashFile(join(dataDir, relPath)), error };
  }
}

/**
 * Verifies `dataDir`. Throws if the directory does not exist or the manifest cannot be parsed
 * (`ManifestError`); every other finding is a {@linkcode Problem} in the report.
 *
 * @example
 * ```ts
 * import { formatVerifyReport } from "./verify_checks.ts";
 *
 * const dataDir = await Deno.makeTempDir();
 * const report = await verifyDataDir(dataDir); // `deno task verify` exits non-zero when there are problems
 * report.problems.length; // 0: an empty data directory is consistent
 * console.log(formatVerifyReport(report));
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function verifyDataDir(dataDir: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  if (!(await Deno.stat(dataDir)).isDirectory) {
    throw new Deno.errors.NotADirectory(`Cannot verify ${dataDir}: not a directory`);
  }
  // The ledger lists every committed file at once; checksums.json mirrors it a few minutes behind (tools
  // without Deno read it), so it is the listing only where there is no ledger.
  const ledgerPath = options.ledgerPath ?? defaultLedgerPath(dataDir);
  const ledger = (await pathExists(ledgerPath)) ? await openLedger(ledgerPath) : null;
  try {
    return await verifyWith(dataDir, ledger);
  } finally {
    ledger?.close();
  }
}

async function verifyWith(dataDir: string, ledger: Ledger | null): Promise<VerifyReport> {
  const entries = ledger ? await ledger.listFiles() : (await Manifest.load(dataDir)).entries();
  const found = await findParquetFiles(dataDir);
  const onDisk = new Set(found);
  const problems: Problem[] = compareListings(entries.map((e) => e.path), found);
  const parquetGaps: GapRecord[] = [];
  let checked = 0;
  for (const entry of entries) {
    if (!onDisk.has(entry.path)) continue;
    const gapRows: Row<"gaps">[] = [];
    const collect = entry.table === "gaps"
      ? (t: arrow.Table) => gapRows.push(...gapRowsFromTable(t))
      : undefined;
    const fileProblems = checkFile(entry, await factsOf(dataDir, entry.path, collect));
    problems.push(...fileProblems);
    checked++;
    // Gap rows count only from files that verified clean.
    if (fileProblems.length === 0) {
      for (const row of gapRows) {
        parquetGaps.push({ market: entry.market, row, recoveredAtUs: null, recoveryNote: null });
      }
    }
  }
  const gaps = ledger ? await ledger.listGaps({ fromUs: 0, toUs: Number.MAX_SAFE_INTEGER }) : parquetGaps;
  return {
    dataDir,
    listed: entries.length,
    found: found.length,
    checked,
    problems,
    gapSource: ledger ? "ledger" : "parquet",
    gaps: summarizeGaps(gaps),
  };
}
