/**
 * The recorded Parquet files of a data directory, as tools list them: from the ledger (current at every
 * commit) when there is one, else from its mirror `_manifest/checksums.json` (a few minutes behind while the
 * collector runs).
 * @module
 */

import { isRemoteKv, openLedger } from "../ledger/open.ts";
import { defaultLedgerPath } from "../report/verify.ts";
import { Manifest, type ManifestEntry } from "../storage/manifest.ts";

/** The files and where the list came from. */
export interface RecordedFiles {
  entries: ManifestEntry[];
  /** `ledger` (with its path) or `manifest`. */
  source: string;
}

/** There is no data directory (or the ledger named explicitly is missing). */
export class NoDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NoDataError";
  }
}

/**
 * Lists the files of `dataDir`: from the ledger at `kvPath` (default `<dataDir>/_state/ledger.sqlite`) if it
 * exists, otherwise from the manifest. An explicit `kvPath` that does not exist is an error, not a fallback.
 */
export async function listRecordedFiles(
  dataDir: string,
  kvPath?: string,
  env: { get(name: string): string | undefined } = Deno.env,
): Promise<RecordedFiles> {
  try {
    if (!(await Deno.stat(dataDir)).isDirectory) throw new NoDataError(`${dataDir} is not a directory`);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) throw new NoDataError(`no data directory ${dataDir}`);
    throw err;
  }
  const ledgerPath = kvPath ?? defaultLedgerPath(dataDir);
  if (isRemoteKv(ledgerPath) || await isFile(ledgerPath)) {
    const ledger = await openLedger(ledgerPath, env);
    try {
      return { entries: await ledger.listFiles(), source: `ledger ${ledgerPath}` };
    } finally {
      ledger.close();
    }
  }
  if (kvPath !== undefined) throw new NoDataError(`no ledger at ${kvPath}`);
  return { entries: (await Manifest.load(dataDir)).entries(), source: "manifest _manifest/checksums.json" };
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}
