/**
 * Raw archive (`keep_raw: true`): a committed journal segment is kept gzip-compressed under `{data_dir}/_raw/`
 * instead of being deleted, for users who want the exchange's frames exactly as received (Tardis-style).
 * The archive holds the segment's bytes unchanged, so `readJournal` reads it after `gunzip`.
 */
import { basename, join } from "node:path";
import { writeFileAtomic } from "./atomic_file.ts";

/** Compresses `segmentPath` into `{archiveDir}/<segment>.wal.gz` (atomically); the caller deletes the original. */
export async function archiveSegment(segmentPath: string, archiveDir: string): Promise<string> {
  const target = join(archiveDir, `${basename(segmentPath)}.gz`);
  const file = await Deno.open(segmentPath);
  const gz = new Uint8Array(
    await new Response(file.readable.pipeThrough(new CompressionStream("gzip"))).arrayBuffer(),
  );
  await writeFileAtomic(target, gz);
  return target;
}
