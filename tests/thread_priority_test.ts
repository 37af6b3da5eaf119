import assert from "node:assert/strict";
import { ColumnBuffer } from "../lib/storage/column_buffer.ts";
import { ParquetEncoder } from "../lib/storage/parquet_encoder.ts";
import { BACKGROUND_NICE } from "../lib/thread_priority.ts";
import { withTempDir } from "./temp_dir.ts";
import { threadsOf } from "./_threads.ts";

const linuxOnly = Deno.build.os !== "linux";
const HELPER = new URL("../lib/thread_priority.ts", import.meta.url).href;

/** The nice value of this process's threads named `worker-N` (Deno's Web Workers). */
const workerNices = async () =>
  (await threadsOf(Deno.pid)).filter((t) => /^worker-\d+$/.test(t.name)).map((t) => t.nice);
const mainNice = async () => (await threadsOf(Deno.pid)).find((t) => t.tid === Deno.pid)!.nice;

Deno.test({
  name: "lowerThreadPriority lowers the calling worker's thread only",
  ignore: linuxOnly,
  fn: async () => {
    const code = `import { lowerThreadPriority } from ${JSON.stringify(HELPER)};
      const set = lowerThreadPriority();
      self.onmessage = () => self.postMessage(set);
      self.postMessage(set);`;
    const url = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
    const worker = new Worker(url, { type: "module" });
    try {
      const set = await new Promise((resolve) => worker.onmessage = (e) => resolve(e.data));
      assert.equal(set, true);
      assert.deepEqual(await workerNices(), [BACKGROUND_NICE]);
      assert.equal(await mainNice(), 0, "the main thread keeps its priority");
    } finally {
      worker.terminate();
      URL.revokeObjectURL(url);
    }
  },
});

Deno.test({
  name: "the Parquet worker's thread runs below the main thread's priority",
  ignore: linuxOnly,
  fn: () =>
    withTempDir(async (dir) => {
      const encoder = new ParquetEncoder();
      try {
        const b = new ColumnBuffer("trades");
        b.append({
          symbol: "BTCUSDT",
          exchange_time: 1_700_000_000_000_000,
          trade_time: 1_700_000_000_000_000,
          local_time: 1_700_000_000_000_123,
          agg_trade_id: 1,
          first_trade_id: 1,
          last_trade_id: 1,
          price: 61_000,
          quantity: 0.001,
          is_buyer_maker: true,
          source: "ws",
        });
        // Once a job is done, the worker's module has run.
        await encoder.encodeChunk(b.detach(), `${dir}/_spill/spot-trades-0`);
        assert.deepEqual(await workerNices(), [BACKGROUND_NICE]);
        assert.equal(await mainNice(), 0);
      } finally {
        encoder.close();
      }
    }),
});
