/**
 * Parquet work in a worker thread (parquet_worker.ts). Sorting, Arrow building, Parquet encoding, stitching,
 * hashing and file writes are CPU-heavy or synchronous; done on the main thread they would stall socket reads
 * and journal fsyncs for the length of a flush. Buffered rows are handed over as typed arrays, transferred (not
 * copied), and come back transferred for reuse.
 * @module
 */

import { type RawChunk, transferables } from "./column_buffer.ts";
import type { MergeRequest, MergeResult } from "./hour_merge.ts";
import { type EncodedChunk, EncodeError, type ParquetJobs, type WrittenFile } from "./parquet_jobs.ts";
import type { SpilledSegment } from "./spill.ts";

export { inlineJobs } from "./parquet_jobs.ts";

/** A request to the worker. */
export type WorkerRequest =
  | { id: number; op: "encode"; chunk: RawChunk; spill: string }
  | { id: number; op: "write"; path: string; segments: readonly SpilledSegment[] }
  | { id: number; op: "merge"; request: MergeRequest };

type Reply =
  | { id: number; encoded: EncodedChunk }
  | { id: number; written: WrittenFile }
  | { id: number; merged: MergeResult }
  | { id: number; error: string; chunk: RawChunk | null };

interface Waiting {
  resolve: (reply: Reply) => void;
  reject: (err: Error) => void;
  /** For an encode: the chunk whose arrays the worker holds (lost if the worker dies). */
  encode: boolean;
}

/**
 * A Parquet worker; requests are answered as they finish. If the worker dies, what it was doing fails (a chunk
 * it held is lost with it: {@link EncodeError} without a chunk) and the next request starts a new worker. After
 * a merge the worker is replaced once no request is pending ({@link merge}). Once closed, it refuses every
 * request (an encode's rows stay with the caller).
 */
export class ParquetEncoder implements ParquetJobs {
  private worker: Worker | null = null;
  private closed = false;
  private nextId = 1;
  private readonly pending = new Map<number, Waiting>();
  /** A merge ran: replace the worker once no request is pending. */
  private renew = false;

  /** Starts the worker now: starting it takes tens of ms, better spent before rows flow than during. */
  constructor() {
    this.start();
  }

  /** Sorts, encodes and spills `chunk` in the worker; its arrays are transferred there and back. */
  async encodeChunk(chunk: RawChunk, spill: string): Promise<EncodedChunk> {
    const reply = await this.call({ id: 0, op: "encode", chunk, spill }, transferables(chunk), true);
    if ("error" in reply) throw new EncodeError(reply.error, reply.chunk);
    return (reply as { encoded: EncodedChunk }).encoded;
  }

  /** Stitches spilled `segments` into a file written atomically at `path`, in the worker. */
  async writeFile(path: string, segments: readonly SpilledSegment[]): Promise<WrittenFile> {
    const reply = await this.call({ id: 0, op: "write", path, segments }, [], false);
    if ("error" in reply) throw new Error(`Cannot write ${path}: ${reply.error}`);
    return (reply as { written: WrittenFile }).written;
  }

  /**
   * Merges files in the worker (hour_merge.ts). Afterwards the worker is replaced as soon as it holds no
   * request: a merge grows its heap and parquet-wasm's memory by hundreds of MiB that a worker never gives back
   * (a scratch merge of 16 files, 5.1M rows: 571 → 964 MiB, 411 once the worker was closed).
   */
  async merge(request: MergeRequest): Promise<MergeResult> {
    try {
      const reply = await this.call({ id: 0, op: "merge", request }, [], false);
      if ("error" in reply) throw new Error(reply.error);
      return (reply as { merged: MergeResult }).merged;
    } finally {
      this.renew = true;
      this.renewIfIdle();
    }
  }

  /** Stops the worker for good; requests still waiting are rejected, later ones refused. */
  close(): void {
    this.closed = true;
    this.worker?.terminate();
    this.worker = null;
    this.failAll("Parquet encoder closed");
  }

  private call(req: WorkerRequest, transfer: Transferable[], encode: boolean): Promise<Reply> {
    // E.g. a compaction merging in this worker when the collector stopped: it must not start another.
    if (this.closed) {
      return Promise.resolve({
        id: 0,
        error: "Parquet encoder closed",
        chunk: req.op === "encode" ? req.chunk : null,
      });
    }
    const id = this.nextId++;
    const worker = this.start();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, encode });
      worker.postMessage({ ...req, id }, transfer);
    });
  }

  private failAll(why: string): void {
    for (const p of this.pending.values()) {
      p.reject(p.encode ? new EncodeError(`${why}; the chunk it held is lost`, null) : new Error(why));
    }
    this.pending.clear();
  }

  /** Replaces the worker (started at once, as in the constructor) if a merge asked for it and none waits. */
  private renewIfIdle(): void {
    if (!this.renew || this.pending.size > 0) return;
    this.renew = false;
    // A worker that died (during the merge) is replaced by the next request's anyway.
    if (this.worker === null) return;
    this.worker.terminate();
    this.worker = null;
    this.start();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL("./parquet_worker.ts", import.meta.url).href, { type: "module" });
    worker.onmessage = (e: MessageEvent<Reply>) => {
      const p = this.pending.get(e.data.id);
      if (!p) return;
      this.pending.delete(e.data.id);
      p.resolve(e.data);
      this.renewIfIdle();
    };
    worker.onerror = (e) => {
      e.preventDefault();
      if (this.worker === worker) this.worker = null;
      worker.terminate();
      this.failAll(`Parquet worker failed: ${e.message}`);
    };
    this.worker = worker;
    return worker;
  }
}
