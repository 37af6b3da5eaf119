/**
 * Worker side of {@link ParquetEncoder}: turns Arrow IPC bytes into Parquet bytes with the contract's settings,
 * off the collector's main thread (where sockets are read and the journal is written).
 */
/// <reference lib="deno.worker" />
import * as arrow from "apache-arrow";
import { encodeParquet } from "./parquet_file.ts";

self.onmessage = (e: MessageEvent<{ id: number; ipc: Uint8Array }>) => {
  const { id, ipc } = e.data;
  try {
    const bytes = encodeParquet(arrow.tableFromIPC(ipc));
    self.postMessage({ id, bytes }, [bytes.buffer as ArrayBuffer]);
  } catch (err) {
    self.postMessage({ id, error: String(err) });
  }
};
