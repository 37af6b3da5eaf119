/** Journal segment files on a disk that can be made to fail, for tests of write and fsync failures. */
import type { SegmentFile } from "../lib/storage/journal.ts";

/** Segment files that throw ENOSPC-like errors while `disk.full` is set. */
export function flakyDisk() {
  const disk = { full: false };
  const noSpace = () => new Error("No space left on device (os error 28)");
  const openSegment = (path: string): SegmentFile => {
    const file = Deno.openSync(path, { write: true, createNew: true });
    return {
      writeSync: (p) => {
        if (disk.full) throw noSpace();
        return file.writeSync(p);
      },
      sync: () => (disk.full ? Promise.reject(noSpace()) : file.sync()),
      close: () => file.close(),
    };
  };
  return { disk, openSegment };
}
