/**
 * A whole market's compacted day as manifest entries, for the benchmarks of months of files (manifest.ts,
 * restart.ts).
 * @module
 */
import { HOUR_US } from "../lib/ledger/intervals.ts";
import { compactedFileName, partitionDir } from "../lib/storage/layout.ts";
import { isoMicros, type ManifestEntry } from "../lib/storage/manifest.ts";
import { TABLE_NAMES } from "../lib/storage/tables.ts";

/** One file per (market, table, hour) of spot and USD-M, of the UTC day that starts at `startUs`. */
export function compactedDay(startUs: number): ManifestEntry[] {
  const out: ManifestEntry[] = [];
  const date = isoMicros(startUs).slice(0, 10);
  for (const market of ["spot", "usdm"] as const) {
    for (const table of TABLE_NAMES) {
      for (let h = 0; h < 24; h++) {
        const from = startUs + h * HOUR_US;
        const sha256 = crypto.randomUUID().replaceAll("-", "").repeat(2);
        out.push({
          path: `${partitionDir(market, table, date)}/${compactedFileName(from, sha256.slice(0, 8))}`,
          sha256,
          rows: 1_000_000 + h,
          bytes: 50_000_000 + h,
          first_local_time: isoMicros(from),
          last_local_time: isoMicros(from + HOUR_US - 1),
          market,
          table,
        });
      }
    }
  }
  return out;
}
