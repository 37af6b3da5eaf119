/**
 * Worker side of {@link ParquetEncoder}: runs the Parquet jobs (parquet_jobs.ts) off the collector's main
 * thread. Buffered rows arrive as transferred typed arrays and go back the same way (also when encoding fails,
 * so no row is lost); encoded chunks go to spill files, and only where they lie comes back. A merge lets the
 * flush's jobs go first (flush_first.ts). Its thread runs at a lower priority than the feed's (thread_priority.ts).
 */
/// <reference lib="deno.worker" />
import { transferables } from "./column_buffer.ts";
import { encodeJob, writeJob } from "./flush_jobs.ts";
import { EncodeError } from "./parquet_jobs.ts";
import { FlushFirst } from "./flush_first.ts";
import { mergeParquetFiles } from "./hour_merge.ts";
import type { WorkerRequest } from "./parquet_encoder.ts";
import { lowerThreadPriority } from "../thread_priority.ts";

const message = (err: unknown) => err instanceof Error ? err.message : String(err);
const turns = new FlushFirst();
lowerThreadPriority();

self.onmessage = async (e: MessageEvent<WorkerRequest>) => {
  const req = e.data;
  try {
    switch (req.op) {
      case "encode": {
        const encoded = await turns.job(() => encodeJob(req.chunk, req.spill));
        self.postMessage({ id: req.id, encoded }, transferables(encoded.chunk));
        return;
      }
      case "write": {
        const written = await turns.job(() => writeJob(req.path, req.segments));
        self.postMessage({ id: req.id, written });
        return;
      }
      case "merge": {
        const merged = await mergeParquetFiles(req.request, { turn: () => turns.turn() });
        self.postMessage({ id: req.id, merged });
        return;
      }
    }
  } catch (err) {
    const chunk = err instanceof EncodeError ? err.chunk : null;
    self.postMessage({ id: req.id, error: message(err), chunk }, chunk ? transferables(chunk) : []);
  }
};
