import type { ManifestEntry } from "../../lib/storage/manifest.ts";

/** A manifest entry that only names `path` (a spot trades file, one row): for planners that read the path alone. */
export function pathEntry(path: string): ManifestEntry {
  return {
    path,
    sha256: "0".repeat(64),
    rows: 1,
    bytes: 1,
    first_local_time: "",
    last_local_time: "",
    market: "spot",
    table: "trades",
  };
}
