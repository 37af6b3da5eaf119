/**
 * A finished file's manifest entry, computed from its bytes: the sha256 and size of any file, and for a Parquet
 * file of the layout its rows and time range too (`deno task verify` checks files against their entries with
 * it).
 * @module
 */

import { createHash } from "node:crypto";
import { join } from "node:path";
import * as arrow from "apache-arrow";
import * as pq from "parquet-wasm";
import { isoMicros, type ManifestEntry } from "./manifest.ts";
import { parseLegacyParquetPath, parseParquetPath } from "./layout.ts";
import { extractRowGroups } from "./parquet_assembler.ts";
import { fileSource, readFileFooter } from "./parquet_footer.ts";
import { TABLES } from "./tables.ts";

const READ_BLOCK = 1 << 20;

/** The sha256 (hex) and size of an open file, read from its start in blocks. */
export async function hashOpenFile(file: Deno.FsFile): Promise<{ sha256: string; bytes: number }> {
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
    const footer = await readFileFooter(src);
    let rows = 0;
    let min = Infinity;
    let max = -Infinity;
    const timeColumn = TABLES[parsed.table].timeColumn;
    for (const g of footer.groups) {
      const mini = await extractRowGroups(src, footer, [g.index]);
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
