/**
 * Parquet encoding in a worker thread. Encoding is CPU-heavy and synchronous (parquet-wasm); done on the main
 * thread it would stall socket reads and journal fsyncs for the length of a flush. The Arrow table is handed over
 * as IPC bytes (transferred, not copied) and the Parquet bytes come back the same way.
 */
import * as arrow from "apache-arrow";
import { encodeParquet } from "./parquet_file.ts";

type Reply = { id: number; bytes: Uint8Array } | { id: number; error: string };

/** A single encoding worker; requests are answered in order. */
export class ParquetEncoder {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (b: Uint8Array) => void; reject: (e: Error) => void }
  >();

  /** Encodes `table` as Parquet (zstd, dictionary, statistics) in the worker. */
  encode(table: arrow.Table): Promise<Uint8Array> {
    const ipc = arrow.tableToIPC(table, "stream");
    const id = this.nextId++;
    const worker = this.start();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, ipc }, [ipc.buffer as ArrayBuffer]);
    });
  }

  /** Stops the worker; requests still waiting are rejected. */
  close(): void {
    this.worker?.terminate();
    this.worker = null;
    for (const p of this.pending.values()) p.reject(new Error("Parquet encoder closed"));
    this.pending.clear();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL("./parquet_worker.ts", import.meta.url).href, { type: "module" });
    worker.onmessage = (e: MessageEvent<Reply>) => {
      const p = this.pending.get(e.data.id);
      if (!p) return;
      this.pending.delete(e.data.id);
      if ("error" in e.data) p.reject(new Error(`Cannot encode Parquet: ${e.data.error}`));
      else p.resolve(e.data.bytes);
    };
    worker.onerror = (e) => {
      e.preventDefault();
      const err = new Error(`Parquet worker failed: ${e.message}`);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
      this.worker = null;
    };
    this.worker = worker;
    return worker;
  }
}

/** In-thread encoding with the same interface (tools, tests). */
export const inlineEncoder = {
  encode: (table: arrow.Table): Promise<Uint8Array> => Promise.resolve(encodeParquet(table)),
  close: () => {},
};
