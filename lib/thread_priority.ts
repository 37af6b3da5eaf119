/**
 * Background workers (Parquet encoding, chart pictures) and the compaction's merge child run their thread at a lower priority than
 * the feed's: where the cores are contended, the kernel gives the main thread (sockets, journal, normalizing)
 * a CPU first, and the encoding waits. The rows it would write are journaled and buffered meanwhile; a feed left
 * waiting for a CPU loses time stamps and, if it waits long, frames.
 * @module
 */
import os from "node:os";

/** The nice value of a background worker's thread (0 is the default; 19 the lowest priority). */
export const BACKGROUND_NICE = 10;

/**
 * Lowers the calling thread's priority to {@link BACKGROUND_NICE}; call it from a worker (or a background process's thread). Only on Linux, where
 * the nice value is per thread (elsewhere it would lower the whole process); without `--allow-sys` the thread
 * keeps the default. Returns whether the priority was set.
 */
export function lowerThreadPriority(): boolean {
  if (Deno.build.os !== "linux") return false;
  try {
    os.setPriority(0, BACKGROUND_NICE);
    return true;
  } catch {
    return false;
  }
}
