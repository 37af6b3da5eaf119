/**
 * Start-up repair of the manifest after a crash between a Parquet rename and the manifest save (see
 * manifest.ts): files on disk without an entry (or whose size no longer matches it) are re-hashed and re-read,
 * entries whose file is gone are dropped.
 * @module
 */

import { join } from "node:path";
import { isoMicros, type Manifest, type ManifestEntry, sha256Hex } from "./manifest.ts";
import { parseParquetPath } from "./layout.ts";
import { decodeParquet } from "./parquet_file.ts";
import { TABLES } from "./tables.ts";

/** What {@linkcode reconcileManifest} changed. */
export interface ReconcileReport {
  /** Entries created for files that had none. */
  added: ManifestEntry[];
  /** Entries rebuilt because the file's size differed from the entry. */
  updated: ManifestEntry[];
  /** Paths whose entry was dropped because the file no longer exists. */
  removed: string[];
}

/**
 * Builds the manifest entry of a Parquet file from its bytes: rows and the range of the table's time column
 * (`local_time`, `start_time` for gaps) are read from it.
 */
export async function describeParquetFile(relPath: string, bytes: Uint8Array): Promise<ManifestEntry> {
  const parsed = parseParquetPath(relPath);
  if (parsed === null) throw new RangeError(`Cannot describe ${relPath}: not a Parquet path of the layout`);
  const table = decodeParquet(bytes);
  let min = Infinity;
  let max = -Infinity;
  for (const chunk of table.getChild(TABLES[parsed.table].timeColumn)?.data ?? []) {
    const values = chunk.values as BigInt64Array;
    for (let i = 0; i < chunk.length; i++) {
      const v = Number(values[i]!);
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  if (table.numRows === 0 || !Number.isFinite(min)) {
    throw new RangeError(`Cannot describe ${relPath}: no rows`);
  }
  return {
    path: relPath,
    sha256: await sha256Hex(bytes),
    rows: table.numRows,
    bytes: bytes.length,
    first_local_time: isoMicros(min),
    last_local_time: isoMicros(max),
    market: parsed.market,
    table: parsed.table,
    symbol: parsed.symbol,
  };
}

async function listParquetFiles(dataDir: string): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  const walk = async (rel: string): Promise<void> => {
    for await (const entry of Deno.readDir(join(dataDir, rel))) {
      const childRel = rel === "" ? entry.name : `${rel}/${entry.name}`;
      // `_journal` and `_manifest` are not partitions.
      if (entry.isDirectory && !(rel === "" && entry.name.startsWith("_"))) await walk(childRel);
      else if (entry.isFile && parseParquetPath(childRel) !== null) {
        found.set(childRel, (await Deno.stat(join(dataDir, childRel))).size);
      }
    }
  };
  try {
    await walk("");
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return found;
}

/** Brings the manifest in line with the Parquet files under its `dataDir`, saving it if anything changed. */
export async function reconcileManifest(manifest: Manifest): Promise<ReconcileReport> {
  const report: ReconcileReport = { added: [], updated: [], removed: [] };
  const onDisk = await listParquetFiles(manifest.dataDir);
  for (const entry of manifest.entries()) {
    if (!onDisk.has(entry.path)) {
      manifest.remove(entry.path);
      report.removed.push(entry.path);
    }
  }
  for (const [path, size] of onDisk) {
    const known = manifest.get(path);
    if (known !== undefined && known.bytes === size) continue;
    const entry = await describeParquetFile(path, await Deno.readFile(join(manifest.dataDir, path)));
    manifest.add(entry);
    (known === undefined ? report.added : report.updated).push(entry);
  }
  if (report.added.length + report.updated.length + report.removed.length > 0) await manifest.save();
  return report;
}
