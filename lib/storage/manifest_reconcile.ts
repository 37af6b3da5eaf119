/**
 * Start-up repair of the manifest after a crash between a Parquet rename and the manifest save (see
 * manifest.ts): files on disk without an entry (or whose size no longer matches it) are re-hashed and re-read,
 * entries whose file is gone are dropped.
 * @module
 */

import { createHash } from "node:crypto";
import { join } from "node:path";
import * as arrow from "apache-arrow";
import * as pq from "parquet-wasm";
import { isoMicros, type Manifest, type ManifestEntry } from "./manifest.ts";
import { parseLegacyParquetPath, parseParquetPath } from "./layout.ts";
import { extractRowGroups, fileSource, readFooter, rowGroupsOf } from "./parquet_container.ts";
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

const READ_BLOCK = 1 << 20;

async function hashOpenFile(file: Deno.FsFile): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash("sha256");
  const block = new Uint8Array(READ_BLOCK);
  let bytes = 0;
  await file.seek(0, Deno.SeekMode.Start);
  for (let n = await file.read(block); n !== null; n = await file.read(block)) {
    hash.update(block.subarray(0, n));
    bytes += n;
  }
  return { sha256: hash.digest("hex"), bytes };
}

/** The sha256 (hex) and size of a file, read in blocks. */
export async function hashFile(path: string): Promise<{ sha256: string; bytes: number }> {
  const file = await Deno.open(path, { read: true });
  try {
    return await hashOpenFile(file);
  } finally {
    file.close();
  }
}

/**
 * Builds the manifest entry of the Parquet file at `{dataDir}/{relPath}` from its bytes: sha256 and size, and
 * rows and the range of the table's time column (`local_time`, `start_time` for gaps) from decoding every row
 * group, one at a time (memory holds one row group, whatever the file's size). `onRowGroup` sees each decoded
 * row group. Throws if the file does not decode or has no rows.
 */
export async function describeParquetFile(
  dataDir: string,
  relPath: string,
  onRowGroup?: (rows: arrow.Table) => void,
): Promise<ManifestEntry> {
  const parsed = parseParquetPath(relPath) ?? parseLegacyParquetPath(relPath);
  if (parsed === null) throw new RangeError(`Cannot describe ${relPath}: not a Parquet path of the layout`);
  const file = await Deno.open(join(dataDir, relPath), { read: true });
  try {
    const { sha256, bytes: size } = await hashOpenFile(file);
    const src = await fileSource(file);
    const meta = await readFooter(src);
    let rows = 0;
    let min = Infinity;
    let max = -Infinity;
    const timeColumn = TABLES[parsed.table].timeColumn;
    for (const g of rowGroupsOf(meta)) {
      const mini = await extractRowGroups(src, meta, [g.index]);
      const table = arrow.tableFromIPC(
        pq.readParquet(mini, { batchSize: Math.max(g.rows, 1) }).intoIPCStream(),
      );
      for (const chunk of table.getChild(timeColumn)?.data ?? []) {
        const values = chunk.values as BigInt64Array;
        for (let i = 0; i < chunk.length; i++) {
          const v = Number(values[chunk.offset + i]!);
          if (v < min) min = v;
          if (v > max) max = v;
        }
      }
      rows += table.numRows;
      onRowGroup?.(table);
    }
    if (rows === 0 || !Number.isFinite(min)) throw new RangeError(`Cannot describe ${relPath}: no rows`);
    return {
      path: relPath,
      sha256,
      rows,
      bytes: size,
      first_local_time: isoMicros(min),
      last_local_time: isoMicros(max),
      market: parsed.market,
      table: parsed.table,
    };
  } finally {
    file.close();
  }
}

async function listParquetFiles(dataDir: string): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  const walk = async (rel: string): Promise<void> => {
    for await (const entry of Deno.readDir(join(dataDir, rel))) {
      const childRel = rel === "" ? entry.name : `${rel}/${entry.name}`;
      // `_journal` and `_manifest` are not partitions.
      if (entry.isDirectory && !(rel === "" && entry.name.startsWith("_"))) await walk(childRel);
      else if (entry.isFile && (parseParquetPath(childRel) ?? parseLegacyParquetPath(childRel)) !== null) {
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
    const entry = await describeParquetFile(manifest.dataDir, path);
    manifest.add(entry);
    (known === undefined ? report.added : report.updated).push(entry);
  }
  if (report.added.length + report.updated.length + report.removed.length > 0) await manifest.save();
  return report;
}
